//! One HTTP response from a Microsoft API turned into one outcome per item of the request: the
//! response half of `relay.interpret` (SPEC §7).
//!
//! Each API has its own module ([`sentinel`], [`defender`], [`graph`]) with one function per
//! operation. They all call the classification below for anything that is not a success, so that a
//! 503 means the same thing everywhere. Every function returns exactly one [`Outcome`] per item,
//! in request order, for any status and any body; it never panics.
//!
//! # Status classification (shared)
//!
//! | status | outcome of every item |
//! |---|---|
//! | 2xx | per operation: accepted, or per-item results read from the body |
//! | 429 | `retry`, with the wait hint ([`retry_after_ms`]) |
//! | 408, 500, 502, 503, 504, other 5xx except 501 and 505 | `retry`, with the `Retry-After` hint if any, else none (the shell's backoff decides) |
//! | no response (status below 100, by convention 0) | `retry` without a hint; the body is the shell's error text |
//! | 401, 403 | `rejected`, with the API's message and what to check (credential, token audience, role) |
//! | 400, 404, 413, any other 4xx | `rejected`, with the API's message |
//! | 1xx, 3xx, 501, 505, 600 and above | `rejected`: the request went somewhere unexpected |
//!
//! 401 and 403 are `rejected`, not `retry`: a token the API refuses is a configuration problem
//! (wrong credential, audience or missing role) that waiting does not fix. The shell already gets a
//! fresh token per (tenant, audience) when one expires, so a refused token is not a stale one; the
//! message says what to check, and the delivery loop surfaces it.
//!
//! Other 5xx are retried because gateways and CDNs in front of the APIs invent their own (Cloudflare's
//! 520–527, Azure Front Door's); 501 and 505 say the request itself cannot be served.
//!
//! # Messages
//!
//! A `rejected` or `retry` message names the API and the status, then the API's own words, taken
//! from the documented error shapes: Sentinel's API Management gateway `{"statusCode","message"}`,
//! Defender's `{"error":{"code","message","target"}}`, Graph's
//! `{"error":{"code","message","innerError"}}` (and Entra's `{"error","error_description"}`). A body
//! in no known shape is quoted as text. The API's part is cut at 300 characters and the whole message
//! at [`MAX_MESSAGE_CHARS`], so a megabyte of HTML never becomes a megabyte of log.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::json::{Arena, Number, Value};
use serde::Serialize;

use crate::error::quote;
use crate::time::Timestamp;

pub mod defender;
pub mod graph;
pub mod sentinel;

/// The longest wait any hint can ask for: 10 minutes. A `Retry-After` further out (a date next
/// week, `99999` seconds) is treated as 10 minutes; the shell re-sends then and learns the rest from
/// the next answer, rather than parking an item for a week on one header.
pub const MAX_RETRY_AFTER_MS: u64 = 10 * 60 * 1000;

/// The longest message an [`Outcome`] or a note carries, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// The longest part of a message quoted from the API's body, in characters.
const MAX_DETAIL_CHARS: usize = 300;

/// One HTTP response, as the shell received it.
#[derive(Clone, Copy, Debug)]
pub struct Response<'a> {
    /// The HTTP status. A request that got no HTTP response at all (DNS failure, connection reset,
    /// timeout) is passed as status `0`, with the shell's error text as `body`.
    pub status: u16,
    /// The response headers as (name, value) pairs; names are matched ignoring ASCII case.
    pub headers: &'a [(String, String)],
    /// The response body as text (empty when there is none).
    pub body: &'a str,
    /// The host's clock when the response arrived, in Unix milliseconds (the plan's `facts.now`).
    /// Used only to turn a `Retry-After` HTTP date into a wait when the response has no `Date`
    /// header; see [`retry_after_ms`].
    pub now_ms: Option<i64>,
}

impl<'a> Response<'a> {
    /// A response without a host clock.
    pub const fn new(status: u16, headers: &'a [(String, String)], body: &'a str) -> Self {
        Self { status, headers, body, now_ms: None }
    }

    /// The same response, received at `now_ms` (Unix milliseconds).
    #[must_use]
    pub const fn at(mut self, now_ms: i64) -> Self {
        self.now_ms = Some(now_ms);
        self
    }

    /// The first header named `name` (ignoring ASCII case), trimmed.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    /// A 2xx status.
    pub const fn is_success(&self) -> bool {
        matches!(self.status, 200..=299)
    }

    /// No HTTP response at all (status below 100; the shell passes 0).
    pub const fn is_network_failure(&self) -> bool {
        self.status < 100
    }
}

/// What happened to one item of a request.
///
/// Serialised with an `outcome` tag: `{"outcome":"accepted"}`,
/// `{"outcome":"rejected","message":"…"}`, `{"outcome":"retry","after_ms":17000,"message":"…"}`
/// (`after_ms` omitted when there is no hint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The API took the item (created, updated, or — for removals — the item is gone).
    Accepted,
    /// The API refused the item, or the destination's configuration prevents it; sending it again
    /// unchanged will not help.
    Rejected {
        /// Why, in the API's words where it gave any.
        message: String,
    },
    /// The item was not taken but may be on a later attempt (throttling, a server error, no
    /// response, a result that could not be read).
    Retry {
        /// How long to wait before re-sending, in milliseconds, when the API said; absent means the
        /// shell's own backoff decides.
        #[serde(skip_serializing_if = "Option::is_none")]
        after_ms: Option<u64>,
        /// Why.
        message: String,
    },
}

impl Outcome {
    /// A `rejected` outcome, its message cut to [`MAX_MESSAGE_CHARS`].
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::Rejected { message: clip(&message.into(), MAX_MESSAGE_CHARS) }
    }

    /// A `retry` outcome, its message cut to [`MAX_MESSAGE_CHARS`].
    pub fn retry(after_ms: Option<u64>, message: impl Into<String>) -> Self {
        Self::Retry { after_ms, message: clip(&message.into(), MAX_MESSAGE_CHARS) }
    }

    /// Whether the item was accepted.
    pub const fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted)
    }

    /// Whether the item should be sent again.
    pub const fn is_retry(&self) -> bool {
        matches!(self, Self::Retry { .. })
    }

    /// The message of a `rejected` or `retry` outcome.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Accepted => None,
            Self::Rejected { message } | Self::Retry { message, .. } => Some(message),
        }
    }
}

/// One response interpreted: an outcome per item of the request, in request order.
///
/// Serialised as `{"items":[Outcome…],"retry_after_ms"?:17000,"notes"?:["…"]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Interpreted {
    /// One outcome per item of the request, in request order (always as many as the request had).
    pub items: Vec<Outcome>,
    /// The wait the API asked for before the next request of this kind, in milliseconds (capped at
    /// [`MAX_RETRY_AFTER_MS`]); set only when some item is `retry` and the response had a hint. The
    /// shell pauses the whole rate-limit class for it, not just these items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// What the response said that belongs to no item (a Sentinel `recordIndex` outside the batch,
    /// a removal that found nothing to remove). For the log, not for a decision.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Interpreted {
    /// Every item accepted.
    pub fn accepted(item_count: usize) -> Self {
        Self { items: vec![Outcome::Accepted; item_count], ..Self::default() }
    }

    /// Every item with the same outcome; `retry_after_ms` is kept only if the outcome is `retry`.
    pub fn uniform(item_count: usize, outcome: &Outcome, retry_after_ms: Option<u64>) -> Self {
        let retry_after_ms = if outcome.is_retry() { retry_after_ms } else { None };
        Self { items: vec![outcome.clone(); item_count], retry_after_ms, notes: Vec::new() }
    }

    /// Per-item outcomes; `retry_after_ms` is kept only if some item is `retry`.
    pub(crate) fn from_items(items: Vec<Outcome>, retry_after_ms: Option<u64>, notes: Vec<String>) -> Self {
        let retry_after_ms = if items.iter().any(Outcome::is_retry) { retry_after_ms } else { None };
        Self { items, retry_after_ms, notes }
    }

    /// Adds a note, cut to [`MAX_MESSAGE_CHARS`].
    #[must_use]
    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(clip(&note.into(), MAX_MESSAGE_CHARS));
        self
    }
}

// ---- Retry-After ---------------------------------------------------------------------------------

/// The wait a response asks for, in milliseconds, capped at [`MAX_RETRY_AFTER_MS`].
///
/// Read from, in order of trust:
/// - the `Retry-After` header as delay-seconds, integer or decimal (`17`, `1.5`; a fraction of a
///   millisecond rounds up, so the shell never comes back early);
/// - the `Retry-After` header as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, and the obsolete
///   RFC 850 and asctime forms every recipient must accept), counted from the response's own `Date`
///   header when it has one (the server's clock on both sides, so no clock skew), else from
///   [`Response::now_ms`]; with neither, the date form is ignored. A date in the past is a wait of 0;
/// - the text "Try again in N seconds" in the body's `message` (Sentinel's API Management 429
///   `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 17 seconds."}`, which
///   documents no header), read liberally: any case, extra spaces, `1 second`, decimals, and
///   `minutes`/`ms` units. A body that is not JSON is searched too when it is short (≤ 1 KB).
///
/// When both the header and the text give a wait, the longer one wins (Defender keeps answering 429
/// to anyone who comes back early). Any status can carry a hint; the per-operation functions only
/// pass it on when some item is `retry`.
pub fn retry_after_ms(response: &Response<'_>) -> Option<u64> {
    let reference = response.header("date").and_then(|d| parse_http_date(d, response.now_ms)).or(response.now_ms);
    let header = response.header("retry-after").and_then(|value| parse_retry_after(value, reference, response.now_ms));
    let text = try_again_text(response.body).and_then(|text| parse_try_again(&text));
    let wait = match (header, text) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    wait.map(|ms| ms.min(MAX_RETRY_AFTER_MS))
}

/// A `Retry-After` value: delay-seconds or an HTTP date (needs `reference`).
fn parse_retry_after(value: &str, reference: Option<i64>, now_ms: Option<i64>) -> Option<u64> {
    if value.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return parse_seconds(value);
    }
    let reference = reference?;
    let at = parse_http_date(value, now_ms)?;
    Some(u64::try_from(at.saturating_sub(reference)).unwrap_or(0))
}

/// `17`, `1.5`, `0.0001` seconds into milliseconds, rounding a sub-millisecond rest up.
fn parse_seconds(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let seconds = whole.bytes().fold(0u64, |n, b| n.saturating_mul(10).saturating_add(u64::from(b - b'0')));
    let mut millis = 0u64;
    for (i, b) in fraction.bytes().enumerate() {
        let digit = u64::from(b - b'0');
        if i < 3 {
            millis = millis * 10 + digit;
        } else if digit != 0 {
            millis += 1;
            break;
        }
    }
    for _ in fraction.len()..3 {
        millis *= 10;
    }
    Some(seconds.saturating_mul(1000).saturating_add(millis))
}

/// The text a "Try again in N seconds" hint may be in: the body's `message` (top-level, or inside
/// `error`), or a short non-JSON body itself. Bodies without "again" are not parsed at all.
fn try_again_text(body: &str) -> Option<Cow<'_, str>> {
    find_ci(body, "again")?;
    let arena = Arena::new();
    match parse_json(body, &arena) {
        Ok(Value::Object(obj)) => {
            let message = get_ci(obj, "message")
                .or_else(|| get_ci(obj, "error").and_then(Value::as_object).and_then(|e| get_ci(e, "message")));
            message.and_then(Value::as_str).map(|m| Cow::Owned(m.to_owned()))
        }
        Ok(Value::String(text)) => Some(Cow::Owned(text.to_owned())),
        Ok(_) => None,
        Err(_) => (body.len() <= 1024).then_some(Cow::Borrowed(body)),
    }
}

/// The number after "try again in" (any case, any spacing), with its unit (seconds when none is
/// given).
fn parse_try_again(text: &str) -> Option<u64> {
    let text = collapse(text).to_ascii_lowercase();
    let start = text.find("try again in ")? + "try again in ".len();
    let rest = text.get(start..)?;
    let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let number = rest.get(..number_len)?.trim_end_matches('.');
    let millis = parse_seconds(number)?;
    let unit = rest.get(number_len..)?.trim_start();
    Some(if unit.starts_with("millisecond") || unit.starts_with("ms") {
        millis / 1000
    } else if unit.starts_with("min") {
        millis.saturating_mul(60)
    } else if unit.starts_with("hour") {
        millis.saturating_mul(3600)
    } else {
        millis
    })
}

/// An HTTP date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850, asctime) in Unix milliseconds. The weekday
/// is not checked. An RFC 850 two-digit year is read as the nearest year not more than 50 years
/// after `now_ms` (or, without a clock, 70–99 → 19xx, else 20xx).
fn parse_http_date(text: &str, now_ms: Option<i64>) -> Option<i64> {
    let words: Vec<&str> = text.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let (day, month, year, time) = match words.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [_, day, month, year, time, zone] if is_gmt(zone) => (*day, *month, parse_number(year)?, *time),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [_, date, time, zone] if is_gmt(zone) => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() {
                return None;
            }
            let year = match parse_number(year)? {
                yy @ 0..=99 => two_digit_year(yy, now_ms)?,
                yyyy => yyyy,
            };
            (day, month, year, *time)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_, month, day, time, year] => (*day, *month, parse_number(year)?, *time),
        _ => return None,
    };
    let month = month_number(month)?;
    let day = parse_number(day)?;
    let time_ok = time.len() == 8
        && time.bytes().enumerate().all(|(i, b)| if i % 3 == 2 { b == b':' } else { b.is_ascii_digit() });
    if !time_ok || !(1000..=9999).contains(&year) {
        return None;
    }
    Timestamp::parse(&format!("{year:04}-{month:02}-{day:02}T{time}Z")).ok().map(Timestamp::unix_millis)
}

fn is_gmt(zone: &str) -> bool {
    zone.eq_ignore_ascii_case("GMT") || zone.eq_ignore_ascii_case("UTC")
}

fn parse_number(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn two_digit_year(yy: i64, now_ms: Option<i64>) -> Option<i64> {
    let Some(now) = now_ms else {
        return Some(if yy >= 70 { 1900 + yy } else { 2000 + yy });
    };
    let this_year: i64 = Timestamp::from_unix_millis(now).ok()?.to_string().get(..4)?.parse().ok()?;
    let year = this_year - this_year % 100 + yy;
    Some(if year > this_year + 50 { year - 100 } else { year })
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let position = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))?;
    u32::try_from(position).ok().map(|p| p + 1)
}

// ---- classification ----------------------------------------------------------------------------

/// The API a response came from: names it in messages and says what to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    Sentinel,
    Defender,
    Graph,
}

impl Api {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Sentinel => "sentinel",
            Self::Defender => "defender",
            Self::Graph => "graph",
        }
    }

    const fn credential_hint(self) -> &'static str {
        match self {
            Self::Sentinel => {
                "check the destination's credential and cloud (the token's audience must be the cloud's Azure \
                 Resource Manager) and that the app has the Microsoft Sentinel Contributor role on the workspace"
            }
            Self::Defender => {
                "check the destination's credential and cloud (the token's audience must be the cloud's Defender for \
                 Endpoint API) and that the app has the `Ti.ReadWrite.All` application role with admin consent"
            }
            Self::Graph => {
                "check the destination's credential and cloud (the token's audience must be Microsoft Graph) and that \
                 the app has the `ThreatIndicators.ReadWrite.OwnedBy` application role with admin consent"
            }
        }
    }

    const fn not_found_hint(self) -> Option<&'static str> {
        match self {
            Self::Sentinel => {
                Some("check the workspace id (the Log Analytics workspace GUID, not its ARM resource id)")
            }
            Self::Defender => None,
            Self::Graph => Some("the tiIndicators API is deprecated and announced for removal in April 2026"),
        }
    }
}

/// How a status is treated when the operation does not handle it itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Success,
    NoResponse,
    Throttled,
    Transient,
    Credential,
    Refused,
    Unexpected,
}

const fn classify(status: u16) -> Class {
    match status {
        0..=99 => Class::NoResponse,
        200..=299 => Class::Success,
        429 => Class::Throttled,
        408 | 500 | 502..=504 | 506..=599 => Class::Transient,
        401 | 403 => Class::Credential,
        400..=499 => Class::Refused,
        _ => Class::Unexpected,
    }
}

/// The one outcome a whole response gives each of its items, and its wait hint. A 2xx gives
/// `accepted`; the operations read 2xx bodies themselves before falling back to this.
pub(crate) fn status_outcome(api: Api, response: &Response<'_>) -> (Outcome, Option<u64>) {
    let status = response.status;
    let name = api.name();
    let class = classify(status);
    let detail = if class == Class::NoResponse { text_snippet(response.body) } else { error_detail(response.body) };
    let (head, hint) = match class {
        Class::Success => return (Outcome::Accepted, None),
        Class::NoResponse => (format!("no response from {name}"), None),
        Class::Throttled => (format!("{name} throttled the request (http 429)"), None),
        Class::Transient => (format!("{name} failed (http {status}{})", reason(status)), None),
        Class::Credential => {
            (format!("{name} refused the credential (http {status}{})", reason(status)), Some(api.credential_hint()))
        }
        Class::Refused => {
            let hint = match status {
                404 => api.not_found_hint(),
                413 => Some("the request body is too large: send smaller batches"),
                _ => None,
            };
            (format!("{name} rejected the request (http {status}{})", reason(status)), hint)
        }
        Class::Unexpected => (format!("{name} answered with an unexpected status (http {status})"), None),
    };
    // The API's words get what the head and the hint leave, so the hint always survives the cut.
    let budget = MAX_MESSAGE_CHARS.saturating_sub(head.chars().count() + hint.map_or(0, |h| h.chars().count() + 2) + 2);
    let mut message = head;
    if let Some(detail) = detail {
        message.push_str(": ");
        message.push_str(&clip(&detail, budget.min(MAX_DETAIL_CHARS)));
    }
    if let Some(hint) = hint {
        message.push_str("; ");
        message.push_str(hint);
    }
    match class {
        Class::NoResponse => (Outcome::retry(None, message), None),
        Class::Throttled | Class::Transient => {
            let wait = retry_after_ms(response);
            (Outcome::retry(wait, message), wait)
        }
        _ => (Outcome::rejected(message), None),
    }
}

/// Every item gets the response's one outcome ([`status_outcome`]).
pub(crate) fn whole(api: Api, response: &Response<'_>, item_count: usize) -> Interpreted {
    let (outcome, wait) = status_outcome(api, response);
    Interpreted::uniform(item_count, &outcome, wait)
}

/// ` bad request` for 400, and so on; empty for statuses without a common name.
const fn reason(status: u16) -> &'static str {
    match status {
        400 => " bad request",
        401 => " unauthorized",
        403 => " forbidden",
        404 => " not found",
        405 => " method not allowed",
        408 => " request timeout",
        409 => " conflict",
        413 => " payload too large",
        415 => " unsupported media type",
        422 => " unprocessable content",
        500 => " internal server error",
        502 => " bad gateway",
        503 => " service unavailable",
        504 => " gateway timeout",
        _ => "",
    }
}

// ---- error bodies --------------------------------------------------------------------------------

/// What an error body says, for a message: "`InvalidRequestBody`: The value is invalid (correlation
/// `…`)". `None` for an empty body.
pub(crate) fn error_detail(body: &str) -> Option<String> {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return None;
    }
    let arena = Arena::new();
    match parse_json(trimmed, &arena) {
        Ok(value) => json_error_detail(&value).or_else(|| text_snippet(trimmed)),
        Err(_) => text_snippet(trimmed),
    }
}

/// The code, message and correlation id of a JSON error in any of the documented shapes.
pub(crate) fn json_error_detail(value: &Value<'_>) -> Option<String> {
    let obj = match value {
        Value::Object(obj) => obj,
        Value::String(text) => return text_snippet(text),
        _ => return None,
    };
    let (code, message, correlation) =
        if let Some(error) = get_ci(obj, "error").or_else(|| get_ci(obj, "odata.error")).and_then(Value::as_object) {
            // Defender {"error":{"code","message","target"}}, Graph {"error":{"code","message","innerError"}}.
            let inner = get_ci(error, "innerError").and_then(Value::as_object);
            let correlation = get_ci(error, "target")
                .or_else(|| inner.and_then(|i| get_ci(i, "request-id").or_else(|| get_ci(i, "client-request-id"))));
            (get_ci(error, "code"), get_ci(error, "message"), correlation)
        } else if let Some(error) = get_ci(obj, "error").filter(|e| matches!(e, Value::String(_))) {
            // Entra {"error":"invalid_scope","error_description":"AADSTS70011: …"}.
            (Some(error), get_ci(obj, "error_description"), get_ci(obj, "correlation_id"))
        } else {
            // API Management {"statusCode":429,"message":"…"} (statusCode repeats the HTTP status).
            (get_ci(obj, "code"), get_ci(obj, "message"), None)
        };
    let code = code.and_then(scalar_text).filter(|c| !c.is_empty());
    let message = message.and_then(message_text).map(|m| collapse(&m)).filter(|m| !m.is_empty());
    let correlation = correlation.and_then(scalar_text).filter(|c| !c.is_empty());
    let mut detail = match (code, message) {
        (Some(code), Some(message)) => format!("{}: {message}", quote(&code)),
        (Some(code), None) => quote(&code),
        (None, Some(message)) => message,
        (None, None) => return None,
    };
    if let Some(correlation) = correlation {
        let _ = write!(detail, " (correlation {})", quote(&correlation));
    }
    Some(clip(&detail, MAX_DETAIL_CHARS))
}

/// A message field: a string, or `OData` v3's `{"lang","value"}`.
fn message_text(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Object(obj) => get_ci(obj, "value").and_then(Value::as_str).map(str::to_owned),
        other => scalar_text(other),
    }
}

/// A string, number or boolean as text.
pub(crate) fn scalar_text(value: &Value<'_>) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(number_text(*n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A body that is not a known JSON error, as a short quote: whitespace collapsed, cut to 200
/// characters; an HTML page by its `<title>`.
fn text_snippet(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.starts_with('<') {
        let title = html_title(trimmed).map(|t| collapse(&t)).filter(|t| !t.is_empty());
        return Some(match title {
            Some(title) => format!("an HTML page titled {}", quote(&title)),
            None => "an HTML page".to_owned(),
        });
    }
    let head: String = trimmed.chars().take(400).collect();
    Some(clip(&collapse(&head), 200))
}

fn html_title(html: &str) -> Option<String> {
    let head: String = html.chars().take(4096).collect();
    let start = find_ci(&head, "<title>")? + "<title>".len();
    let len = find_ci(head.get(start..)?, "</title>")?;
    head.get(start..start + len).map(str::to_owned)
}

// ---- small helpers -------------------------------------------------------------------------------

/// An object's members, as [`crate::json`] keeps them (in document order, keys possibly repeated).
pub(crate) type Map<'a> = crate::json::Fields<'a>;

/// Parses a response body into [`crate::json`]'s tree (the same parser and errors as
/// `serde_json::from_str`), in `arena`.
pub(crate) fn parse_json<'a>(text: &'a str, arena: &'a Arena) -> Result<Value<'a>, crate::error::Error> {
    Value::parse(text, arena)
}

/// An object's member by name: exact first (the last one when the key repeats), then ignoring
/// ASCII case (the smallest such key, as a sorted map would find it first).
pub(crate) fn get_ci<'v, 'a>(obj: &'v Map<'a>, key: &str) -> Option<&'v Value<'a>> {
    let exact = obj.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v);
    exact.or_else(|| {
        let mut best: Option<&'v (&'a str, Value<'a>)> = None;
        for field in obj.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)) {
            // `<=`: among equal keys the last wins, as a map's insert keeps it.
            if best.is_none_or(|(b, _)| field.0 <= *b) {
                best = Some(field);
            }
        }
        best.map(|(_, v)| v)
    })
}

/// A number as an `i64` when it is an integer in range (floats are not, as in `serde_json`).
pub(crate) fn number_i64(n: Number) -> Option<i64> {
    match n {
        Number::Unsigned(u) => i64::try_from(u).ok(),
        Number::Signed(i) => Some(i),
        Number::Float(_) => None,
    }
}

/// A number as a `u64` when it is a non-negative integer (floats are not, as in `serde_json`).
pub(crate) fn number_u64(n: Number) -> Option<u64> {
    match n {
        Number::Unsigned(u) => Some(u),
        Number::Signed(i) => u64::try_from(i).ok(),
        Number::Float(_) => None,
    }
}

/// A number as `serde_json` prints it (floats keep a fraction or exponent: `1.0`, `1e20`).
pub(crate) fn number_text(n: Number) -> String {
    match n {
        Number::Float(f) => serde_json::to_string(&f).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A value as `serde_json::Value` prints it: compact, object keys sorted (a repeated key once,
/// with its last value).
pub(crate) fn json_text(value: &Value<'_>) -> String {
    let mut out = Vec::new();
    write_value(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

fn write_value(out: &mut Vec<u8>, value: &Value<'_>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => out.extend_from_slice(number_text(*n).as_bytes()),
        Value::String(s) => crate::destinations::write::string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            let mut sorted: Vec<&(&str, Value<'_>)> = Vec::with_capacity(fields.len());
            for field in fields.iter().rev() {
                if !sorted.iter().any(|(k, _)| k == &field.0) {
                    sorted.push(field);
                }
            }
            sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::destinations::write::string(out, k);
                out.push(b':');
                write_value(out, v);
            }
            out.push(b'}');
        }
    }
}

/// The byte offset of `needle` (ASCII) in `haystack`, ignoring ASCII case.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

/// Runs of whitespace as one space, trimmed.
/// Whether a per-item failure message describes a passing condition (the service was busy or
/// failed internally) rather than something wrong with the item. Sentinel's `errorMessages` and
/// Defender's `failureReason` carry both kinds in the same field; the transient ones are retried,
/// because the item itself is fine. UNVERIFIED: neither API documents its per-item messages; these
/// are the words Azure services use for transient faults (HTTP reason phrases and error codes).
pub(crate) fn is_transient_message(message: &str) -> bool {
    const MARKERS: [&str; 12] = [
        "transient",
        "temporarily",
        "try again",
        "retry later",
        "timed out",
        "timeout",
        "internalservererror",
        "internal server error",
        "serviceunavailable",
        "service unavailable",
        "toomanyrequests",
        "throttl",
    ];
    let lower = message.to_ascii_lowercase();
    MARKERS.iter().any(|m| lower.contains(m))
}

pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to `max` characters, with `…` (counted) marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.char_indices().nth(max).is_none() {
        return text.to_owned();
    }
    let end = text.char_indices().nth(max.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
    format!("{}…", text.get(..end).unwrap_or_default())
}

/// Helpers shared by the per-API test modules.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Interpreted, Outcome, Response};

    /// A response without headers.
    pub(crate) fn response(status: u16, body: &str) -> Response<'_> {
        Response::new(status, &[], body)
    }

    /// The outcomes as one letter each: `A`ccepted, `R`ejected, re`T`ry.
    pub(crate) fn kinds(i: &Interpreted) -> String {
        i.items
            .iter()
            .map(|o| match o {
                Outcome::Accepted => 'A',
                Outcome::Rejected { .. } => 'R',
                Outcome::Retry { .. } => 'T',
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The tree the interpretation reads answers as `serde_json::Value` would: the same member
    /// found ignoring case, the same numbers as text, the same compact JSON.
    #[test]
    fn answers_read_as_serde_json_values_would() {
        for text in [
            r#"{"b":1,"a":[1.0,-2,1e20,"x\u0001\"",null,true],"A":{"z":0.5,"y":{}},"a":"dup"}"#,
            r#"{"VALUE":1,"Value":2,"value ":3}"#,
            r#"{"Value":1,"VALUE":2,"Value":3}"#,
            r#"[{"id":12345678901234567890},{"id":-0},{"id":1.5e-7}]"#,
        ] {
            let ours = Value::parse_leaked(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(json_text(&ours), theirs.to_string(), "{text}");
            if let (Value::Object(obj), serde_json::Value::Object(map)) = (&ours, &theirs) {
                for key in ["a", "A", "b", "value", "Value", "VALUE", "z"] {
                    let want =
                        map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v));
                    assert_eq!(get_ci(obj, key).map(json_text), want.map(ToString::to_string), "{text} {key}");
                    let want = want.and_then(|v| match v {
                        serde_json::Value::String(s) => Some(s.trim().to_owned()),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        serde_json::Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    });
                    assert_eq!(get_ci(obj, key).and_then(scalar_text), want, "{text} {key}");
                }
            }
            if let (Value::Array(list), serde_json::Value::Array(theirs)) = (&ours, &theirs) {
                for (o, t) in list.iter().zip(theirs) {
                    let (Some(Value::Number(n)), Some(serde_json::Value::Number(m))) = (o.get("id"), t.get("id"))
                    else {
                        panic!()
                    };
                    assert_eq!(number_text(*n), m.to_string());
                    assert_eq!(number_i64(*n), m.as_i64());
                    assert_eq!(number_u64(*n), m.as_u64());
                }
            }
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    /// 2024-01-01T00:00:00Z.
    const NOW: i64 = 1_704_067_200_000;

    #[test]
    fn retry_after_table() {
        // (headers, body, now, expected)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<i64>, Option<u64>);
        let sentinel = r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 17 seconds."}"#;
        let cases: &[Case<'_>] = &[
            (&[], "", None, None),
            (&[("Retry-After", "17")], "", None, Some(17_000)),
            (&[("retry-after", " 0 ")], "", None, Some(0)),
            (&[("RETRY-AFTER", "1.5")], "", None, Some(1_500)),
            (&[("Retry-After", "0.0001")], "", None, Some(1)),
            (&[("Retry-After", ".25")], "", None, Some(250)),
            (&[("Retry-After", "99999")], "", None, Some(MAX_RETRY_AFTER_MS)),
            (&[("Retry-After", "99999999999999999999999")], "", None, Some(MAX_RETRY_AFTER_MS)),
            (&[("Retry-After", "-5")], "", None, None),
            (&[("Retry-After", "soon")], "", None, None),
            (&[("Retry-After", "1.2.3")], "", None, None),
            (&[("Retry-After", ".")], "", None, None),
            // HTTP dates: need a reference (Date header or now).
            (&[("Retry-After", "Mon, 01 Jan 2024 00:00:30 GMT")], "", None, None),
            (&[("Retry-After", "Mon, 01 Jan 2024 00:00:30 GMT")], "", Some(NOW), Some(30_000)),
            (
                &[("Retry-After", "Mon, 01 Jan 2024 00:00:30 GMT"), ("Date", "Mon, 01 Jan 2024 00:00:20 GMT")],
                "",
                None,
                Some(10_000),
            ),
            // The server's Date wins over the host clock (no skew).
            (
                &[("Retry-After", "Mon, 01 Jan 2024 00:00:30 GMT"), ("Date", "Mon, 01 Jan 2024 00:00:25 GMT")],
                "",
                Some(NOW),
                Some(5_000),
            ),
            (&[("Retry-After", "Monday, 01-Jan-24 00:01:00 GMT")], "", Some(NOW), Some(60_000)),
            (&[("Retry-After", "Mon Jan  1 00:00:02 2024")], "", Some(NOW), Some(2_000)),
            (&[("Retry-After", "Sun, 31 Dec 2023 23:00:00 GMT")], "", Some(NOW), Some(0)),
            (&[("Retry-After", "Tue, 02 Jan 2024 00:00:00 GMT")], "", Some(NOW), Some(MAX_RETRY_AFTER_MS)),
            (&[("Retry-After", "Mon, 32 Jan 2024 00:00:30 GMT")], "", Some(NOW), None),
            (&[("Retry-After", "Mon, 01 Foo 2024 00:00:30 GMT")], "", Some(NOW), None),
            (&[("Retry-After", "Mon, 01 Jan 2024 0:00:30 GMT")], "", Some(NOW), None),
            (&[("Retry-After", "Mon, 01 Jan 2024 00:00:30 CET")], "", Some(NOW), None),
            // Sentinel's message.
            (&[], sentinel, None, Some(17_000)),
            (
                &[],
                r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 1 second."}"#,
                None,
                Some(1_000),
            ),
            (&[], r#"{"message":"rate limit is exceeded.  try  again in   42   seconds"}"#, None, Some(42_000)),
            (&[], r#"{"message":"Try again in 2 minutes."}"#, None, Some(120_000)),
            (&[], r#"{"message":"Try again in 1500 ms"}"#, None, Some(1_500)),
            (&[], r#"{"message":"Try again in 2.5 seconds."}"#, None, Some(2_500)),
            (&[], r#"{"message":"Try again in 17."}"#, None, Some(17_000)),
            (&[], r#"{"message":"Try again in 3 hours"}"#, None, Some(MAX_RETRY_AFTER_MS)),
            (&[], r#"{"message":"Try again in a few seconds."}"#, None, None),
            (&[], r#"{"error":{"code":"TooManyRequests","message":"Try again in 9 seconds"}}"#, None, Some(9_000)),
            (&[], r#""Try again in 4 seconds""#, None, Some(4_000)),
            (&[], "Rate limit is exceeded. Try again in 6 seconds.", None, Some(6_000)),
            // Only the message field counts in JSON; a description elsewhere does not.
            (&[], r#"{"statusCode":429,"detail":"Try again in 5 seconds"}"#, None, None),
            (&[], r#"[{"message":"Try again in 5 seconds"}]"#, None, None),
            // Header and text: the longer wait.
            (&[("Retry-After", "20")], sentinel, None, Some(20_000)),
            (&[("Retry-After", "3")], sentinel, None, Some(17_000)),
        ];
        for &(pairs, body, now, expected) in cases {
            let headers = headers(pairs);
            let mut response = Response::new(429, &headers, body);
            response.now_ms = now;
            assert_eq!(retry_after_ms(&response), expected, "{pairs:?} {body} {now:?}");
        }
    }

    #[test]
    fn http_dates() {
        let cases: &[(&str, Option<i64>, &str)] = &[
            ("Sun, 06 Nov 1994 08:49:37 GMT", None, "1994-11-06T08:49:37.000Z"),
            ("Sunday, 06-Nov-94 08:49:37 GMT", None, "1994-11-06T08:49:37.000Z"),
            ("Sun Nov  6 08:49:37 1994", None, "1994-11-06T08:49:37.000Z"),
            ("sun, 6 nov 1994 08:49:37 utc", None, "1994-11-06T08:49:37.000Z"),
            ("Thursday, 01-Jan-26 00:00:00 GMT", None, "2026-01-01T00:00:00.000Z"),
            // Two-digit years are at most 50 years ahead of the clock.
            ("Thursday, 01-Jan-70 00:00:00 GMT", Some(NOW), "2070-01-01T00:00:00.000Z"),
            ("Thursday, 01-Jan-75 00:00:00 GMT", Some(NOW), "1975-01-01T00:00:00.000Z"),
            ("Thu, 29 Feb 2024 12:00:00 GMT", None, "2024-02-29T12:00:00.000Z"),
        ];
        for &(text, now, expected) in cases {
            let ms = parse_http_date(text, now).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(Timestamp::from_unix_millis(ms).unwrap().to_string(), expected, "{text}");
        }
        for bad in [
            "",
            "GMT",
            "Thu, 29 Feb 2023 12:00:00 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sunday, 06-Nov-1994-1 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
        ] {
            assert_eq!(parse_http_date(bad, Some(NOW)), None, "{bad}");
        }
    }

    #[test]
    fn classification_table() {
        // (status, body, expected kind, expected message)
        let cases: &[(u16, &str, &str, &str)] = &[
            (200, "", "accepted", ""),
            (0, "TypeError: fetch failed", "retry", "no response from defender: TypeError: fetch failed"),
            (0, "", "retry", "no response from defender"),
            (408, "", "retry", "defender failed (http 408 request timeout)"),
            (429, "", "retry", "defender throttled the request (http 429)"),
            (
                500,
                r#"{"error":{"code":"InternalServerError","message":"An error occurred"}}"#,
                "retry",
                "defender failed (http 500 internal server error): `InternalServerError`: An error occurred",
            ),
            (502, "", "retry", "defender failed (http 502 bad gateway)"),
            (503, "", "retry", "defender failed (http 503 service unavailable)"),
            (504, "", "retry", "defender failed (http 504 gateway timeout)"),
            (522, "", "retry", "defender failed (http 522)"),
            (501, "", "rejected", "defender answered with an unexpected status (http 501)"),
            (505, "", "rejected", "defender answered with an unexpected status (http 505)"),
            (301, "", "rejected", "defender answered with an unexpected status (http 301)"),
            (101, "", "rejected", "defender answered with an unexpected status (http 101)"),
            (600, "", "rejected", "defender answered with an unexpected status (http 600)"),
            (
                400,
                r#"{"error":{"code":"InvalidRequestBody","message":"Request body is incorrect","target":"43f4cb08"}}"#,
                "rejected",
                "defender rejected the request (http 400 bad request): `InvalidRequestBody`: Request body is incorrect (correlation `43f4cb08`)",
            ),
            (404, "", "rejected", "defender rejected the request (http 404 not found)"),
            (409, "", "rejected", "defender rejected the request (http 409 conflict)"),
            (
                413,
                "",
                "rejected",
                "defender rejected the request (http 413 payload too large); the request body is too large: send smaller batches",
            ),
            (418, "I'm a teapot", "rejected", "defender rejected the request (http 418): I'm a teapot"),
            (
                401,
                r#"{"error":{"code":"Unauthorized","message":"Unauthorized"}}"#,
                "rejected",
                "defender refused the credential (http 401 unauthorized): `Unauthorized`: Unauthorized; check the destination's credential and cloud (the token's audience must be the cloud's Defender for Endpoint API) and that the app has the `Ti.ReadWrite.All` application role with admin consent",
            ),
        ];
        for &(status, body, kind, message) in cases {
            let (outcome, _) = status_outcome(Api::Defender, &Response::new(status, &[], body));
            let got_kind = match &outcome {
                Outcome::Accepted => "accepted",
                Outcome::Rejected { .. } => "rejected",
                Outcome::Retry { .. } => "retry",
            };
            assert_eq!((got_kind, outcome.message().unwrap_or_default()), (kind, message), "{status} {body}");
        }
    }

    #[test]
    fn retry_hint_travels_only_with_retries() {
        let h = headers(&[("Retry-After", "7")]);
        let got = whole(Api::Graph, &Response::new(503, &h, ""), 2);
        assert_eq!(got.retry_after_ms, Some(7_000));
        assert!(got.items.iter().all(|o| matches!(o, Outcome::Retry { after_ms: Some(7_000), .. })));
        let got = whole(Api::Graph, &Response::new(400, &h, ""), 2);
        assert_eq!(got.retry_after_ms, None);
        let got = whole(Api::Graph, &Response::new(0, &h, ""), 1);
        assert_eq!(got.retry_after_ms, None);
    }

    #[test]
    fn error_details() {
        let cases: &[(&str, Option<&str>)] = &[
            ("", None),
            ("   ", None),
            (
                r#"{"error":{"code":"InvalidRequestBody","message":"bad","target":"t-1"}}"#,
                Some("`InvalidRequestBody`: bad (correlation `t-1`)"),
            ),
            (
                r#"{"error":{"code":"BadRequest","message":"Invalid  filter\n clause","innerError":{"date":"2024-01-01T00:00:00","request-id":"r-1","client-request-id":"c-1"}}}"#,
                Some("`BadRequest`: Invalid filter clause (correlation `r-1`)"),
            ),
            (
                r#"{"error":{"code":"BadRequest","innererror":{"client-request-id":"c-1"}}}"#,
                Some("`BadRequest` (correlation `c-1`)"),
            ),
            (
                r#"{"statusCode":401,"message":"Unauthorized. Access token is missing or invalid."}"#,
                Some("Unauthorized. Access token is missing or invalid."),
            ),
            (
                r#"{"error":"invalid_scope","error_description":"AADSTS70011: The provided value for scope is not valid.","correlation_id":"x"}"#,
                Some("`invalid_scope`: AADSTS70011: The provided value for scope is not valid. (correlation `x`)"),
            ),
            (r#"{"odata.error":{"code":"","message":{"lang":"en-US","value":"Bad filter"}}}"#, Some("Bad filter")),
            (r#"{"Message":"An error has occurred."}"#, Some("An error has occurred.")),
            (r#"{"error":{"code":42}}"#, Some("`42`")),
            (r#"{"foo":"bar"}"#, Some(r#"{"foo":"bar"}"#)),
            (r#""plain""#, Some("plain")),
            ("[1, 2]", Some("[1, 2]")),
            ("Service  Unavailable\r\n", Some("Service Unavailable")),
            (
                "<!DOCTYPE html><html><head><TITLE>502 Bad Gateway</TITLE></head></html>",
                Some("an HTML page titled `502 Bad Gateway`"),
            ),
            ("<html><body>oops</body></html>", Some("an HTML page")),
        ];
        for &(body, expected) in cases {
            assert_eq!(error_detail(body).as_deref(), expected, "{body}");
        }
    }

    #[test]
    fn long_bodies_are_cut() {
        let long = format!(r#"{{"error":{{"code":"BadRequest","message":"{}"}}}}"#, "é".repeat(100_000));
        let detail = error_detail(&long).unwrap();
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS);
        assert!(detail.ends_with('…'));
        let (outcome, _) = status_outcome(Api::Sentinel, &Response::new(403, &[], &long));
        let message = outcome.message().unwrap();
        assert!(message.chars().count() <= MAX_MESSAGE_CHARS);
        assert!(message.ends_with("workspace"), "the hint survives: {message}");
        let text = "x".repeat(10_000);
        assert_eq!(error_detail(&text).unwrap().chars().count(), 200);
        assert_eq!(Outcome::rejected("y".repeat(1000)).message().unwrap().chars().count(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("ééé", 2), "é…");
        assert_eq!(clip("", 0), "");
        assert_eq!(clip("a", 0), "…");
    }

    #[test]
    fn headers_match_ignoring_case() {
        let h = headers(&[("X-Other", "1"), (" retry-after ", " 5 "), ("Retry-After", "9")]);
        let response = Response::new(429, &h, "");
        assert_eq!(response.header("RETRY-AFTER"), Some("5"));
        assert_eq!(response.header("missing"), None);
        assert!(!response.is_success());
        assert!(Response::new(0, &[], "").is_network_failure());
        assert_eq!(Response::new(200, &[], "").at(NOW).now_ms, Some(NOW));
    }

    #[test]
    fn json_shapes() {
        let interpreted = Interpreted {
            items: vec![
                Outcome::Accepted,
                Outcome::rejected("sentinel rejected the object: bad"),
                Outcome::retry(Some(17_000), "sentinel throttled the request (http 429)"),
                Outcome::retry(None, "no response from sentinel"),
            ],
            retry_after_ms: Some(17_000),
            notes: vec!["a note".into()],
        };
        assert_eq!(
            serde_json::to_string(&interpreted).unwrap(),
            r#"{"items":[{"outcome":"accepted"},{"outcome":"rejected","message":"sentinel rejected the object: bad"},{"outcome":"retry","after_ms":17000,"message":"sentinel throttled the request (http 429)"},{"outcome":"retry","message":"no response from sentinel"}],"retry_after_ms":17000,"notes":["a note"]}"#
        );
        assert_eq!(serde_json::to_string(&Interpreted::accepted(1)).unwrap(), r#"{"items":[{"outcome":"accepted"}]}"#);
    }

    // ---- properties ------------------------------------------------------------------------------

    /// Bodies: anything, JSON-ish fragments the parsers look for, and the documented shapes with
    /// random values.
    fn body() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| if f.is_finite() { f.to_string() } else { "1e400".to_owned() }),
            "[a-zA-Z0-9 .:-]{0,12}".prop_map(|s| format!("{s:?}")),
        ];
        let key = prop::sample::select(vec![
            "errors",
            "recordIndex",
            "errorMessages",
            "value",
            "indicator",
            "isFailed",
            "failureReason",
            "id",
            "error",
            "code",
            "message",
            "status",
            "statusCode",
            "subCode",
            "innerError",
            "target",
            "@odata.nextLink",
        ]);
        let leaf = prop_oneof![
            scalar.clone(),
            prop::collection::vec(scalar, 0..4).prop_map(|v| format!("[{}]", v.join(","))),
        ];
        let json = leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((key.clone(), inner), 0..5).prop_map(|members| {
                    let members: Vec<String> = members.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        });
        prop_oneof![
            2 => any::<String>(),
            4 => json,
            1 => (0u64..20, "[ a-zA-Z]{0,10}").prop_map(|(n, unit)| format!(r#"{{"statusCode":429,"message":"Try again in {n}{unit}"}}"#)),
        ]
    }

    fn status() -> impl Strategy<Value = u16> {
        prop_oneof![
            3 => prop::sample::select(vec![0u16, 200, 201, 204, 206, 400, 401, 403, 404, 408, 413, 429, 500, 502, 503, 504]),
            1 => any::<u16>(),
        ]
    }

    fn header_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
        let name = prop::sample::select(vec!["Retry-After", "retry-after", "Date", "Warning", "X-Other"])
            .prop_map(str::to_owned);
        let value = prop_oneof![
            any::<String>(),
            "[0-9]{0,25}(\\.[0-9]{0,5})?",
            "(Mon|Sunday), [0-9]{1,2}[ -](Jan|Feb|Dec)[ -][0-9]{2,4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
        ];
        prop::collection::vec((name, value), 0..3)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_and_counts_every_item(
            status in status(),
            body in body(),
            headers in header_pairs(),
            n in 0usize..12,
            now in prop::option::of(-100_000_000_000_000i64..300_000_000_000_000),
            values in prop::collection::vec("[a-fA-F0-9.]{0,6}", 0..6),
        ) {
            let mut response = Response::new(status, &headers, &body);
            response.now_ms = now;
            let wait = retry_after_ms(&response);
            prop_assert!(wait.is_none_or(|ms| ms <= MAX_RETRY_AFTER_MS));
            let value_refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let all = [
                (sentinel::upload(&response, n), n),
                (defender::submit(&response), 1),
                (defender::import(&response, &value_refs), values.len()),
                (defender::delete(&response, n), n),
                (defender::batch_delete(&response, n.min(3), n), n),
                (graph::submit(&response, n), n),
                (graph::update(&response, n), n),
                (graph::delete_by_external_id(&response, n), n),
            ];
            for (interpreted, expected) in all {
                prop_assert_eq!(interpreted.items.len(), expected);
                prop_assert!(interpreted.retry_after_ms.is_none_or(|ms| ms <= MAX_RETRY_AFTER_MS));
                for outcome in &interpreted.items {
                    prop_assert!(outcome.message().is_none_or(|m| m.chars().count() <= MAX_MESSAGE_CHARS));
                    if let Outcome::Retry { after_ms: Some(ms), .. } = outcome {
                        prop_assert!(*ms <= MAX_RETRY_AFTER_MS);
                    }
                }
                prop_assert!(interpreted.notes.iter().all(|m| m.chars().count() <= MAX_MESSAGE_CHARS));
                if !(200..=299).contains(&status) {
                    // A failed response treats every item alike.
                    prop_assert!(interpreted.items.windows(2).all(|w| w[0] == w[1]) || status == 400);
                }
            }
            let _ = defender::list(&response);
            let _ = defender::parse_list(&body);
        }
    }

    #[test]
    fn transient_messages() {
        for (message, transient) in [
            ("InternalServerError: a transient error occurred; retry later.", true),
            ("Service Unavailable", true),
            ("The operation timed out", true),
            ("TooManyRequests", true),
            ("Please try again in 5 seconds", true),
            ("Error for Property=pattern: invalid pattern", false),
            ("Invalid domain name", false),
            ("Indicators quota exceeded", false),
            ("", false),
        ] {
            assert_eq!(is_transient_message(message), transient, "{message}");
        }
    }
}
