//! A planned request narrowed to some of its items: what a host sends when a request is too large
//! for one queue message (128 KB), or when only some items are to be sent again ([`super::interpret()`]
//! uses it for `resend`).
//!
//! The body is rebuilt from the original text: the top-level members in their order, each copied
//! verbatim, except the list of objects, which keeps only the objects carrying a kept item, each
//! copied verbatim too. So the narrowed body is byte-identical to what [`super::plan()`] writes for
//! those objects (its bodies are compact, as the rebuilt one is). A small scanner finds the spans
//! (strings with their escapes, nested brackets); nothing is parsed into values or re-serialised.

use std::collections::BTreeMap;

use super::Request;
use crate::error::{Code, Error, quote};

/// How an operation's body lists its items.
enum Listing {
    /// In one of these members, one element per object.
    In(&'static [&'static str]),
    /// Not at all (a lookup, a `BatchDelete` of ids, a single delete): the body stays as it is.
    Nowhere,
    /// Not an operation `plan` writes.
    Unknown,
}

fn listing(op: &str) -> Listing {
    match op {
        "sentinel-upload" => Listing::In(&["stixobjects", "value", "indicators"]),
        "defender-import" => Listing::In(&["Indicators"]),
        "graph-submit" | "graph-delete" => Listing::In(&["value"]),
        "defender-batch-delete" | "defender-delete" | "defender-lookup" => Listing::Nowhere,
        _ => Listing::Unknown,
    }
}

/// The entries of `list` whose flag in `keep` is set.
fn pick<T: Clone>(list: &[T], keep: &[bool]) -> Vec<T> {
    list.iter().zip(keep).filter(|(_, k)| **k).map(|(v, _)| v.clone()).collect()
}

/// A copy of `request` carrying only the items `keys` (same id, op, URL, headers, limit and rate):
/// `items`, `objects` and `values` narrowed consistently and in the original order, the body
/// rebuilt with only the objects carrying a kept item. With `objects` (one object carrying several
/// items), an object stays when any of its items is kept.
///
/// Errors (code `options`): no key, a key the request does not carry, an op or a body that
/// `plan` does not write.
pub fn retain<K: AsRef<str>>(request: &Request, keys: &[K]) -> Result<Request, Error> {
    if keys.is_empty() {
        return Err(Error::new(
            Code::Options,
            format!(
                "expected at least one item key to keep, found none: request {} cannot be narrowed to nothing",
                quote(&request.id)
            ),
        )
        .at_path("keys"));
    }
    // Item key → position (a map, not a scan: a lookup may carry thousands of items).
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    for (i, key) in request.items.iter().enumerate() {
        position.entry(key.as_str().to_owned()).or_insert(i);
    }
    let mut keep = vec![false; request.items.len()];
    for (at, key) in keys.iter().enumerate() {
        let key = key.as_ref();
        let Some(slot) = position.get(key).and_then(|&i| keep.get_mut(i)) else {
            return Err(Error::new(
                Code::Options,
                format!("unknown item key {}: request {} carries no such item", quote(key), quote(&request.id)),
            )
            .at_path(format!("keys[{at}]")));
        };
        *slot = true;
    }

    let mut out = Request {
        items: pick(&request.items, &keep),
        values: if request.values.len() == request.items.len() { pick(&request.values, &keep) } else { Vec::new() },
        objects: Vec::new(),
        ..request.clone()
    };
    let list = match listing(&request.op) {
        Listing::Nowhere => return Ok(out),
        Listing::Unknown => {
            return Err(Error::new(
                Code::Options,
                format!("unknown request op {}: the request does not come from this relay's plan", quote(&request.op)),
            )
            .at_path("request.op"));
        }
        Listing::In(list) => list,
    };
    if request.objects.is_empty() {
        out.body = Some(narrow_body(request, list, &keep)?);
        return Ok(out);
    }
    // Several items per object: keep an object when any of its items is kept.
    if request.objects.len() != request.items.len() {
        return Err(bad(
            request,
            &format!("{} `objects` entries for {} items", request.objects.len(), request.items.len()),
        ));
    }
    let count = request.objects.iter().max().map_or(0, |m| m + 1);
    let mut kept_items = vec![0usize; count];
    for (&object, _) in request.objects.iter().zip(&keep).filter(|(_, k)| **k) {
        if let Some(n) = kept_items.get_mut(object) {
            *n += 1;
        }
    }
    let keep_objects: Vec<bool> = kept_items.iter().map(|&n| n > 0).collect();
    out.body = Some(narrow_body(request, list, &keep_objects)?);
    if kept_items.iter().any(|&n| n > 1) {
        // Renumber: an object's new index is the number of kept objects before it.
        let mut renumbered = Vec::with_capacity(count);
        let mut next = 0;
        for &kept in &keep_objects {
            renumbered.push(next);
            next += usize::from(kept);
        }
        out.objects = request
            .objects
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .filter_map(|(&object, _)| renumbered.get(object).copied())
            .collect();
    }
    Ok(out)
}

/// The request's body with only the elements `keep` says of its list member (one of `list`).
fn narrow_body(request: &Request, list: &[&str], keep: &[bool]) -> Result<String, Error> {
    let body = request.body.as_deref().ok_or_else(|| bad(request, "no body"))?;
    let members = members(body).ok_or_else(|| bad(request, "text that is not a JSON object"))?;
    let is_list =
        |key: &str| key.strip_prefix('"').and_then(|k| k.strip_suffix('"')).is_some_and(|k| list.contains(&k));
    let Some((_, elements)) = members.iter().find(|(key, _)| is_list(key)) else {
        return Err(bad(request, &format!("no {} list", quote(list.first().copied().unwrap_or("")))));
    };
    let elements = elements_of(elements).ok_or_else(|| bad(request, "a list that is not a JSON array"))?;
    if elements.len() != keep.len() {
        return Err(bad(request, &format!("{} objects for {} expected", elements.len(), keep.len())));
    }
    let mut out = String::with_capacity(body.len());
    out.push('{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push(':');
        if is_list(key) {
            out.push('[');
            for (n, element) in elements.iter().zip(keep).filter(|(_, k)| **k).map(|(e, _)| e).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(element);
            }
            out.push(']');
        } else {
            out.push_str(value);
        }
    }
    out.push('}');
    Ok(out)
}

fn bad(request: &Request, found: &str) -> Error {
    Error::new(
        Code::Options,
        format!(
            "invalid body of request {}: expected the JSON `plan` wrote, one list element per object, found {found}",
            quote(&request.id)
        ),
    )
    .at_path("request.body")
}

// ---- spans of JSON text ----------------------------------------------------------------------------

/// The members of a JSON object as (key with its quotes, value) texts, in order; `None` when the
/// text is not an object.
fn members(text: &str) -> Option<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    sequence(text, b'{', b'}', |at| {
        let b = text.as_bytes();
        let key_end = (b.get(at) == Some(&b'"')).then(|| string_end(b, at)).flatten()?;
        let key = text.get(at..key_end)?;
        let colon = skip_space(b, key_end);
        let start = (b.get(colon) == Some(&b':')).then(|| skip_space(b, colon + 1))?;
        let end = value_end(b, start)?;
        out.push((key, text.get(start..end)?));
        Some(end)
    })?;
    Some(out)
}

/// The elements of a JSON array as texts, in order; `None` when the text is not an array.
fn elements_of(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    sequence(text, b'[', b']', |at| {
        let end = value_end(text.as_bytes(), at)?;
        out.push(text.get(at..end)?);
        Some(end)
    })?;
    Some(out)
}

/// Walks `open` entry (`,` entry)* `close` over the whole text; `entry` reads one entry starting
/// at the given offset and returns where it ends.
fn sequence(text: &str, open: u8, close: u8, mut entry: impl FnMut(usize) -> Option<usize>) -> Option<()> {
    let b = text.as_bytes();
    let start = skip_space(b, 0);
    if b.get(start) != Some(&open) {
        return None;
    }
    let mut at = skip_space(b, start + 1);
    let end = if b.get(at) == Some(&close) {
        at
    } else {
        loop {
            at = skip_space(b, entry(at)?);
            match b.get(at)? {
                b',' => at = skip_space(b, at + 1),
                c if *c == close => break at,
                _ => return None,
            }
        }
    };
    (skip_space(b, end + 1) == b.len()).then_some(())
}

fn skip_space(b: &[u8], mut at: usize) -> usize {
    while matches!(b.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Where the string starting at `at` (a `"`) ends, after its closing quote.
fn string_end(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Where the JSON value starting at `at` ends: a string after its closing quote, an object or array
/// after its matching bracket (strings inside skipped), anything else at the next delimiter.
fn value_end(b: &[u8], at: usize) -> Option<usize> {
    match b.get(at)? {
        b'"' => string_end(b, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match b.get(i)? {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let rest = b.get(at..)?;
            let len = rest.iter().position(|c| matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'));
            let end = at + len.unwrap_or(rest.len());
            (end > at).then_some(end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(
            members(r#" {"a" : 1, "b\"c":{"x":[1,"]}"]},"d":"e\\"} "#),
            Some(vec![(r#""a""#, "1"), (r#""b\"c""#, r#"{"x":[1,"]}"]}"#), (r#""d""#, r#""e\\""#)])
        );
        assert_eq!(members("{}"), Some(vec![]));
        assert_eq!(
            elements_of(r#"[ {"a":"[" } , null,-1.5e3 ,[[]]]"#),
            Some(vec![r#"{"a":"[" }"#, "null", "-1.5e3", "[[]]"])
        );
        assert_eq!(elements_of("[]"), Some(vec![]));
        for bad in
            ["", "[", "{", r#"{"a"}"#, r#"{"a":}"#, "{a:1}", "[1,]", "[1 2]", "[1]x", r#"["abc]"#, "[}", "{]", "[{]"]
        {
            assert!(members(bad).is_none() && elements_of(bad).is_none(), "{bad}");
        }
    }
}
