// Entra certificate credentials: the PEM a secret holds, and the signed client-assertion JWT
// (reference/microsoft-apis.md §4 and addendum 9). WebCrypto only, so it runs in workerd, Node and
// browsers alike.
//
// - PS256 (the default, what current Entra docs and MSAL ask for): header
//   {"alg":"PS256","typ":"JWT","x5t#S256": base64url(SHA-256(DER cert))}, RSA-PSS, salt length 32.
// - RS256 (older apps, ADFS): header {"alg":"RS256","typ":"JWT","x5t": base64url(SHA-1(DER cert))},
//   RSASSA-PKCS1-v1_5.
// Claims: aud = the token URL, iss = sub = client id, jti = a random UUID, nbf = iat = now,
// exp = now + 600 (seconds).

/** The JWT lifetime, seconds (Entra: at most 5–10 minutes after nbf). */
export const ASSERTION_LIFETIME_S = 600;

const PKCS8_COMMAND = "openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem";

/** A problem with the certificate secret's content; tokens.mjs turns it into a permanent TokenError. */
export class CertificateError extends Error {
  constructor(message) {
    super(message);
    this.name = "CertificateError";
  }
}

/** Every `-----BEGIN <label>-----` block of a PEM text, in order: [{label, der}]. */
export function pemBlocks(text) {
  const blocks = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of String(text).matchAll(re)) {
    blocks.push({ label: m[1], der: base64ToBytes(m[2].replace(/[^A-Za-z0-9+/=]/g, "")) });
  }
  return blocks;
}

/**
 * The private key (PKCS#8 DER) and the certificate (DER, the first CERTIFICATE block: the leaf) of a
 * certificate secret. `name` is the secret's NAME, for messages (never its content).
 * @returns {{key: Uint8Array, cert: Uint8Array}}
 */
export function parseCertificateSecret(text, name) {
  const blocks = pemBlocks(text);
  const labels = blocks.map((b) => b.label);
  if (labels.includes("RSA PRIVATE KEY") && !labels.includes("PRIVATE KEY")) {
    throw new CertificateError(
      `certificate secret ${name} holds a PKCS#1 key ("BEGIN RSA PRIVATE KEY"); WebCrypto needs PKCS#8 ` +
        `("BEGIN PRIVATE KEY"): convert it with \`${PKCS8_COMMAND}\` and store the converted key with the certificate`,
    );
  }
  if (labels.includes("ENCRYPTED PRIVATE KEY") && !labels.includes("PRIVATE KEY")) {
    throw new CertificateError(
      `certificate secret ${name} holds an encrypted key ("BEGIN ENCRYPTED PRIVATE KEY"); store it unencrypted: ` +
        `\`${PKCS8_COMMAND}\``,
    );
  }
  const key = blocks.find((b) => b.label === "PRIVATE KEY");
  const cert = blocks.find((b) => b.label === "CERTIFICATE");
  if (!key || !cert) {
    const missing = [!key && '"BEGIN PRIVATE KEY"', !cert && '"BEGIN CERTIFICATE"'].filter(Boolean).join(" and ");
    throw new CertificateError(
      `certificate secret ${name} must hold a PEM with a PKCS#8 private key and the certificate; missing ${missing}`,
    );
  }
  return { key: key.der, cert: cert.der };
}

/** The thumbprint header field for the algorithm: `x5t#S256` (SHA-256) for PS256, `x5t` (SHA-1) for RS256. */
export async function thumbprint(certDer, alg) {
  const hash = alg === "RS256" ? "SHA-1" : "SHA-256";
  return base64url(new Uint8Array(await crypto.subtle.digest(hash, certDer)));
}

/**
 * A signed client assertion.
 * @param {{keyDer: Uint8Array, certDer: Uint8Array, alg?: "PS256" | "RS256", clientId: string,
 *   audience: string, nowMs: number, jti?: string, name?: string}} args
 * @returns {Promise<string>} the compact JWT
 */
export async function createAssertion({ keyDer, certDer, alg = "PS256", clientId, audience, nowMs, jti, name = "?" }) {
  if (alg !== "PS256" && alg !== "RS256") throw new CertificateError(`unsupported assertion algorithm ${alg} (PS256 or RS256)`);
  const algorithm = alg === "PS256" ? { name: "RSA-PSS", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  let key;
  try {
    key = await crypto.subtle.importKey("pkcs8", keyDer, algorithm, false, ["sign"]);
  } catch {
    throw new CertificateError(`certificate secret ${name}: the private key is not an RSA PKCS#8 key WebCrypto can import`);
  }
  const header = alg === "PS256"
    ? { alg, typ: "JWT", "x5t#S256": await thumbprint(certDer, alg) }
    : { alg, typ: "JWT", x5t: await thumbprint(certDer, alg) };
  const now = Math.floor(nowMs / 1000);
  const claims = {
    aud: audience,
    iss: clientId,
    sub: clientId,
    jti: jti ?? crypto.randomUUID(),
    nbf: now,
    iat: now,
    exp: now + ASSERTION_LIFETIME_S,
  };
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  const params = alg === "PS256" ? { name: "RSA-PSS", saltLength: 32 } : { name: "RSASSA-PKCS1-v1_5" };
  const signature = new Uint8Array(await crypto.subtle.sign(params, key, utf8(input)));
  return `${input}.${base64url(signature)}`;
}

const utf8 = (text) => new TextEncoder().encode(text);

/** base64url without padding. */
export function base64url(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Bytes of a base64 (or base64url) text. */
export function base64ToBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
