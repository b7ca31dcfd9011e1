
/** A stable machine-readable error kind, on every thrown error (`err.code`) and item error. */
export type ErrorCode =
  | "json" | "shape" | "too_large" | "pattern" | "value" | "missing" | "type" | "unsupported" | "options" | "config";

/** What every function of this package throws: an `Error` with a stable `code`. */
export interface RelayError extends Error {
  code: ErrorCode;
  /** JSON path of the offending input, e.g. `objects[3].pattern` or `options.format`. */
  path?: string;
  /** Character offset inside a STIX pattern. */
  offset?: number;
  /** With `code: "config"`: every problem of the configuration. */
  errors?: ConfigError[];
}

/** One problem of a configuration: where (`destinations[1].defender.quota_reserve`) and how to fix it. */
export interface ConfigError {
  path: string;
  message: string;
}

/** The relay's configuration (README, "Configuration"): JSON with snake_case keys. */
export interface RelayConfig {
  source_system?: string;
  policy?: Record<string, unknown>;
  destinations: Array<{
    name: string;
    type: "sentinel" | "defender" | "graph";
    tenant: string;
    credential: { secret: string } | { certificate: string } | { managed_identity: true | { client_id: string } };
    [key: string]: unknown;
  }>;
}

/** The effective configuration (`relay.config`): every default filled in, policies merged,
 * endpoints resolved. Unset optional values are `null`. */
export interface EffectiveConfig {
  source_system: string;
  destinations: EffectiveDestination[];
}

/** One destination as the relay uses it: everything a host needs to get a token is here —
 * `tenant`, `client_id`, `credential` (a reference to look up), `endpoint.token_url` and
 * `endpoint.scope` (client credentials), `endpoint.resource` (managed identity). */
export interface EffectiveDestination {
  name: string;
  type: "sentinel" | "defender" | "graph";
  enabled: boolean;
  /** The Entra tenant: a GUID or a domain name. */
  tenant: string;
  /** The app registration's client id; `null` for a system-assigned managed identity. */
  client_id: string | null;
  /** A reference, never the secret: the name of the secret binding / environment variable holding
   * the client secret or the certificate, or a managed identity (`client_id: null`: system-assigned). */
  credential:
    | { secret: string }
    | { certificate: string }
    | { managed_identity: { client_id: string | null } };
  cloud: "global" | "usgov" | "usgov-high" | "dod" | "china";
  endpoint: Endpoint;
  /** Exactly one key: the destination's type. */
  settings:
    | { sentinel: SentinelSettings }
    | { defender: DefenderSettings }
    | { graph: GraphSettings };
  policy: EffectivePolicy;
}

export interface Endpoint {
  /** The login host, with its port when `login_base_url` gave one (`127.0.0.1:8788`). */
  login_host: string;
  /** `https://<login_host>`, or the configured `login_base_url` (a local emulator). No trailing slash. */
  login_base_url: string;
  /** `<login_base_url>/<tenant>/oauth2/v2.0/token`: the client-credentials token endpoint. */
  token_url: string;
  /** Where the requests go (already in every planned `url`). No trailing slash. */
  api_base_url: string;
  /** The client-credentials scope, `<resource>/.default` (also every planned request's `audience`). */
  scope: string;
  /** The audience as the managed-identity endpoint wants it (`resource=`), without `/.default`. */
  resource: string;
}

export interface SentinelSettings {
  workspace_id: string;
  api: "stix-objects" | "legacy";
  legacy_generation: "v1" | "v2" | null;
  split_patterns: boolean;
  source_system: string;
}

export interface DefenderSettings {
  application: string;
  rbac_group_names: string[];
  quota_reserve: number;
  generate_alert: boolean;
  educate_url: string | null;
  recommended_actions: string | null;
}

export interface GraphSettings {
  target_product: "Azure Sentinel" | "Microsoft Defender ATP";
  passive_only: boolean;
  resource_path: string;
}

/** A destination's effective policy (docs/configuration.md, "Policy"). */
export interface EffectivePolicy {
  types: ObservableType[];
  min_score: number | null;
  min_confidence: number | null;
  min_threat_rating: number | null;
  max_false_positives: number | null;
  tags_any: string[];
  tags_none: string[];
  owners: string[];
  require_detection: boolean;
  modified_since: Timestamp | null;
  tlp_ceiling: Tlp;
  tlp_default: Tlp | null;
  tlp_override: Tlp | null;
  /** Empty for Sentinel. Defender: `Allowed` `Audit` `Warn` `Block` `BlockAndRemediate`; Graph:
   * `unknown` `allow` `block` `alert`. */
  action: { min_score: number | null; action: string; generate_alert: boolean }[];
  /** Empty for Sentinel. Defender: a name; Graph: 0–5. */
  severity: { min_score: number | null; severity: string | number }[];
  expiry: { default_days: number; days: Record<string, number>; hours: Record<string, number>; max_days: number };
  dedup: boolean;
  dry_run: boolean;
}

export type Format = "stix" | "opencti" | "threatconnect" | "misp" | "envelope";
export type Tlp = "clear" | "green" | "amber" | "amber+strict" | "red";
export type ObservableType =
  | "ipv4" | "ipv6" | "cidr" | "domain" | "url" | "file" | "email" | "email-subject" | "asn"
  | "registry-key" | "certificate";
export type HashAlgorithm =
  | "md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512" | "sha3-256" | "sha3-512" | "ssdeep" | "tlsh";

/** One observable: what a product matches on. Values are normalised (see the README). */
export interface Observable {
  type: ObservableType;
  value: string;
  /** Files and certificates. */
  algorithm?: HashAlgorithm;
  /** Network destinations: port and protocol when the source gave them. */
  port?: number;
  protocol?: string;
  /** Registry keys. */
  value_name?: string;
  value_type?: string;
}

export interface Source {
  id?: string;
  type_name?: string;
  summary?: string;
  owner?: string;
  owner_id?: string;
  web_link?: string;
  external_id?: string;
}

/** RFC 3339 UTC with milliseconds, e.g. `2024-01-01T00:00:00.000Z`. */
export type Timestamp = string;

export interface Lifecycle {
  created?: Timestamp;
  modified?: Timestamp;
  valid_from?: Timestamp;
  valid_until?: Timestamp;
  first_seen?: Timestamp;
  last_seen?: Timestamp;
  revoked: boolean;
}

export interface Scoring {
  /** The normalised 0–100 score. */
  score?: number;
  confidence?: number;
  threat_rating?: number;
  threat_assess_score?: number;
  false_positives?: number;
}

export interface KillChainPhase { kill_chain_name: string; phase_name: string; }
export interface ExternalReference { source_name: string; url?: string; external_id?: string; description?: string; }
export interface Attribute { type: string; value: string; }

/** The canonical indicator: one (source object, observable) pair. */
export interface Indicator {
  format: Format;
  /** Where the source object sits in the payload, e.g. `objects[3]`. */
  path: string;
  action: "upsert" | "remove";
  event?: "create" | "update" | "delete";
  source: Source;
  /** `null` for a pattern that is not atomic; then `not_atomic` says why and `pattern` travels as is. */
  observable: Observable | null;
  not_atomic?: string;
  pattern?: string;
  spec_version?: string;
  name?: string;
  description?: string;
  lifecycle: Lifecycle;
  scoring: Scoring;
  detection?: boolean;
  tlp: Tlp | null;
  labels: string[];
  indicator_types: string[];
  kill_chain_phases: KillChainPhase[];
  external_references: ExternalReference[];
  attributes: Attribute[];
}

export interface ItemError {
  /** Index of the source item among the payload's items (for a bundle, its index in `objects`). */
  index: number;
  /** JSON path of the offending input, e.g. `objects[3].pattern`. */
  path: string;
  code: ErrorCode;
  message: string;
}

export interface DecodeResult {
  format: Format;
  items: Indicator[];
  errors: ItemError[];
}

export interface DecodeOptions {
  /** Forces a format instead of detecting it. */
  format?: Format;
  /** Payloads larger than this many bytes (UTF-8) throw `too_large`. Default 64 MiB. */
  maxBytes?: number;
}

export interface ParsePatternOptions {
  /** Parse with the STIX 2.0 rules where they differ. Default `"2.1"`. */
  specVersion?: "2.0" | "2.1";
}

/** The STIX pattern parse tree (see the README, "Pattern tree"); every node has a `kind`. */
export type PatternNode = ObservationNode;

export type ObservationNode =
  | { kind: "observation"; comparison: ComparisonNode }
  | { kind: "and" | "or" | "followed_by"; operands: ObservationNode[] }
  | { kind: "qualified"; expression: ObservationNode; qualifiers: QualifierNode[] };

export type QualifierNode =
  | { kind: "within"; seconds: number }
  | { kind: "repeats"; times: number }
  | { kind: "start_stop"; start: string; stop: string };

export type ComparisonOperator =
  | "=" | "!=" | "<" | "<=" | ">" | ">=" | "IN" | "LIKE" | "MATCHES" | "ISSUBSET" | "ISSUPERSET";

export type ComparisonNode =
  | { kind: "and" | "or"; operands: ComparisonNode[] }
  | { kind: "comparison"; path: ObjectPathNode; operator: ComparisonOperator; negated: boolean; value: ConstantNode }
  | { kind: "exists"; path: ObjectPathNode; negated: boolean };

export interface ObjectPathNode {
  object_type: string;
  steps: PathStepNode[];
}

export type PathStepNode =
  | { kind: "property"; name: string }
  | { kind: "index"; index: number }
  | { kind: "any_index" };

export type ConstantNode =
  | { kind: "string" | "binary" | "hex" | "timestamp"; value: string }
  | { kind: "integer" | "float"; value: number }
  | { kind: "boolean"; value: boolean }
  | { kind: "set"; value: ConstantNode[] };

export interface PatternReport {
  tree: PatternNode;
  /** The pattern printed canonically. */
  canonical: string;
  /** Whether the pattern reduces to atomic observables. */
  atomic: boolean;
  observables: Observable[];
  /** Why the pattern is not atomic. */
  reason?: string;
  /** Observables whose values are invalid. */
  errors: { code: ErrorCode; message: string }[];
}

/** What the host knows: `now` is required by `plan`. */
export interface PlanFacts {
  /** RFC 3339, e.g. `2025-06-01T12:00:00Z`. */
  now: string;
  /** Defender's active-indicator count: one number for every Defender destination, or per destination name. */
  defenderActive?: number | Record<string, number>;
  /** Forces the input format instead of detecting it (the webhook's `format` query parameter), as
   * `decode`'s `options.format` does; an unknown name throws with `code: "options"`. */
  format?: Format;
}

export type VerdictName = "upsert" | "remove" | "skip";

/** Skip reasons: `not_atomic`, `type`, `tlp`, `detection`, `not_modified`, `score`, `confidence`,
 * `threat_rating`, `false_positives`, `filtered_tag`, `owner`, `expired`, `action`, `duplicate`,
 * `quota`, `disabled`, `invalid_value`. */
export type SkipReason = string;

export interface PlanItem {
  key: string;
  format: Format;
  source_id: string | null;
  observable: { type: ObservableType; value: string } | null;
  verdicts: { destination: string; verdict: VerdictName; reason?: SkipReason; message?: string }[];
}

/** One documented rate window of a limit class: at most `requests` requests in any `per_ms`
 * milliseconds. */
export interface RateWindow {
  requests: number;
  per_ms: number;
}

/** The rate-limit classes (the first part of `limit`) and their windows (`rate`):
 * `sentinel-upload` 100/min; `defender-import` 30/min; `defender-read` 100/min and 1,500/h;
 * `defender-batch-delete` 30/min and 1,500/h; `defender-delete` 100/min and 1,500/h; `graph`
 * 1,000/min. */
export type LimitClass =
  | "sentinel-upload" | "defender-import" | "defender-read" | "defender-batch-delete" | "defender-delete" | "graph";

/** One HTTP request, exactly as to send it (add `Authorization: Bearer <token for audience>`). */
export interface PlannedRequest {
  /** Unique in the plan: `<destination>:<op>:<n>`; a follow-up's is `<parent id>><op>:<n>`. */
  id: string;
  destination: string;
  op:
    | "sentinel-upload" | "defender-import" | "defender-lookup" | "defender-batch-delete" | "defender-delete"
    | "graph-submit" | "graph-delete";
  method: "GET" | "POST" | "DELETE";
  url: string;
  /** The token scope to request. */
  audience: string;
  /** `content-type: application/json` when there is a body; empty otherwise. */
  headers: Record<string, string>;
  /** The exact JSON text to send, or null (a GET or DELETE). */
  body: string | null;
  /** Keys of the items this request carries. */
  items: string[];
  /** The rate-limit key to pace on: `<limit class>:<tenant>:<client id>` (`managed-identity` for a
   * system-assigned identity). */
  limit: string;
  /** The limit class's documented windows: send only when every window has room. */
  rate: RateWindow[];
  /** Present and true when the destination's policy says `dry_run`: show it, do not send it. */
  dry_run?: boolean;
  /** Per item key, the index of the body object carrying it — only when one object carries several
   * items (Sentinel with `split_patterns: false`). */
  objects?: number[];
  /** `defender-lookup` only: each item's observable value, parallel to `items`. */
  values?: string[];
}

export interface Plan {
  /** Absent when `options.itemsJson` asked for `items_json` instead. */
  items: PlanItem[];
  /** With `options.itemsJson: true`: the JSON text of the `items` array (`items` is then absent). */
  items_json?: string;
  requests: PlannedRequest[];
  errors: ItemError[];
}

/** The third argument of `relay.plan`. Unknown keys throw with `code: "options"`. */
export interface PlanOptions {
  /** Return the items as the JSON text of their array (`items_json`) instead of objects (`items`):
   * for a host that only writes them into a response. Default false. */
  itemsJson?: boolean;
}

export type Outcome =
  | { outcome: "accepted" }
  | { outcome: "rejected"; message: string }
  | { outcome: "retry"; after_ms?: number; message: string };

/** What one response means.
 *
 * The delivery loop's rule: an item carried by several requests (follow-ups) is accepted only when
 * every request carrying it accepted it. An item of the request that gets no entry in `items` has
 * its outcome decided by the `follow_up` requests carrying it (a Defender lookup hands its items to
 * the `BatchDelete`s and the next page; a `BatchDelete` answered 404 to one `defender-delete` per
 * id, each carrying all of the batch's items). */
export interface Interpretation {
  items: ({ key: string } & Outcome)[];
  /** How long to pause the request's rate-limit class (`limit`) before sending again, when the API said. */
  retry_after_ms?: number;
  /** Present when some item is `retry`: the request narrowed to exactly those items
   * (`relay.retain(request, retryKeys)`), to send again after the wait. Absent otherwise. */
  resend?: PlannedRequest;
  /** Requests to send next; they carry the items this interpretation gives no outcome. */
  follow_up: PlannedRequest[];
}
