// JSON Web Tokens: the emulator's own access tokens (HS256 with a per-process key) and the
// verification of client assertions signed with a certificate's key (PS256 or RS256).

import crypto from "node:crypto";

/** @param {Buffer | string} data */
export function base64url(data) {
  return Buffer.from(data).toString("base64url");
}

/**
 * The three parts of a compact JWT, decoded; null when it is not one.
 * @param {unknown} token
 * @returns {{header: Record<string, unknown>, claims: Record<string, unknown>, signingInput: string, signature: Buffer} | null}
 */
export function decodeJwt(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    if (!isPlain(header) || !isPlain(claims)) return null;
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], "base64url") };
  } catch {
    return null;
  }
}

/**
 * Signs `claims` with HS256.
 * @param {Record<string, unknown>} claims
 * @param {Buffer} key
 */
export function signHs256(claims, key) {
  const input = `${base64url(JSON.stringify({ typ: "JWT", alg: "HS256" }))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${base64url(crypto.createHmac("sha256", key).update(input).digest())}`;
}

/**
 * The claims of an HS256 token signed with `key`, or null when the token is not one of ours.
 * @param {unknown} token
 * @param {Buffer} key
 * @returns {Record<string, unknown> | null}
 */
export function verifyHs256(token, key) {
  const jwt = decodeJwt(token);
  if (!jwt || jwt.header.alg !== "HS256") return null;
  const expected = crypto.createHmac("sha256", key).update(jwt.signingInput).digest();
  if (expected.length !== jwt.signature.length || !crypto.timingSafeEqual(expected, jwt.signature)) return null;
  return jwt.claims;
}

/**
 * A registered certificate, parsed once.
 * @typedef {object} Certificate
 * @property {crypto.KeyObject} publicKey
 * @property {string} x5t       base64url SHA-1 thumbprint of the DER certificate
 * @property {string} x5tS256   base64url SHA-256 thumbprint
 */

/**
 * Parses a PEM certificate (throws on anything else).
 * @param {string} pem
 * @returns {Certificate}
 */
export function parseCertificate(pem) {
  const cert = new crypto.X509Certificate(pem);
  return {
    publicKey: cert.publicKey,
    x5t: crypto.createHash("sha1").update(cert.raw).digest("base64url"),
    x5tS256: crypto.createHash("sha256").update(cert.raw).digest("base64url"),
  };
}

/**
 * Checks a client assertion's header and signature against the app's certificates: PS256 with
 * `x5t#S256`, or RS256 with `x5t` (the two documented pairings; nothing else).
 * @param {{header: Record<string, unknown>, signingInput: string, signature: Buffer}} jwt
 * @param {Certificate[]} certificates
 * @returns {string | null} why it fails, or null
 */
export function assertionSignatureError(jwt, certificates) {
  const { alg } = jwt.header;
  let thumbprint;
  let field;
  if (alg === "PS256") {
    field = "x5t#S256";
    thumbprint = jwt.header["x5t#S256"];
  } else if (alg === "RS256") {
    field = "x5t";
    thumbprint = jwt.header.x5t;
  } else {
    return `the signing algorithm ${JSON.stringify(alg ?? null)} is not supported (use PS256 with x5t#S256 or RS256 with x5t)`;
  }
  if (typeof thumbprint !== "string" || thumbprint === "") {
    return `the header has no ${field} thumbprint (${alg} needs ${field})`;
  }
  const cert = certificates.find((c) => (alg === "PS256" ? c.x5tS256 : c.x5t) === thumbprint);
  if (!cert) return `the key was not found. Thumbprint of key used by client: '${thumbprint}'`;
  const key =
    alg === "PS256"
      ? { key: cert.publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }
      : { key: cert.publicKey, padding: crypto.constants.RSA_PKCS1_PADDING };
  let valid = false;
  try {
    valid = crypto.verify("sha256", Buffer.from(jwt.signingInput), key, jwt.signature);
  } catch {
    valid = false;
  }
  return valid ? null : "the signature does not verify with the registered certificate";
}

/** @param {unknown} v */
function isPlain(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
