// Test helpers: a self-signed X.509 certificate built by hand (DER, no openssl binary), and client
// assertions signed with its key, as Entra's certificate credential expects them.
//
//   const cert = makeCertificate();
//   await emulator.registerApp({ client_id, certificate: cert.certificatePem });
//   const assertion = signAssertion({ cert, clientId, audience: `${emulator.url}/${tenant}/oauth2/v2.0/token` });

import crypto from "node:crypto";

// ---- minimal DER encoding -----------------------------------------------------------------------

/** @param {number} length */
function derLength(length) {
  if (length < 0x80) return Buffer.from([length]);
  const bytes = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * @param {number} tag
 * @param {Buffer[]} parts
 */
function tlv(tag, ...parts) {
  const content = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

const sequence = (...parts) => tlv(0x30, ...parts);
const set = (...parts) => tlv(0x31, ...parts);
const nullValue = () => Buffer.from([0x05, 0x00]);
const utf8 = (text) => tlv(0x0c, Buffer.from(text, "utf8"));
const bitString = (bytes) => tlv(0x03, Buffer.from([0x00]), bytes);
const explicit = (n, inner) => tlv(0xa0 + n, inner);

/** A non-negative INTEGER from big-endian bytes. @param {Buffer} bytes */
function integer(bytes) {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let body = bytes.subarray(start);
  if (body[0] & 0x80) body = Buffer.concat([Buffer.from([0x00]), body]);
  return tlv(0x02, body);
}

/** @param {string} dotted */
function oid(dotted) {
  const arcs = dotted.split(".").map(Number);
  const bytes = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift(0x80 | (n & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise. @param {Date} date */
function time(date) {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
const COMMON_NAME = "2.5.4.3";

/**
 * @typedef {object} TestCertificate
 * @property {string} privateKeyPem     PKCS#8 PEM
 * @property {string} certificatePem
 * @property {Buffer} der               the certificate, DER
 * @property {string} sha1Thumbprint    base64url SHA-1 of the DER (the JWT `x5t`)
 * @property {string} sha256Thumbprint  base64url SHA-256 of the DER (the JWT `x5t#S256`)
 * @property {string} sha1Hex           the same thumbprints as upper-case hex (as the portal shows them)
 * @property {string} sha256Hex
 */

/**
 * A fresh RSA key and a self-signed certificate for it (sha256WithRSAEncryption, v3, no extensions).
 * @param {{commonName?: string, days?: number, modulusLength?: number}} [options]
 * @returns {TestCertificate}
 */
export function makeCertificate({ commonName = "ti-relay test", days = 365, modulusLength = 2048 } = {}) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength });
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8(commonName))));
  const algorithm = sequence(oid(SHA256_WITH_RSA), nullValue());
  const now = Date.now();
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(Buffer.concat([Buffer.from([0x01]), crypto.randomBytes(15)])),
    algorithm,
    name,
    sequence(time(new Date(now - 60_000)), time(new Date(now + days * 86_400_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
  );
  const signature = crypto.sign("sha256", tbs, privateKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  const base64 = der.toString("base64").replace(/.{1,64}/g, "$&\n");
  const sha1 = crypto.createHash("sha1").update(der).digest();
  const sha256 = crypto.createHash("sha256").update(der).digest();
  return {
    privateKeyPem: /** @type {string} */ (privateKey.export({ type: "pkcs8", format: "pem" })),
    certificatePem: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`,
    der,
    sha1Thumbprint: sha1.toString("base64url"),
    sha256Thumbprint: sha256.toString("base64url"),
    sha1Hex: sha1.toString("hex").toUpperCase(),
    sha256Hex: sha256.toString("hex").toUpperCase(),
  };
}

/**
 * A client assertion JWT: PS256 + `x5t#S256` (default, what current MSAL sends) or RS256 + `x5t`.
 * `claims` overrides or adds claims (e.g. a past `exp`, a fixed `jti`).
 * @param {object} options
 * @param {TestCertificate} options.cert
 * @param {string} options.clientId
 * @param {string} options.audience   the token endpoint URL
 * @param {"PS256" | "RS256"} [options.alg]
 * @param {Record<string, unknown>} [options.claims]
 * @param {Record<string, unknown>} [options.header]
 */
export function signAssertion({ cert, clientId, audience, alg = "PS256", claims = {}, header = {} }) {
  const now = Math.floor(Date.now() / 1000);
  const head = alg === "PS256"
    ? { alg, typ: "JWT", "x5t#S256": cert.sha256Thumbprint, ...header }
    : { alg, typ: "JWT", x5t: cert.sha1Thumbprint, ...header };
  const body = { aud: audience, iss: clientId, sub: clientId, jti: crypto.randomUUID(), nbf: now, iat: now, exp: now + 600, ...claims };
  const input = `${Buffer.from(JSON.stringify(head)).toString("base64url")}.${Buffer.from(JSON.stringify(body)).toString("base64url")}`;
  const key = alg === "PS256"
    ? { key: cert.privateKeyPem, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }
    : { key: cert.privateKeyPem, padding: crypto.constants.RSA_PKCS1_PADDING };
  return `${input}.${crypto.sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}
