//! OpenCTI live-stream events.
//!
//! Three shapes carry the same event:
//! - the event JSON `{"type":"create"|"update"|"delete"|"merge","data":{STIX object},...}`;
//! - its SSE envelope as JSON, `{"event":"create","id":"…","data":"<the event JSON as a string>"}`;
//! - raw SSE text, `event: create\nid: …\ndata: {…}\n\n` (one or more events).
//!
//! The STIX object inside is decoded by [`super::stix`] with the event kind attached: a `delete`
//! asks for removal; `merge` is an update of the surviving object. Heartbeats and other control
//! events of a raw stream carry nothing and are passed over.

use crate::decode::stix::{self, Context};
use crate::decode::{Output, absorb, each_item, one_item, shape_error};
use crate::error::{Code, Error, quote};
use crate::json::{Arena, Obj, Path, Text, Value, expected, join_index};
use crate::model::{Event, Format};

/// Whether a value is an OpenCTI event or its SSE envelope.
pub(crate) fn looks_like_event(value: &Value<'_>) -> bool {
    let Some(data) = value.get("data") else { return false };
    match (value.get_str("type"), value.get_str("event")) {
        (Some(t), _) => event_kind(t).is_some() && matches!(data, Value::Object(_) | Value::String(_)),
        (None, Some(_)) => matches!(data, Value::String(_)),
        (None, None) => false,
    }
}

fn event_kind(name: &str) -> Option<Event> {
    match name {
        "create" => Some(Event::Create),
        "update" | "merge" => Some(Event::Update),
        "delete" => Some(Event::Delete),
        _ => None,
    }
}

/// Decodes one event, or an array of events.
pub(crate) fn decode_payload(root: &Value<'_>, path: &str, out: &mut Output<'_>) -> Result<(), Error> {
    match root {
        Value::Array(events) => {
            each_item(events, path, out, |event, path, index, out| decode_event(event, path, index, out));
            Ok(())
        }
        Value::Object(_) => {
            one_item(root, Path::Text(path), out, decode_event);
            Ok(())
        }
        other => Err(shape_error(Format::Opencti, other, path)),
    }
}

fn decode_event(value: &Value<'_>, path: Path<'_>, index: usize, out: &mut Output<'_>) -> Result<(), Error> {
    let obj = Obj::at(value, path, out.text())?;
    // The event kind: `type` on the event, or `event` on its SSE envelope.
    let declared = match obj.str("type")? {
        Some(t) => Some((t, "type")),
        None => obj.str("event")?.map(|e| (e, "event")),
    };
    let event = |(kind, key): (&str, &str)| event_of(kind, || obj.key_path(key));
    let data_path = Path::Key(obj.path_ref(), "data");
    match obj.get("data") {
        Some(Value::String(text)) => {
            let arena = Arena::new();
            let inner = Value::parse(text, &arena).map_err(|e| {
                Error::new(Code::Json, format!("the event's `data` string is not JSON: {}", e.message()))
                    .at_path(data_path.render())
            })?;
            let event = declared.map(event).transpose()?;
            // The inner text may die with this call (it had escapes, as a JSON text in a string
            // has): decode into a nested output, then own the items.
            let mut nested = out.nested(Text::new(text));
            let result = decode_inner(&inner, event, data_path, index, &mut nested);
            absorb(out, nested);
            result
        }
        Some(data @ Value::Object(_)) => {
            let declared = declared
                .ok_or_else(|| Error::new(Code::Missing, "missing field `type`").at_path(obj.key_path("type")))?;
            decode_stix(data, event(declared)?, data_path, index, out)
        }
        Some(other) => Err(expected("an object or a JSON string", other).at_path(data_path.render())),
        None => Err(Error::new(Code::Missing, "missing field `data`").at_path(data_path.render())),
    }
}

fn event_of(kind: &str, path: impl FnOnce() -> String) -> Result<Event, Error> {
    event_kind(kind).ok_or_else(|| {
        Error::new(
            Code::Shape,
            format!("unknown OpenCTI event type {}: expected `create`, `update`, `merge` or `delete`", quote(kind)),
        )
        .at_path(path())
    })
}

/// The event JSON from inside an SSE `data` string: `{"data":{STIX},"message",...}`, possibly
/// with its own `type`.
fn decode_inner(
    inner: &Value<'_>,
    declared: Option<Event>,
    path: Path<'_>,
    index: usize,
    out: &mut Output<'_>,
) -> Result<(), Error> {
    let obj = Obj::at(inner, path, out.text())?;
    let event = match declared {
        Some(event) => event,
        None => match obj.str("type")? {
            Some(kind) => event_of(kind, || obj.key_path("type"))?,
            None => {
                return Err(Error::new(
                    Code::Missing,
                    "missing event type: expected `event` on the envelope or `type` in the event",
                )
                .at_path(obj.path()));
            }
        },
    };
    let data_path = Path::Key(obj.path_ref(), "data");
    let data =
        obj.get("data").ok_or_else(|| Error::new(Code::Missing, "missing field `data`").at_path(data_path.render()))?;
    decode_stix(data, event, data_path, index, out)
}

fn decode_stix(
    data: &Value<'_>,
    event: Event,
    path: Path<'_>,
    index: usize,
    out: &mut Output<'_>,
) -> Result<(), Error> {
    let object_type = data.get_str("type").unwrap_or("");
    if object_type != "indicator" && !stix::OBSERVABLE_TYPES.contains(&object_type) {
        let about = if object_type.is_empty() {
            "a STIX object without a `type`".to_owned()
        } else {
            format!("a `{object_type}`")
        };
        return Err(Error::new(
            Code::Unsupported,
            format!("the event is about {about}, not an indicator or observable: filter the stream (or playbook) to indicators and observables"),
        )
        .at_path(path.render()));
    }
    let ctx = Context::standalone(Format::Opencti, Some(event));
    stix::decode_object(&ctx, data, path, index, out)
}

/// Whether the payload is raw SSE text rather than JSON.
pub(crate) fn is_raw_sse(text: &str) -> bool {
    ["event:", "id:", "data:", "retry:", ":"].iter().any(|p| text.starts_with(p))
}

/// Decodes raw SSE text: blocks separated by blank lines, each with `event:` and `data:` lines.
pub(crate) fn decode_raw_sse(text: &str, out: &mut Output<'_>) -> Result<(), Error> {
    let mut block_index = 0;
    let mut event: Option<&str> = None;
    let mut data = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.is_empty() {
            if let Some(value) = line.strip_prefix("event:") {
                event = Some(value.trim());
            } else if let Some(value) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value.strip_prefix(' ').unwrap_or(value));
            }
        }
        if line.is_empty() || lines.peek().is_none() {
            if !data.is_empty() {
                sse_block(event, &data, block_index, out);
                block_index += 1;
            }
            event = None;
            data.clear();
        }
    }
    if block_index == 0 {
        return Err(Error::new(
            Code::Shape,
            "SSE text without any `data:` line: expected `event: create` and `data: {...}` lines",
        ));
    }
    Ok(())
}

fn sse_block(event: Option<&str>, data: &str, block: usize, out: &mut Output<'_>) {
    // Control events of the stream carry no object.
    if matches!(event, Some("heartbeat" | "connected" | "sync")) || data.trim().is_empty() {
        return;
    }
    let path = join_index("", block);
    let index = out.next_index();
    let data_path = format!("{path}.data");
    let arena = Arena::new();
    let result = Value::parse(data, &arena)
        .map_err(|e| {
            Error::new(Code::Json, format!("the SSE `data:` is not JSON: {}", e.message())).at_path(&data_path)
        })
        .and_then(|inner| {
            let declared = event.map(|kind| event_of(kind, || format!("{path}.event"))).transpose()?;
            let mut nested = out.nested(Text::new(data));
            let result = decode_inner(&inner, declared, Path::Text(&data_path), index, &mut nested);
            absorb(out, nested);
            result
        });
    if let Err(e) = result {
        out.error(index, &path, &e);
    }
}
