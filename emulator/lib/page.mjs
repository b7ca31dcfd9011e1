// The human-readable page at GET /_emulator: the state as tables, no external assets.

import { escapeHtml as h } from "./http.mjs";

/** Rows shown per table before "… and N more". */
const MAX_ROWS = 500;

/**
 * @param {string[]} headings
 * @param {unknown[][]} rows
 */
function table(headings, rows) {
  if (rows.length === 0) return "<p class=empty>nothing yet</p>";
  const shown = rows.slice(0, MAX_ROWS);
  const more = rows.length > MAX_ROWS ? `<p>… and ${rows.length - MAX_ROWS} more (see <a href="/_emulator/state">/_emulator/state</a>)</p>` : "";
  return `<table><thead><tr>${headings.map((x) => `<th>${h(x)}</th>`).join("")}</tr></thead><tbody>${shown
    .map((row) => `<tr>${row.map((cell) => `<td>${h(cell ?? "")}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>${more}`;
}

/**
 * @param {ReturnType<import("../server.mjs").EmulatorCore["state"]>} state
 */
export function renderPage(state) {
  const c = state.counters;
  const requests = Object.entries(c.requests).flatMap(([route, byStatus]) => Object.entries(byStatus).map(([status, n]) => [route, status, n]));
  const throttled = ["natural", "injected"].flatMap((origin) => Object.entries(c.throttled[origin]).map(([cls, n]) => [origin, cls, n]));
  const quirks = ["stale_modified", "revoked_then_updated", "duplicate_external_id", "deprecated_action"].map((q) => [q, c[q]]);
  const sentinel = Object.entries(state.sentinel).flatMap(([ws, objects]) =>
    Object.entries(objects).map(([id, e]) => [ws, id, e.latest.type, e.latest.pattern ?? e.latest.name ?? "", e.versions.length, e.versions.at(-1)?.modified, e.revoked ? "yes" : "", e.versions.at(-1)?.sourcesystem]),
  );
  const defender = state.defender.map((i) => [i.tenant, i.id, i.indicatorType, i.indicatorValue, i.action, i.application, i.createdBy, i.expirationTime, i.externalId]);
  const graph = state.graph.map((i) => [i.tenant, i.appId, i.id, i.targetProduct, i.action, i.networkIPv4 ?? i.networkIPv6 ?? i.domainName ?? i.url ?? i.fileHashValue ?? i.emailSenderAddress ?? "", i.externalId, i.expirationDateTime]);
  const faults = state.faults.injected.map((f) => [f.at, f.route, f.kind, f.call, f.rule, f.items ? f.items.join(" ") : ""]);
  return `<!doctype html>
<html lang=en><head><meta charset=utf-8><title>ti-relay Microsoft emulator</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top;font-family:ui-monospace,monospace;font-size:12px}
th{background:#f3f3f3}.empty{color:#888}
</style></head><body>
<h1>ti-relay Microsoft emulator</h1>
<p>time scale ${h(state.options.timeScale)} · Defender cap ${h(state.options.defenderCap)} · token lifetime ${h(state.options.tokenLifetimeS)} s ·
<a href="/_emulator/state">JSON state</a></p>
<h2>Requests</h2>${table(["route", "status", "count"], requests)}
<h2>Throttled (429)</h2>${table(["origin", "limit class", "count"], throttled)}
<h2>Quirks</h2>${table(["counter", "count"], quirks)}
<h2>Tokens issued</h2>${table(["client id", "count"], Object.entries(c.tokens_issued))}
<h2>Sentinel objects</h2>${table(["workspace", "id", "type", "pattern / name", "versions", "modified", "revoked", "sourcesystem"], sentinel)}
<h2>Defender indicators</h2>${table(["tenant", "id", "type", "value", "action", "application", "createdBy", "expires", "externalId"], defender)}
<h2>Graph tiIndicators</h2>${table(["tenant", "app", "id", "target", "action", "observable", "externalId", "expires"], graph)}
<h2>Injected faults (seed ${h(state.faults.seed)})</h2>${table(["at", "route", "kind", "call", "rule", "items"], faults)}
<h2>Apps</h2>${table(["client id", "name", "secret", "certificates"], state.apps.map((a) => [a.client_id, a.name, a.secret ? "yes" : "", a.certificates.length]))}
</body></html>`;
}
