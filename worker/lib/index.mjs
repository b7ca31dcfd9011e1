// The shared delivery loop of ti-relay's hosts (Cloudflare Worker, Azure Functions handler, CLI).
// Each host injects fetch, clock, sleep, random, logger, secrets and the rate-budget store.

export { createDelivery, DEFAULTS } from "./deliver.mjs";
export { createTokenSource, TokenError, REFRESH_MARGIN_MS } from "./tokens.mjs";
export { createAssertion, parseCertificateSecret, CertificateError, ASSERTION_LIFETIME_S } from "./assertion.mjs";
export { reserve, block, release, settle, createState, createLocalBudget, DEFAULT_MARGIN_RATIO } from "./budget.mjs";
export { createLogger, silentLogger, isSensitiveKey } from "./log.mjs";
