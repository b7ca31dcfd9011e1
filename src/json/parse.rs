//! The JSON text parser behind [`Value::parse`](super::Value::parse): recursive descent over the
//! bytes, accepting exactly the texts `serde_json::from_str` accepts and building exactly the tree
//! that `serde_json`'s deserializer used to build here (`oracle.rs` keeps that builder; the tests
//! and the `json_parse` fuzz target check this parser against it):
//!
//! - strings without escapes are borrowed from the text (scanned eight bytes at a time), strings
//!   with escapes are decoded into the arena;
//! - objects keep their members in document order, repeated keys included;
//! - non-negative integers of up to 19 digits are `Unsigned`, read here; every other number (a
//!   negative, a fraction or exponent, a longer one) is rare in the payloads and is read by
//!   `serde_json` itself, as are strings with escapes, so they come out as they always did: `-0`,
//!   negatives below `i64::MIN` and integers beyond `u64::MAX` as `Float`, and floats bit for bit
//!   as `serde_json` computes them (not always the correctly rounded value; `1e400` is an error);
//! - the same limits: whitespace is space, tab, line feed and carriage return only; control
//!   characters must be escaped in strings; `\u` escapes must not be lone surrogates; arrays and
//!   objects nest at most 127 deep (`serde_json`'s recursion limit); nothing may follow the value.
//!
//! Malformed input is not worth a second implementation of the error messages: the parser gives up
//! at the first problem and `serde_json` parses the text again, only to say what is wrong and where.
//!
//! Each array or object is one slice in the arena: children are pushed onto stacks shared by the
//! whole parse and copied into the arena when their container closes.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Arena, Number, Value};

/// How deeply arrays and objects may nest: `serde_json` fails on the 128th level.
const MAX_DEPTH: u32 = 127;

/// Parses `text`; on malformed input, `serde_json`'s error.
pub(super) fn parse<'a>(text: &'a str, arena: &'a Arena) -> Result<Value<'a>, serde_json::Error> {
    let mut parser =
        Parser { text, arena, bytes: text.as_bytes(), pos: 0, depth: 0, elements: Vec::new(), entries: Vec::new() };
    parser.document().ok_or_else(|| describe_error(text))
}

/// A cursor over the text, with the stacks the open containers push their children onto.
struct Parser<'a> {
    text: &'a str,
    /// Where containers and strings with escapes go.
    arena: &'a Arena,
    bytes: &'a [u8],
    /// The next byte to read.
    pos: usize,
    /// How many arrays and objects are open.
    depth: u32,
    /// The elements of the open arrays, innermost last (and the document's value, at the end).
    elements: Vec<Value<'a>>,
    /// The members of the open objects, innermost last.
    entries: Vec<(&'a str, Value<'a>)>,
}

impl<'a> Parser<'a> {
    /// One value, with nothing but whitespace around it. `None` on malformed text.
    fn document(&mut self) -> Option<Value<'a>> {
        self.value(false)?;
        self.skip_whitespace();
        if self.pos != self.bytes.len() {
            return None;
        }
        self.elements.pop()
    }

    /// Skips whitespace; the byte after it, or 0 at the end (a NUL byte outside a string is no
    /// more valid than the end wherever this is asked).
    #[inline]
    fn skip_whitespace(&mut self) -> u8 {
        match self.bytes.get(self.pos) {
            Some(&b) if b > b' ' => b,
            _ => self.skip_whitespace_run(),
        }
    }

    /// [`Parser::skip_whitespace`] where there is some (or the end).
    #[inline(never)]
    fn skip_whitespace_run(&mut self) -> u8 {
        loop {
            match self.bytes.get(self.pos) {
                Some(b' ' | b'\n' | b'\t' | b'\r') => self.pos += 1,
                Some(&b) => return b,
                None => return 0,
            }
        }
    }

    /// Skips whitespace and then `byte`, which must follow it.
    #[inline]
    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.skip_whitespace() == byte).then(|| self.pos += 1)
    }

    /// Parses a value (after whitespace) onto `elements`, or, the value of a `member`, into the
    /// placeholder for it on top of `entries`.
    ///
    /// Values go onto the stacks here rather than being returned (`Option<Value>`) to the loops
    /// that collect them, and an array or object goes on empty and is filled in place when it
    /// closes (its children go onto the stacks after it and leave with it, so it is on top again
    /// then): natively, moving values through return slots and temporaries cost more than parsing
    /// them (loads of values just stored piecewise stall store forwarding; measured with the
    /// earlier tree of vectors).
    fn value(&mut self, member: bool) -> Option<()> {
        let first = self.skip_whitespace();
        let value = match first {
            b'"' => {
                self.pos += 1;
                Value::String(self.string()?)
            }
            b'{' => Value::Object(&[]),
            b'[' => Value::Array(&[]),
            b'-' | b'0'..=b'9' => Value::Number(self.number()?),
            b't' => {
                self.literal(b"true")?;
                Value::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Value::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Value::Null
            }
            _ => return None,
        };
        if member {
            if let Some((_, slot)) = self.entries.last_mut() {
                *slot = value;
            }
        } else {
            self.elements.push(value);
        }
        if matches!(first, b'{' | b'[') { self.container(first == b'{', member) } else { Some(()) }
    }

    /// Skips `word`, which must be at `pos`.
    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// The children of the object (or array) whose bracket is at `pos`, into the empty one on top
    /// of `entries` (if it is a `member`'s value) or `elements`.
    fn container(&mut self, object: bool, member: bool) -> Option<()> {
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let close = if object { b'}' } else { b']' };
        let start = (self.entries.len(), self.elements.len());
        if self.skip_whitespace() == close {
            self.pos += 1;
        } else {
            loop {
                if object {
                    self.expect(b'"')?;
                    let key = self.string()?;
                    self.entries.push((key, Value::Null));
                    self.expect(b':')?;
                }
                self.value(object)?;
                match self.skip_whitespace() {
                    b',' => self.pos += 1,
                    b if b == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        let children = if object {
            Value::Object(close_into(self.arena, &mut self.entries, start.0))
        } else {
            Value::Array(close_into(self.arena, &mut self.elements, start.1))
        };
        let top = if member { self.entries.last_mut().map(|(_, value)| value) } else { self.elements.last_mut() };
        if let Some(top) = top {
            *top = children;
        }
        Some(())
    }

    /// A string's contents, from just after its opening quote: borrowed when it has no escapes.
    // Always inlined (into the two places that read strings): the borrowed string then goes
    // straight into its value or key instead of through a return slot (measured natively: the
    // parse takes a fifth less time; in wasm, about 140 more gzipped bytes).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let end = find_special(self.bytes, start);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                self.text.get(start..end)
            }
            Some(b'\\') => self.escaped(start, end),
            _ => None,
        }
    }

    /// The rest of a string that has escapes, the first one's backslash at `at` (the string's
    /// contents start at `start`): `serde_json` decodes it, as it always has (escapes are rare),
    /// into the arena.
    #[cold]
    #[inline(never)]
    fn escaped(&mut self, start: usize, mut at: usize) -> Option<&'a str> {
        // Find the closing quote: a backslash escapes the byte after it (a `\u` escape has only
        // hex digits after that, nothing to skip).
        loop {
            match *self.bytes.get(at)? {
                b'"' => break,
                b'\\' => at += 2,
                ..0x20 => return None,
                _ => at += 1,
            }
        }
        self.pos = at + 1;
        let decoded = by_serde_json(self.text.get(start - 1..self.pos)?).ok()?.string?;
        Some(self.arena.alloc_str(&decoded))
    }

    /// A number, from its first byte (`-` or a digit) at `pos`.
    ///
    /// Non-negative integers of up to 19 digits (which always fit in a `u64`) are read here; any
    /// other number (negative, with a fraction or an exponent, longer, or malformed) is read by
    /// `serde_json`, to the `Signed`, `Unsigned` or `Float` it always made of it (floats computed
    /// as it computes them, which is not always the correctly rounded value).
    #[inline(never)]
    fn number(&mut self) -> Option<Number> {
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(&d @ b'0'..=b'9') = self.bytes.get(self.pos) {
            value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            self.pos += 1;
        }
        let digits = self.pos - start;
        // A leading zero is an error unless the zero is all there is.
        let plain = digits == 1 || ((2..=19).contains(&digits) && self.bytes.get(start) != Some(&b'0'));
        if plain && !matches!(self.bytes.get(self.pos), Some(b'.' | b'e' | b'E' | b'+' | b'-')) {
            return Some(Number::Unsigned(value));
        }
        // The rest of the number: if it is one, none of these can follow it.
        while let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        by_serde_json(self.text.get(start..self.pos)?).ok()?.number
    }
}

/// Moves the children of a closing container, on `stack` from `start`, into one slice of `arena`.
#[inline]
fn close_into<'a, T: Copy>(arena: &'a Arena, stack: &mut Vec<T>, start: usize) -> &'a [T] {
    let children: &'a [T] = match stack.get(start..) {
        None | Some([]) => &[],
        Some(children) => arena.alloc_slice_copy(children),
    };
    stack.truncate(start);
    children
}

/// Where the first `"`, `\` or control character at or after `at` is (the length if none):
/// eight bytes at a time.
#[inline]
fn find_special(bytes: &[u8], start: usize) -> usize {
    let (words, _) = bytes.get(start..).unwrap_or_default().as_chunks::<8>();
    let mut at = start;
    for word in words {
        let found = special_bytes(u64::from_le_bytes(*word));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// The high bit of every byte of `word` (little-endian) that is a control character, `"` or `\`.
/// Exact for the lowest such byte, which is all [`find_special`] looks at: borrows only run upward,
/// from a byte that is one, so bytes above it may be flagged wrongly but none below (the "has a
/// byte less than n" and "has a zero byte" tests of Hacker's Delight).
///
/// Control characters and `"` are one test: flipping bit 1 maps the control characters onto
/// themselves and `"` (0x22) onto 0x20, and leaves every other byte at 0x21 or above. A byte's high
/// bit is the same in the word and in both flipped words, so one `!word` serves both tests.
pub(crate) const fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = (word ^ (ONES * 0x02)).wrapping_sub(ONES * 0x21);
    let backslash = (word ^ (ONES * b'\\' as u64)).wrapping_sub(ONES);
    (below | backslash) & !word & HIGH
}

/// `text` read by `serde_json`, as the tree builder this parser replaces read it: its error, or the
/// last string and number in it. For a string with escapes, decoded, and a number that is not a
/// plain integer, computed as `serde_json` computes floats (not always correctly rounded).
#[cold]
#[inline(never)]
fn by_serde_json(text: &str) -> Result<Kept, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut kept = Kept::default();
    Check(&mut kept).deserialize(&mut de)?;
    de.end()?;
    Ok(kept)
}

/// What `serde_json` says is wrong with `text`, which the parser rejected.
#[cold]
#[inline(never)]
fn describe_error(text: &str) -> serde_json::Error {
    match by_serde_json(text) {
        Err(e) => e,
        // Unreachable while the parser accepts what `serde_json` accepts, as the tests check.
        Ok(_) => de::Error::custom(format_args!("the text was rejected, though serde_json accepts it")),
    }
}

/// The last string and number [`Check`] met.
#[derive(Default)]
struct Kept {
    string: Option<String>,
    number: Option<Number>,
}

/// Walks a value through `serde_json`'s deserializer as the old tree builder did (every value
/// through `deserialize_any`, so numbers are computed and nesting is limited; keys as strings),
/// keeping only the last string and number: it fails exactly where and as that parse failed, and
/// reads strings and numbers as it did.
struct Check<'k>(&'k mut Kept);

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.0.number = Some(Number::Unsigned(n));
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.0.number = Some(Number::Signed(n));
        Ok(())
    }

    fn visit_f64<E>(self, n: f64) -> Result<(), E> {
        self.0.number = Some(Number::Float(n));
        Ok(())
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        self.0.string = Some(text.to_owned());
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Check(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // A key goes through `deserialize_any` of `serde_json`'s key deserializer, as a string.
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Check(&mut *self.0))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{Text, oracle};
    use super::*;

    /// The parser and the old `serde_json` builder agree on `text`: the same tree (strings borrowed
    /// alike, floats bit for bit), or the same error message.
    fn agree(text: &str) -> Result<(), String> {
        let arena = Arena::new();
        match (Value::parse(text, &arena), oracle::parse(text)) {
            (Ok(ours), Ok(theirs)) if oracle::same(&ours, text, &theirs) => Ok(()),
            (Err(ours), Err(theirs)) if ours.message() == format!("malformed JSON: {theirs}") => Ok(()),
            (ours, theirs) => Err(format!("{text:?}: parsed as {ours:?}, serde_json says {theirs:?}")),
        }
    }

    fn float(text: &str) -> u64 {
        match Value::parse_leaked(text) {
            Ok(Value::Number(Number::Float(f))) => f.to_bits(),
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn error(text: &str) -> String {
        Value::parse_leaked(text).unwrap_err().message().to_owned()
    }

    const CASES: &[&str] = &[
        // Literals and whitespace.
        "null",
        "true",
        "false",
        " \t\n\r null \t\n\r ",
        "nul",
        "nulll",
        "True",
        "\u{c}null",
        "\u{b}null",
        "\u{a0}null",
        "null\u{0}",
        "\u{0}",
        "",
        " ",
        "\u{feff}1",
        "n",
        "t",
        "fals",
        "falsetrue",
        // Numbers.
        "0",
        "-0",
        "-0.0",
        "0.0",
        "-0e5",
        "00",
        "01",
        "-01",
        "0.",
        "1.",
        ".5",
        "-",
        "--1",
        "+1",
        "-a",
        "1e",
        "1e+",
        "1e-",
        "1ee5",
        "1E5",
        "1e+5",
        "1e-5",
        "1e05",
        "1.5e3",
        "-1.5E-3",
        "1.0e-0",
        "18446744073709551615",
        "18446744073709551616",
        "-18446744073709551615",
        "-18446744073709551616",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775807",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "123456789012345678901234567890.5e-3",
        "1234567890123456789012.5",
        "1e400",
        "-1e400",
        "1e308",
        "1e309",
        "10e308",
        "0.1e309",
        "1e-400",
        "0e400",
        "0e99999999999",
        "1e99999999999",
        "1e-99999999999",
        "0.0000000000000000000000000000000000000000000000001e99999999999",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "17976931348623157e292",
        "2.2250738585072014e-308",
        "2.2250738585072011e-308",
        "4.9e-324",
        "2.4e-324",
        "5e-324",
        "1e-330",
        "0.1",
        "0.2",
        "0.30000000000000004",
        "9007199254740992",
        "9007199254740993",
        "-9007199254740993",
        "9007199254740993.0",
        "9007199254740992.0",
        "1e22",
        "1e23",
        "1e-22",
        "1e-23",
        "123456789e-22",
        "8.98846567431158e307",
        "1.0000000000000000000000000001",
        "0.000000000000000000000000000001e30",
        "3.141592653589793238462643383279",
        "NaN",
        "Infinity",
        "-Infinity",
        "1_000",
        "0x10",
        "1.5.5",
        "1e5e5",
        "1e5.5",
        "[1e]",
        "[-]",
        "[1.]",
        "[1.e5]",
        "[01]",
        "{\"a\":01}",
        "[-0,0,-0.0,1,-1]",
        // Strings.
        r#""""#,
        r#""abc""#,
        r#""abcdefghijklmnopqrstuvwxyz0123456789""#,
        r#""a\"b""#,
        r#""\\\/\b\f\n\r\t""#,
        r#""\u0041\u00e9\u4e2d\uFFFF""#,
        r#""\uD83D\uDE00""#,
        r#""\ud83d\ude00 and \uDBFF\uDFFF""#,
        r#""\uD83D""#,
        r#""\uDE00""#,
        r#""\uD83Dx""#,
        r#""\uD83D\n""#,
        r#""\uD83D\u0041""#,
        r#""\uD83D\uD83D\uDE00""#,
        r#""\uD83D\u""#,
        r#""\uD83D\uDE0""#,
        r#""\u004""#,
        r#""\u00G1""#,
        r#""\u-041""#,
        r#""\u+041""#,
        r#""\x41""#,
        r#""\'""#,
        r#""\U0041""#,
        "\"a\u{1}b\"",
        "\"a\tb\"",
        "\"a\nb\"",
        "\"0123456789abcde\u{1f}\"",
        "\"a\u{7f}b\"",
        "\"é中😀\"",
        "\"é\\n中😀\"",
        "\"unterminated",
        "\"unterminated and long enough to take the eight-byte path",
        "\"ends with backslash\\",
        "\"a\\",
        "\"\\",
        r#""\u0000""#,
        r#""escaped \" in a long string, and \\ more, and \t tabs \/ slashes""#,
        r#"["\"", "\\", "\n", "x\"", "\u0022"]"#,
        // Arrays and objects.
        "[]",
        "[ ]",
        "[1,2,3]",
        "[1,]",
        "[,1]",
        "[,]",
        "[1 2]",
        "[1,,2]",
        "[",
        "[1",
        "[1,",
        "]",
        "[[[]]]",
        "[[[]]",
        "{}",
        "{ }",
        r#"{"a":1}"#,
        r#" { "a" : 1 , "b" : [ ] } "#,
        r#"{"a":1,}"#,
        r#"{,"a":1}"#,
        r#"{"a" 1}"#,
        r#"{"a":}"#,
        r#"{"a"}"#,
        r"{1:2}",
        r"{a:2}",
        r"{null:2}",
        r#"{"a":1 "b":2}"#,
        r#"{"a":1,"a":2,"b":3,"a":4}"#,
        r#"{"a\u0062":"c\nd","":""}"#,
        r#"{"a\ud800":1}"#,
        "{",
        "{\"a\"",
        "{\"a\":",
        "{\"a\":1",
        r#"{"a":1}}"#,
        "}",
        "[] []",
        "1 2",
        "1,2",
        r#""a" "b""#,
        "[1]x",
        "{}\u{0}",
        "{}\n\n  x",
        "[\n1,\n2,\n]",
        "[true,false,null,1,-1,1.5,\"s\",[],{}]",
    ];

    #[test]
    fn agrees_with_serde_json_on_edge_cases() {
        let failures: Vec<String> = CASES.iter().filter_map(|text| agree(text).err()).collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn nesting_is_limited_as_in_serde_json() {
        for depth in [1, 2, 100, 126, 127, 128, 129, 1000] {
            let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            let mixed = format!("{}{}", "[{\"k\":".repeat(depth / 2), "}]".repeat(depth / 2));
            let open = "[".repeat(depth);
            for text in [&arrays, &objects, &mixed, &open] {
                agree(text).unwrap();
            }
            assert_eq!(Value::parse_leaked(&arrays).is_ok(), depth <= 127, "{depth}");
        }
        assert_eq!(error(&"[".repeat(128)), "malformed JSON: recursion limit exceeded at line 1 column 128");
    }

    #[test]
    fn numbers_are_classified_as_serde_json_does() {
        assert_eq!(Value::parse_leaked("0").unwrap(), Value::Number(Number::Unsigned(0)));
        assert_eq!(Value::parse_leaked("18446744073709551615").unwrap(), Value::Number(Number::Unsigned(u64::MAX)));
        assert_eq!(Value::parse_leaked("-1").unwrap(), Value::Number(Number::Signed(-1)));
        assert_eq!(Value::parse_leaked("-9223372036854775808").unwrap(), Value::Number(Number::Signed(i64::MIN)));
        assert_eq!(float("-0"), (-0.0f64).to_bits());
        assert_eq!(float("-0.0"), (-0.0f64).to_bits());
        assert_eq!(float("0.0"), 0.0f64.to_bits());
        assert_eq!(float("-9223372036854775809"), (-9_223_372_036_854_775_809.0f64).to_bits());
        assert_eq!(float("18446744073709551616"), 18_446_744_073_709_551_616.0f64.to_bits());
        assert_eq!(float("1.5"), 1.5f64.to_bits());
        assert_eq!(float("1e2"), 100.0f64.to_bits());
        assert_eq!(float("1e-400"), 0.0f64.to_bits());
        assert_eq!(error("1e400"), "malformed JSON: number out of range at line 1 column 5");
        assert_eq!(error("[01]"), "malformed JSON: invalid number at line 1 column 3");
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let borrowed = |text: &'static str| match Value::parse_leaked(text).unwrap() {
            Value::String(s) => Text::new(text).borrow(s),
            other => panic!("{other:?}"),
        };
        let decoded = |text: &'static str| match Value::parse_leaked(text).unwrap() {
            Value::String(s) if Text::new(text).borrow(s).is_none() => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(borrowed(r#""plain""#), Some("plain"));
        assert_eq!(borrowed(r#""""#), Some(""));
        assert_eq!(decoded(r#""\/""#), "/");
        assert_eq!(decoded(r#""\uD83D\uDE00!""#), "😀!");
        assert_eq!(error(r#""\uDE00""#), "malformed JSON: lone leading surrogate in hex escape at line 1 column 7");
        assert_eq!(
            error("\"a\u{1}\""),
            "malformed JSON: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 3"
        );
    }

    #[test]
    fn repeated_keys_are_kept_in_order() {
        let v = Value::parse_leaked(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "b", "a"]);
        assert_eq!(v.get("a"), Some(&Value::Number(Number::Unsigned(3))));
    }

    #[test]
    fn the_eight_byte_scan_finds_the_first_special_byte() {
        for len in 0..40 {
            for special in [b'"', b'\\', 0, 0x1f] {
                for filler in [b'a', 0x7f, 0x80, 0xff, b' ', b'!', b'#', b'[', b']'] {
                    let mut bytes = vec![filler; len];
                    bytes.push(special);
                    bytes.extend_from_slice(b"\"\\\x01xyzxyzxyz");
                    assert_eq!(find_special(&bytes, 0), len, "{len} {special} {filler}");
                }
            }
            assert_eq!(find_special(&vec![b'a'; len], 0), len);
        }
    }

    #[test]
    fn the_special_byte_test_is_exact_for_the_lowest_one() {
        let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        for low in 0..=255u8 {
            for high in 0..=255u8 {
                for (at, filler) in [(0, b'a'), (3, 0xff), (6, b'!')] {
                    let mut word = [filler; 8];
                    word[at] = low;
                    word[at + 1] = high;
                    let want = word.iter().position(|&b| special(b)).unwrap_or(8);
                    let found = special_bytes(u64::from_le_bytes(word));
                    let got = if found == 0 { 8 } else { (found.trailing_zeros() / 8) as usize };
                    assert_eq!(got, want, "{word:?}");
                }
            }
        }
    }

    /// JSON text with whitespace, escapes (short, `\u`, surrogate pairs, either case), numbers of
    /// every form and repeated keys.
    fn json_text() -> impl Strategy<Value = String> {
        let number = prop_oneof![
            proptest::string::string_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?").unwrap(),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::to_string(&f).unwrap()),
            (any::<f64>(), 0usize..3).prop_filter("finite", |(f, _)| f.is_finite()).prop_map(|(f, form)| match form {
                0 => format!("{f:e}"),
                1 => format!("{f:E}"),
                _ => format!("{f:.17}"),
            }),
        ];
        let leaf =
            prop_oneof![Just("null".to_owned()), Just("true".to_owned()), Just("false".to_owned()), number, string(),];
        let value = (ws(), leaf, ws()).prop_map(|(a, v, b)| format!("{a}{v}{b}"));
        value.prop_recursive(6, 96, 6, move |inner| {
            let key = prop_oneof![
                string(),
                proptest::sample::select(vec!["\"a\"", "\"b\"", "\"\\u0061\""]).prop_map(str::to_owned)
            ];
            prop_oneof![
                (proptest::collection::vec(inner.clone(), 0..6), ws())
                    .prop_map(|(items, w)| format!("[{w}{}]", items.join(","))),
                (proptest::collection::vec((ws(), key, ws(), inner), 0..6), ws()).prop_map(|(members, w)| {
                    let members: Vec<String> =
                        members.into_iter().map(|(a, k, b, v)| format!("{a}{k}{b}:{v}")).collect();
                    format!("{{{w}{}}}", members.join(","))
                }),
            ]
            .prop_flat_map(|text| (ws(), Just(text), ws()))
            .prop_map(|(a, text, b)| format!("{a}{text}{b}"))
        })
    }

    /// Up to two whitespace characters.
    fn ws() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[ \t\n\r]{0,2}").unwrap()
    }

    /// A JSON string literal with any characters, each written plainly where it may be, or escaped
    /// in one of the ways JSON allows.
    fn string() -> impl Strategy<Value = String> {
        use std::fmt::Write as _;

        proptest::collection::vec((any::<char>(), 0u8..6), 0..12).prop_map(|chars| {
            let mut out = String::from("\"");
            for (c, how) in chars {
                let plain = c != '"' && c != '\\' && c >= ' ';
                match how {
                    0..=2 if plain => out.push(c),
                    3 => {
                        for unit in c.encode_utf16(&mut [0; 2]) {
                            write!(out, "\\u{unit:04x}").unwrap();
                        }
                    }
                    4 => {
                        for unit in c.encode_utf16(&mut [0; 2]) {
                            write!(out, "\\u{unit:04X}").unwrap();
                        }
                    }
                    _ => {
                        let quoted = serde_json::to_string(&c.to_string()).unwrap();
                        out.push_str(&quoted[1..quoted.len() - 1]);
                    }
                }
            }
            out.push('"');
            out
        })
    }

    /// Edits that JSON is sensitive to.
    fn mutated(text: String) -> impl Strategy<Value = String> {
        let alphabet: Vec<char> =
            "\"\\{}[],:0123456789eE.+-tfnulrasu/bx \t\n\r\u{0}\u{1f}\u{7f}\u{a0}é😀".chars().collect();
        let edit = (0u8..3, any::<proptest::sample::Index>(), proptest::sample::select(alphabet));
        proptest::collection::vec(edit, 1..4).prop_map(move |edits| {
            let mut chars: Vec<char> = text.chars().collect();
            for (kind, at, c) in edits {
                let i = at.index(chars.len() + 1);
                match kind {
                    0 => chars.insert(i, c),
                    1 if i < chars.len() => {
                        chars.remove(i);
                    }
                    _ if i < chars.len() => chars[i] = c,
                    _ => chars.push(c),
                }
            }
            chars.into_iter().collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Any JSON text parses to the tree the `serde_json` builder made of it.
        #[test]
        fn parses_any_json_as_serde_json_does(text in json_text()) {
            agree(&text).map_err(TestCaseError::fail)?;
            // Well-formed, so accepted: unless an exponent puts a number out of range.
            prop_assert!(Value::parse(&text, &Arena::new()).is_ok() || text.contains(['e', 'E']), "{text:?}");
        }

        /// Edited JSON text is accepted and rejected as `serde_json` does it, with the same error.
        #[test]
        fn rejects_what_serde_json_rejects(text in json_text().prop_flat_map(mutated)) {
            agree(&text).map_err(TestCaseError::fail)?;
        }

        /// Arbitrary text, mostly not JSON at all.
        #[test]
        fn agrees_on_arbitrary_text(text in "[\\[\\]{}\",:0-9.eE+\\-tfnul\\\\ a]{0,24}") {
            agree(&text).map_err(TestCaseError::fail)?;
        }
    }
}
