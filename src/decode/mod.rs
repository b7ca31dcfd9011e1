//! Decoding: every input format into the canonical [`Indicator`] model.
//!
//! [`decode`] parses the payload once, recognises its format from the JSON shape (or takes the one
//! forced in [`DecodeOptions`]), and hands each candidate item to its format's decoder:
//!
//! | format | shapes | module |
//! |---|---|---|
//! | `stix` | bundle; single object; array of objects | [`stix`] |
//! | `opencti` | live-stream event `{"type","data"}`; its SSE envelope (`data` as a string, or raw `event:`/`data:` lines); arrays of events | [`opencti`] |
//! | `threatconnect` | v3 indicator; array; `{"data":[...]}` / `{"data":{...}}` | [`threatconnect`] |
//! | `misp` | `{"Event"}`, `{"Attribute"}`, attribute arrays, `{"response":[...]}` | [`misp`] |
//! | `envelope` | `{"action":"upsert"\|"delete","indicators":[...]}` | this module |
//!
//! One bad item never sinks the payload: it becomes an [`ItemError`] with its index, JSON path,
//! code and message, and the other items decode normally. Only a payload that is not JSON, has no
//! recognisable shape, or is too large fails as a whole.
//!
//! What is deliberately *not* an item (and not an error either): context objects inside a STIX
//! bundle (identities, marking definitions, relationships, reports, malware, ...) — they are read
//! for TLP and author names — and MISP attributes without `to_ids`, which MISP itself marks as
//! "not for detection".

pub mod misp;
pub mod opencti;
pub mod stix;
pub mod threatconnect;
mod tlp;

use std::borrow::Cow;

use serde::Serialize;

use crate::error::{Code, Error, quote};
use crate::json::{Arena, Obj, Path, Text, Value, join_index};
use crate::model::{Action, Event, Format, Indicator, Observable};
use crate::normalize;

/// The default limit on payload size: 64 MiB. Hosts with less memory pass a smaller one.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Options for [`decode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Forces a format instead of detecting it from the shape.
    pub format: Option<Format>,
    /// Payloads larger than this many bytes fail with [`Code::TooLarge`].
    pub max_bytes: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self { format: None, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// The result of [`decode`]: the payload's format, its items, and the items that could not be
/// decoded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decoded<'a> {
    /// The payload's format (for a mixed array, the first item's).
    pub format: Format,
    /// The decoded items, in payload order.
    pub items: Vec<Indicator<'a>>,
    /// One entry per problem found in an item, in payload order.
    pub errors: Vec<ItemError>,
}

/// An item (or part of one) that could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemError {
    /// The index of the source item among the payload's items (for a bundle, its index in
    /// `objects`).
    pub index: usize,
    /// The JSON path of the offending input (`objects[3].pattern`).
    pub path: String,
    /// The machine-readable kind.
    pub code: Code,
    /// What is wrong and what was expected; for patterns, with the character offset.
    pub message: String,
}

impl ItemError {
    fn new(index: usize, fallback_path: &str, err: &Error) -> Self {
        let message = match err.offset() {
            Some(offset) => format!("{} at offset {offset}", err.message()),
            None => err.message().to_owned(),
        };
        let path = match err.path().unwrap_or(fallback_path) {
            "" => "$",
            path => path,
        };
        Self { index, path: path.to_owned(), code: err.code(), message }
    }
}

/// Decodes a payload (the raw JSON text exactly as received) into canonical indicators.
///
/// Fails as a whole only for malformed JSON ([`Code::Json`]), an unrecognised shape or one that
/// does not fit the forced format ([`Code::Shape`]), or a payload over `options.max_bytes`
/// ([`Code::TooLarge`]). Every other problem is an [`ItemError`] beside the good items.
pub fn decode<'a>(payload: &'a str, options: &DecodeOptions) -> Result<Decoded<'a>, Error> {
    if payload.len() > options.max_bytes {
        return Err(Error::new(
            Code::TooLarge,
            format!(
                "payload is {} bytes: expected at most {} bytes; split it into smaller batches",
                payload.len(),
                options.max_bytes
            ),
        ));
    }
    let trimmed = payload.trim_start_matches('\u{feff}').trim();
    let mut out = Output::new(Text::new(trimmed));
    if opencti::is_raw_sse(trimmed) {
        opencti::decode_raw_sse(trimmed, &mut out)?;
        return Ok(out.finish(Format::Opencti));
    }
    let mut arena = ARENA.take().unwrap_or_default();
    let format = Value::parse(trimmed, &arena).and_then(|root| decode_root(&root, "", options.format, &mut out, 0));
    // Keeps the arena's last (largest) chunk, unless that is too much memory to hold on to.
    arena.reset();
    if arena.allocated_bytes() <= KEEP_ARENA_BYTES {
        ARENA.set(Some(arena));
    }
    Ok(out.finish(format?))
}

std::thread_local! {
    /// The arena of the last payload's tree, kept for the next one: its memory is reused rather
    /// than allocated and freed again for every payload (natively, fresh pages that the kernel
    /// must fault in: a tenth of the wall time of a plan of the 10k STIX corpus).
    static ARENA: std::cell::Cell<Option<Arena>> = const { std::cell::Cell::new(None) };
}

/// An arena whose memory (its last chunk) is larger than this is freed rather than kept. In wasm
/// there are no page faults to save and memory freed goes back to the allocator for the plan's
/// requests, so only a webhook-sized tree's is kept (a 100-event OpenCTI payload's is 0.3 MB);
/// natively, up to a 10k-object bundle's (17 MB).
const KEEP_ARENA_BYTES: usize = if cfg!(target_arch = "wasm32") { 1 << 20 } else { 32 << 20 };

/// Where decoders put what they find.
pub(crate) struct Output<'a> {
    /// The text the tree being decoded was parsed from: the items borrow their strings from it.
    text: Text<'a>,
    items: Vec<Indicator<'a>>,
    errors: Vec<ItemError>,
    next_index: usize,
    /// Set while decoding the elements of a generic envelope.
    envelope: Option<Action>,
}

impl<'a> Output<'a> {
    pub(crate) fn new(text: Text<'a>) -> Self {
        Self { text, items: Vec::new(), errors: Vec::new(), next_index: 0, envelope: None }
    }

    /// The text the tree being decoded was parsed from.
    pub(crate) fn text(&self) -> Text<'a> {
        self.text
    }

    /// Reserves the next item index.
    pub(crate) fn next_index(&mut self) -> usize {
        let i = self.next_index;
        self.next_index += 1;
        i
    }

    pub(crate) fn push(&mut self, mut item: Indicator<'a>) {
        finalize_with(self.envelope, &mut item);
        self.items.push(item);
    }

    /// Starts an item where it will stay, at the end of the output, for a decoder to fill in place
    /// (an item is some 600 bytes: moving it from function to function costs a copy each time).
    /// Returns its slot, for [`Output::finish_one`], [`Output::finish_split`] or
    /// [`Output::abandon`], and the item (always `Some`: it was just pushed).
    pub(crate) fn begin(&mut self, item: Indicator<'a>) -> (usize, Option<&mut Indicator<'a>>) {
        let slot = self.items.len();
        self.items.push(item);
        (slot, self.items.last_mut())
    }

    /// Drops the item started at `slot` (and anything after it).
    pub(crate) fn abandon(&mut self, slot: usize) {
        self.items.truncate(slot);
    }

    /// Finishes the item started at `slot` as it is.
    pub(crate) fn finish_one(&mut self, slot: usize) {
        let envelope = self.envelope;
        if let Some(item) = self.items.get_mut(slot) {
            finalize_with(envelope, item);
        }
    }

    /// One item per good observable (`base` cloned for all but the last), one error per bad one.
    pub(crate) fn push_split(
        &mut self,
        base: Indicator<'a>,
        observables: Vec<Result<Observable, Error>>,
        index: usize,
    ) {
        let slot = self.items.len();
        self.items.push(base);
        self.finish_split(slot, observables, index);
    }

    /// [`Output::push_split`] for the item started at `slot`, which is the template: one item per
    /// good observable (in order, the template itself taking the last), one error per bad one;
    /// none at all (the template dropped) when no observable is good.
    pub(crate) fn finish_split(&mut self, slot: usize, observables: Vec<Result<Observable, Error>>, index: usize) {
        let envelope = self.envelope;
        if let Some(template) = self.items.get_mut(slot) {
            finalize_with(envelope, template);
        }
        let mut pending = None;
        for result in observables {
            match result {
                Ok(observable) => {
                    if let Some(previous) = pending.replace(observable)
                        && let Some(template) = self.items.get(slot)
                    {
                        let mut item = template.clone();
                        item.observable = Some(previous);
                        self.items.push(item);
                    }
                }
                Err(e) => {
                    let path = self.items.get(slot).map_or("", |item| item.path.as_str());
                    self.errors.push(ItemError::new(index, path, &e));
                }
            }
        }
        match pending {
            None => self.items.truncate(slot),
            Some(last) => {
                if let Some(template) = self.items.get_mut(slot) {
                    template.observable = Some(last);
                }
                // The template took the last observable: move it after the clones.
                if let Some(split) = self.items.get_mut(slot..)
                    && split.len() > 1
                {
                    split.rotate_left(1);
                }
            }
        }
    }

    /// An empty output that continues this one's indexes and envelope, for decoding nested text.
    pub(crate) fn nested<'b>(&self, text: Text<'b>) -> Output<'b> {
        Output { text, items: Vec::new(), errors: Vec::new(), next_index: self.next_index, envelope: self.envelope }
    }

    pub(crate) fn error(&mut self, index: usize, fallback_path: &str, err: &Error) {
        self.errors.push(ItemError::new(index, fallback_path, err));
    }

    fn finish(self, format: Format) -> Decoded<'a> {
        Decoded { format, items: self.items, errors: self.errors }
    }
}

/// Sorts a short list by `key`, highest first, keeping the order of equal keys (the hashes of one
/// object: a handful at most). An insertion sort: the standard stable sort would instantiate its
/// whole machinery per element type, kilobytes of wasm for lists of three.
pub(crate) fn sort_strongest_first<T>(list: &mut [T], key: impl Fn(&T) -> usize) {
    for i in 1..list.len() {
        let mut j = i;
        while j > 0 && list.get(j - 1).map(&key) < list.get(j).map(&key) {
            list.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Puts `path()` on the errors among `observables` that have no path of their own (in place: the
/// split takes a `Vec`, one instantiation of it in wasm).
pub(crate) fn errors_at(observables: &mut [Result<Observable, Error>], path: impl Fn() -> String) {
    for result in observables {
        if let Err(e) = result
            && e.path().is_none()
        {
            *e = e.clone().at_path(path());
        }
    }
}

/// What every item gets on its way out: the envelope's action, deduplicated labels.
fn finalize_with(envelope: Option<Action>, item: &mut Indicator<'_>) {
    if let Some(action) = envelope {
        item.action = action;
        item.event = Some(if action == Action::Remove { Event::Delete } else { item.event.unwrap_or(Event::Update) });
    }
    dedup_in_place(&mut item.labels);
}

/// Removes repeated labels, keeping the first of each, in order, without allocating.
fn dedup_in_place(labels: &mut Vec<Cow<'_, str>>) {
    let mut kept = 0;
    for i in 0..labels.len() {
        let seen = match (labels.get(..kept), labels.get(i)) {
            (Some(head), Some(label)) => head.contains(label),
            _ => true,
        };
        if !seen {
            labels.swap(kept, i);
            kept += 1;
        }
    }
    labels.truncate(kept);
}

/// Moves what a nested decode (of text that does not outlive it) produced into `out`, owning it.
pub(crate) fn absorb(out: &mut Output<'_>, nested: Output<'_>) {
    for item in nested.items {
        out.items.push(item.into_owned());
    }
    out.errors.extend(nested.errors);
    out.next_index = nested.next_index;
}

/// Detects the format of a whole payload (or an envelope element) and decodes it.
fn decode_root(
    root: &Value<'_>,
    path: &str,
    forced: Option<Format>,
    out: &mut Output<'_>,
    depth: u8,
) -> Result<Format, Error> {
    let format = match forced {
        Some(f) => f,
        None => detect(root).ok_or_else(|| unknown_shape(root, path))?,
    };
    match format {
        Format::Stix => stix::decode_payload(root, path, out),
        Format::Opencti => opencti::decode_payload(root, path, out),
        Format::Threatconnect => threatconnect::decode_payload(root, path, out),
        Format::Misp => misp::decode_payload(root, path, out),
        Format::Envelope => decode_envelope(root, path, out, depth),
    }?;
    Ok(format)
}

/// Recognises a payload's format from its JSON shape.
pub(crate) fn detect(value: &Value<'_>) -> Option<Format> {
    match value {
        Value::Array(items) => items.iter().find(|v| !matches!(v, Value::Null)).map_or(Some(Format::Stix), detect),
        Value::Object(_) => {
            if value.get("indicators").is_some() && value.get("action").is_some() {
                Some(Format::Envelope)
            } else if opencti::looks_like_event(value) {
                Some(Format::Opencti)
            } else if misp::looks_like(value) {
                Some(Format::Misp)
            } else if stix::looks_like(value) {
                Some(Format::Stix)
            } else if threatconnect::looks_like(value) {
                Some(Format::Threatconnect)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn unknown_shape(root: &Value<'_>, path: &str) -> Error {
    let what = match root {
        Value::Object(fields) => {
            let keys: Vec<&str> = fields.iter().take(6).map(|(k, _)| *k).collect();
            if keys.is_empty() {
                "an empty object".to_owned()
            } else {
                format!("an object with keys `{}`", keys.join("`, `"))
            }
        }
        other => other.kind().to_owned(),
    };
    let err = Error::new(
        Code::Shape,
        format!(
            "unrecognised payload: expected a STIX bundle or object, an OpenCTI event, ThreatConnect indicators, a MISP event or attributes, or an `{{\"action\",\"indicators\"}}` envelope, found {what}; pass `format` to force one"
        ),
    );
    if path.is_empty() { err } else { err.at_path(path) }
}

/// `{"action": "upsert"|"delete", "indicators": [...]}`: each element is any other format (even a
/// whole bundle), or a bare value string (`"203.0.113.7"`, `"evil.example"`) typed by its shape.
fn decode_envelope(root: &Value<'_>, path: &str, out: &mut Output<'_>, depth: u8) -> Result<(), Error> {
    if depth > 0 {
        return Err(Error::new(Code::Shape, "an envelope cannot contain another envelope").at_path(path));
    }
    let obj = Obj::new(root, path, out.text()).map_err(|_| shape_error(Format::Envelope, root, path))?;
    let action = match obj.req_str("action")?.to_ascii_lowercase().as_str() {
        "upsert" | "create" | "update" => Action::Upsert,
        "delete" | "remove" | "revoke" => Action::Remove,
        other => {
            return Err(Error::new(
                Code::Shape,
                format!("invalid action {}: expected `upsert` or `delete`", quote(other)),
            )
            .at_path(obj.key_path("action")));
        }
    };
    let list_path = obj.key_path("indicators");
    let Some(elements) = obj.array("indicators")? else {
        return Err(Error::new(Code::Missing, "missing field `indicators`").at_path(list_path));
    };
    let saved = out.envelope.replace(action);
    for (i, element) in elements.iter().enumerate() {
        let element_path = join_index(&list_path, i);
        if let Value::String(text) = element {
            let index = out.next_index();
            match normalize::guess(text) {
                Ok(observable) => {
                    let mut item = Indicator::new(Format::Envelope, element_path);
                    item.observable = Some(observable);
                    out.push(item);
                }
                Err(e) => out.error(index, &element_path, &e),
            }
            continue;
        }
        if let Err(e) = decode_root(element, &element_path, None, out, depth + 1) {
            let index = out.next_index();
            out.error(index, &element_path, &e);
        }
    }
    out.envelope = saved;
    Ok(())
}

/// The whole-payload error for a shape that does not fit `format`.
pub(crate) fn shape_error(format: Format, found: &Value<'_>, path: &str) -> Error {
    let expected = match format {
        Format::Stix => "a STIX bundle, object or array of objects",
        Format::Opencti => {
            "an OpenCTI live-stream event `{\"type\",\"data\"}`, its SSE envelope, or an array of events"
        }
        Format::Threatconnect => "a ThreatConnect indicator, an array of them, or `{\"data\":[...]}`",
        Format::Misp => "a MISP `{\"Event\"}`, `{\"Attribute\"}` or an array of attributes",
        Format::Envelope => "an `{\"action\",\"indicators\"}` envelope",
    };
    let err = Error::new(Code::Shape, format!("expected {expected}, found {}", found.kind()));
    if path.is_empty() { err } else { err.at_path(path) }
}

/// Runs `f` for each element of a top-level list (or the single object), assigning indexes and
/// turning per-item errors into [`ItemError`]s.
pub(crate) fn each_item<'v, 'a>(
    list: &'v [Value<'v>],
    list_path: &str,
    out: &mut Output<'a>,
    mut f: impl FnMut(&'v Value<'v>, Path<'_>, usize, &mut Output<'a>) -> Result<(), Error>,
) {
    // Most elements give one item, some a few (one per hash, per observable of a pattern): size the
    // output once, with room for those, instead of growing it (a copy of every item) near the end.
    out.items.reserve(list.len() + list.len() / 4);
    let list_path = Path::Text(list_path);
    for (i, value) in list.iter().enumerate() {
        one_item(value, Path::Index(&list_path, i), out, &mut f);
    }
}

/// Runs `f` for one source item: assigns its index and turns its error into an [`ItemError`].
pub(crate) fn one_item<'v, 'a>(
    value: &'v Value<'v>,
    path: Path<'_>,
    out: &mut Output<'a>,
    f: impl FnOnce(&'v Value<'v>, Path<'_>, usize, &mut Output<'a>) -> Result<(), Error>,
) {
    let index = out.next_index();
    if let Err(e) = f(value, path, index, out) {
        out.error(index, &path.render(), &e);
    }
}

#[cfg(test)]
mod tests;
