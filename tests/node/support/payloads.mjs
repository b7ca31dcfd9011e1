// Webhook payloads of each input format family, as their platforms send them: a create, an update
// (newer modification time, changed score) and a delete, for one IPv4 value.

const OPENCTI_EXT = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba";

/** A deterministic UUID-shaped string from a small number. */
const uuid = (n) => `5e1f0c2a-${String(n).padStart(4, "0")}-4a7b-8c9d-${String(n).padStart(12, "0")}`;

function stixIndicator(value, n, { modified, revoked = false, confidence = 70 }) {
  return {
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--${uuid(n)}`,
    created: "2026-11-01T00:00:00.000Z",
    modified,
    revoked,
    confidence,
    labels: ["c2"],
    name: value,
    pattern: `[ipv4-addr:value = '${value}']`,
    pattern_type: "stix",
    valid_from: "2026-11-01T00:00:00.000Z",
  };
}

/** Each family: create / update / delete payload builders for (value, n). */
export const families = {
  stix: {
    create: (value, n) => ({ type: "bundle", id: `bundle--${uuid(n)}`, objects: [stixIndicator(value, n, { modified: "2026-11-10T00:00:00.000Z" })] }),
    update: (value, n) => ({
      type: "bundle",
      id: `bundle--${uuid(n + 1)}`,
      objects: [stixIndicator(value, n, { modified: "2026-11-11T00:00:00.000Z", confidence: 90 })],
    }),
    delete: (value, n) => ({
      type: "bundle",
      id: `bundle--${uuid(n + 2)}`,
      objects: [stixIndicator(value, n, { modified: "2026-11-12T00:00:00.000Z", revoked: true })],
    }),
  },
  opencti: {
    create: (value, n) => openctiEvent("create", value, n, "2026-11-10T00:00:00.000Z", 60),
    update: (value, n) => openctiEvent("update", value, n, "2026-11-11T00:00:00.000Z", 95),
    delete: (value, n) => openctiEvent("delete", value, n, "2026-11-12T00:00:00.000Z", 95),
  },
  threatconnect: {
    create: (value, n) => ({ data: [threatconnect(value, n, "2026-11-10T00:00:00Z", 3)] }),
    update: (value, n) => ({ data: [threatconnect(value, n, "2026-11-11T00:00:00Z", 5)] }),
    delete: (value, n) => ({ action: "delete", indicators: [threatconnect(value, n, "2026-11-12T00:00:00Z", 5)] }),
  },
  misp: {
    create: (value, n) => mispEvent(value, n, "1794787200"),
    update: (value, n) => mispEvent(value, n, "1794873600", 'misp:confidence-level="completely-confident"'),
    delete: (value, n) => ({ action: "delete", indicators: [mispAttribute(value, n, "1794960000")] }),
  },
};

function openctiEvent(type, value, n, modified, score) {
  const data = stixIndicator(value, n, { modified });
  data.extensions = {
    [OPENCTI_EXT]: { extension_type: "property-extension", score, detection: true, main_observable_type: "IPv4-Addr" },
  };
  return { type, data, message: `${type}s an Indicator`, origin: { type: "user" }, version: "4" };
}

function threatconnect(value, n, lastModified, rating) {
  return {
    id: 70000 + n,
    ownerId: 42,
    ownerName: "ACME-CERT",
    type: "Address",
    summary: value,
    ip: value,
    rating,
    confidence: 80,
    threatAssessScore: 700,
    dateAdded: "2026-11-01T00:00:00Z",
    lastModified,
    active: true,
  };
}

function mispAttribute(value, n, timestamp) {
  return { id: String(n), type: "ip-dst", category: "Network activity", to_ids: true, uuid: uuid(n), timestamp, value };
}

function mispEvent(value, n, timestamp, confidence = 'misp:confidence-level="usually-confident"') {
  return {
    Event: {
      id: String(n),
      uuid: uuid(n + 5000),
      info: "relay test event",
      date: "2026-11-01",
      published: true,
      timestamp,
      Orgc: { name: "CIRCL" },
      Tag: [{ name: "tlp:green" }, { name: confidence }],
      Attribute: [mispAttribute(value, n, timestamp)],
    },
  };
}

/** A STIX bundle of `count` IPv4 indicators, values 10.x.y.z from `base`. */
export function stixBulk(count, base = 0, modified = "2026-11-10T00:00:00.000Z") {
  const objects = [];
  for (let i = 0; i < count; i++) {
    const k = base + i;
    const value = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
    objects.push(stixIndicator(value, 100_000 + k, { modified }));
  }
  return { type: "bundle", id: `bundle--${uuid(base)}`, objects };
}
