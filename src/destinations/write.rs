//! Hand-written JSON for the mapped objects: the planner writes each one straight into its batch's
//! body. The bytes are exactly what `serde_json` writes for the derived `Serialize` (compact, the
//! same field order, the same omissions and string escapes; a test checks it for every mapped
//! object of every fixture), at about half the cost: field names are written as literals instead of
//! being escaped one by one, and nothing can fail.

use crate::time::Timestamp;

/// An object the planner writes into a request body.
pub(crate) trait WriteJson {
    /// Appends the object's JSON text to `out` (`times` keeps the text of its timestamps).
    fn write_json(&self, out: &mut Vec<u8>, times: &mut Times);
}

impl WriteJson for &str {
    fn write_json(&self, out: &mut Vec<u8>, _: &mut Times) {
        string(out, self);
    }
}

/// The text of the timestamps written last ([`Timestamp::text`]): a plan writes each item's
/// expiry at every destination, the same one for items of a type, and Sentinel's `modified` again
/// as Graph's `lastReportedDateTime`. A few entries, replaced in turn.
pub(crate) struct Times {
    entries: [Option<(Timestamp, [u8; 24])>; TIMES],
    next: usize,
}

/// The timestamps [`Times`] keeps.
const TIMES: usize = 4;

impl Times {
    pub(crate) fn new() -> Self {
        Self { entries: [None; TIMES], next: 0 }
    }

    /// The text of `value`.
    fn text(&mut self, value: Timestamp) -> [u8; 24] {
        if let Some((_, text)) = self.entries.iter().flatten().find(|(at, _)| *at == value) {
            return *text;
        }
        let text = value.text();
        let at = self.next % TIMES;
        if let Some(entry) = self.entries.get_mut(at) {
            *entry = Some((value, text));
        }
        self.next = at + 1;
        text
    }
}

/// `"text"`, escaped as `serde_json` escapes strings: `"` and `\` with a backslash, `\b \f \n \r
/// \t` by name, other control characters as `\u00xx`; everything else as is. Eight bytes at a time
/// are checked for anything to escape (most text has nothing: then it is copied at once).
#[cfg_attr(not(target_arch = "wasm32"), inline)]
pub(crate) fn string(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    unquoted(out, text);
    out.push(b'"');
}

/// [`string`] without its quotes.
#[inline]
fn unquoted(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        escaped(out, bytes);
    }
}

/// Whether no byte of `bytes` needs an escape (most text): eight bytes at a time, the last eight
/// overlapping the ones before (no padded copy), and a text shorter than eight byte by byte.
fn plain(bytes: &[u8]) -> bool {
    let word = |chunk: &[u8]| <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
    let mut chunks = bytes.chunks_exact(8);
    if chunks.any(|chunk| needs_escape(word(chunk))) {
        return false;
    }
    match bytes.len().checked_sub(8) {
        Some(last) => !needs_escape(word(bytes.get(last..).unwrap_or_default())),
        None => !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\'),
    }
}

/// The body of [`string`] for text with something to escape (a ThreatConnect description is JSON
/// text, with a `"` every few bytes): eight bytes at a time, a word with nothing to escape copied
/// whole, the others byte by byte.
#[inline(never)]
fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else { continue };
        if needs_escape(u64::from_le_bytes(word)) {
            for b in word {
                escape(out, b);
            }
        } else {
            out.extend_from_slice(&word);
        }
    }
    for &b in chunks.remainder() {
        escape(out, b);
    }
}

/// Whether any of the eight bytes of `word` is a control character, `"` or `\`: the JSON parser's
/// test ([`crate::json::special_bytes`]), which is exact about whether there is any.
const fn needs_escape(word: u64) -> bool {
    crate::json::special_bytes(word) != 0
}

/// Byte `b`, escaped if it must be.
#[inline]
fn escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
        0x20.. => out.push(b),
        _ => control(out, b),
    }
}

/// A control character's escape: `\b \f \n \r \t` by name, the others as `\u00xx`.
#[cold]
fn control(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        _ => 0,
    };
    if short == 0 {
        let hex = |n: u8| HEX.get(usize::from(n)).copied().unwrap_or(b'0');
        out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0x0f)]);
    } else {
        out.extend_from_slice(&[b'\\', short]);
    }
}

/// `n` in decimal.
fn uint(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(crate::json::decimal_digits(n, &mut digits));
}

/// `,"name":`: how [`Object`]'s methods take a member's name (one that needs no escape), so that
/// writing it is one copy (the comma is skipped before the first member).
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}
pub(crate) use key;

/// One JSON object being written: `{`, then `"key":value` pairs separated by commas, then `}`.
pub(crate) struct Object<'o> {
    out: &'o mut Vec<u8>,
    times: &'o mut Times,
    first: bool,
}

impl<'o> Object<'o> {
    /// Opens an object.
    pub(crate) fn new(out: &'o mut Vec<u8>, times: &'o mut Times) -> Self {
        out.push(b'{');
        Self { out, times, first: true }
    }

    /// Opens an object as the value of the member being written.
    fn nested(&mut self) -> Object<'_> {
        Object::new(self.out, self.times)
    }

    /// Writes `key` (`,"name":` from [`key!`], without its comma for the first member) and
    /// returns the buffer for the value. Not inlined in wasm: it is written for every member of
    /// every object, and inlined everywhere it grows the wasm by ~2 KB gzipped.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        let skip = usize::from(self.first);
        self.first = false;
        self.out.extend_from_slice(key.as_bytes().get(skip..).unwrap_or_default());
        self.out
    }

    #[inline]
    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        string(self.key(key), value);
        self
    }

    /// The string `<before><value><after>`, where `before` and `after` are this crate's own text,
    /// which needs no escape: only `value` is escaped, and no text is joined first.
    pub(crate) fn str_between(
        &mut self,
        key: &str,
        before: &'static str,
        value: &str,
        after: &'static str,
    ) -> &mut Self {
        let out = self.key(key);
        out.push(b'"');
        out.extend_from_slice(before.as_bytes());
        unquoted(out, value);
        out.extend_from_slice(after.as_bytes());
        out.push(b'"');
        self
    }

    /// Members written as they are: `text` is `,"name":value…` of this crate's own, with nothing to
    /// escape (several constant members at once, one copy).
    pub(crate) fn members(&mut self, text: &'static str) -> &mut Self {
        self.key(text);
        self
    }

    /// A string of this crate's own (a type name, an action, a version: `'static`), which needs no
    /// escape: written without looking for any.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn lit(&mut self, key: &str, value: &'static str) -> &mut Self {
        let out = self.key(key);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
        self
    }

    /// [`Object::lit`] when present.
    pub(crate) fn opt_lit(&mut self, key: &str, value: Option<&'static str>) -> &mut Self {
        if let Some(value) = value {
            self.lit(key, value);
        }
        self
    }

    /// The field when present (an absent one is omitted, as `skip_serializing_if = "Option::is_none"`).
    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.str(key, value);
        }
        self
    }

    /// The field, `null` when absent (an `Option` without `skip_serializing_if`).
    pub(crate) fn str_or_null(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            return self.str(key, value);
        }
        self.key(key).extend_from_slice(b"null");
        self
    }

    /// A nested object written by `each`, `null` when absent.
    pub(crate) fn object_or_null<T>(
        &mut self,
        key: &str,
        value: Option<&T>,
        each: impl Fn(&T, &mut Object<'_>),
    ) -> &mut Self {
        self.key(key);
        match value {
            Some(value) => {
                let mut object = self.nested();
                each(value, &mut object);
                object.close();
            }
            None => self.out.extend_from_slice(b"null"),
        }
        self
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.key(key).extend_from_slice(text);
        self
    }

    pub(crate) fn opt_bool(&mut self, key: &str, value: Option<bool>) -> &mut Self {
        if let Some(value) = value {
            self.bool(key, value);
        }
        self
    }

    pub(crate) fn uint(&mut self, key: &str, value: u64) -> &mut Self {
        uint(self.key(key), value);
        self
    }

    pub(crate) fn opt_uint(&mut self, key: &str, value: Option<u64>) -> &mut Self {
        if let Some(value) = value {
            self.uint(key, value);
        }
        self
    }

    pub(crate) fn time(&mut self, key: &str, value: Timestamp) -> &mut Self {
        let text = self.times.text(value);
        let out = self.key(key);
        out.push(b'"');
        out.extend_from_slice(&text);
        out.push(b'"');
        self
    }

    pub(crate) fn opt_time(&mut self, key: &str, value: Option<Timestamp>) -> &mut Self {
        if let Some(value) = value {
            self.time(key, value);
        }
        self
    }

    /// An array of strings; omitted when empty if `skip_empty`.
    pub(crate) fn strs<S: AsRef<str>>(&mut self, key: &str, values: &[S], skip_empty: bool) -> &mut Self {
        if skip_empty && values.is_empty() {
            return self;
        }
        let out = self.key(key);
        out.push(b'[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, value.as_ref());
        }
        out.push(b']');
        self
    }

    /// An array of objects, each written by `each`; omitted when empty.
    pub(crate) fn objects<T>(&mut self, key: &str, values: &[T], each: impl Fn(&T, &mut Object<'_>)) -> &mut Self {
        if values.is_empty() {
            return self;
        }
        self.array(key, values, each)
    }

    /// An array of objects, each written by `each` (`[]` when empty).
    pub(crate) fn array<T>(&mut self, key: &str, values: &[T], each: impl Fn(&T, &mut Object<'_>)) -> &mut Self {
        self.key(key).push(b'[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let mut object = self.nested();
            each(value, &mut object);
            object.close();
        }
        self.out.push(b']');
        self
    }

    /// Closes the object.
    pub(crate) fn close(&mut self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_serde_json_does() {
        let mut text = String::new();
        for c in (0u8..0x80).map(char::from).chain(['é', '€', '𝄞', '\u{2028}']) {
            text.push(c);
            text.push('x');
        }
        let long = "0123456789abcdef".repeat(3);
        let mut samples =
            vec![text.clone(), String::new(), "plain".into(), "\"".into(), "\\".into(), "a\"b\\c\nd".into()];
        // Every escapable byte at every position of a 24-byte text (three words and a tail).
        for b in (0u8..0x20).chain([b'"', b'\\', 0x7f, b' ', b'!', b'#', b'[', b']']) {
            for at in 0..long.len() {
                let mut sample = long.clone().into_bytes();
                sample[at] = b;
                samples.push(String::from_utf8(sample).unwrap());
                samples.push(String::from_utf8(long.as_bytes()[..at].iter().copied().chain([b]).collect()).unwrap());
            }
        }
        // Escapes beside multi-byte characters, in the same eight-byte words.
        for c in ['\u{0}', '\u{1f}', '"', '\\', '\n'] {
            for prefix in ["", "é", "éé", "€", "𝄞", "\u{ff}\u{80}"] {
                samples.push(format!("{prefix}{c}éé€{c}𝄞ü{c}"));
            }
        }
        // JSON text (a request body in the plan's JSON): an escape every few bytes, some adjacent.
        let body =
            serde_json::to_string(&serde_json::json!({"a": "x\"y\\z", "bb": ["\"\"", "é\\\"", 1, null], "t": "\t"}))
                .unwrap();
        for cut in 0..body.len() {
            if let Some(head) = body.get(cut..) {
                samples.push(head.to_owned());
                samples.push(format!("{head}{head}\u{1}{head}"));
            }
        }
        for sample in samples.iter().map(String::as_str).chain(["é€𝄞 ünïcödé text with \"quotes\""]) {
            let mut out = Vec::new();
            string(&mut out, sample);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(sample).unwrap());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_escapes_as_serde_json_does(text in proptest::prelude::any::<String>()) {
            let mut out = Vec::new();
            string(&mut out, &text);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&text).unwrap());
        }
    }

    /// Every object every fixture maps to, at every kind of destination (with the optional
    /// Defender and Graph settings set), writes exactly what `serde_json` writes for it.
    #[test]
    fn mapped_objects_write_what_serde_json_writes() {
        use crate::destinations::{defender, graph, sentinel};
        use crate::policy::{Verdict, decide};
        use crate::{DecodeOptions, config, decode};

        let config = config::parse(
            r#"{"destinations": [
            {"name": "s", "type": "sentinel", "tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
             "credential": {"secret": "S"}, "sentinel": {"workspace_id": "66666666-7777-8888-9999-000000000000"}, "policy": {"tlp_ceiling": "red"}},
            {"name": "d", "type": "defender", "tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
             "credential": {"secret": "D"}, "policy": {"tlp_ceiling": "red"},
             "defender": {"rbac_group_names": ["SOC \"tier\" 1", "Servers"], "educate_url": "https://example.org/why",
                          "recommended_actions": "Isolate\nthe host"}},
            {"name": "g", "type": "graph", "tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
             "credential": {"secret": "G"}, "policy": {"tlp_ceiling": "red"}},
            {"name": "atp", "type": "graph", "tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
             "credential": {"secret": "G"}, "policy": {"tlp_ceiling": "red"}, "graph": {"target_product": "Microsoft Defender ATP"}}
        ]}"#,
        )
        .unwrap();
        let now = Timestamp::parse("2024-03-10T00:00:00Z").unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains(".decoded.") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let Ok(decoded) = decode(&text, &DecodeOptions::default()) else { continue };
            for item in &decoded.items {
                for destination in &config.destinations {
                    let mut decision = decide(item, destination, now);
                    if decision.verdict == Verdict::Skip {
                        continue;
                    }
                    let (ours, theirs) = match destination.name.as_str() {
                        "s" => {
                            let uuid = crate::ids::item_uuid(item).hyphenated();
                            match sentinel::prepare(item, &uuid, &decision, now) {
                                Ok(o) => (
                                    written(&o),
                                    serde_json::to_vec(&sentinel::map(item, &decision, destination, now).unwrap())
                                        .unwrap(),
                                ),
                                Err(_) => continue,
                            }
                        }
                        "d" => {
                            decision.verdict = Verdict::Upsert;
                            match defender::map(item, &decision, destination) {
                                Ok(o) => (written(&o), serde_json::to_vec(&o).unwrap()),
                                Err(_) => continue,
                            }
                        }
                        _ => match graph::map(item, &decision, destination) {
                            Ok(o) => (written(&o), serde_json::to_vec(&o).unwrap()),
                            Err(_) => continue,
                        },
                    };
                    assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap(), "{name}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "only {checked} objects checked");
    }

    fn written(object: &impl WriteJson) -> Vec<u8> {
        let mut out = Vec::new();
        object.write_json(&mut out, &mut Times::new());
        out
    }

    #[test]
    fn times_give_each_timestamps_own_text() {
        let mut times = Times::new();
        let base = Timestamp::parse("2025-06-01T00:00:00Z").unwrap();
        // Repeats near and far apart, more distinct times than entries.
        for i in [0, 1, 0, 2, 3, 4, 5, 0, 1, 7, 7, 6, 0, 9, 3, 3, 8, 0] {
            let t = base.plus_millis(i * 86_400_123);
            assert_eq!(times.text(t), t.text(), "{i}");
        }
    }

    #[test]
    fn objects_write_compact_json() {
        let mut out = Vec::new();
        let mut times = Times::new();
        let mut o = Object::new(&mut out, &mut times);
        o.str(key!("a"), "x")
            .opt_str(key!("skipped"), None)
            .bool(key!("b"), true)
            .opt_uint(key!("n"), Some(0))
            .opt_uint(key!("m"), Some(u64::MAX))
            .strs(key!("e"), &[] as &[&str], true)
            .strs(key!("l"), &["p", "q"], false)
            .objects(key!("o"), &[1, 2], |n, o| {
                o.opt_uint(key!("v"), Some(*n));
            })
            .opt_time(key!("t"), Some(Timestamp::parse("2025-06-01T00:00:00Z").unwrap()));
        o.close();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"x","b":true,"n":0,"m":18446744073709551615,"l":["p","q"],"o":[{"v":1},{"v":2}],"t":"2025-06-01T00:00:00.000Z"}"#
        );
    }
}
