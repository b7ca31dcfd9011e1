//! How a plan crosses into JavaScript: most of it as one string and a list of numbers.
//!
//! `JSON.parse` of a plan's text (its bodies aside) was the largest single cost of `relay.plan`
//! in wasm: ~0.25 ms of a 100-indicator OpenCTI webhook's ~1.45 ms, for ~55 KB of small objects.
//! The items (most of that text) instead travel as [`PlanParts`]: every string they hold written
//! one after the other into [`PlanParts::text`], and [`PlanParts::codes`] saying how long each is
//! (in UTF-16 units: what JS's `String.prototype.slice` counts) and giving the small numbers (the
//! verdict, the destination). The requests' item lists become indexes of those items, so JS reuses
//! the item's own key string instead of making another. JS (`src/boundary/plan.js`) builds the
//! very objects `JSON.parse(plan.to_json())` would: same keys, same order, `null` where that has
//! `null`, absent where that omits. The requests (a few, bodies aside) and errors still travel as
//! JSON, in [`PlanParts::head`].
//!
//! The layout of `codes` (`S` is a string's UTF-16 length, `S?` the same or [`NONE`] for `null`,
//! `U` a number, `N` the index of a name in [`PlanParts::names`], `N?` the same or [`NONE`]):
//!
//! ```text
//! U(item count)
//! per item:     S(key) N(format) S?(source_id) N?(observable type) [S(observable value) if a type]
//!               U(verdict count), per verdict: N(destination) U(verdict: 0 upsert, 1 remove,
//!               2 skip) N?(reason) S?(message)
//! per request:  U(item count) U(item index)…, or NONE: the request's `items` in `head` stand
//! ```
//!
//! `head` is `{"requests":[…],"errors":[…]}`: each request with `"body":null` (its body is set
//! afterwards, a string of its own) and `"items":[]` unless its entry in `codes` is [`NONE`].
//! `names` are the few strings that recur in every item (destination names, formats, observable
//! types, reason codes), each made into a JS string once per plan instead of once per use.
//!
//! An interpretation crosses the same way ([`InterpretationParts`]): its items' keys as indexes
//! into the request's own `items` (the host's strings, reused), their outcomes as numbers, their
//! messages as text; the rest (`retry_after_ms`, `resend`, `follow_up`) as JSON with `"items":[]`.
//!
//! ```text
//! U(item count)
//! per item:     U(index into the request's items) or NONE then S(key);
//!               U(0 accepted) | U(1 rejected) S(message) |
//!               U(2 retry) (U(0) | U(1) U(after_ms, low 32 bits) U(high 32 bits)) S(message)
//! ```

use crate::interpret::Outcome;
use crate::plan::{Interpretation, Plan, PlanItem};
use crate::policy::Verdict;

/// A string that is `null`, or a request whose items stay in `head`.
pub(crate) const NONE: u32 = u32::MAX;

/// A plan in the form JS rebuilds it from (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct PlanParts {
    /// `{"requests":[…],"errors":[…]}`: the requests with their items as indexes (in `codes`) and
    /// their bodies taken out.
    pub head: String,
    /// The names `N` codes point into, joined by `,`: destination names (letters, digits, `.`, `_`
    /// and `-`: the config says so), formats, observable types and reason codes (the crate's own).
    pub names: String,
    /// Every string of the items, one after the other.
    pub text: String,
    /// Lengths and numbers, in the order of the module docs.
    pub codes: Vec<u32>,
}

impl PlanParts {
    /// Splits `plan` into parts. The requests' item lists are moved out (the plan is the caller's
    /// to drop); their bodies must already have been taken.
    pub(crate) fn of(plan: &mut Plan) -> Result<Self, serde_json::Error> {
        let mut parts = PlanParts {
            head: String::new(),
            names: String::new(),
            text: String::with_capacity(plan.items.len() * 96),
            codes: Vec::with_capacity(plan.items.len() * 16 + 1),
        };
        let mut names: Vec<&str> = Vec::new();
        parts.codes.push(u32::try_from(plan.items.len()).unwrap_or(NONE));
        for item in &plan.items {
            parts.item(item, &mut names);
        }
        // Each request's items as indexes. The planner puts a request's items in payload order, so a
        // cursor that only moves forward (wrapping at the end) finds each key in a step or a few;
        // the search is given a budget proportional to the plan, and a request whose keys are not
        // found within it (never, today) keeps its list of keys in `head`.
        let mut cursor = Cursor {
            at: 0,
            budget: 4 * (plan.items.len() + plan.requests.iter().map(|r| r.items.len()).sum::<usize>()),
        };
        let mut indexed = Vec::with_capacity(plan.requests.len());
        for request in &plan.requests {
            let at = parts.codes.len();
            parts.codes.push(u32::try_from(request.items.len()).unwrap_or(NONE));
            let mut known = true;
            for key in &request.items {
                let Some(n) = cursor.find(&plan.items, key) else {
                    known = false;
                    break;
                };
                parts.codes.push(n);
            }
            if !known {
                parts.codes.truncate(at);
                parts.codes.push(NONE);
            }
            indexed.push(known);
        }
        parts.names = names.join(",");
        for (request, indexed) in plan.requests.iter_mut().zip(indexed) {
            if indexed {
                request.items = Vec::new();
            }
        }
        parts.head = plan.to_json_without_items()?;
        Ok(parts)
    }

    fn item<'p>(&mut self, item: &'p PlanItem, names: &mut Vec<&'p str>) {
        self.string(&item.key);
        self.codes.push(name(names, item.format.as_str()));
        self.optional(item.source_id.as_deref());
        match &item.observable {
            Some(observable) => {
                self.codes.push(name(names, observable.kind.as_str()));
                self.string(&observable.value);
            }
            None => self.codes.push(NONE),
        }
        self.codes.push(u32::try_from(item.verdicts.len()).unwrap_or(NONE));
        for verdict in &item.verdicts {
            self.codes.push(name(names, &verdict.destination));
            self.codes.push(match verdict.verdict {
                Verdict::Upsert => 0,
                Verdict::Remove => 1,
                Verdict::Skip => 2,
            });
            self.codes.push(verdict.reason.map_or(NONE, |reason| name(names, reason)));
            self.optional(verdict.message.as_deref());
        }
    }

    fn string(&mut self, text: &str) {
        push(&mut self.text, &mut self.codes, text);
    }

    fn optional(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.string(text),
            None => self.codes.push(NONE),
        }
    }
}

/// The index of `text` in `names`, added if it is not there yet (a plan has a few dozen).
fn name<'p>(names: &mut Vec<&'p str>, text: &'p str) -> u32 {
    let at = names.iter().position(|n| *n == text).unwrap_or_else(|| {
        names.push(text);
        names.len() - 1
    });
    u32::try_from(at).unwrap_or(NONE)
}

/// Finds item keys in a plan's items, from where the last one was found.
struct Cursor {
    at: usize,
    /// Steps left for the whole plan.
    budget: usize,
}

impl Cursor {
    /// The index of the item whose key is `key`.
    fn find(&mut self, items: &[PlanItem], key: &str) -> Option<u32> {
        let (after, before) = (items.get(self.at..)?, items.get(..self.at)?);
        for (from, part) in [(self.at, after), (0, before)] {
            for (i, item) in part.iter().enumerate() {
                self.budget = self.budget.checked_sub(1)?;
                if item.key == key {
                    self.at = from + i + 1;
                    return u32::try_from(from + i).ok();
                }
            }
        }
        None
    }
}

/// An interpretation in the form JS rebuilds it from (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct InterpretationParts {
    /// The interpretation's JSON with `"items":[]` (bodies of `resend` and `follow_up` taken out).
    pub head: String,
    /// The keys not found at their place in the request, and the messages.
    pub text: String,
    /// Indexes, outcomes and lengths, in the order of the module docs.
    pub codes: Vec<u32>,
}

impl InterpretationParts {
    /// Splits `interpretation` of a request whose item keys are `request_items`.
    pub(crate) fn of(
        mut interpretation: Interpretation,
        request_items: &[crate::plan::ItemKey],
    ) -> Result<Self, serde_json::Error> {
        let items = std::mem::take(&mut interpretation.items);
        let mut parts = InterpretationParts {
            head: serde_json::to_string(&interpretation)?,
            text: String::new(),
            codes: Vec::with_capacity(items.len() * 2 + 1),
        };
        parts.codes.push(u32::try_from(items.len()).unwrap_or(NONE));
        for (i, item) in items.iter().enumerate() {
            match u32::try_from(i) {
                Ok(at) if request_items.get(i).is_some_and(|key| *key == item.key) => parts.codes.push(at),
                _ => {
                    parts.codes.push(NONE);
                    push(&mut parts.text, &mut parts.codes, &item.key);
                }
            }
            match &item.outcome {
                Outcome::Accepted => parts.codes.push(0),
                Outcome::Rejected { message } => {
                    parts.codes.push(1);
                    push(&mut parts.text, &mut parts.codes, message);
                }
                Outcome::Retry { after_ms, message } => {
                    parts.codes.push(2);
                    match after_ms {
                        // Two 32-bit halves (a wait is far below 2^53 ms, JS's exact integers).
                        Some(ms) => parts.codes.extend([1, (ms & 0xffff_ffff) as u32, (ms >> 32) as u32]),
                        None => parts.codes.push(0),
                    }
                    push(&mut parts.text, &mut parts.codes, message);
                }
            }
        }
        Ok(parts)
    }
}

fn push(text: &mut String, codes: &mut Vec<u32>, s: &str) {
    text.push_str(s);
    codes.push(utf16_len(s));
}

/// `text`'s length in UTF-16 code units.
fn utf16_len(text: &str) -> u32 {
    let units = if text.is_ascii() { text.len() } else { text.chars().map(char::len_utf16).sum() };
    u32::try_from(units).unwrap_or(NONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    /// What `src/boundary/plan.js` does, in Rust: the plan's JSON value rebuilt from its parts.
    fn rebuild(parts: &PlanParts) -> Value {
        let units: Vec<u16> = parts.text.encode_utf16().collect();
        let mut head: Value = serde_json::from_str(&parts.head).unwrap();
        let names: Vec<Value> = parts.names.split(',').map(|d| json!(d)).collect();
        let name = |code: u32| if code == NONE { Value::Null } else { names[code as usize].clone() };
        let mut codes = parts.codes.iter().copied();
        let mut at = 0usize;
        let mut string = |len: u32| -> Value {
            if len == NONE {
                return Value::Null;
            }
            let s = String::from_utf16(&units[at..at + len as usize]).unwrap();
            at += len as usize;
            Value::String(s)
        };
        let count = codes.next().unwrap();
        let mut items = Vec::new();
        for _ in 0..count {
            let mut item = Map::new();
            item.insert("key".into(), string(codes.next().unwrap()));
            item.insert("format".into(), name(codes.next().unwrap()));
            item.insert("source_id".into(), string(codes.next().unwrap()));
            let kind = name(codes.next().unwrap());
            let observable = if kind.is_null() {
                Value::Null
            } else {
                json!({"type": kind, "value": string(codes.next().unwrap())})
            };
            item.insert("observable".into(), observable);
            let mut verdicts = Vec::new();
            for _ in 0..codes.next().unwrap() {
                let mut v = Map::new();
                v.insert("destination".into(), name(codes.next().unwrap()));
                v.insert("verdict".into(), json!(["upsert", "remove", "skip"][codes.next().unwrap() as usize]));
                let reason = name(codes.next().unwrap());
                if !reason.is_null() {
                    v.insert("reason".into(), reason);
                }
                let message = string(codes.next().unwrap());
                if !message.is_null() {
                    v.insert("message".into(), message);
                }
                verdicts.push(Value::Object(v));
            }
            item.insert("verdicts".into(), Value::Array(verdicts));
            items.push(Value::Object(item));
        }
        for request in head["requests"].as_array_mut().unwrap() {
            let n = codes.next().unwrap();
            if n != NONE {
                let keys = (0..n).map(|_| items[codes.next().unwrap() as usize]["key"].clone()).collect();
                request["items"] = Value::Array(keys);
            }
        }
        assert_eq!(codes.next(), None, "every code read");
        assert_eq!(at, units.len(), "every unit of text read");
        json!({"items": items, "requests": head["requests"], "errors": head["errors"]})
    }

    fn config() -> crate::config::Config {
        crate::config::parse(
            r#"{"destinations": [
              {"name": "sentinel", "type": "sentinel", "tenant": "t.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
               "credential": {"secret": "S"}, "sentinel": {"workspace_id": "66666666-7777-8888-9999-000000000000"}},
              {"name": "mde", "type": "defender", "tenant": "t.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
               "credential": {"secret": "D"}},
              {"name": "graph", "type": "graph", "tenant": "t.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
               "credential": {"secret": "G"}}]}"#,
        )
        .unwrap()
    }

    fn check(payload: &str) {
        let config = config();
        let facts = crate::plan::PlanFacts {
            now: Some(crate::time::Timestamp::parse("2025-06-01T00:00:00Z").unwrap()),
            ..Default::default()
        };
        let mut plan = crate::plan::plan(&config, payload, &facts).unwrap();
        for request in &mut plan.requests {
            request.body = None;
        }
        let expected: Value = serde_json::from_str(&plan.to_json().unwrap()).unwrap();
        let parts = PlanParts::of(&mut plan).unwrap();
        assert_eq!(rebuild(&parts), expected);
    }

    #[test]
    fn rebuilds_the_plan_json_of_every_fixture() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let input = matches!(path.extension().and_then(|e| e.to_str()), Some("json" | "sse"));
            if input && !name.ends_with(".decoded.json") {
                let text = std::fs::read_to_string(&path).unwrap();
                if crate::plan::plan(
                    &config(),
                    &text,
                    &crate::plan::PlanFacts {
                        now: Some(crate::time::Timestamp::parse("2025-06-01T00:00:00Z").unwrap()),
                        ..Default::default()
                    },
                )
                .is_ok()
                {
                    check(&text);
                    seen += 1;
                }
            }
        }
        assert!(seen >= 5, "only {seen} fixtures planned");
    }

    #[test]
    fn non_ascii_nulls_skips_and_errors_survive() {
        // Non-BMP and accented text (UTF-16 lengths differ from UTF-8 ones), a non-atomic pattern
        // (observable null), a skip with its reason and message, and an item that fails to decode.
        check(
            r#"{"type": "bundle", "id": "bundle--1", "objects": [
              {"type": "indicator", "spec_version": "2.1", "id": "indicator--11111111-1111-4111-8111-111111111111",
               "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z", "name": "café 🦀 naïve",
               "pattern": "[domain-name:value = 'xn--caf-dma.example']", "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z"},
              {"type": "indicator", "spec_version": "2.1", "id": "indicator--22222222-2222-4222-8222-222222222222",
               "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z",
               "pattern": "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [file:name = 'é🦀.exe']", "pattern_type": "stix",
               "valid_from": "2025-01-01T00:00:00Z"},
              {"type": "indicator", "spec_version": "2.1", "id": "indicator--33333333-3333-4333-8333-333333333333",
               "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z",
               "pattern": "[url:value = 'http://ex.example/ü']", "pattern_type": "stix",
               "valid_from": "2025-01-01T00:00:00Z", "valid_until": "2025-02-01T00:00:00Z"},
              {"type": "indicator", "spec_version": "2.1", "id": "indicator--44444444-4444-4444-8444-444444444444",
               "pattern": 7}
            ]}"#,
        );
    }

    #[test]
    fn requests_in_any_order_and_keys_from_elsewhere() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode/stix_bundle.json"),
        )
        .unwrap();
        let facts = crate::plan::PlanFacts {
            now: Some(crate::time::Timestamp::parse("2025-06-01T00:00:00Z").unwrap()),
            ..Default::default()
        };
        let mut plan = crate::plan::plan(&config(), &text, &facts).unwrap();
        assert!(plan.requests.len() >= 2 && plan.requests[0].items.len() >= 2);
        for request in &mut plan.requests {
            request.body = None;
        }
        plan.requests[0].items.reverse();
        plan.requests[1].items.push("not an item of this plan".into());
        let expected: Value = serde_json::from_str(&plan.to_json().unwrap()).unwrap();
        let parts = PlanParts::of(&mut plan).unwrap();
        assert_eq!(rebuild(&parts), expected);
        assert!(parts.head.contains("not an item of this plan"), "kept in the head");
    }

    #[test]
    fn an_empty_plan() {
        let parts = PlanParts::of(&mut Plan { items: Vec::new(), requests: Vec::new(), errors: Vec::new() }).unwrap();
        assert_eq!(parts.codes, [0]);
        assert_eq!(parts.text, "");
        assert_eq!(parts.head, r#"{"requests":[],"errors":[]}"#);
        assert_eq!(parts.names, "");
    }

    /// What `src/boundary/plan.js` does for an interpretation, in Rust.
    fn rebuild_interpretation(parts: &InterpretationParts, request_items: &[crate::plan::ItemKey]) -> Value {
        let units: Vec<u16> = parts.text.encode_utf16().collect();
        let mut head: Value = serde_json::from_str(&parts.head).unwrap();
        let mut codes = parts.codes.iter().copied();
        let mut at = 0usize;
        let mut string = |len: u32| -> Value {
            let s = String::from_utf16(&units[at..at + len as usize]).unwrap();
            at += len as usize;
            Value::String(s)
        };
        let mut items = Vec::new();
        for _ in 0..codes.next().unwrap() {
            let index = codes.next().unwrap();
            let key = if index == NONE { string(codes.next().unwrap()) } else { json!(request_items[index as usize]) };
            let item = match codes.next().unwrap() {
                0 => json!({"key": key, "outcome": "accepted"}),
                1 => json!({"key": key, "outcome": "rejected", "message": string(codes.next().unwrap())}),
                _ => {
                    let mut item = Map::new();
                    item.insert("key".into(), key);
                    item.insert("outcome".into(), json!("retry"));
                    if codes.next().unwrap() == 1 {
                        let (lo, hi) = (u64::from(codes.next().unwrap()), u64::from(codes.next().unwrap()));
                        item.insert("after_ms".into(), json!(lo + (hi << 32)));
                    }
                    item.insert("message".into(), string(codes.next().unwrap()));
                    Value::Object(item)
                }
            };
            items.push(item);
        }
        assert_eq!(codes.next(), None, "every code read");
        assert_eq!(at, units.len(), "every unit of text read");
        head["items"] = Value::Array(items);
        head
    }

    #[test]
    fn rebuilds_interpretations() {
        use crate::interpret::Outcome;
        use crate::plan::ItemOutcome;
        let keys: Vec<crate::plan::ItemKey> = ["k0", "k1", "k2", "k3"].map(crate::plan::ItemKey::from).to_vec();
        let cases = [
            vec![("k0", Outcome::Accepted), ("k1", Outcome::Accepted)],
            vec![
                ("k0", Outcome::rejected("bad value `é🦀`")),
                ("k1", Outcome::Retry { after_ms: Some(17_000), message: "Try again in 17 seconds".into() }),
                ("k2", Outcome::Retry { after_ms: None, message: String::new() }),
                ("k3", Outcome::Retry { after_ms: Some((1 << 40) + 5), message: "late".into() }),
            ],
            // Keys not at their place, or not the request's at all.
            vec![("k1", Outcome::Accepted), ("elsewhere ü", Outcome::rejected("no"))],
            vec![],
        ];
        for (n, case) in cases.into_iter().enumerate() {
            let interpretation = Interpretation {
                items: case.into_iter().map(|(key, outcome)| ItemOutcome { key: key.into(), outcome }).collect(),
                retry_after_ms: (n == 1).then_some(17_000),
                resend: None,
                follow_up: Vec::new(),
            };
            let expected = serde_json::to_value(&interpretation).unwrap();
            let parts = InterpretationParts::of(interpretation, &keys).unwrap();
            let got = rebuild_interpretation(&parts, &keys);
            assert_eq!(got, expected, "case {n}");
        }
    }

    #[test]
    fn utf16_lengths() {
        for (text, units) in [("", 0), ("abc", 3), ("é", 1), ("🦀", 2), ("a🦀é", 4)] {
            assert_eq!(utf16_len(text), units, "{text}");
        }
    }
}
