//! A deterministic benchmark corpus: for every input format, one payload of
//! [`INDICATORS`] source indicators with a realistic mix of observables.
//!
//! The mix (per mille of source indicators): 400 IPv4 (a few CIDRs), 200 domains, 150 URLs,
//! 150 files (MD5, SHA-1 or SHA-256; one file in five carries several hashes), and the rest
//! IPv6 and e-mail addresses plus, for the STIX-based formats, compound patterns (an OR of
//! atoms, a `network-traffic` conjunction, or a non-atomic FOLLOWEDBY / qualified / LIKE one).
//!
//! No `rand`: a splitmix64 generator with a fixed seed per format, so the same bytes come out
//! on every machine. The shapes follow SPEC §3, the seeds' data mappings and the TLP marking
//! ids of `reference/microsoft-apis.md` (§1.7, addendum point 5).

use std::fmt::Write as _;
use ti_relay::time::Timestamp;

/// Source indicators in every payload.
pub(crate) const INDICATORS: usize = 10_000;

/// One generated payload.
pub(crate) struct Corpus {
    /// The format name (`stix`, `opencti`, `threatconnect`, `misp`, `envelope`); also the file stem.
    pub(crate) format: &'static str,
    /// The payload, compact JSON, as a webhook would receive it.
    pub(crate) text: String,
    /// Source indicators in it: STIX `indicator` objects, `OpenCTI` events, `ThreatConnect`
    /// indicators, MISP attributes (event-level and inside objects), envelope entries.
    pub(crate) indicators: usize,
}

/// Every format's payload, in a fixed order.
pub(crate) fn all() -> Vec<Corpus> {
    vec![
        Corpus { format: "stix", text: stix_bundle(), indicators: INDICATORS },
        Corpus { format: "opencti", text: opencti_events(), indicators: INDICATORS },
        Corpus { format: "threatconnect", text: threatconnect(), indicators: INDICATORS },
        Corpus { format: "misp", text: misp_event(), indicators: INDICATORS },
        Corpus { format: "envelope", text: envelope(), indicators: INDICATORS },
    ]
}

// ---------------------------------------------------------------------------------------------
// Ordered JSON values (serde_json's map sorts keys; real payloads put `type` and `id` first).

enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<V>),
    Obj(Vec<(&'static str, V)>),
}

impl V {
    /// Appends `key: value` to an object (no-op on other values).
    fn with(mut self, key: &'static str, value: impl Into<V>) -> V {
        if let V::Obj(fields) = &mut self {
            fields.push((key, value.into()));
        }
        self
    }

    /// Appends `key: value` when `value` is `Some`.
    fn with_opt(self, key: &'static str, value: Option<impl Into<V>>) -> V {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            V::Null => out.push_str("null"),
            V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            V::Int(n) => {
                let _ = write!(out, "{n}");
            }
            V::Float(x) => {
                let _ = write!(out, "{x:?}");
            }
            V::Str(s) => write_str(s, out),
            V::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            V::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    fn to_json(&self) -> String {
        let mut out = String::with_capacity(1 << 20);
        self.write(&mut out);
        out
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<&str> for V {
    fn from(s: &str) -> V {
        V::Str(s.to_owned())
    }
}
impl From<String> for V {
    fn from(s: String) -> V {
        V::Str(s)
    }
}
impl From<&String> for V {
    fn from(s: &String) -> V {
        V::Str(s.clone())
    }
}
impl From<bool> for V {
    fn from(b: bool) -> V {
        V::Bool(b)
    }
}
impl From<i64> for V {
    fn from(n: i64) -> V {
        V::Int(n)
    }
}
impl From<u32> for V {
    fn from(n: u32) -> V {
        V::Int(i64::from(n))
    }
}
impl From<usize> for V {
    fn from(n: usize) -> V {
        V::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
impl From<f64> for V {
    fn from(x: f64) -> V {
        V::Float(x)
    }
}
impl From<Vec<V>> for V {
    fn from(items: Vec<V>) -> V {
        V::Arr(items)
    }
}

/// `obj! { "key" => value, ... }`: an ordered JSON object.
macro_rules! obj {
    ($($key:literal => $value:expr),* $(,)?) => {
        V::Obj(vec![$(($key, V::from($value))),*])
    };
}

fn strs(items: &[String]) -> V {
    V::Arr(items.iter().map(V::from).collect())
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant for test data).
    fn below(&mut self, n: i64) -> i64 {
        i64::try_from(self.next_u64() % n.max(1) as u64).unwrap_or(0)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: i64) -> bool {
        self.below(1000) < per_mille
    }

    #[allow(clippy::indexing_slicing)] // the index is reduced modulo the length; tables are non-empty
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len().max(1) as u64) as usize]
    }

    fn hex(&mut self, len: usize, upper: bool) -> String {
        let digits: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
        (0..len).map(|_| char::from(*self.pick(digits))).collect()
    }

    /// A random (version 4) UUID.
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

// --- time -----------------------------------------------------------------------------------

/// 2025-06-01T00:00:00Z: the corpus's "now"; sources created up to two years earlier.
const NOW: i64 = 1_748_736_000;
const DAY: i64 = 86_400;

/// RFC 3339 with milliseconds, as STIX producers write it: `2024-03-05T10:11:12.123Z` (printed by
/// the crate's own `Timestamp`, whose calendar code is tested against chrono).
fn stix_time(secs: i64, millis: i64) -> String {
    Timestamp::from_unix_millis(secs * 1000 + millis).map(|t| t.to_string()).unwrap_or_default()
}

/// RFC 3339 without fractions, as `ThreatConnect` writes it: `2023-09-13T14:51:34Z`.
fn tc_time(secs: i64) -> String {
    stix_time(secs, 0).replace(".000Z", "Z")
}

fn date(secs: i64) -> String {
    stix_time(secs, 0).chars().take(10).collect()
}

/// created ≤ modified ≤ NOW, created within the last two years.
fn created_modified(rng: &mut Rng) -> (i64, i64) {
    let created = NOW - rng.range(DAY, 730 * DAY);
    let modified = created + rng.below(NOW - created);
    (created, modified)
}

// --- observables ----------------------------------------------------------------------------

#[derive(Clone)]
struct Hashes {
    md5: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
    name: Option<String>,
}

impl Hashes {
    fn count(&self) -> usize {
        usize::from(self.md5.is_some()) + usize::from(self.sha1.is_some()) + usize::from(self.sha256.is_some())
    }
}

#[derive(Clone)]
enum Obs {
    Ipv4(String),
    Cidr(String),
    Ipv6(String),
    Domain(String),
    Url(String),
    File(Hashes),
    Email(String),
}

/// Compound STIX patterns (the STIX-based formats only).
#[derive(Clone, Copy, PartialEq, Eq)]
enum CompoundKind {
    /// `[a OR b OR c]` or `[a] OR [b]`: each atom is an observable.
    Or,
    /// `[network-traffic:dst_ref.value = '…' AND network-traffic:dst_port = …]`.
    NetworkTraffic,
    /// FOLLOWEDBY, qualifiers, LIKE / MATCHES: not atomic.
    NonAtomic,
}

enum Entry {
    Atom(Obs),
    Compound(CompoundKind),
}

const TLDS: &[&str] = &["com", "net", "org", "info", "xyz", "ru", "io", "top", "biz", "cn", "online", "site"];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "net", "sec", "up", "data", "cloud", "cdn", "web", "soft", "ex", "zor", "tel", "pay", "mail",
    "box", "go", "fast", "safe", "login", "verify", "acc", "ount", "update", "win", "srv", "api",
];
const PATHS: &[&str] = &[
    "gate.php",
    "wp-content/plugins/index.php",
    "admin/login",
    "invoice.zip",
    "dl/payload.exe",
    "api/v1/beacon",
    "images/logo.png",
    "update/check",
    "files/doc.hta",
    "jquery.min.js",
    "submit",
    "index.html",
];
const FIRST_NAMES: &[&str] = &["billing", "support", "hr", "ceo", "no-reply", "it-helpdesk", "john.smith", "payroll"];
const FILE_NAMES: &[&str] = &["invoice.exe", "update.dll", "setup.msi", "report.docm", "payload.bin", "svchost.exe"];

fn word(rng: &mut Rng) -> String {
    let n = rng.range(2, 4);
    (0..n).map(|_| *rng.pick(SYLLABLES)).collect()
}

fn domain(rng: &mut Rng) -> String {
    let tld = rng.pick(TLDS);
    if rng.chance(250) { format!("{}.{}.{tld}", word(rng), word(rng)) } else { format!("{}.{tld}", word(rng)) }
}

fn ipv4(rng: &mut Rng) -> String {
    // Public-looking first octets: no 0, 10, 127, or multicast.
    let a = loop {
        let a = rng.range(1, 223);
        if a != 10 && a != 127 {
            break a;
        }
    };
    format!("{a}.{}.{}.{}", rng.below(256), rng.below(256), rng.range(1, 254))
}

fn ipv6(rng: &mut Rng) -> String {
    let prefix = *rng.pick(&["2a03:b0c0", "2001:4860", "2606:4700", "2a01:4f8", "2604:a880", "2400:cb00"]);
    let groups: Vec<String> = (0..6).map(|_| format!("{:x}", rng.below(0x1_0000))).collect();
    if rng.chance(500) {
        // Compressed, as most feeds write them.
        let (head, tail) = groups.split_at(1);
        format!("{prefix}:{}::{}", head.join(":"), tail.get(..2).unwrap_or_default().join(":"))
    } else {
        format!("{prefix}:{}", groups.join(":"))
    }
}

fn url(rng: &mut Rng) -> String {
    let scheme = if rng.chance(600) { "https" } else { "http" };
    let host = if rng.chance(150) { ipv4(rng) } else { domain(rng) };
    let port = if rng.chance(100) { format!(":{}", rng.pick(&[8080, 8443, 4444, 81])) } else { String::new() };
    let query = if rng.chance(300) { format!("?id={}", rng.hex(8, false)) } else { String::new() };
    format!("{scheme}://{host}{port}/{}{query}", rng.pick(PATHS))
}

fn email(rng: &mut Rng) -> String {
    format!("{}@{}", rng.pick(FIRST_NAMES), domain(rng))
}

fn file(rng: &mut Rng, upper: bool) -> Hashes {
    let roll = rng.below(1000);
    let (md5, sha1, sha256) = match roll {
        0..=499 => (false, false, true),
        500..=699 => (true, false, false),
        700..=799 => (false, true, false),
        800..=899 => (true, false, true),
        _ => (true, true, true),
    };
    Hashes {
        md5: md5.then(|| rng.hex(32, upper)),
        sha1: sha1.then(|| rng.hex(40, upper)),
        sha256: sha256.then(|| rng.hex(64, upper)),
        name: rng.chance(300).then(|| (*rng.pick(FILE_NAMES)).to_owned()),
    }
}

/// Draws the next entry of the mix; `compound` enables compound patterns (STIX-based formats).
fn entry(rng: &mut Rng, compound: bool, upper_hashes: bool) -> Entry {
    let roll = rng.below(1000);
    let rest = if compound { 930 } else { 965 };
    match roll {
        0..=399 if rng.chance(30) => {
            Entry::Atom(Obs::Cidr(format!("{}.{}.{}.0/24", rng.range(11, 223), rng.below(256), rng.below(256))))
        }
        0..=399 => Entry::Atom(Obs::Ipv4(ipv4(rng))),
        400..=599 => Entry::Atom(Obs::Domain(domain(rng))),
        600..=749 => Entry::Atom(Obs::Url(url(rng))),
        750..=899 => Entry::Atom(Obs::File(file(rng, upper_hashes))),
        r if r < rest => Entry::Atom(Obs::Ipv6(ipv6(rng))),
        r if r < rest + 35 => Entry::Atom(Obs::Email(email(rng))),
        _ => Entry::Compound(match rng.below(100) {
            0..=39 => CompoundKind::Or,
            40..=74 => CompoundKind::NetworkTraffic,
            _ => CompoundKind::NonAtomic,
        }),
    }
}

// --- STIX ---------------------------------------------------------------------------------------

/// Escapes a value for a STIX pattern string literal (`'` and `\`).
fn lit(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn hash_comparisons(h: &Hashes) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = &h.md5 {
        out.push(format!("file:hashes.MD5 = {}", lit(v)));
    }
    if let Some(v) = &h.sha1 {
        out.push(format!("file:hashes.'SHA-1' = {}", lit(v)));
    }
    if let Some(v) = &h.sha256 {
        out.push(format!("file:hashes.'SHA-256' = {}", lit(v)));
    }
    out
}

fn comparison(obs: &Obs) -> String {
    match obs {
        Obs::Ipv4(v) | Obs::Cidr(v) => format!("ipv4-addr:value = {}", lit(v)),
        Obs::Ipv6(v) => format!("ipv6-addr:value = {}", lit(v)),
        Obs::Domain(v) => format!("domain-name:value = {}", lit(v)),
        Obs::Url(v) => format!("url:value = {}", lit(v)),
        Obs::Email(v) => format!("email-addr:value = {}", lit(v)),
        Obs::File(h) => hash_comparisons(h).join(" OR "),
    }
}

fn value_of(obs: &Obs) -> String {
    match obs {
        Obs::Ipv4(v) | Obs::Cidr(v) | Obs::Ipv6(v) | Obs::Domain(v) | Obs::Url(v) | Obs::Email(v) => v.clone(),
        Obs::File(h) => h.sha256.clone().or_else(|| h.sha1.clone()).or_else(|| h.md5.clone()).unwrap_or_default(),
    }
}

/// A compound pattern, the atoms it carries (for `OpenCTI`'s `observable_values`), and a name.
fn compound(rng: &mut Rng, kind: CompoundKind) -> (String, Vec<Obs>, String) {
    match kind {
        CompoundKind::Or => {
            let n = rng.range(2, 4);
            let atoms: Vec<Obs> = (0..n)
                .map(|_| match rng.below(3) {
                    0 => Obs::Ipv4(ipv4(rng)),
                    1 => Obs::Domain(domain(rng)),
                    _ => Obs::Url(url(rng)),
                })
                .collect();
            let parts: Vec<String> = atoms.iter().map(comparison).collect();
            let pattern = if rng.chance(500) {
                format!("[{}]", parts.join(" OR "))
            } else {
                parts.iter().map(|p| format!("[{p}]")).collect::<Vec<_>>().join(" OR ")
            };
            let name =
                format!("{} and {} related", value_of(atoms.first().unwrap_or(&Obs::Ipv4(String::new()))), n - 1);
            (pattern, atoms, name)
        }
        CompoundKind::NetworkTraffic => {
            let ip = ipv4(rng);
            let port = *rng.pick(&[443, 80, 8080, 4444, 53, 22, 3389, 8443]);
            let mut parts = Vec::new();
            if rng.chance(400) {
                parts.push("network-traffic:dst_ref.type = 'ipv4-addr'".to_owned());
            }
            parts.push(format!("network-traffic:dst_ref.value = {}", lit(&ip)));
            parts.push(format!("network-traffic:dst_port = {port}"));
            if rng.chance(400) {
                parts.push(format!("network-traffic:protocols[*] = {}", lit(rng.pick::<&str>(&["tcp", "udp"]))));
            }
            let name = format!("{ip}:{port}");
            (format!("[{}]", parts.join(" AND ")), vec![Obs::Ipv4(ip)], name)
        }
        CompoundKind::NonAtomic => {
            let ip = ipv4(rng);
            let d = domain(rng);
            let sha = rng.hex(64, false);
            let pattern = match rng.below(6) {
                0 => format!(
                    "[file:hashes.'SHA-256' = {}] FOLLOWEDBY [ipv4-addr:value = {}] WITHIN 600 SECONDS",
                    lit(&sha),
                    lit(&ip)
                ),
                1 => format!("[domain-name:value = {}] REPEATS 5 TIMES WITHIN 3600 SECONDS", lit(&d)),
                2 => format!(
                    "[ipv4-addr:value = {}] START t'{}' STOP t'{}'",
                    lit(&ip),
                    tc_time(NOW - 90 * DAY),
                    tc_time(NOW + 90 * DAY)
                ),
                3 => format!("[url:value LIKE {}]", lit(&format!("%{d}/%.php"))),
                4 => "[process:command_line MATCHES '^powershell\\\\.exe -[eE]nc [A-Za-z0-9+/=]{40,}$']".to_owned(),
                _ => format!(
                    "[network-traffic:dst_ref.value = {} AND network-traffic:src_port > 49151] AND [domain-name:value = {}]",
                    lit(&ip),
                    lit(&d)
                ),
            };
            (pattern, Vec::new(), format!("Behaviour {}", rng.hex(6, false)))
        }
    }
}

struct Tlp {
    v1: &'static str,
    v2: &'static str,
    opencti: &'static str,
    name: &'static str,
    color: &'static str,
}

/// TLP markings: TLP 1.0 ids, OASIS TLP 2.0 ids and `OpenCTI` standard ids.
const TLPS: &[Tlp] = &[
    Tlp {
        v1: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        v2: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        opencti: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        name: "clear",
        color: "FFFFFF",
    },
    Tlp {
        v1: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        v2: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        opencti: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        name: "green",
        color: "33FF00",
    },
    Tlp {
        v1: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        v2: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        opencti: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        name: "amber",
        color: "FFC000",
    },
    Tlp {
        // TLP 1.0 has no AMBER+STRICT: producers fall back to AMBER.
        v1: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        v2: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        opencti: "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",
        name: "amber+strict",
        color: "FFC000",
    },
    Tlp {
        v1: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        v2: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        opencti: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        name: "red",
        color: "FF2B2B",
    },
];

/// A TLP for one indicator: 15% clear, 40% green, 25% amber, 5% amber+strict, 5% red, 10% none.
#[allow(clippy::indexing_slicing)] // constant indices into the constant table
fn tlp(rng: &mut Rng) -> Option<&'static Tlp> {
    match rng.below(100) {
        0..=14 => Some(&TLPS[0]),
        15..=54 => Some(&TLPS[1]),
        55..=79 => Some(&TLPS[2]),
        80..=84 => Some(&TLPS[3]),
        85..=89 => Some(&TLPS[4]),
        _ => None,
    }
}

fn stix_marking_objects() -> Vec<V> {
    let mut out = Vec::new();
    for t in TLPS {
        if t.name != "amber+strict" {
            let upper = if t.name == "clear" { "WHITE".to_owned() } else { t.name.to_ascii_uppercase() };
            let tlp1 = if t.name == "clear" { "white" } else { t.name };
            out.push(obj! {
                "type" => "marking-definition",
                "spec_version" => "2.1",
                "id" => t.v1,
                "created" => "2017-01-20T00:00:00.000Z",
                "definition_type" => "tlp",
                "name" => format!("TLP:{upper}"),
                "definition" => obj! { "tlp" => tlp1 },
            });
        }
        out.push(obj! {
            "type" => "marking-definition",
            "spec_version" => "2.1",
            "id" => t.v2,
            "created" => "2022-10-01T00:00:00.000Z",
            "name" => format!("TLP:{}", t.name.to_ascii_uppercase()),
            "extensions" => obj! {
                "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d" => obj! {
                    "extension_type" => "property-extension",
                    "tlp_2_0" => t.name,
                },
            },
        });
    }
    out
}

const LABELS: &[&str] = &[
    "malicious-activity",
    "c2",
    "phishing",
    "botnet",
    "ransomware",
    "apt28",
    "emotet",
    "cobalt-strike",
    "scanner",
    "credential-harvesting",
];
const MITRE_PHASES: &[&str] = &["initial-access", "execution", "persistence", "command-and-control", "exfiltration"];
const LM_PHASES: &[&str] = &["reconnaissance", "delivery", "exploitation", "installation", "command-and-control"];

fn labels(rng: &mut Rng) -> Vec<String> {
    let n = rng.below(4);
    let mut out: Vec<String> = Vec::new();
    for _ in 0..n {
        let l = (*rng.pick(LABELS)).to_owned();
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

fn kill_chain(rng: &mut Rng) -> Option<V> {
    match rng.below(10) {
        0..=3 => Some(V::Arr(vec![obj! {
            "kill_chain_name" => "mitre-attack",
            "phase_name" => *rng.pick(MITRE_PHASES),
        }])),
        4..=5 => Some(V::Arr(vec![obj! {
            "kill_chain_name" => "lockheed-martin-cyber-kill-chain",
            "phase_name" => *rng.pick(LM_PHASES),
        }])),
        _ => None,
    }
}

/// What one STIX indicator says about its observable(s).
struct StixPattern {
    pattern: String,
    name: String,
    atoms: Vec<Obs>,
    main_type: &'static str,
}

fn opencti_type(obs: &Obs) -> &'static str {
    match obs {
        Obs::Ipv4(_) | Obs::Cidr(_) => "IPv4-Addr",
        Obs::Ipv6(_) => "IPv6-Addr",
        Obs::Domain(_) => "Domain-Name",
        Obs::Url(_) => "Url",
        Obs::File(_) => "StixFile",
        Obs::Email(_) => "Email-Addr",
    }
}

fn stix_pattern(rng: &mut Rng) -> StixPattern {
    match entry(rng, true, false) {
        Entry::Atom(obs) => {
            let pattern = format!("[{}]", comparison(&obs));
            let name = match &obs {
                Obs::File(h) => h.name.clone().unwrap_or_else(|| value_of(&obs)),
                _ => value_of(&obs),
            };
            let main_type = opencti_type(&obs);
            StixPattern { pattern, name, atoms: vec![obs], main_type }
        }
        Entry::Compound(kind) => {
            let (pattern, atoms, name) = compound(rng, kind);
            let main_type = match kind {
                CompoundKind::NetworkTraffic => "Network-Traffic",
                CompoundKind::Or => atoms.first().map_or("Unknown", opencti_type),
                CompoundKind::NonAtomic => "Unknown",
            };
            StixPattern { pattern, name, atoms, main_type }
        }
    }
}

/// Common STIX 2.1 indicator properties; `marking` picks the marking id flavour.
fn stix_indicator(
    rng: &mut Rng,
    p: &StixPattern,
    author: &str,
    marking: fn(&Tlp, &mut Rng) -> &'static str,
    (created, modified): (i64, i64),
) -> V {
    let id = format!("indicator--{}", rng.uuid());
    let mut o = obj! {
        "type" => "indicator",
        "spec_version" => "2.1",
        "id" => id,
        "created_by_ref" => author,
        "created" => stix_time(created, rng.below(1000)),
        "modified" => stix_time(modified, rng.below(1000)),
        "name" => &p.name,
        "description" => format!("{} observed by the honeypot network; first reported {}.", p.name, date(created)),
        "indicator_types" => V::Arr(vec![V::from(*rng.pick(&["malicious-activity", "malicious-activity", "anomalous-activity", "compromised"]))]),
        "pattern" => &p.pattern,
        "pattern_type" => "stix",
        "pattern_version" => "2.1",
        "valid_from" => stix_time(created, 0),
    };
    if rng.chance(350) {
        // Mostly in the future; one in seven already past.
        let until = if rng.chance(140) { NOW - rng.range(1, 60) * DAY } else { NOW + rng.range(7, 365) * DAY };
        o = o.with("valid_until", stix_time(until, 0));
    }
    if rng.chance(10) {
        o = o.with("revoked", true);
    }
    let l = labels(rng);
    if !l.is_empty() {
        o = o.with("labels", strs(&l));
    }
    if rng.chance(850) {
        o = o.with("confidence", rng.below(101));
    }
    o = o.with_opt("kill_chain_phases", kill_chain(rng));
    if rng.chance(150) {
        o = o.with(
            "external_references",
            V::Arr(vec![obj! {
                "source_name" => "AlienVault OTX",
                "url" => format!("https://otx.alienvault.com/pulse/{}", rng.hex(24, false)),
            }]),
        );
    }
    if let Some(t) = tlp(rng) {
        o = o.with("object_marking_refs", V::Arr(vec![V::from(marking(t, rng))]));
    }
    o
}

/// TLP 1.0 ids for 70% of the indicators, OASIS TLP 2.0 ids for the rest.
fn stix_marking(t: &Tlp, rng: &mut Rng) -> &'static str {
    if rng.chance(700) { t.v1 } else { t.v2 }
}

fn opencti_marking(t: &Tlp, _: &mut Rng) -> &'static str {
    t.opencti
}

const STIX_AUTHOR: &str = "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01";

fn stix_identity() -> V {
    obj! {
        "type" => "identity",
        "spec_version" => "2.1",
        "id" => STIX_AUTHOR,
        "created" => "2021-04-01T09:00:00.000Z",
        "modified" => "2024-11-12T16:20:00.000Z",
        "name" => "ACME Threat Research",
        "identity_class" => "organization",
        "sectors" => V::Arr(vec![V::from("technology")]),
    }
}

fn stix_bundle() -> String {
    let mut rng = Rng::new(0x5717_2021);
    let mut objects = vec![stix_identity()];
    objects.extend(stix_marking_objects());
    for _ in 0..INDICATORS {
        let p = stix_pattern(&mut rng);
        let times = created_modified(&mut rng);
        objects.push(stix_indicator(&mut rng, &p, STIX_AUTHOR, stix_marking, times));
    }
    obj! {
        "type" => "bundle",
        "id" => format!("bundle--{}", rng.uuid()),
        "objects" => objects,
    }
    .to_json()
}

fn envelope() -> String {
    let mut rng = Rng::new(0xE17E_1095);
    let indicators: Vec<V> = (0..INDICATORS)
        .map(|_| {
            let p = stix_pattern(&mut rng);
            let times = created_modified(&mut rng);
            stix_indicator(&mut rng, &p, STIX_AUTHOR, stix_marking, times)
        })
        .collect();
    obj! { "action" => "upsert", "indicators" => indicators }.to_json()
}

// --- OpenCTI ------------------------------------------------------------------------------------

const OPENCTI_EXT: &str = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba";

fn observable_values(atoms: &[Obs]) -> V {
    V::Arr(
        atoms
            .iter()
            .map(|a| match a {
                Obs::File(h) => {
                    let mut hashes = obj! {};
                    hashes = hashes.with_opt("MD5", h.md5.clone());
                    hashes = hashes.with_opt("SHA-1", h.sha1.clone());
                    hashes = hashes.with_opt("SHA-256", h.sha256.clone());
                    obj! { "type" => "StixFile", "hashes" => hashes }
                }
                other => obj! { "type" => opencti_type(other), "value" => value_of(other) },
            })
            .collect(),
    )
}

fn opencti_events() -> String {
    let mut rng = Rng::new(0x0C7_1DE5);
    let author = format!("identity--{}", rng.uuid());
    let user_id = rng.uuid();
    let mut events = Vec::with_capacity(INDICATORS);
    let mut clock_ms: i64 = NOW * 1000 - 3_600_000;
    for _ in 0..INDICATORS {
        let p = stix_pattern(&mut rng);
        // OpenCTI's own timestamps trail the STIX ones by a moment.
        let (created, modified) = created_modified(&mut rng);
        let (created_at, updated_at) = (created + rng.range(1, 120), modified + rng.range(1, 120));
        let mut data = stix_indicator(&mut rng, &p, &author, opencti_marking, (created, modified));
        let score = rng.below(101);
        let detection = rng.chance(900);
        if rng.chance(800) {
            let ext = obj! {
                "extension_type" => "property-extension",
                "id" => rng.uuid(),
                "type" => "Indicator",
                "created_at" => stix_time(created_at, rng.below(1000)),
                "updated_at" => stix_time(updated_at, rng.below(1000)),
                "is_inferred" => false,
                "creator_ids" => V::Arr(vec![V::from(user_id.clone())]),
                "score" => score,
                "detection" => detection,
                "main_observable_type" => p.main_type,
                "observable_values" => observable_values(&p.atoms),
            };
            data = data.with("extensions", V::Obj(vec![(OPENCTI_EXT, ext)]));
        } else {
            // Older platforms: x_opencti_* properties at the top level.
            data = data
                .with("x_opencti_id", rng.uuid())
                .with("x_opencti_score", score)
                .with("x_opencti_detection", detection)
                .with("x_opencti_main_observable_type", p.main_type);
        }
        clock_ms += rng.range(5, 900);
        let (kind, message) = match rng.below(100) {
            0..=79 => ("create", format!("creates a Indicator `{}`", p.name)),
            80..=91 => ("update", format!("replaces `{score}` in `Score`")),
            _ => ("delete", format!("deletes a Indicator `{}`", p.name)),
        };
        let mut event = obj! {
            "type" => kind,
            "data" => data,
            "event_id" => format!("{clock_ms}-0"),
            "message" => message,
            "origin" => obj! {
                "user_id" => user_id.clone(),
                "socket" => "query",
                "referer" => "https://opencti.example.org/dashboard/observations/indicators",
            },
            "version" => "4",
        };
        if kind == "update" {
            let path = format!("/extensions/{OPENCTI_EXT}/score");
            let old = rng.below(101);
            event = event.with(
                "context",
                obj! {
                    "patch" => V::Arr(vec![obj! { "op" => "replace", "path" => path.clone(), "value" => score }]),
                    "reverse_patch" => V::Arr(vec![obj! { "op" => "replace", "path" => path, "value" => old }]),
                },
            );
        }
        events.push(event);
    }
    V::Arr(events).to_json()
}

// --- ThreatConnect v3 ----------------------------------------------------------------------------

const TC_OWNERS: &[(i64, &str)] = &[(7, "ABC-Owner"), (12, "Common Community"), (3, "Technical Blogs and Reports")];
const TC_PHASES: &[&str] =
    &["Reconnaissance", "Weaponization", "Delivery", "Exploitation", "Installation", "Command and Control"];
const TC_TAGS: &[&str] = &["APT28", "Emotet", "Phishing", "C2", "Ransomware", "Botnet", "Scanner", "Cobalt Strike"];

fn threatconnect() -> String {
    let mut rng = Rng::new(0x7C0_2023);
    let data: Vec<V> =
        (0..INDICATORS).map(|i| tc_indicator(&mut rng, 10_000_000 + i64::try_from(i).unwrap_or(0))).collect();
    obj! { "data" => data, "count" => INDICATORS, "status" => "Success" }.to_json()
}

/// One `ThreatConnect` v3 indicator, as `GET /v3/indicators` with tags, security labels and
/// attributes returns it.
fn tc_indicator(rng: &mut Rng, id: i64) -> V {
    let obs = match entry(rng, false, true) {
        Entry::Atom(o) => o,
        Entry::Compound(_) => Obs::Ipv6(ipv6(rng)), // not drawn without compounds
    };
    let (tc_type, summary) = match &obs {
        Obs::Ipv4(v) | Obs::Ipv6(v) => ("Address", v.clone()),
        Obs::Cidr(v) => ("CIDR", v.clone()),
        Obs::Domain(v) => ("Host", v.clone()),
        Obs::Url(v) => ("URL", v.clone()),
        Obs::Email(v) => ("EmailAddress", v.clone()),
        // ThreatConnect's File summary: "MD5 : SHA1 : SHA256", of the hashes present.
        Obs::File(h) => {
            ("File", [&h.md5, &h.sha1, &h.sha256].into_iter().flatten().cloned().collect::<Vec<_>>().join(" : "))
        }
    };
    let (owner_id, owner) = *rng.pick(TC_OWNERS);
    let (added, modified) = created_modified(rng);
    let mut o = obj! {
        "id" => id,
        "ownerId" => owner_id,
        "ownerName" => owner,
        "dateAdded" => tc_time(added),
        "webLink" => format!("https://companyabc.threatconnect.com/#/details/indicators/{id}/overview"),
        "type" => tc_type,
        "lastModified" => tc_time(modified),
        "rating" => rng.below(6) as f64,
        "confidence" => rng.below(101),
        "threatAssessRating" => rng.below(51) as f64 / 10.0,
        "threatAssessConfidence" => rng.below(1001) as f64 / 10.0,
        "threatAssessScore" => rng.below(1001),
        "calScore" => rng.below(1001),
        "summary" => summary,
        "privateFlag" => false,
        "active" => rng.chance(950),
        "activeLocked" => false,
        "falsePositives" => rng.below(3),
        "observations" => rng.below(20),
    };
    o = match &obs {
        Obs::Ipv4(v) | Obs::Ipv6(v) => o.with("ip", v),
        Obs::Cidr(v) => o.with("block", v),
        Obs::Domain(v) => o.with("hostName", v).with("dnsActive", false).with("whoisActive", false),
        Obs::Url(v) => o.with("text", v),
        Obs::Email(v) => o.with("address", v),
        Obs::File(h) => o
            .with_opt("md5", h.md5.clone())
            .with_opt("sha1", h.sha1.clone())
            .with_opt("sha256", h.sha256.clone())
            .with("size", rng.range(1_000, 5_000_000)),
    };
    let tags: Vec<V> =
        (0..rng.below(3)).map(|_| obj! { "id" => rng.range(100, 999), "name" => *rng.pick(TC_TAGS) }).collect();
    o = o.with("tags", obj! { "data" => tags });
    o = o.with_opt("securityLabels", tc_security_labels(rng));
    o.with("attributes", obj! { "data" => tc_attributes(rng, added, modified) })
}

fn tc_security_labels(rng: &mut Rng) -> Option<V> {
    let t = tlp(rng)?;
    let label = if t.name == "clear" && rng.chance(500) {
        "TLP:WHITE".to_owned()
    } else {
        format!("TLP:{}", t.name.to_ascii_uppercase())
    };
    Some(obj! { "data" => V::Arr(vec![obj! {
        "id" => rng.range(1, 5),
        "name" => label,
        "description" => "Traffic Light Protocol marking",
        "color" => t.color,
        "owner" => "System",
        "dateAdded" => "2016-08-31T00:00:00Z",
    }]) })
}

fn tc_attributes(rng: &mut Rng, added: i64, modified: i64) -> Vec<V> {
    let mut attributes = Vec::new();
    let mut push = |rng: &mut Rng, kind: &str, value: String| {
        attributes.push(obj! {
            "id" => rng.range(1_000_000, 9_999_999),
            "dateAdded" => tc_time(added),
            "type" => kind,
            "value" => value,
            "lastModified" => tc_time(modified),
            "pinned" => false,
            "default" => false,
        });
    };
    if rng.chance(500) {
        let phase = (*rng.pick(TC_PHASES)).to_owned();
        push(rng, "Phase of Intrusion", phase);
    }
    if rng.chance(300) {
        push(rng, "Last Seen", tc_time(modified));
    }
    if rng.chance(100) {
        let analysis = format!("TCP/{}", rng.pick(&[443, 80, 8080]));
        push(rng, "Network Protocol Analysis", analysis);
    }
    attributes
}

// --- MISP ---------------------------------------------------------------------------------------

const MISP_EVENT_ID: &str = "4242";
const PAYLOAD: &str = "Payload delivery";
const NETWORK: &str = "Network activity";

struct MispAttr<'a> {
    kind: &'a str,
    category: &'a str,
    value: String,
    relation: Option<&'a str>,
    object_id: &'a str,
}

fn single(kind: &'static str, category: &'static str, value: String) -> MispAttr<'static> {
    MispAttr { kind, category, value, relation: None, object_id: "0" }
}

fn misp_attribute(rng: &mut Rng, a: &MispAttr<'_>, ts: i64, id: usize) -> V {
    let mut o = obj! {
        "id" => format!("{}", 900_000 + id),
        "type" => a.kind,
        "category" => a.category,
        "to_ids" => !rng.chance(30),
        "uuid" => rng.uuid(),
        "event_id" => MISP_EVENT_ID,
        "distribution" => "5",
        "timestamp" => format!("{ts}"),
        "comment" => if rng.chance(100) { "seen in sandbox run" } else { "" },
        "sharing_group_id" => "0",
        "deleted" => false,
        "disable_correlation" => false,
        "object_id" => a.object_id,
        "object_relation" => a.relation.map_or(V::Null, V::from),
        "first_seen" => V::Null,
        "last_seen" => V::Null,
        "value" => a.value.clone(),
    };
    let mut tags = Vec::new();
    if rng.chance(80) {
        let tlp = *rng.pick(&["tlp:amber", "tlp:clear", "tlp:white", "tlp:red"]);
        tags.push(obj! { "id" => "12", "name" => tlp, "colour" => "#FFC000", "exportable" => true });
    }
    if rng.chance(60) {
        let phase = *rng.pick(&["Delivery", "Command and Control", "Exploitation"]);
        tags.push(
            obj! { "id" => "31", "name" => format!("kill-chain:{phase}"), "colour" => "#0088cc", "exportable" => true },
        );
    }
    if !tags.is_empty() {
        o = o.with("Tag", tags);
    }
    o
}

/// Several hashes of one file: a MISP `file` object whose attributes count towards `count`.
fn misp_file_object(rng: &mut Rng, h: &Hashes, object_id: &str, ts: i64, count: &mut usize) -> V {
    let mut inner = Vec::new();
    for (kind, value) in [("md5", &h.md5), ("sha1", &h.sha1), ("sha256", &h.sha256)] {
        if let Some(v) = value
            && *count < INDICATORS
        {
            let a = MispAttr { kind, category: PAYLOAD, value: v.clone(), relation: Some(kind), object_id };
            inner.push(misp_attribute(rng, &a, ts, *count));
            *count += 1;
        }
    }
    obj! {
        "id" => object_id,
        "name" => "file",
        "meta-category" => "file",
        "description" => "File object describing a file with meta-information",
        "template_uuid" => "688c46fb-5edb-40a3-8273-1af7923e2215",
        "template_version" => "24",
        "event_id" => MISP_EVENT_ID,
        "uuid" => rng.uuid(),
        "timestamp" => format!("{ts}"),
        "distribution" => "5",
        "sharing_group_id" => "0",
        "comment" => "",
        "deleted" => false,
        "Attribute" => inner,
    }
}

/// A single attribute for an observable, or `None` for a multi-hash file (an object instead).
fn misp_single(rng: &mut Rng, obs: Obs) -> Option<MispAttr<'static>> {
    Some(match obs {
        Obs::Ipv4(v) if rng.chance(50) => {
            single("ip-dst|port", NETWORK, format!("{v}|{}", rng.pick(&[443, 80, 8080, 4444])))
        }
        Obs::Ipv4(v) | Obs::Cidr(v) | Obs::Ipv6(v) => {
            single(if rng.chance(700) { "ip-dst" } else { "ip-src" }, NETWORK, v)
        }
        Obs::Domain(v) => single(if rng.chance(700) { "domain" } else { "hostname" }, NETWORK, v),
        Obs::Url(v) => single("url", NETWORK, v),
        Obs::Email(v) => single(if rng.chance(600) { "email-src" } else { "email-dst" }, PAYLOAD, v),
        Obs::File(h) => match (h.name, h.sha256, h.sha1, h.md5) {
            (Some(name), Some(sha256), None, None) => single("filename|sha256", PAYLOAD, format!("{name}|{sha256}")),
            (_, Some(v), None, None) => single("sha256", PAYLOAD, v),
            (_, None, Some(v), None) => single("sha1", PAYLOAD, v),
            (_, None, None, Some(v)) => single("md5", PAYLOAD, v),
            _ => return None,
        },
    })
}

fn misp_event() -> String {
    let mut rng = Rng::new(0x0315_2024);
    let mut attributes = Vec::new();
    let mut objects = Vec::new();
    let mut count = 0;
    let ts = NOW - 3 * DAY;
    while count < INDICATORS {
        let obs = match entry(&mut rng, false, false) {
            Entry::Atom(o) => o,
            Entry::Compound(_) => Obs::Ipv6(ipv6(&mut rng)), // not drawn without compounds
        };
        if let Obs::File(h) = &obs
            && h.count() > 1
        {
            let object_id = format!("{}", 70_000 + objects.len());
            objects.push(misp_file_object(&mut rng, h, &object_id, ts, &mut count));
        } else if let Some(attr) = misp_single(&mut rng, obs) {
            attributes.push(misp_attribute(&mut rng, &attr, ts, count));
            count += 1;
        }
    }
    let event = obj! {
        "id" => MISP_EVENT_ID,
        "orgc_id" => "2",
        "org_id" => "1",
        "date" => date(ts),
        "threat_level_id" => "2",
        "info" => "OSINT - Mixed infrastructure and payload indicators (benchmark corpus)",
        "published" => true,
        "uuid" => rng.uuid(),
        "attribute_count" => format!("{INDICATORS}"),
        "analysis" => "2",
        "timestamp" => format!("{ts}"),
        "distribution" => "1",
        "proposal_email_lock" => false,
        "locked" => false,
        "publish_timestamp" => format!("{}", ts + 600),
        "sharing_group_id" => "0",
        "disable_correlation" => false,
        "extends_uuid" => "",
        "Org" => obj! { "id" => "1", "name" => "ACME SOC", "uuid" => rng.uuid(), "local" => true },
        "Orgc" => obj! { "id" => "2", "name" => "CIRCL", "uuid" => "55f6ea5e-2c60-40e5-964f-47a8950d210f", "local" => false },
        "Tag" => V::Arr(vec![
            obj! { "id" => "3", "name" => "tlp:green", "colour" => "#339900", "exportable" => true },
            obj! { "id" => "44", "name" => "misp:confidence-level=\"usually-confident\"", "colour" => "#00a2ff", "exportable" => true },
            obj! { "id" => "45", "name" => "kill-chain:Delivery", "colour" => "#0088cc", "exportable" => true },
        ]),
        "Attribute" => attributes,
        "Object" => objects,
    };
    obj! { "Event" => event }.to_json()
}
