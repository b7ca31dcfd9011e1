//! Microsoft Sentinel's upload responses (the STIX objects API and the legacy upload-indicators
//! API answer alike; microsoft-apis §1.4).
//!
//! A 200 means at least one object was published, and may hide per-object failures:
//! `{"errors":[{"recordIndex":1,"errorMessages":["Error for Property=id: Required property is
//! missing. Actual value: NULL."]}]}`, `recordIndex` counting from 0 in the request's
//! `stixobjects` (or `value`/`indicators`) array. The 429 body
//! `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 17 seconds."}` carries the
//! wait ([`super::retry_after_ms`]).

use crate::json::Value;

use super::{Api, Interpreted, Outcome, Response, collapse, get_ci, is_transient_message, scalar_text, whole};
use crate::error::quote;

/// The outcome of each object of one upload request (`item_count` objects, in request order).
///
/// - 2xx with an empty body, or a JSON body without errors: every object accepted.
/// - 2xx with `errors`: the objects at those `recordIndex`es rejected with their `errorMessages`
///   joined by `; ` (several entries for one index are merged) — or `retry` when every message
///   describes a transient fault ([`super::is_transient_message`]); all others accepted. An entry
///   whose `recordIndex` is missing, not an integer, or outside the batch is ignored and reported
///   in `notes`: it cannot be tied to an object, and the others were published.
/// - 2xx with a body that cannot be read (not JSON, `errors` not a list): every object `retry`.
///   Re-uploading is harmless (Sentinel keeps one row per STIX id and source), so an unreadable
///   answer is never taken as success. UNVERIFIED: no such body is documented.
/// - 400 with an `errors` list naming objects of the batch (UNVERIFIED: a 400 is documented only as
///   "malformed request", but an all-invalid batch publishes nothing and plausibly lists every
///   object): the named objects rejected with their messages, the others `retry` — they were refused
///   only because of their neighbours, and will go through in a batch without them.
/// - anything else: the shared classification (429 → `retry` with the hint, 404 → rejected with
///   "check the workspace id", …).
pub fn upload(response: &Response<'_>, item_count: usize) -> Interpreted {
    if response.is_success() {
        return match record_errors(response.body) {
            Ok(errors) => attribute(&errors, item_count, &Outcome::Accepted),
            Err(why) => {
                let message = format!(
                    "sentinel answered http {} but its per-object result could not be read ({why}); re-uploading is \
                     harmless",
                    response.status
                );
                Interpreted::uniform(item_count, &Outcome::retry(None, message), None)
            }
        };
    }
    if response.status == 400
        && let Ok(errors) = record_errors(response.body)
        && errors.iter().any(|e| e.index.is_some_and(|i| i < item_count))
    {
        let untouched = Outcome::retry(
            None,
            "sentinel refused the batch (http 400) because of other objects in it; this one had no error and can be \
             re-sent without them",
        );
        return attribute(&errors, item_count, &untouched);
    }
    whole(Api::Sentinel, response, item_count)
}

/// One entry of `errors`: the object it names (if it names one usable as an index) and its
/// messages.
#[derive(Debug, PartialEq, Eq)]
struct RecordError {
    index: Option<usize>,
    /// The raw `recordIndex` as text, for notes about indexes that could not be used.
    raw_index: Option<String>,
    messages: Vec<String>,
}

/// The `errors` of an upload response body; empty for an empty body or a body without errors.
/// `Err` says why the body could not be read.
fn record_errors(body: &str) -> Result<Vec<RecordError>, &'static str> {
    let body = body.trim();
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let arena = crate::json::Arena::new();
    let value = super::parse_json(body, &arena).map_err(|_| "the body is not JSON")?;
    let obj = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Object(obj) => obj,
        _ => return Err("the body is not a JSON object"),
    };
    let entries = match get_ci(obj, "errors") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err("`errors` is not a list"),
    };
    Ok(entries.iter().map(record_error).collect())
}

fn record_error(entry: &Value<'_>) -> RecordError {
    let Some(obj) = entry.as_object() else {
        let messages = scalar_text(entry).into_iter().collect();
        return RecordError { index: None, raw_index: None, messages };
    };
    let raw = get_ci(obj, "recordIndex");
    let index = raw.and_then(|v| match v {
        // `1.0` is an index too; `1.5` and `-1` are not.
        #[allow(clippy::float_cmp)]
        Value::Number(n) => super::number_u64(*n)
            .or_else(|| Some(n.as_f64()).filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    });
    let messages = match get_ci(obj, "errorMessages") {
        Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(other) => scalar_text(other).into_iter().collect(),
        None => Vec::new(),
    };
    let messages = messages.iter().map(|m| collapse(m)).filter(|m| !m.is_empty()).collect();
    RecordError {
        index: index.and_then(|i| usize::try_from(i).ok()),
        raw_index: raw.map(|v| scalar_text(v).unwrap_or_else(|| super::json_text(v))),
        messages,
    }
}

/// Rejects the objects named by `errors`; every other object gets `untouched`. Entries that name no
/// object of the batch become notes.
fn attribute(errors: &[RecordError], item_count: usize, untouched: &Outcome) -> Interpreted {
    let mut messages: Vec<Option<Vec<&str>>> = vec![None; item_count];
    let mut notes = Vec::new();
    for error in errors {
        let joined = if error.messages.is_empty() { "no message".to_owned() } else { error.messages.join("; ") };
        match error.index.and_then(|i| messages.get_mut(i)) {
            Some(slot) => slot.get_or_insert_with(Vec::new).extend(error.messages.iter().map(String::as_str)),
            None => notes.push(match &error.raw_index {
                Some(raw) => format!(
                    "sentinel reported an error for record index {}, outside the request's {item_count} objects; \
                     ignored: {joined}",
                    quote(raw)
                ),
                None => format!("sentinel reported an error without a record index; ignored: {joined}"),
            }),
        }
    }
    let items = messages
        .into_iter()
        .map(|slot| match slot {
            None => untouched.clone(),
            Some(list) if list.is_empty() => Outcome::rejected("sentinel rejected the object without a message"),
            Some(list) if list.iter().all(|m| is_transient_message(m)) => {
                Outcome::retry(None, format!("sentinel could not publish the object for now: {}", list.join("; ")))
            }
            Some(list) => Outcome::rejected(format!("sentinel rejected the object: {}", list.join("; "))),
        })
        .collect();
    notes.into_iter().fold(Interpreted::from_items(items, None, Vec::new()), Interpreted::with_note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpret::testing::{kinds, response};

    const PARTIAL: &str = r#"{"errors":[{"recordIndex":1,"errorMessages":["Error for Property=id: Required property is missing. Actual value: NULL."]}]}"#;
    const THROTTLED: &str = r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 17 seconds."}"#;
    const UNAUTHORIZED: &str = r#"{"statusCode":401,"message":"Unauthorized. Access token is missing or invalid."}"#;

    fn run(status: u16, body: &str, n: usize) -> Interpreted {
        upload(&response(status, body), n)
    }

    #[test]
    fn table() {
        // (status, body, items, outcomes, retry_after_ms, notes)
        type Case<'a> = (u16, &'a str, usize, &'a str, Option<u64>, usize);
        let cases: &[Case<'_>] = &[
            (200, "", 3, "AAA", None, 0),
            (200, "  \n", 2, "AA", None, 0),
            (200, "{}", 2, "AA", None, 0),
            (200, "null", 1, "A", None, 0),
            (200, r#"{"errors":[]}"#, 2, "AA", None, 0),
            (200, r#"{"errors":null}"#, 2, "AA", None, 0),
            (200, PARTIAL, 3, "ARA", None, 0),
            (200, PARTIAL, 1, "A", None, 1),
            (
                200,
                r#"{"errors":[{"recordIndex":"0","errorMessages":"bad"},{"recordIndex":2.0,"errorMessages":[]}]}"#,
                3,
                "RAR",
                None,
                0,
            ),
            (
                200,
                r#"{"errors":[{"recordIndex":-1,"errorMessages":["x"]},{"errorMessages":["y"]},7]}"#,
                2,
                "AA",
                None,
                3,
            ),
            (200, r#"{"Errors":[{"RecordIndex":0,"ErrorMessages":["x"]}]}"#, 1, "R", None, 0),
            (200, "not json", 2, "TT", None, 0),
            (200, r#"{"errors":"boom"}"#, 2, "TT", None, 0),
            (200, "[1,2]", 1, "T", None, 0),
            (201, "", 1, "A", None, 0),
            (
                400,
                r#"{"errors":[{"recordIndex":0,"errorMessages":["Error for Property=pattern: invalid"]}]}"#,
                2,
                "RT",
                None,
                0,
            ),
            (
                200,
                r#"{"errors":[{"recordIndex":1,"errorMessages":["InternalServerError: a transient error occurred; retry later."]}]}"#,
                2,
                "AT",
                None,
                0,
            ),
            (400, r#"{"errors":[{"recordIndex":5,"errorMessages":["x"]}]}"#, 2, "RR", None, 0),
            (400, "", 2, "RR", None, 0),
            (401, UNAUTHORIZED, 2, "RR", None, 0),
            (403, "", 1, "R", None, 0),
            (404, "", 1, "R", None, 0),
            (429, THROTTLED, 3, "TTT", Some(17_000), 0),
            (429, "", 1, "T", None, 0),
            (500, "", 2, "TT", None, 0),
            (503, "<html><title>Service Unavailable</title></html>", 1, "T", None, 0),
            (0, "fetch failed: ECONNRESET", 2, "TT", None, 0),
            (302, "", 1, "R", None, 0),
            (200, PARTIAL, 0, "", None, 1),
        ];
        for &(status, body, n, expected, wait, notes) in cases {
            let got = run(status, body, n);
            assert_eq!(kinds(&got), expected, "{status} {body}");
            assert_eq!(got.retry_after_ms, wait, "{status} {body}");
            assert_eq!(got.notes.len(), notes, "{status} {body}: {:?}", got.notes);
        }
    }

    #[test]
    fn partial_failure_carries_the_messages() {
        let got = run(200, PARTIAL, 3);
        assert_eq!(
            got.items[1],
            Outcome::Rejected {
                message: "sentinel rejected the object: Error for Property=id: Required property is missing. Actual \
                          value: NULL."
                    .into()
            }
        );
        let merged = run(
            200,
            r#"{"errors":[{"recordIndex":0,"errorMessages":["a","b"]},{"recordIndex":0,"errorMessages":["c"]}]}"#,
            1,
        );
        assert_eq!(merged.items[0].message(), Some("sentinel rejected the object: a; b; c"));
        let silent = run(200, r#"{"errors":[{"recordIndex":0}]}"#, 1);
        assert_eq!(silent.items[0].message(), Some("sentinel rejected the object without a message"));
    }

    #[test]
    fn out_of_range_index_is_noted() {
        let got = run(200, PARTIAL, 1);
        assert_eq!(
            got.notes,
            ["sentinel reported an error for record index `1`, outside the request's 1 objects; ignored: Error for \
                 Property=id: Required property is missing. Actual value: NULL."]
        );
    }

    #[test]
    fn throttling_and_credentials() {
        let got = run(429, THROTTLED, 1);
        assert_eq!(
            got.items[0],
            Outcome::Retry {
                after_ms: Some(17_000),
                message: "sentinel throttled the request (http 429): Rate limit is exceeded. Try again in 17 seconds."
                    .into()
            }
        );
        let got = run(401, UNAUTHORIZED, 1);
        let message = got.items[0].message().unwrap();
        assert!(message.starts_with("sentinel refused the credential (http 401 unauthorized): Unauthorized. Access"));
        assert!(message.contains("Microsoft Sentinel Contributor"), "{message}");
        let got = run(404, "", 1);
        assert_eq!(
            got.items[0].message(),
            Some(
                "sentinel rejected the request (http 404 not found); check the workspace id (the Log Analytics workspace \
                 GUID, not its ARM resource id)"
            )
        );
    }

    #[test]
    fn a_400_naming_objects_retries_the_innocent() {
        let got = run(400, r#"{"errors":[{"recordIndex":1,"errorMessages":["bad pattern"]}]}"#, 3);
        assert_eq!(kinds(&got), "TRT");
        assert_eq!(got.items[1].message(), Some("sentinel rejected the object: bad pattern"));
        assert!(got.items[0].message().unwrap().contains("without them"));
    }

    #[test]
    fn unreadable_success_is_retried() {
        let got = run(200, "<html>", 1);
        assert_eq!(
            got.items[0].message(),
            Some(
                "sentinel answered http 200 but its per-object result could not be read (the body is not JSON); re-uploading is harmless"
            )
        );
    }
}
