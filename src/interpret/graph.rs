//! Microsoft Graph `tiIndicators` (beta, deprecated) responses (microsoft-apis §3).
//!
//! The bulk actions answer 200 when every item went through and **206** when "one or more of the
//! bulk actions failed when it was federated out to its provider", with "success/error data from the
//! individual providers for each threat intelligence indicator" in the body. The shape of that body is
//! not documented (UNVERIFIED). The reading here is defensive:
//! - the body's `value` list is taken to be aligned with the request, element `i` for item `i`, and
//!   is used only when it has exactly as many elements as the request had items;
//! - an element with a non-null `error` failed: rejected with the error's code and message (`retry`
//!   if it carries a retryable numeric `status`/`code`: 408, 429, 5xx);
//! - an element with a numeric `status`, `statusCode` or `code` (a number or digits in a string):
//!   0 or 2xx → accepted; 408, 429, 5xx → `retry`; anything else → rejected with its `message`;
//! - an element with a textual `status`/`code`: `success`, `succeeded`, `ok`, `created`, `deleted`
//!   (any case) → accepted, anything else → rejected;
//! - an element with none of these but an `id` (a `tiIndicator` came back) → accepted, for writes;
//! - anything else, and every item when the list cannot be aligned → `retry`, with a message saying
//!   the partial result could not be matched to the request.
//!
//! Resending a `tiIndicator` that was in fact created may create a duplicate (Graph does not
//! deduplicate on `externalId`); that is accepted as the price of not losing one silently.
//!
//! Graph's `Warning: 199 - "{Vendor}/{Provider}/{Status}/{LatencyMs}"` headers name failing
//! providers; on a 206 they are copied into `notes`.

use std::fmt::Write as _;

use crate::json::Value;

use super::{Api, Interpreted, Outcome, clip, collapse, get_ci, json_error_detail, scalar_text, whole};
use crate::error::quote;
use crate::interpret::Response;

/// Whether a bulk action writes indicators or removes them: a removal that finds nothing (404) has
/// reached its goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Write,
    Delete,
}

/// `POST /security/tiIndicators/submitTiIndicators` (and a single `POST /security/tiIndicators`):
/// 206 → per-item results (see the module docs); any other 2xx (200 with the created collection,
/// 201) → every item accepted; anything else by the shared classification.
pub fn submit(response: &Response<'_>, item_count: usize) -> Interpreted {
    write(response, item_count)
}

/// `POST /security/tiIndicators/updateTiIndicators` (and a single `PATCH
/// /security/tiIndicators/{id}`, 204 or 200): read as [`submit`].
pub fn update(response: &Response<'_>, item_count: usize) -> Interpreted {
    write(response, item_count)
}

fn write(response: &Response<'_>, item_count: usize) -> Interpreted {
    match response.status {
        206 => partial(response, item_count, Op::Write),
        200..=299 => Interpreted::accepted(item_count),
        _ => whole(Api::Graph, response, item_count),
    }
}

/// `POST /security/tiIndicators/deleteTiIndicatorsByExternalId` (and `deleteTiIndicators`, which
/// answers alike): 200 or 206 with `{"value":[resultInfo…]}`, one `{"code","message","subCode"}` per
/// item.
///
/// The `resultInfo` resource documents `code` only as "the result code … whether the result is a
/// generic success or failure"; the reading here (UNVERIFIED) is: 0 or 2xx → accepted; 404 (also an
/// error code `NotFound`/`ResourceNotFound`) → accepted, since an indicator that is already gone is
/// what the removal wanted; 408, 429, 5xx → `retry`; anything else → rejected with its message.
/// A 2xx with no body at all (204) accepts every item; a 200 whose results cannot be aligned with
/// the request makes every item `retry` (deleting again is harmless). Other statuses: the shared
/// classification.
pub fn delete_by_external_id(response: &Response<'_>, item_count: usize) -> Interpreted {
    if !response.is_success() {
        return whole(Api::Graph, response, item_count);
    }
    if response.body.trim().is_empty() && response.status != 206 {
        return Interpreted::accepted(item_count);
    }
    partial(response, item_count, Op::Delete)
}

/// `POST /security/tiIndicators/deleteTiIndicators` (by Graph id): read as
/// [`delete_by_external_id`].
pub fn delete(response: &Response<'_>, item_count: usize) -> Interpreted {
    delete_by_external_id(response, item_count)
}

/// Per-item results of a 2xx bulk answer.
fn partial(response: &Response<'_>, item_count: usize, op: Op) -> Interpreted {
    let status = response.status;
    let unmatched = |why: &str| {
        let consequence = match op {
            Op::Write => "re-sending it may duplicate an indicator that was created",
            Op::Delete => "deleting again is harmless",
        };
        Outcome::retry(
            None,
            format!(
                "graph answered http {status} but its per-item result could not be matched to this item ({why}); \
                 {consequence}"
            ),
        )
    };
    let arena = crate::json::Arena::new();
    let elements = match results(response.body, &arena) {
        Ok(elements) if elements.len() == item_count => elements,
        Ok(elements) => {
            let why = format!("{} results for {item_count} items", elements.len());
            return with_warnings(Interpreted::uniform(item_count, &unmatched(&why), None), response);
        }
        Err(why) => return with_warnings(Interpreted::uniform(item_count, &unmatched(why), None), response),
    };
    let items = elements
        .iter()
        .map(|element| element_outcome(element, op).unwrap_or_else(|| unmatched("an element in no known shape")))
        .collect();
    with_warnings(Interpreted::from_items(items, None, Vec::new()), response)
}

fn results<'a>(body: &'a str, arena: &'a crate::json::Arena) -> Result<&'a [Value<'a>], &'static str> {
    let value = super::parse_json(body.trim(), arena).map_err(|_| "the body is not JSON")?;
    match value {
        Value::Object(obj) => match get_ci(obj, "value") {
            Some(Value::Array(list)) => Ok(list),
            _ => Err("the body has no `value` list"),
        },
        Value::Array(list) => Ok(list),
        _ => Err("the body is not a JSON object"),
    }
}

/// One element of a bulk answer; `None` when it says nothing usable.
fn element_outcome(element: &Value<'_>, op: Op) -> Option<Outcome> {
    let obj = element.as_object()?;
    let failed = match op {
        Op::Write => "graph rejected the indicator",
        Op::Delete => "graph could not delete the indicator",
    };
    let error = get_ci(obj, "error").filter(|e| !matches!(e, Value::Null));
    let numeric = error.and_then(Value::as_object).and_then(numeric_status).or_else(|| numeric_status(obj));
    let detail = || element_detail(element, obj, error.is_some());
    let source = error.and_then(Value::as_object).unwrap_or(obj);
    let textual = get_ci(source, "status")
        .or_else(|| get_ci(source, "code"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.parse::<i64>().is_err());
    let gone = op == Op::Delete && (numeric == Some(404) || textual.is_some_and(is_not_found));
    Some(match numeric {
        _ if gone => Outcome::Accepted,
        Some(code) if retryable(code) => {
            Outcome::retry(None, format!("graph failed for the indicator ({code}){}", detail()))
        }
        Some(0 | 200..=299) if error.is_none() => Outcome::Accepted,
        Some(code) => Outcome::rejected(format!("{failed} ({code}){}", detail())),
        None if error.is_some() => Outcome::rejected(format!("{failed}{}", detail())),
        None => match textual {
            Some(text) if SUCCESS.iter().any(|s| s.eq_ignore_ascii_case(text)) => Outcome::Accepted,
            Some(_) => Outcome::rejected(format!("{failed}{}", detail())),
            // No status at all: a tiIndicator that came back was written.
            None if op == Op::Write && get_ci(obj, "id").is_some_and(|id| !matches!(id, Value::Null)) => {
                Outcome::Accepted
            }
            None => return None,
        },
    })
}

const SUCCESS: [&str; 5] = ["success", "succeeded", "ok", "created", "deleted"];

/// `: <code>: <message> (subCode `…`)` for an element: an `error` object as the documented error
/// shape, else the element's own textual code, `message` and `subCode`. Empty when it says nothing.
fn element_detail(element: &Value<'_>, obj: &super::Map<'_>, has_error: bool) -> String {
    if has_error {
        return json_error_detail(element).map(|d| format!(": {d}")).unwrap_or_default();
    }
    let code = get_ci(obj, "code")
        .or_else(|| get_ci(obj, "status"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.parse::<i64>().is_err())
        .map(quote);
    let message = get_ci(obj, "message").and_then(scalar_text).map(|m| collapse(&m)).filter(|m| !m.is_empty());
    let sub = get_ci(obj, "subCode").and_then(scalar_text).filter(|s| !s.is_empty() && s != "0");
    let mut detail = match (code, message) {
        (Some(code), Some(message)) => format!(": {code}: {message}"),
        (Some(code), None) => format!(": {code}"),
        (None, Some(message)) => format!(": {message}"),
        (None, None) => String::new(),
    };
    if let Some(sub) = sub {
        let _ = write!(detail, " (subCode {})", quote(&sub));
    }
    clip(&detail, 300)
}

/// The first of `status`, `statusCode`, `code` that is an integer (or digits in a string).
fn numeric_status(obj: &super::Map<'_>) -> Option<i64> {
    ["status", "statusCode", "code"].iter().find_map(|key| match get_ci(obj, key)? {
        Value::Number(n) => super::number_i64(*n),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    })
}

fn is_not_found(code: &str) -> bool {
    code.trim().eq_ignore_ascii_case("NotFound") || code.trim().eq_ignore_ascii_case("ResourceNotFound")
}

const fn retryable(code: i64) -> bool {
    matches!(code, 408 | 429 | 500 | 502..=504 | 506..=599)
}

/// Copies `Warning` headers (Graph's failing providers) into notes.
fn with_warnings(mut interpreted: Interpreted, response: &Response<'_>) -> Interpreted {
    for (_, value) in response.headers.iter().filter(|(name, _)| name.trim().eq_ignore_ascii_case("warning")) {
        interpreted = interpreted.with_note(format!("graph provider warning: {}", value.trim()));
    }
    interpreted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpret::testing::{kinds, response};

    const CREATED: &str = r##"{"value":[{"@odata.type":"#microsoft.graph.tiIndicator","id":"c6fb948b-89c5-3bba-a2cd-a9d9a1e430e4","azureTenantId":"XXXXXXXXXXXXXXXXXXXXX","action":null,"confidence":0,"description":"This is a test indicator for demo purpose."}]}"##;

    #[test]
    fn submit_table() {
        let partial = r#"{"value":[
            {"id":"c6fb948b-89c5-3bba-a2cd-a9d9a1e430e4","externalId":"a"},
            {"error":{"code":"BadRequest","message":"Invalid value for property 'tlpLevel'"}},
            {"status":503,"message":"provider timed out"},
            {"status":"Failed","message":"nope"},
            {"statusCode":"201"},
            {"weird":true},
            7,
            {"error":{"code":"TooManyRequests","status":429}}
        ]}"#;
        let cases: &[(u16, &str, usize, &str)] = &[
            (200, CREATED, 1, "A"),
            (200, "", 3, "AAA"),
            (201, "", 1, "A"),
            (204, "", 2, "AA"),
            (206, partial, 8, "ARTRATTT"),
            (206, partial, 3, "TTT"),
            (206, "", 2, "TT"),
            (206, "oops", 1, "T"),
            (206, r#"{"value":"x"}"#, 1, "T"),
            (206, r#"[{"id":"1"},{"error":{"message":"bad"}}]"#, 2, "AR"),
            (
                400,
                r#"{"error":{"code":"BadRequest","message":"Deserialization failed","innerError":{"request-id":"9b6c-1","date":"2024-01-01T00:00:00"}}}"#,
                2,
                "RR",
            ),
            (401, "", 1, "R"),
            (403, r#"{"error":{"code":"Forbidden","message":"Insufficient privileges"}}"#, 1, "R"),
            (404, "", 1, "R"),
            (413, "", 2, "RR"),
            (429, "", 2, "TT"),
            (502, "", 1, "T"),
            (0, "", 1, "T"),
        ];
        for &(status, body, n, expected) in cases {
            assert_eq!(kinds(&submit(&response(status, body), n)), expected, "{status} {body}");
            assert_eq!(kinds(&update(&response(status, body), n)), expected, "{status} {body}");
        }
    }

    #[test]
    fn submit_messages() {
        let got = submit(
            &response(
                400,
                r#"{"error":{"code":"BadRequest","message":"Deserialization failed","innerError":{"request-id":"9b6c-1"}}}"#,
            ),
            1,
        );
        assert_eq!(
            got.items[0].message(),
            Some(
                "graph rejected the request (http 400 bad request): `BadRequest`: Deserialization failed (correlation `9b6c-1`)"
            )
        );
        let got =
            submit(&response(206, r#"{"value":[{"error":{"code":"BadRequest","message":"Invalid tlpLevel"}}]}"#), 1);
        assert_eq!(got.items[0].message(), Some("graph rejected the indicator: `BadRequest`: Invalid tlpLevel"));
        let got = submit(&response(206, r#"{"value":[]}"#), 1);
        assert_eq!(
            got.items[0].message(),
            Some(
                "graph answered http 206 but its per-item result could not be matched to this item (0 results for 1 \
                 items); re-sending it may duplicate an indicator that was created"
            )
        );
        let got = submit(&response(404, ""), 1);
        assert_eq!(
            got.items[0].message(),
            Some(
                "graph rejected the request (http 404 not found); the tiIndicators API is deprecated and announced for \
                 removal in April 2026"
            )
        );
        let got = submit(&response(403, ""), 1);
        assert!(got.items[0].message().unwrap().contains("`ThreatIndicators.ReadWrite.OwnedBy`"));
    }

    #[test]
    fn warnings_become_notes() {
        let headers = [("Warning".to_owned(), r#"199 - "Microsoft/Sentinel/504/10000""#.to_owned())];
        let got = submit(&Response::new(206, &headers, r#"{"value":[{"id":"1"}]}"#), 1);
        assert_eq!(got.notes, [r#"graph provider warning: 199 - "Microsoft/Sentinel/504/10000""#]);
    }

    #[test]
    fn delete_table() {
        let results = r#"{"value":[
            {"code":0,"message":"","subCode":""},
            {"code":200,"message":"OK"},
            {"code":404,"message":"Not found"},
            {"code":500,"message":"provider failed"},
            {"code":400,"message":"Invalid externalId","subCode":"InvalidInput"},
            {"code":"code-value","message":"message-value","subCode":"subCode-value"},
            {"code":"NotFound"},
            {"error":{"code":"ResourceNotFound","message":"gone"}},
            {"message":"?"}
        ]}"#;
        let cases: &[(u16, &str, usize, &str)] = &[
            (200, results, 9, "AAATRRAAT"),
            (206, results, 9, "AAATRRAAT"),
            (200, results, 2, "TT"),
            (200, "", 2, "AA"),
            (204, "", 2, "AA"),
            (206, "", 2, "TT"),
            (200, "not json", 1, "T"),
            (400, "", 2, "RR"),
            (429, "", 1, "T"),
            (503, "", 1, "T"),
        ];
        for &(status, body, n, expected) in cases {
            assert_eq!(kinds(&delete_by_external_id(&response(status, body), n)), expected, "{status} {body}");
            assert_eq!(kinds(&delete(&response(status, body), n)), expected, "{status} {body}");
        }
        let got =
            delete_by_external_id(&response(200, r#"{"value":[{"code":400,"message":"Invalid externalId"}]}"#), 1);
        assert_eq!(got.items[0].message(), Some("graph could not delete the indicator (400): Invalid externalId"));
        let got = delete_by_external_id(&response(200, r#"{"value":[{"code":503,"message":"busy"}]}"#), 1);
        assert_eq!(
            got.items[0],
            Outcome::Retry { after_ms: None, message: "graph failed for the indicator (503): busy".into() }
        );
    }
}
