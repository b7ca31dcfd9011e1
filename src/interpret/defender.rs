//! Microsoft Defender for Endpoint indicators API responses (microsoft-apis §2.2–2.4).
//!
//! Errors come as `{"error":{"code":"InvalidRequestBody","message":"…","target":"<correlation id>"}}`;
//! a 429 carries `Retry-After` in seconds. The import endpoint answers 200 with one result per
//! indicator, `{"value":[{"id":"2841","indicator":"<value>","isFailed":false,"failureReason":null}]}`,
//! and the list endpoint `{"@odata.context":…,"value":[Indicator…]}`.

use crate::json::Value;
use serde::Serialize;

use super::{
    Api, Interpreted, Outcome, clip, collapse, get_ci, is_transient_message, scalar_text, status_outcome, whole,
};
use crate::error::{Code, Error, quote};
use crate::interpret::Response;

/// `POST /api/indicators` (one indicator, submit or update): 2xx → accepted, anything else by the
/// shared classification.
pub fn submit(response: &Response<'_>) -> Interpreted {
    if response.is_success() { Interpreted::accepted(1) } else { whole(Api::Defender, response, 1) }
}

/// `POST /api/indicators/import`: the outcome of each indicator of the request, whose
/// `indicatorValue`s are `values` in request order.
///
/// A 200 body's results are matched to the request's indicators:
/// 1. by `indicator` equal to the request's value, exactly;
/// 2. then ignoring ASCII case (Defender may change the case of a hash or a domain; URLs are
///    case-sensitive in their path, which is why the exact pass comes first and two values that
///    differ only in case are matched exactly when Defender echoes them unchanged);
/// 3. then, for what is still unmatched, by position — only when the response has exactly as many
///    results as the request had indicators (a shorter list cannot be aligned safely).
///
/// Each result is used once. `isFailed: true` (also `"true"`) → rejected with `failureReason`
/// (`retry` when the reason describes a transient fault: [`super::is_transient_message`]);
/// `isFailed: false` → accepted; a result without `isFailed` is failed if it has a
/// `failureReason`, accepted if it has an `id` or `indicator`, else unreadable.
///
/// An indicator with no result, or with an unreadable one, is `retry` (not rejected): the import
/// is an upsert, so re-sending is harmless, and nothing says it failed. UNVERIFIED: whether Defender
/// ever omits results is not documented. A 2xx body that cannot be read at all makes every
/// indicator `retry` for the same reason. Other statuses: the shared classification.
pub fn import(response: &Response<'_>, values: &[&str]) -> Interpreted {
    if !response.is_success() {
        return whole(Api::Defender, response, values.len());
    }
    let results = match import_results(response.body) {
        Ok(results) => results,
        Err(why) => {
            let message = format!(
                "defender answered http {} but its per-indicator results could not be read ({why}); re-importing is \
                 harmless",
                response.status
            );
            return Interpreted::uniform(values.len(), &Outcome::retry(None, message), None);
        }
    };
    let mut used = vec![false; results.len()];
    let mut matched: Vec<Option<usize>> = vec![None; values.len()];
    let exact = |a: &str, b: &str| a == b;
    for same in [exact as fn(&str, &str) -> bool, str::eq_ignore_ascii_case] {
        for (slot, value) in matched.iter_mut().zip(values) {
            if slot.is_some() {
                continue;
            }
            let found = results.iter().zip(&used).position(|(result, taken)| {
                !taken && result.indicator.as_deref().is_some_and(|indicator| same(indicator.trim(), value.trim()))
            });
            if let Some(at) = found {
                *slot = Some(at);
                if let Some(taken) = used.get_mut(at) {
                    *taken = true;
                }
            }
        }
    }
    if results.len() == values.len() {
        for (at, slot) in matched.iter_mut().enumerate() {
            if slot.is_none() && used.get(at) == Some(&false) {
                *slot = Some(at);
                if let Some(taken) = used.get_mut(at) {
                    *taken = true;
                }
            }
        }
    }
    let items = matched
        .iter()
        .zip(values)
        .map(|(slot, value)| match slot.and_then(|at| results.get(at)).map(|result| &result.state) {
            Some(State::Imported) => Outcome::Accepted,
            Some(State::Failed(Some(reason))) if is_transient_message(reason) => {
                Outcome::retry(None, format!("defender could not import {} for now: {reason}", quote(value)))
            }
            Some(State::Failed(Some(reason))) => {
                Outcome::rejected(format!("defender could not import {}: {reason}", quote(value)))
            }
            Some(State::Failed(None)) => {
                Outcome::rejected(format!("defender could not import {} and gave no reason", quote(value)))
            }
            Some(State::Unreadable) => Outcome::retry(
                None,
                format!("defender's import result for {} could not be read; re-importing is harmless", quote(value)),
            ),
            None => Outcome::retry(
                None,
                format!("defender's import response has no result for {}; re-importing is harmless", quote(value)),
            ),
        })
        .collect();
    let unused = used.iter().filter(|taken| !**taken).count();
    let interpreted = Interpreted::from_items(items, None, Vec::new());
    if unused == 0 {
        interpreted
    } else {
        interpreted.with_note(format!(
            "defender's import response has {unused} result(s) that match no indicator of the request"
        ))
    }
}

/// One import result.
#[derive(Debug)]
struct ImportResult {
    indicator: Option<String>,
    state: State,
}

#[derive(Debug)]
enum State {
    Imported,
    Failed(Option<String>),
    Unreadable,
}

fn import_results(body: &str) -> Result<Vec<ImportResult>, &'static str> {
    let arena = crate::json::Arena::new();
    let value = super::parse_json(body.trim(), &arena).map_err(|_| "the body is not JSON")?;
    let list = match &value {
        Value::Object(obj) => match get_ci(obj, "value") {
            Some(Value::Array(list)) => list,
            _ => return Err("the body has no `value` list"),
        },
        _ => return Err("the body is not a JSON object"),
    };
    Ok(list.iter().map(import_result).collect())
}

fn import_result(entry: &Value<'_>) -> ImportResult {
    let Some(obj) = entry.as_object() else {
        return ImportResult { indicator: None, state: State::Unreadable };
    };
    let indicator = get_ci(obj, "indicator").and_then(scalar_text).filter(|s| !s.is_empty());
    let reason = get_ci(obj, "failureReason").and_then(scalar_text).map(|r| collapse(&r)).filter(|r| !r.is_empty());
    let failed = match get_ci(obj, "isFailed") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    let state = match failed {
        Some(true) => State::Failed(reason),
        Some(false) => State::Imported,
        None if reason.is_some() => State::Failed(reason),
        None if indicator.is_some() || get_ci(obj, "id").is_some_and(|id| !matches!(id, Value::Null)) => {
            State::Imported
        }
        None => State::Unreadable,
    };
    ImportResult { indicator, state }
}

/// `DELETE /api/indicators/{id}` carrying `item_count` items: 2xx (documented: 204) → accepted;
/// 404 → accepted too (the indicator is already gone, which is what the removal wanted; noted);
/// anything else by the shared classification.
pub fn delete(response: &Response<'_>, item_count: usize) -> Interpreted {
    match response.status {
        200..=299 => Interpreted::accepted(item_count),
        404 => {
            Interpreted::accepted(item_count).with_note("defender found no indicator with that id; it is already gone")
        }
        _ => whole(Api::Defender, response, item_count),
    }
}

/// `POST /api/indicators/BatchDelete` with `id_count` ids, carrying `item_count` items.
///
/// 2xx (documented: 204, "all existed and were deleted") → every item accepted. 404 means "any id
/// not found", and whether the others were deleted is not documented:
/// - with one id, that id is gone — accepted (noted), as [`delete`];
/// - with several, every item is `retry` with a message saying to delete them one by one: an
///   indicator already gone is the desired end state, but calling the whole batch accepted could
///   leave the others active (blocking or alerting) if Defender refused the batch as a unit. The
///   planner ([`crate::plan::interpret()`]) does not get here: it answers such a 404 with one
///   `DELETE /api/indicators/{id}` per id, which end `accepted` on 204 or 404.
///
/// Anything else by the shared classification (403: an indicator outside the app's device groups).
pub fn batch_delete(response: &Response<'_>, id_count: usize, item_count: usize) -> Interpreted {
    match response.status {
        200..=299 => Interpreted::accepted(item_count),
        404 if id_count <= 1 => {
            Interpreted::accepted(item_count).with_note("defender found no indicator with that id; it is already gone")
        }
        404 => {
            let (outcome, _) = status_outcome(Api::Defender, response);
            let detail = outcome.message().unwrap_or_default().to_owned();
            let message = format!(
                "{detail}; at least one id of the batch no longer exists and defender does not say whether it deleted \
                 the others: delete them one by one"
            );
            Interpreted::uniform(item_count, &Outcome::retry(None, message), None)
        }
        _ => whole(Api::Defender, response, item_count),
    }
}

/// One indicator of a `GET /api/indicators` answer: what the planner needs to decide whether the
/// relay may delete it (only indicators this relay's application created; SPEC §6). Fields absent
/// or `null` in the answer are `None`; a number or boolean where text was expected is kept as
/// text, anything else (a list, an object) is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DefenderIndicatorSummary {
    /// Defender's id (numeric, as text: `"995"`), for `DELETE /api/indicators/{id}` and
    /// `BatchDelete`.
    pub id: String,
    /// `indicatorValue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator_value: Option<String>,
    /// `indicatorType` (`IpAddress`, `FileSha256`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator_type: Option<String>,
    /// `action`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `application`: the name the creator set on create (Defender ignores it on update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// `title`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `createdBy`: the creating user, or the application (client) id of the creating app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `createdBySource`: the creating user's or application's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_source: Option<String>,
    /// `createdByDisplayName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_display_name: Option<String>,
    /// `source`: the creating application's name in older answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `sourceType`: `User` or `AadApp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// `externalId` (also read as `externalID`): the creator's correlation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// `expirationTime`, as Defender wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<String>,
}

/// A `GET /api/indicators` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DefenderIndicatorList {
    /// The indicators, in the answer's order.
    pub indicators: Vec<DefenderIndicatorSummary>,
    /// `@odata.nextLink`, when the answer has more pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// A `GET /api/indicators?$filter=…` response: the indicators, or — for a non-2xx status or an
/// unreadable body — the outcome the items waiting on this lookup get. A status is classified as
/// everywhere else (429 → `retry` with its hint); an unreadable 2xx body is `retry` with
/// [`parse_list`]'s message, since repeating a lookup is harmless.
pub fn list(response: &Response<'_>) -> Result<DefenderIndicatorList, Outcome> {
    if !response.is_success() {
        return Err(status_outcome(Api::Defender, response).0);
    }
    parse_list(response.body).map_err(|e| {
        Outcome::retry(
            None,
            clip(&format!("defender's indicator list could not be read: {e}"), super::MAX_MESSAGE_CHARS),
        )
    })
}

/// Parses a `GET /api/indicators` body. Errors: [`Code::Json`] (not JSON), [`Code::Shape`] (not an
/// object with a `value` list), [`Code::Type`] (an entry that is not an object, an id that is not
/// text or a number), [`Code::Missing`] (an entry without `id`), each with its JSON path.
pub fn parse_list(body: &str) -> Result<DefenderIndicatorList, Error> {
    let arena = crate::json::Arena::new();
    let value = super::parse_json(body.trim(), &arena)?;
    let Value::Object(obj) = &value else {
        return Err(Error::new(Code::Shape, format!("expected an object with a `value` list, found {}", kind(&value))));
    };
    let entries = match get_ci(obj, "value") {
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return Err(Error::new(Code::Shape, format!("expected a list, found {}", kind(other))).at_path("value"));
        }
        None => return Err(Error::new(Code::Shape, "expected an object with a `value` list, found no `value`")),
    };
    let indicators =
        entries.iter().enumerate().map(|(i, entry)| summary(entry, i)).collect::<Result<Vec<_>, Error>>()?;
    let next_link = get_ci(obj, "@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
    Ok(DefenderIndicatorList { indicators, next_link })
}

fn summary(entry: &Value<'_>, index: usize) -> Result<DefenderIndicatorSummary, Error> {
    let Value::Object(obj) = entry else {
        return Err(Error::new(Code::Type, format!("expected an object, found {}", kind(entry)))
            .at_path(format!("value[{index}]")));
    };
    let id = match get_ci(obj, "id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(Value::Number(n)) => super::number_text(*n),
        None | Some(Value::Null) => {
            return Err(Error::new(Code::Missing, "missing `id`").at_path(format!("value[{index}].id")));
        }
        Some(Value::String(_)) => {
            return Err(Error::new(Code::Missing, "empty `id`").at_path(format!("value[{index}].id")));
        }
        Some(other) => {
            return Err(Error::new(Code::Type, format!("expected a string or a number, found {}", kind(other)))
                .at_path(format!("value[{index}].id")));
        }
    };
    let text = |key: &str| field(obj, key);
    Ok(DefenderIndicatorSummary {
        id,
        indicator_value: text("indicatorValue"),
        indicator_type: text("indicatorType"),
        action: text("action"),
        application: text("application"),
        title: text("title"),
        created_by: text("createdBy"),
        created_by_source: text("createdBySource"),
        created_by_display_name: text("createdByDisplayName"),
        source: text("source"),
        source_type: text("sourceType"),
        external_id: text("externalId"),
        expiration_time: text("expirationTime"),
    })
}

/// A text field, tolerant: absent, `null` or a list/object → `None`; numbers and booleans as text.
fn field(obj: &super::Map<'_>, key: &str) -> Option<String> {
    get_ci(obj, key).and_then(scalar_text)
}

/// A phrase naming a JSON value's type, as the crate's decoders say it.
fn kind(value: &Value<'_>) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpret::testing::{kinds, response};

    const IMPORTED: &str = r#"{
        "value": [
            {"id": "2841", "indicator": "220e7d15b011d7fac48f2bd61114db1022197f7f", "isFailed": false, "failureReason": null},
            {"id": "2842", "indicator": "2233223322332233223322332233223322332233223322332233223322332222", "isFailed": false, "failureReason": null}
        ]
    }"#;
    const SHA1: &str = "220e7d15b011d7fac48f2bd61114db1022197f7f";
    const SHA256: &str = "2233223322332233223322332233223322332233223322332233223322332222";
    const INVALID: &str = r#"{"error":{"code":"InvalidRequestBody","message":"Request body is incorrect","target":"43f4cb08-8fac-4b65-9db1-745c2ae65f3a"}}"#;
    const LISTED: &str = r#"{
        "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Indicators",
        "value": [
            {"id": "995", "indicatorValue": "12.13.14.15", "indicatorType": "IpAddress", "action": "Alert",
             "application": "demo-test", "source": "TestPrdApp", "sourceType": "AadApp", "title": "test",
             "creationTimeDateTimeUtc": "2018-10-24T11:15:35.3688259Z", "createdBy": "45097602-1234-5678-1234-9f453233e62c",
             "expirationTime": "2020-12-12T00:00:00Z", "lastUpdateTime": "2019-10-24T10:54:23.2009016Z",
             "severity": "Informational", "description": "test", "recommendedActions": "test", "rbacGroupNames": []},
            {"id": 996, "indicatorValue": "220e7d15b0b3d7fac48f2bd61114db1022197f7f", "indicatorType": "FileSha1",
             "action": "AlertAndBlock", "application": null, "createdBySource": "ti-relay", "externalID": "indicator--1",
             "rbacGroupNames": ["Group1", "Group2"], "generateAlert": true, "title": ["odd"]}
        ],
        "@odata.nextLink": "https://api.securitycenter.microsoft.com/api/indicators?$skip=2"
    }"#;

    #[test]
    fn submit_table() {
        let cases: &[(u16, &str, &str)] = &[
            (200, r#"{"id":"995","indicatorValue":"12.13.14.15"}"#, "A"),
            (201, "", "A"),
            (400, INVALID, "R"),
            (401, "", "R"),
            (403, r#"{"error":{"code":"DisabledFeature","message":"Feature is disabled"}}"#, "R"),
            (408, "", "T"),
            (429, r#"{"error":{"code":"TooManyRequests","message":"Too many requests"}}"#, "T"),
            (500, r#"{"error":{"code":"InternalServerError","message":"oops"}}"#, "T"),
            (0, "timeout", "T"),
        ];
        for &(status, body, expected) in cases {
            assert_eq!(kinds(&submit(&response(status, body))), expected, "{status} {body}");
        }
        let got = submit(&response(400, INVALID));
        assert_eq!(
            got.items[0].message(),
            Some(
                "defender rejected the request (http 400 bad request): `InvalidRequestBody`: Request body is incorrect \
                 (correlation `43f4cb08-8fac-4b65-9db1-745c2ae65f3a`)"
            )
        );
    }

    #[test]
    fn throttled_submit_waits_for_retry_after() {
        let headers = [("Retry-After".to_owned(), "30".to_owned())];
        let got = submit(&Response::new(429, &headers, ""));
        assert_eq!(got.retry_after_ms, Some(30_000));
        assert_eq!(
            got.items[0],
            Outcome::Retry { after_ms: Some(30_000), message: "defender throttled the request (http 429)".into() }
        );
    }

    #[test]
    fn import_table() {
        let failed = r#"{"value":[{"id":null,"indicator":"220E7D15B011D7FAC48F2BD61114DB1022197F7F","isFailed":true,"failureReason":"Indicators quota exceeded"},{"id":"2842","indicator":"2233223322332233223322332233223322332233223322332233223322332222","isFailed":false,"failureReason":null}]}"#;
        let cases: &[(u16, &str, &[&str], &str, usize)] = &[
            (200, IMPORTED, &[SHA1, SHA256], "AA", 0),
            // Results in another order are matched by value.
            (200, IMPORTED, &[SHA256, SHA1], "AA", 0),
            // Case-insensitive second pass.
            (200, failed, &[SHA1, SHA256], "RA", 0),
            // A missing result: retry; the result for a value not requested is noted.
            (200, r#"{"value":[{"indicator":"other","isFailed":false}]}"#, &[SHA1, SHA256], "TT", 1),
            // Same count and no value match: by position.
            (
                200,
                r#"{"value":[{"id":"1","isFailed":false},{"indicator":"x.example","isFailed":true}]}"#,
                &["a.example", "b.example"],
                "AR",
                0,
            ),
            (
                200,
                r#"{"value":[{"isFailed":"true","failureReason":"bad"},{"failureReason":"worse"}]}"#,
                &["a", "b"],
                "RR",
                0,
            ),
            // A transient failure reason: retry, not rejected.
            (
                200,
                r#"{"value":[{"indicator":"a","isFailed":true,"failureReason":"InternalServerError: a transient error occurred; retry later."},{"indicator":"b","isFailed":false}]}"#,
                &["a", "b"],
                "TA",
                0,
            ),
            (200, r#"{"value":[null,{}]}"#, &["a", "b"], "TT", 0),
            (200, r#"{"value":[]}"#, &["a"], "T", 0),
            (200, "", &["a", "b"], "TT", 0),
            (200, r#"{"Value":"nope"}"#, &["a"], "T", 0),
            (200, "[]", &["a"], "T", 0),
            (200, IMPORTED, &[], "", 1),
            (
                400,
                r#"{"error":{"code":"MaximumBatchSizeExceeded","message":"Maximum batch size exceeded. Received: 501, allowed: 500."}}"#,
                &["a", "b"],
                "RR",
                0,
            ),
            (429, "", &["a"], "T", 0),
            (503, "", &["a", "b"], "TT", 0),
        ];
        for &(status, body, values, expected, notes) in cases {
            let got = import(&response(status, body), values);
            assert_eq!(kinds(&got), expected, "{status} {body} {values:?}");
            assert_eq!(got.notes.len(), notes, "{status} {body}: {:?}", got.notes);
        }
    }

    #[test]
    fn import_messages() {
        let body = r#"{"value":[{"id":null,"indicator":"a.example","isFailed":true,"failureReason":"Invalid domain name"},{"indicator":"b.example","isFailed":true}]}"#;
        let got = import(&response(200, body), &["a.example", "b.example", "c.example"]);
        assert_eq!(got.items[0].message(), Some("defender could not import `a.example`: Invalid domain name"));
        assert_eq!(got.items[1].message(), Some("defender could not import `b.example` and gave no reason"));
        assert_eq!(
            got.items[2].message(),
            Some("defender's import response has no result for `c.example`; re-importing is harmless")
        );
        // Exact matches win over case-insensitive ones: two URLs differing in case keep their results.
        let body = r#"{"value":[{"indicator":"http://x.example/A","isFailed":true,"failureReason":"upper"},{"indicator":"http://x.example/a","isFailed":false}]}"#;
        let got = import(&response(200, body), &["http://x.example/a", "http://x.example/A"]);
        assert_eq!(kinds(&got), "AR");
    }

    #[test]
    fn delete_table() {
        // (status, ids, items, outcomes, notes)
        let cases: &[(u16, usize, usize, &str, usize)] = &[
            (204, 3, 3, "AAA", 0),
            (200, 2, 2, "AA", 0),
            (404, 1, 1, "A", 1),
            // One id carried by several items (duplicates of a value): that id is gone.
            (404, 1, 3, "AAA", 1),
            (404, 3, 3, "TTT", 0),
            (404, 3, 1, "T", 0),
            (400, 2, 2, "RR", 0),
            (403, 2, 2, "RR", 0),
            (429, 2, 2, "TT", 0),
            (500, 1, 1, "T", 0),
        ];
        for &(status, ids, n, expected, notes) in cases {
            let got = batch_delete(&response(status, ""), ids, n);
            assert_eq!(kinds(&got), expected, "{status} {ids} {n}");
            assert_eq!(got.notes.len(), notes);
        }
        let got =
            batch_delete(&response(404, r#"{"error":{"code":"NotFound","message":"Indicator 997 not found"}}"#), 2, 2);
        assert_eq!(
            got.items[0].message(),
            Some(
                "defender rejected the request (http 404 not found): `NotFound`: Indicator 997 not found; at least one \
                 id of the batch no longer exists and defender does not say whether it deleted the others: delete them \
                 one by one"
            )
        );
        assert_eq!(kinds(&delete(&response(204, ""), 1)), "A");
        assert_eq!(kinds(&delete(&response(200, ""), 2)), "AA");
        assert_eq!(kinds(&delete(&response(404, ""), 2)), "AA");
        assert_eq!(kinds(&delete(&response(401, ""), 1)), "R");
        assert_eq!(kinds(&delete(&response(503, ""), 2)), "TT");
    }

    #[test]
    fn list_reads_the_documented_answer() {
        let list = parse_list(LISTED).unwrap();
        assert_eq!(list.indicators.len(), 2);
        assert_eq!(
            list.indicators[0],
            DefenderIndicatorSummary {
                id: "995".into(),
                indicator_value: Some("12.13.14.15".into()),
                indicator_type: Some("IpAddress".into()),
                action: Some("Alert".into()),
                application: Some("demo-test".into()),
                title: Some("test".into()),
                created_by: Some("45097602-1234-5678-1234-9f453233e62c".into()),
                source: Some("TestPrdApp".into()),
                source_type: Some("AadApp".into()),
                expiration_time: Some("2020-12-12T00:00:00Z".into()),
                ..DefenderIndicatorSummary::default()
            }
        );
        let second = &list.indicators[1];
        assert_eq!(second.id, "996");
        assert_eq!(second.application, None);
        assert_eq!(second.title, None);
        assert_eq!(second.created_by_source.as_deref(), Some("ti-relay"));
        assert_eq!(second.external_id.as_deref(), Some("indicator--1"));
        assert_eq!(list.next_link.as_deref(), Some("https://api.securitycenter.microsoft.com/api/indicators?$skip=2"));
        assert_eq!(parse_list(r#"{"value":[]}"#).unwrap(), DefenderIndicatorList::default());
    }

    #[test]
    fn list_errors() {
        let cases: &[(&str, Code, Option<&str>, &str)] = &[
            ("", Code::Json, None, "malformed JSON: EOF while parsing a value at line 1 column 0"),
            ("[]", Code::Shape, None, "expected an object with a `value` list, found a list"),
            ("{}", Code::Shape, None, "expected an object with a `value` list, found no `value`"),
            (r#"{"value":{}}"#, Code::Shape, Some("value"), "expected a list, found an object"),
            (r#"{"value":[{"id":"1"},7]}"#, Code::Type, Some("value[1]"), "expected an object, found a number"),
            (r#"{"value":[{"indicatorValue":"1.2.3.4"}]}"#, Code::Missing, Some("value[0].id"), "missing `id`"),
            (
                r#"{"value":[{"id":true}]}"#,
                Code::Type,
                Some("value[0].id"),
                "expected a string or a number, found a boolean",
            ),
            (r#"{"value":[{"id":"  "}]}"#, Code::Missing, Some("value[0].id"), "empty `id`"),
        ];
        for &(body, code, path, message) in cases {
            let e = parse_list(body).unwrap_err();
            assert_eq!((e.code(), e.path(), e.message()), (code, path, message), "{body}");
        }
    }

    #[test]
    fn list_statuses() {
        assert_eq!(list(&response(200, LISTED)).unwrap().indicators.len(), 2);
        let headers = [("retry-after".to_owned(), "5".to_owned())];
        assert!(matches!(list(&Response::new(429, &headers, "")), Err(Outcome::Retry { after_ms: Some(5000), .. })));
        assert!(matches!(list(&response(403, "")), Err(Outcome::Rejected { .. })));
        assert_eq!(
            list(&response(200, "{}")),
            Err(Outcome::Retry {
                after_ms: None,
                message: "defender's indicator list could not be read: expected an object with a `value` list, found \
                          no `value`"
                    .into()
            })
        );
    }
}
