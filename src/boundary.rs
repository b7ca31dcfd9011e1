//! The JavaScript boundary: the only module that knows about wasm-bindgen and js-sys.
//!
//! It translates and nothing else. Inputs arrive as JS values: a payload is taken as the raw JSON
//! text when it is a string (the fast path) or turned into text with `JSON.stringify` when it is an
//! already-parsed value, so both give the same result; either way the host's `TextEncoder` turns it
//! into UTF-8 in one call ([`js_text`]: wasm-bindgen's own string passing loops over the characters
//! in JS, a fifth of a 100-indicator plan). Outputs leave as JSON text parsed by `JSON.parse`, so
//! JS receives plain objects and arrays (never ES `Map`s), with `null` for absent values exactly
//! where the Rust side serialises them — except a plan's items, which leave as one string and
//! numbers that `src/boundary/plan.js` makes into those same objects in a fraction of the time
//! ([`crate::transfer`]). A plan's request bodies, JSON text themselves and most of
//! its bytes, are set as strings of their own instead of being escaped into that text and parsed
//! back out. Errors are thrown as `Error` objects with a stable `code` (see [`crate::Code`]), plus
//! `path` and `offset` where known.
//!
//! The TypeScript definitions shipped in `pkg/ti_relay.d.ts` come from the custom section below.

// wasm-bindgen exports must be `pub` even in a private module, and receive JS values by value.
#![allow(unreachable_pub, clippy::needless_pass_by_value)]

use js_sys::{JSON, Reflect};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::decode::DecodeOptions;
use crate::error::{Code, Error};
use crate::json::{Arena, Obj, Text, Value};
use crate::model::Format;
use crate::pattern::SpecVersion;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("boundary.d.ts");

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "DecodeResult")]
    pub type DecodeResultJs;
    #[wasm_bindgen(typescript_type = "PatternReport")]
    pub type PatternReportJs;
    #[wasm_bindgen(typescript_type = "DecodeOptions | undefined")]
    pub type DecodeOptionsJs;
    #[wasm_bindgen(typescript_type = "ParsePatternOptions | undefined")]
    pub type ParsePatternOptionsJs;
    #[wasm_bindgen(typescript_type = "string | Uint8Array | unknown")]
    pub type PayloadJs;
    #[wasm_bindgen(typescript_type = "RelayConfig | string")]
    pub type ConfigJs;
    #[wasm_bindgen(typescript_type = "{ errors: ConfigError[] }")]
    pub type ValidationJs;
    #[wasm_bindgen(typescript_type = "EffectiveConfig")]
    pub type EffectiveConfigJs;
    #[wasm_bindgen(typescript_type = "PlanFacts")]
    pub type FactsJs;
    #[wasm_bindgen(typescript_type = "PlanOptions | undefined")]
    pub type PlanOptionsJs;
    #[wasm_bindgen(typescript_type = "Plan")]
    pub type PlanJs;
    #[wasm_bindgen(typescript_type = "Interpretation")]
    pub type InterpretationJs;
    #[wasm_bindgen(typescript_type = "PlannedRequest")]
    pub type RequestJs;
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type KeysJs;
}

#[wasm_bindgen(module = "/src/boundary/plan.js")]
extern "C" {
    /// `relay.plan`'s result built from [`crate::transfer::PlanParts`].
    #[wasm_bindgen(js_name = planFromParts)]
    fn plan_from_parts(head: &str, names: &str, text: &str, codes: &[u32]) -> JsValue;
    /// `relay.interpret`'s result built from [`crate::transfer::InterpretationParts`].
    #[wasm_bindgen(js_name = interpretationFromParts)]
    fn interpretation_from_parts(head: &str, text: &str, codes: &[u32], request_items: &JsValue) -> JsValue;
}

#[wasm_bindgen]
extern "C" {
    /// The host's `TextEncoder` (Workers, Node, browsers): one native call turns a JS string into
    /// UTF-8, where wasm-bindgen's own string passing loops over the characters in JS.
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, text: &js_sys::JsString, into: &js_sys::Uint8Array) -> JsValue;
}

/// A JS string's text (lone surrogates become U+FFFD, as wasm-bindgen's passing does), or `None`
/// for a value that is not a string. Encoded by the host and copied into wasm memory in one go:
/// payloads are large (a 100-indicator OpenCTI webhook is ~150 KB).
///
/// The text is encoded straight into wasm memory (`encodeInto`), not into a JS array first: one
/// UTF-8 byte per UTF-16 unit is tried (all ASCII, the usual payload), and what did not fit is
/// encoded after it with room for three bytes per unit.
fn js_text(value: &JsValue) -> Option<String> {
    let text = value.dyn_ref::<js_sys::JsString>()?;
    let encoder = TextEncoder::new();
    let units = text.length();
    let mut bytes = vec![0u8; units as usize];
    let (read, mut written) = encode_into(&encoder, text, &mut bytes, 0)?;
    if read < units {
        let rest = text.substring(read, units);
        bytes.resize(written + 3 * (units - read) as usize, 0);
        let (_, more) = encode_into(&encoder, &rest, &mut bytes, written)?;
        written += more;
    }
    bytes.truncate(written);
    String::from_utf8(bytes).ok()
}

/// Encodes `text` into `bytes[from..]`; returns the UTF-16 units read and the bytes written.
fn encode_into(encoder: &TextEncoder, text: &js_sys::JsString, bytes: &mut [u8], from: usize) -> Option<(u32, usize)> {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let start = bytes.as_mut_ptr() as usize + from;
    let end = bytes.as_mut_ptr() as usize + bytes.len();
    let into = js_sys::Uint8Array::new(&memory.buffer()).subarray(start as u32, end as u32);
    let result = encoder.encode_into(text, &into);
    let read = Reflect::get(&result, &JsValue::from_str("read")).ok()?.as_f64()?;
    let written = Reflect::get(&result, &JsValue::from_str("written")).ok()?.as_f64()?;
    Some((read as u32, written as usize))
}

/// A relay: a validated configuration, ready to plan deliveries (`plan` and `interpret` arrive
/// with the policy and destination mappings).
#[wasm_bindgen]
pub struct Relay {
    config: crate::config::Config,
}

#[wasm_bindgen]
impl Relay {
    /// Validates `config` (a parsed value or JSON text); throws an error with `code: "config"` and
    /// `errors: [{path, message}]` listing every problem.
    #[wasm_bindgen(constructor)]
    pub fn new(config: ConfigJs) -> Result<Relay, JsValue> {
        let text = config_text(&config)?;
        match crate::config::parse(&text) {
            Ok(config) => Ok(Self { config }),
            Err(errors) => {
                let err = throwable(&Error::new(Code::Config, errors.to_string()));
                let list = to_js(&errors.errors)?;
                let _ = Reflect::set(&err, &JsValue::from_str("errors"), &list);
                Err(err)
            }
        }
    }

    /// The same check without throwing: `{errors: [{path, message}]}`, empty when valid.
    #[wasm_bindgen(js_name = validateConfig)]
    pub fn validate_config(config: ConfigJs) -> Result<ValidationJs, JsValue> {
        #[derive(Serialize)]
        struct Validation {
            errors: Vec<crate::config::ConfigError>,
        }
        let text = config_text(&config)?;
        let errors = crate::config::parse(&text).err().map(|e| e.errors).unwrap_or_default();
        to_js(&Validation { errors }).map(JsCast::unchecked_into)
    }

    /// Plans `payload` for every destination: per-item verdicts and the exact requests to send.
    /// `facts.now` (RFC 3339) is required; `facts.defenderActive` is the tenant's active-indicator
    /// count (a number for every Defender destination, or `{name: count}`); `facts.format` forces
    /// the input format as `decode`'s `options.format` does.
    ///
    /// `options.itemsJson: true` returns the items as the JSON text of their array, under
    /// `items_json`, instead of as `items`: for a host that only writes them into a response (the
    /// webhook's answer), which saves parsing them into objects and serialising them again.
    pub fn plan(&self, payload: PayloadJs, facts: FactsJs, options: Option<PlanOptionsJs>) -> Result<PlanJs, JsValue> {
        let text = payload_text(&payload)?;
        let facts = plan_facts(facts.unchecked_into())?;
        let items_json = plan_options(options.map(JsCast::unchecked_into))?;
        let mut plan = crate::plan::plan(&self.config, &text, &facts).map_err(|e| throwable(&e))?;
        // The bodies (most of the plan's bytes, JSON text themselves) go to JS as strings of their
        // own: escaping them into the plan's JSON and parsing them back out costs more than the
        // rest of the boundary. `body: null` keeps each one's place among the request's keys.
        let bodies: Vec<Option<String>> = plan.requests.iter_mut().map(|r| r.body.take()).collect();
        let unserialisable =
            |e: serde_json::Error| throwable(&Error::new(Code::Json, format!("cannot serialise the result: {e}")));
        let js = if items_json {
            let js = JSON::parse(&plan.to_json_without_items().map_err(unserialisable)?)?;
            Reflect::set(&js, &JsValue::from_str("items_json"), &JsValue::from_str(&plan.items_json()))?;
            js
        } else {
            // The items as one string and numbers, made into objects by src/boundary/plan.js: a
            // fraction of what `JSON.parse` of their text costs (src/transfer.rs).
            let parts = crate::transfer::PlanParts::of(&mut plan).map_err(unserialisable)?;
            drop(plan);
            plan_from_parts(&parts.head, &parts.names, &parts.text, &parts.codes)
        };
        set_bodies(&js, "requests", &bodies)?;
        Ok(js.unchecked_into())
    }

    /// Interprets the response to one planned request: `{items: [{key, outcome, message?}],
    /// retry_after_ms?, resend?, follow_up: [request]}`. `response` is `{status, headers, body}`.
    pub fn interpret(
        &self,
        request: RequestJs,
        response: JsValue,
        facts: Option<FactsJs>,
    ) -> Result<InterpretationJs, JsValue> {
        // Most answers are judged without the request's body (a Sentinel upload's is ~40 KB, and
        // carrying it across the boundary is most of an interpretation's cost): it is read only for
        // the ops whose interpretation reads it, or when something is to be resent (the resend
        // carries a narrowed body).
        let op = Reflect::get(&request, &JsValue::from_str("op")).ok().and_then(|v| v.as_string());
        let reads_body = matches!(op.as_deref(), Some("defender-import" | "defender-batch-delete"));
        // The item keys are copied only for the ops whose follow-ups carry them: elsewhere an
        // outcome is found by its position, and the keys stay the caller's own strings (a request
        // carries up to 500 of them).
        let keys = if matches!(op.as_deref(), Some("defender-lookup" | "defender-batch-delete")) {
            Keys::Copy
        } else {
            Keys::CountOnly
        };
        let parsed = request_from_js(&request, reads_body, keys)?;
        let now = match facts {
            Some(f) => plan_facts_optional(f.unchecked_into())?.now,
            None => None,
        };
        let (status, headers, body) = response_parts(response)?;
        let response = crate::interpret::Response {
            status,
            headers: &headers,
            body: &body,
            now_ms: now.map(crate::time::Timestamp::unix_millis),
        };
        let complete = reads_body && keys == Keys::Copy;
        let (interpretation, parsed) = match crate::plan::interpret(&self.config, &parsed, &response) {
            Ok(done) if (complete || done.resend.is_none()) && (keys == Keys::Copy || done.follow_up.is_empty()) => {
                (done, parsed)
            }
            Err(e) if complete => return Err(throwable(&e)),
            // Something is to be resent (its narrowed body is built from the body) or followed up
            // (carrying the keys), or the request was refused: again, with everything.
            _ => {
                let whole = request_from_js(&request, true, Keys::Copy)?;
                let done = crate::plan::interpret(&self.config, &whole, &response).map_err(|e| throwable(&e))?;
                (done, whole)
            }
        };
        // The resend's and follow-ups' bodies leave as strings of their own, as the plan's do; the
        // items as parts (src/transfer.rs), their keys as indexes into the request's own `items`.
        let mut interpretation = interpretation;
        let resend = interpretation.resend.as_mut().and_then(|r| r.body.take());
        let follow_ups: Vec<Option<String>> = interpretation.follow_up.iter_mut().map(|r| r.body.take()).collect();
        let parts = crate::transfer::InterpretationParts::of(interpretation, &parsed.items)
            .map_err(|e| throwable(&Error::new(Code::Json, format!("cannot serialise the result: {e}"))))?;
        let request_items = Reflect::get(&request, &JsValue::from_str("items"))?;
        let js = interpretation_from_parts(&parts.head, &parts.text, &parts.codes, &request_items);
        if let Some(body) = resend {
            let request = Reflect::get(&js, &JsValue::from_str("resend"))?;
            Reflect::set(&request, &JsValue::from_str("body"), &JsValue::from_str(&body))?;
        }
        set_bodies(&js, "follow_up", &follow_ups)?;
        Ok(js.unchecked_into())
    }

    /// A copy of a planned request carrying only the items `keys` (its body rebuilt with only their
    /// objects): to split a request too large for a queue message, or to resend some items.
    pub fn retain(&self, request: RequestJs, keys: KeysJs) -> Result<RequestJs, JsValue> {
        let request = request_from_js(&request, true, Keys::Copy)?;
        if self.config.destination(&request.destination).is_none() {
            return Err(throwable(
                &Error::new(
                    Code::Options,
                    format!(
                        "unknown destination `{}`: the request does not come from this relay's plan",
                        request.destination
                    ),
                )
                .at_path("request.destination"),
            ));
        }
        let keys = array_of(&keys, string_element).ok_or_else(|| {
            throwable(
                &Error::new(Code::Options, "expected `keys` as an array of item keys (strings), like `request.items`")
                    .at_path("keys"),
            )
        })?;
        let narrowed = crate::plan::retain(&request, &keys).map_err(|e| throwable(&e))?;
        to_js(&narrowed).map(JsCast::unchecked_into)
    }

    /// The effective configuration: defaults filled in, policies merged, endpoints resolved.
    #[wasm_bindgen(getter)]
    pub fn config(&self) -> Result<EffectiveConfigJs, JsValue> {
        to_js(&self.config).map(JsCast::unchecked_into)
    }
}

/// Puts each request's body (taken out before serialising, so written as `null` in its place) back
/// into the JS array `js[list]` as a string of its own.
fn set_bodies(js: &JsValue, list: &str, bodies: &[Option<String>]) -> Result<(), JsValue> {
    if bodies.iter().all(Option::is_none) {
        return Ok(());
    }
    let requests: js_sys::Array = Reflect::get(js, &JsValue::from_str(list))?.unchecked_into();
    let key = JsValue::from_str("body");
    for (i, body) in (0u32..).zip(bodies) {
        if let Some(body) = body {
            Reflect::set(&requests.get(i), &key, &JsValue::from_str(body))?;
        }
    }
    Ok(())
}

/// How `request_from_js` reads a request's item keys.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// Copied into the request.
    Copy,
    /// Checked to be strings and counted: the request gets as many empty keys.
    CountOnly,
}

/// A request object from `plan` (or a follow-up, `resend`, `retain`), read field by field: a
/// `JSON.stringify` of the whole object and `serde` reading it back cost more than most
/// interpretations. The body (JSON text, up to ~100 KB) is read only when `with_body`, as a string
/// of its own; the lists go through `JSON.stringify` each.
fn request_from_js(request: &JsValue, with_body: bool, keys: Keys) -> Result<crate::plan::Request, JsValue> {
    if !request.is_object() || js_sys::Array::is_array(request) {
        return Err(bad_request("", "an object", request));
    }
    let get = |key: &str| Reflect::get(request, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    let text = |key: &str| {
        let value = get(key);
        value.as_string().ok_or_else(|| bad_request(key, "a string", &value))
    };
    let headers = {
        let value = get("headers");
        let object = value
            .dyn_ref::<js_sys::Object>()
            .filter(|_| !js_sys::Array::is_array(&value))
            .ok_or_else(|| bad_request("headers", "an object of strings", &value))?;
        let mut headers = std::collections::BTreeMap::new();
        for entry in js_sys::Object::entries(object).iter() {
            let entry: js_sys::Array = entry.unchecked_into();
            let (Some(name), Some(text)) = (entry.get(0).as_string(), entry.get(1).as_string()) else {
                return Err(bad_request("headers", "an object of strings", &value));
            };
            headers.insert(name, text);
        }
        headers
    };
    let body = if with_body {
        let value = get("body");
        if value.is_null() || value.is_undefined() {
            None
        } else {
            Some(js_text(&value).ok_or_else(|| bad_request("body", "a string or null", &value))?)
        }
    } else {
        None
    };
    let dry_run = match get("dry_run") {
        v if v.is_undefined() => false,
        v => v.as_bool().ok_or_else(|| bad_request("dry_run", "a boolean", &v))?,
    };
    Ok(crate::plan::Request {
        id: text("id")?,
        destination: text("destination")?,
        op: text("op")?,
        method: text("method")?,
        url: text("url")?,
        audience: text("audience")?,
        headers,
        body,
        items: match keys {
            Keys::Copy => list(&get("items"), "items", "an array of item keys (strings)", string_element)?
                .into_iter()
                .map(crate::plan::ItemKey::from)
                .collect(),
            Keys::CountOnly => {
                vec![
                    crate::plan::ItemKey::default();
                    count_strings(&get("items"), "items", "an array of item keys (strings)")?
                ]
            }
        },
        limit: text("limit")?,
        rate: list_or_empty(&get("rate"), "rate", "an array of `{requests, per_ms}` windows", rate_window)?,
        dry_run,
        objects: list_or_empty(&get("objects"), "objects", "an array of object indexes", whole)?,
        values: list_or_empty(&get("values"), "values", "an array of observable values (strings)", string_element)?,
    })
}

/// How many strings the JS array `value` holds (the error of [`list`] if it is not an array of
/// strings).
fn count_strings(value: &JsValue, key: &str, expected: &str) -> Result<usize, JsValue> {
    let Some(array) = value.dyn_ref::<js_sys::Array>().filter(|_| js_sys::Array::is_array(value)) else {
        return Err(bad_request(key, expected, value));
    };
    if array.iter().all(|element| element.is_string()) {
        Ok(array.length() as usize)
    } else {
        Err(bad_request_found(key, expected, "an array holding something else"))
    }
}

/// A list field of a request, through its JSON text.
fn list<T>(
    value: &JsValue,
    key: &str,
    expected: &str,
    element: impl Fn(&Value<'_>) -> Option<T>,
) -> Result<Vec<T>, JsValue> {
    array_of(value, element).ok_or_else(|| {
        if js_sys::Array::is_array(value) {
            bad_request_found(key, expected, "an array holding something else")
        } else {
            bad_request(key, expected, value)
        }
    })
}

/// A JS array read through its JSON text, each element by `element`; `None` if it is not an array or
/// an element is refused.
fn array_of<T>(value: &JsValue, element: impl Fn(&Value<'_>) -> Option<T>) -> Option<Vec<T>> {
    if !js_sys::Array::is_array(value) {
        return None;
    }
    let text = JSON::stringify(value).ok().and_then(|s| js_text(&s))?;
    let arena = Arena::new();
    match Value::parse(&text, &arena) {
        Ok(Value::Array(elements)) => elements.iter().map(element).collect(),
        _ => None,
    }
}

/// [`list`], absent (`undefined`) being empty.
fn list_or_empty<T>(
    value: &JsValue,
    key: &str,
    expected: &str,
    element: impl Fn(&Value<'_>) -> Option<T>,
) -> Result<Vec<T>, JsValue> {
    if value.is_undefined() { Ok(Vec::new()) } else { list(value, key, expected, element) }
}

/// A JSON string as an owned `String`.
fn string_element(value: &Value<'_>) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// A whole number ≥ 0 that fits `T`.
fn whole<T: TryFrom<u64>>(value: &Value<'_>) -> Option<T> {
    match value {
        Value::Number(n) => n.as_i64().and_then(|n| u64::try_from(n).ok()).and_then(|n| T::try_from(n).ok()),
        _ => None,
    }
}

/// `{requests, per_ms}` (other keys ignored, as before).
fn rate_window(value: &Value<'_>) -> Option<crate::plan::RateWindow> {
    Some(crate::plan::RateWindow { requests: whole(value.get("requests")?)?, per_ms: whole(value.get("per_ms")?)? })
}

/// "expected `request.<key>` as …, as `plan` gives it; found …".
fn bad_request(key: &str, expected: &str, found: &JsValue) -> JsValue {
    bad_request_found(key, expected, js_kind(found))
}

/// [`bad_request`] with what was found already named.
fn bad_request_found(key: &str, expected: &str, found: &str) -> JsValue {
    let (what, path) = if key.is_empty() {
        ("`request`".to_owned(), "request".to_owned())
    } else {
        (format!("`request.{key}`"), format!("request.{key}"))
    };
    throwable(
        &Error::new(Code::Options, format!("expected {what} as {expected}, as `plan` gives it; found {found}"))
            .at_path(path),
    )
}

/// A phrase naming a JS value's kind, for "found …".
fn js_kind(value: &JsValue) -> &'static str {
    if value.is_undefined() {
        "nothing (the key is missing)"
    } else if value.is_null() {
        "null"
    } else if value.as_bool().is_some() {
        "a boolean"
    } else if value.as_f64().is_some() {
        "a number"
    } else if value.is_string() {
        "a string"
    } else if js_sys::Array::is_array(value) {
        "an array"
    } else if value.is_object() {
        "an object"
    } else {
        "a value of another kind"
    }
}

/// `relay.plan`'s options: whether the items come back as JSON text (`itemsJson`).
fn plan_options(options: Option<JsValue>) -> Result<bool, JsValue> {
    let Some(json) = options_json(options)? else { return Ok(false) };
    let value = json.tree()?;
    let obj = Obj::new(&value, "options", Text::NONE).map_err(|e| throwable(&options_error(e)))?;
    check_keys(&obj, &["itemsJson"])?;
    Ok(obj.bool("itemsJson").map_err(|e| throwable(&options_error(e)))?.unwrap_or(false))
}

fn plan_facts(facts: JsValue) -> Result<crate::plan::PlanFacts, JsValue> {
    let parsed = plan_facts_optional(facts)?;
    if parsed.now.is_none() {
        return Err(throwable(
            &Error::new(
                Code::Missing,
                "missing `facts.now`: expected the current time as RFC 3339, like `2025-06-01T12:00:00Z`",
            )
            .at_path("facts.now"),
        ));
    }
    Ok(parsed)
}

fn plan_facts_optional(facts: JsValue) -> Result<crate::plan::PlanFacts, JsValue> {
    let mut out = crate::plan::PlanFacts::default();
    // The usual facts, `{now}` and nothing else with a valid time, read without a JSON round trip;
    // anything else (and every error) goes the general way below.
    if let Some(now) = now_alone(&facts) {
        out.now = Some(now);
        return Ok(out);
    }
    let Some(json) = options_json(Some(facts))? else { return Ok(out) };
    let value = json.tree()?;
    let obj = Obj::new(&value, "facts", Text::NONE).map_err(|e| throwable(&options_error(e)))?;
    check_keys(&obj, &["now", "defenderActive", "format"])?;
    out.now = obj.timestamp("now").map_err(|e| throwable(&options_error(e)))?;
    out.format = format_option(&obj, "facts.format")?;
    match obj.get("defenderActive") {
        None => {}
        Some(Value::Number(n)) => {
            let count = n.as_i64().and_then(|c| u32::try_from(c).ok()).ok_or_else(|| {
                throwable(
                    &Error::new(Code::Options, format!("invalid defenderActive `{n}`: expected a whole number ≥ 0"))
                        .at_path("facts.defenderActive"),
                )
            })?;
            out.defender_active.insert(String::new(), count);
        }
        Some(Value::Object(fields)) => {
            for (name, count) in *fields {
                let count = match count {
                    Value::Number(n) => n.as_i64().and_then(|c| u32::try_from(c).ok()),
                    _ => None,
                }
                .ok_or_else(|| {
                    throwable(
                        &Error::new(Code::Options, "expected a whole number ≥ 0")
                            .at_path(format!("facts.defenderActive.{name}")),
                    )
                })?;
                out.defender_active.insert(name.to_string(), count);
            }
        }
        Some(_) => {
            return Err(throwable(
                &Error::new(Code::Options, "expected a number, or an object of numbers by destination name")
                    .at_path("facts.defenderActive"),
            ));
        }
    }
    Ok(out)
}

/// `facts.now` when `facts` is an object whose only key is `now`, a valid RFC 3339 string.
fn now_alone(facts: &JsValue) -> Option<crate::time::Timestamp> {
    let object = facts.dyn_ref::<js_sys::Object>()?;
    let keys = js_sys::Object::keys(object);
    if keys.length() != 1 || keys.get(0).as_string()? != "now" {
        return None;
    }
    let now = Reflect::get(facts, &JsValue::from_str("now")).ok()?.as_string()?;
    crate::time::Timestamp::parse(&now).ok()
}

/// A response's status, headers and body.
type ResponseParts = (u16, Vec<(String, String)>, String);

/// `{status, headers, body}`: headers as an object or as `[name, value]` pairs; body as text.
///
/// Read field by field (an API's answer is ~30 KB for an import, MBs for a listing: the body
/// crosses as a string of its own, and the rest needs no JSON round trip). A field that is
/// `undefined` or `null` is absent, as it is in JSON; a number may come as its text.
fn response_parts(response: JsValue) -> Result<ResponseParts, JsValue> {
    let bad = |path: &str, message: String| throwable(&Error::new(Code::Options, message).at_path(path));
    if response.is_undefined() || response.is_null() {
        return Err(throwable(&Error::new(Code::Options, "missing response: expected `{status, headers, body}`")));
    }
    let Some(object) = response.dyn_ref::<js_sys::Object>().filter(|_| !js_sys::Array::is_array(&response)) else {
        return Err(bad("response", format!("expected an object, found {}", js_found(&response))));
    };
    let get =
        |key: &str| Reflect::get(&response, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null());
    for key in js_sys::Object::keys(object).iter().filter_map(|k| k.as_string()) {
        if !matches!(key.as_str(), "status" | "headers" | "body") && get(&key).is_some() {
            return Err(bad(
                &format!("options.{key}"),
                format!("unknown option `{key}`: expected one of `status`, `headers`, `body`"),
            ));
        }
    }
    let status_error =
        || bad("response.status", "expected `status` as an HTTP status code (0 for a network failure)".to_owned());
    let status = match get("status") {
        None => return Err(status_error()),
        Some(v) => match (v.as_f64(), v.as_string()) {
            (Some(n), _) => n,
            (None, Some(text)) if text.trim().is_empty() => return Err(status_error()),
            (None, Some(text)) => text.trim().parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(|| {
                bad("response.status", format!("expected a number, found the string {}", crate::error::quote(&text)))
            })?,
            (None, None) => return Err(bad("response.status", format!("expected a number, found {}", js_found(&v)))),
        },
    };
    if !(0.0..1000.0).contains(&status) || status.fract() != 0.0 {
        return Err(status_error());
    }
    // Headers: string values are kept, anything else is not a header a response can have.
    let mut headers = Vec::new();
    if let Some(value) = get("headers") {
        let pairs = js_sys::Array::is_array(&value);
        let Some(object) = value.dyn_ref::<js_sys::Object>() else {
            return Err(bad("response.headers", "expected `headers` as an object or `[name, value]` pairs".to_owned()));
        };
        let entries =
            if pairs { value.clone().unchecked_into::<js_sys::Array>() } else { js_sys::Object::entries(object) };
        for entry in entries.iter() {
            if js_sys::Array::is_array(&entry) {
                let entry: js_sys::Array = entry.unchecked_into();
                if let (Some(name), Some(text)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
                    headers.push((name, text));
                }
            }
        }
    }
    let body = match get("body") {
        None => String::new(),
        Some(v) => {
            js_text(&v).ok_or_else(|| bad("response.body", format!("expected a string, found {}", js_found(&v))))?
        }
    };
    Ok((status as u16, headers, body))
}

/// A JS value as an "expected …, found X" message names it (as [`crate::json`] does a JSON value).
fn js_found(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        format!("the string {}", crate::error::quote(&text))
    } else if let Some(n) = value.as_f64() {
        format!("the number `{n}`")
    } else if let Some(b) = value.as_bool() {
        format!("`{b}`")
    } else {
        js_kind(value).to_owned()
    }
}

/// A config as JSON text: a string as is, anything else through `JSON.stringify`.
fn config_text(config: &JsValue) -> Result<String, JsValue> {
    if let Some(text) = js_text(config) {
        return Ok(text);
    }
    if config.is_undefined() || config.is_null() {
        return Err(throwable(&Error::new(
            Code::Config,
            "missing configuration: expected a config object or its JSON text",
        )));
    }
    JSON::stringify(config)
        .ok()
        .and_then(|s| js_text(&s))
        .ok_or_else(|| throwable(&Error::new(Code::Config, "configuration cannot be turned into JSON")))
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_owned()
}

/// Parses a STIX pattern: the tree, the atomic observables, and whether it is atomic.
#[wasm_bindgen(js_name = parsePattern)]
pub fn parse_pattern(text: JsValue, options: Option<ParsePatternOptionsJs>) -> Result<PatternReportJs, JsValue> {
    let Some(text) = text.as_string() else {
        return Err(throwable(&Error::new(Code::Options, "expected the pattern as a string")));
    };
    let version = match options_json(options.map(JsCast::unchecked_into))? {
        Some(json) => {
            let value = json.tree()?;
            let obj = Obj::new(&value, "options", Text::NONE).map_err(|e| throwable(&options_error(e)))?;
            check_keys(&obj, &["specVersion"])?;
            match obj.str("specVersion").map_err(|e| throwable(&options_error(e)))? {
                None | Some("2.1") => SpecVersion::V2_1,
                Some("2.0") => SpecVersion::V2_0,
                Some(other) => {
                    return Err(throwable(
                        &Error::new(Code::Options, format!("invalid specVersion `{other}`: expected `2.0` or `2.1`"))
                            .at_path("options.specVersion"),
                    ));
                }
            }
        }
        None => SpecVersion::V2_1,
    };
    let report = crate::parse_pattern_version(&text, version).map_err(|e| throwable(&e))?;
    to_js(&report).map(JsCast::unchecked_into)
}

/// Decodes a payload into canonical indicators and per-item errors.
#[wasm_bindgen]
pub fn decode(payload: PayloadJs, options: Option<DecodeOptionsJs>) -> Result<DecodeResultJs, JsValue> {
    let text = payload_text(&payload)?;
    let mut opts = DecodeOptions::default();
    if let Some(json) = options_json(options.map(JsCast::unchecked_into))? {
        let value = json.tree()?;
        let obj = Obj::new(&value, "options", Text::NONE).map_err(|e| throwable(&options_error(e)))?;
        check_keys(&obj, &["format", "maxBytes"])?;
        opts.format = format_option(&obj, "options.format")?;
        if let Some(max) = obj.number("maxBytes").map_err(|e| throwable(&options_error(e)))? {
            if max < 1.0 || max.fract() != 0.0 {
                return Err(throwable(
                    &Error::new(Code::Options, format!("invalid maxBytes `{max}`: expected a positive whole number"))
                        .at_path("options.maxBytes"),
                ));
            }
            opts.max_bytes = max as usize;
        }
    }
    let decoded = crate::decode(&text, &opts).map_err(|e| throwable(&e))?;
    to_js(&decoded).map(JsCast::unchecked_into)
}

/// Bench-only (`--features bench`): decodes and returns the number of items and errors, so a
/// benchmark can time the core in wasm apart from building the JS result.
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = benchDecode)]
pub fn bench_decode(payload: &str) -> Result<u32, JsValue> {
    let decoded = crate::decode(payload, &DecodeOptions::default()).map_err(|e| throwable(&e))?;
    Ok(u32::try_from(decoded.items.len() + decoded.errors.len()).unwrap_or(u32::MAX))
}

/// Bench-only: decodes and serialises the result to JSON text, without parsing it in JS.
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = benchDecodeSerialize)]
pub fn bench_decode_serialize(payload: &str) -> Result<u32, JsValue> {
    let decoded = crate::decode(payload, &DecodeOptions::default()).map_err(|e| throwable(&e))?;
    let text = serde_json::to_string(&decoded).map_err(|e| throwable(&Error::new(Code::Json, e.to_string())))?;
    Ok(u32::try_from(text.len()).unwrap_or(u32::MAX))
}

/// Bench-only: the relay's plan of `payload` at `now` inside wasm, without handing it to JS. With
/// `serialize`, the plan is also serialised to JSON text (what `plan` parses into JS objects).
/// Returns the number of requests (or the text's length).
#[cfg(feature = "bench")]
#[wasm_bindgen]
impl Relay {
    #[wasm_bindgen(js_name = benchPlan)]
    pub fn bench_plan(&self, payload: PayloadJs, now: &str, serialize: bool) -> Result<u32, JsValue> {
        let payload = payload_text(&payload)?;
        let now = crate::time::Timestamp::parse(now).map_err(|e| throwable(&e))?;
        let facts = crate::plan::PlanFacts { now: Some(now), ..crate::plan::PlanFacts::default() };
        let plan = crate::plan::plan(&self.config, &payload, &facts).map_err(|e| throwable(&e))?;
        if serialize {
            let text = serde_json::to_string(&plan).map_err(|e| throwable(&Error::new(Code::Json, e.to_string())))?;
            return Ok(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Ok(u32::try_from(plan.requests.len()).unwrap_or(u32::MAX))
    }
}

/// The payload as JSON text: a string as is, a `Uint8Array` as UTF-8 bytes, anything else through
/// `JSON.stringify`.
fn payload_text(payload: &JsValue) -> Result<String, JsValue> {
    if let Some(text) = js_text(payload) {
        return Ok(text);
    }
    // The raw bytes of a request body (a `Uint8Array`): one copy into wasm memory, no UTF-16 round
    // trip through a JS string.
    if let Some(bytes) = payload.dyn_ref::<js_sys::Uint8Array>() {
        return String::from_utf8(bytes.to_vec()).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            throwable(&Error::new(
                Code::Json,
                format!("the payload is not valid UTF-8 (at byte {at}): expected JSON text in UTF-8"),
            ))
        });
    }
    if payload.is_undefined() || payload.is_null() {
        return Err(throwable(&Error::new(Code::Shape, "missing payload: expected JSON text or a parsed JSON value")));
    }
    JSON::stringify(payload).ok().and_then(|s| js_text(&s)).ok_or_else(|| {
        throwable(&Error::new(Code::Json, "payload cannot be turned into JSON (a BigInt, a function or a cycle?)"))
    })
}

/// The `format` key of `obj` (`options.format` of `decode`, `facts.format` of `plan`): a format name
/// forcing the input format, or `None` when absent.
fn format_option(obj: &Obj<'_, '_>, path: &str) -> Result<Option<Format>, JsValue> {
    let Some(name) = obj.str("format").map_err(|e| throwable(&options_error(e)))? else { return Ok(None) };
    Format::from_name(name).map(Some).ok_or_else(|| {
        throwable(
            &Error::new(
                Code::Options,
                format!("unknown format `{name}`: expected `stix`, `opencti`, `threatconnect`, `misp` or `envelope`"),
            )
            .at_path(path),
        )
    })
}

/// An options object's JSON text, with the arena its tree is read into.
struct OptionsJson {
    text: String,
    arena: Arena,
}

impl OptionsJson {
    /// The options as a JSON tree.
    fn tree(&self) -> Result<Value<'_>, JsValue> {
        Value::parse(&self.text, &self.arena).map_err(|e| throwable(&options_error(e)))
    }
}

/// An options object as JSON text, or `None` for `undefined`/`null`.
fn options_json(options: Option<JsValue>) -> Result<Option<OptionsJson>, JsValue> {
    let Some(options) = options.filter(|o| !o.is_undefined() && !o.is_null()) else { return Ok(None) };
    let text = JSON::stringify(&options)
        .ok()
        .and_then(|s| js_text(&s))
        .ok_or_else(|| throwable(&Error::new(Code::Options, "options cannot be turned into JSON")))?;
    Ok(Some(OptionsJson { text, arena: Arena::new() }))
}

/// Unknown option keys are errors: a typo must not silently change behaviour.
fn check_keys(obj: &Obj<'_, '_>, allowed: &[&str]) -> Result<(), JsValue> {
    for (key, _) in obj.fields() {
        if !allowed.contains(&key) {
            let expected = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            return Err(throwable(
                &Error::new(Code::Options, format!("unknown option `{key}`: expected one of {expected}"))
                    .at_path(format!("options.{key}")),
            ));
        }
    }
    Ok(())
}

fn options_error(e: Error) -> Error {
    // Re-coded: a problem inside `options` is the caller's options, whatever the accessor said.
    let path = e.path().map(str::to_owned);
    let err = Error::new(Code::Options, e.message());
    match path {
        Some(p) => err.at_path(p),
        None => err,
    }
}

/// Serialises a result as JSON text and parses it into plain JS values.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|e| throwable(&Error::new(Code::Json, format!("cannot serialise the result: {e}"))))?;
    JSON::parse(&text)
}

/// A JS `Error` carrying `code`, and `path` / `offset` where known.
fn throwable(err: &Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&js, &JsValue::from_str(key), &value);
    };
    set("code", JsValue::from_str(err.code().as_str()));
    if let Some(path) = err.path() {
        set("path", JsValue::from_str(path));
    }
    if let Some(offset) = err.offset() {
        set("offset", JsValue::from_f64(offset as f64));
    }
    js.into()
}
