//! MISP events and attributes.
//!
//! Shapes: `{"Event":{...}}` (its `Attribute` list and every `Object[].Attribute`), `{"Attribute":
//! {...}}` or `{"Attribute":[...]}`, a bare array of attributes or of `{"Event"}`s, and the REST
//! search responses `{"response":[{"Event"}...]}` / `{"response":{"Attribute":[...]}}`.
//!
//! Only attributes with `to_ids` are indicators (MISP's own "for detection" flag); the others are
//! passed over without an error. Attribute types:
//!
//! | MISP type | observable |
//! |---|---|
//! | `ip-src`, `ip-dst` (`\|port`) | ipv4 / ipv6 / cidr (+ port) |
//! | `domain`, `hostname` (`\|port`) | domain (+ port) |
//! | `domain\|ip` | domain and address (two items) |
//! | `url`, `uri` | url |
//! | `md5`, `sha1`, `sha224`, `sha256`, `sha384`, `sha512`, `sha3-256`, `sha3-512`, `ssdeep`, `tlsh`, and `filename\|<hash>` | file |
//! | `email`, `email-src`, `email-dst` | email |
//! | `email-subject` | email-subject |
//! | `AS` | asn |
//! | `regkey`, `regkey\|value` (the key; the value's data is not matched on) | registry-key |
//! | `x509-fingerprint-md5` / `-sha1` / `-sha256` | certificate |
//!
//! Tags (attribute tags first, then the event's): `tlp:*` → TLP (the attribute's wins over the
//! event's), `misp:confidence-level="…"` → confidence and score, `kill-chain:<phase>` → Lockheed
//! Martin kill-chain phase, everything else → labels. A `deleted` attribute asks for removal.

use std::borrow::Cow;

use crate::decode::{Output, each_item, one_item, shape_error};
use crate::error::{Code, Error, quote};
use crate::json::{Obj, Path, Value, join_index};
use crate::model::{
    Action, ExternalReference, Format, HashAlgorithm, Indicator, KillChainPhase, Observable, ObservableType, Tlp,
};
use crate::normalize;

/// The attribute types decoded into items.
pub const TYPES: [&str; 30] = [
    "ip-src",
    "ip-dst",
    "ip-src|port",
    "ip-dst|port",
    "domain",
    "hostname",
    "domain|ip",
    "hostname|port",
    "url",
    "uri",
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha3-256",
    "sha3-512",
    "ssdeep",
    "tlsh",
    "email",
    "email-src",
    "email-dst",
    "email-subject",
    "AS",
    "regkey",
    "regkey|value",
    "x509-fingerprint-md5",
    "x509-fingerprint-sha1",
    "x509-fingerprint-sha256",
];

/// Whether a value looks like MISP.
pub(crate) fn looks_like(value: &Value<'_>) -> bool {
    value.get("Event").is_some()
        || value.get("Attribute").is_some()
        || value.get("response").is_some_and(|r| match r {
            Value::Array(items) => items.iter().any(|i| i.get("Event").is_some()),
            other => other.get("Attribute").is_some(),
        })
        || is_attribute(value)
}

fn is_attribute(value: &Value<'_>) -> bool {
    value.get("to_ids").is_some() && value.get_str("type").is_some() && value.get("value").is_some()
}

/// The event-level facts attributes inherit.
#[derive(Default)]
struct EventContext<'a> {
    info: Option<Cow<'a, str>>,
    uuid: Option<Cow<'a, str>>,
    org: Option<Cow<'a, str>>,
    org_id: Option<Cow<'a, str>>,
    tags: Vec<Cow<'a, str>>,
}

/// Decodes any MISP shape.
pub(crate) fn decode_payload(root: &Value<'_>, path: &str, out: &mut Output<'_>) -> Result<(), Error> {
    match root {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = join_index(path, i);
                if item.get("Event").is_some() {
                    decode_payload(item, &item_path, out)?;
                } else {
                    one_item(item, Path::Text(&item_path), out, |a, p, i, o| {
                        attribute(a, p, i, &EventContext::default(), o)
                    });
                }
            }
            Ok(())
        }
        Value::Object(_) => {
            let obj = Obj::new(root, path, out.text())?;
            if let Some(response) = obj.get("response") {
                return decode_payload(response, &obj.key_path("response"), out);
            }
            if let Some(event) = obj.get("Event") {
                return decode_event(event, &obj.key_path("Event"), out);
            }
            if let Some(attributes) = obj.get("Attribute") {
                let list_path = obj.key_path("Attribute");
                let ctx = EventContext::default();
                match attributes {
                    Value::Array(items) => each_item(items, &list_path, out, |a, p, i, o| attribute(a, p, i, &ctx, o)),
                    single => one_item(single, Path::Text(&list_path), out, |a, p, i, o| attribute(a, p, i, &ctx, o)),
                }
                return Ok(());
            }
            if is_attribute(root) {
                one_item(root, Path::Text(path), out, |a, p, i, o| attribute(a, p, i, &EventContext::default(), o));
                return Ok(());
            }
            Err(shape_error(Format::Misp, root, path))
        }
        other => Err(shape_error(Format::Misp, other, path)),
    }
}

fn decode_event(value: &Value<'_>, path: &str, out: &mut Output<'_>) -> Result<(), Error> {
    let event = Obj::new(value, path, out.text())?;
    let orgc_path = event.key_path("Orgc");
    let orgc =
        event.get("Orgc").or_else(|| event.get("Org")).map(|o| Obj::new(o, &orgc_path, event.source())).transpose()?;
    let ctx = EventContext {
        info: event.text_cow("info")?,
        uuid: event.text_cow("uuid")?,
        org: orgc.as_ref().map(|o| o.text_cow("name")).transpose()?.flatten(),
        org_id: orgc.as_ref().map(|o| o.text_cow("uuid")).transpose()?.flatten(),
        tags: tags(&event)?,
    };
    if let Some(attributes) = event.array("Attribute")? {
        each_item(attributes, &event.key_path("Attribute"), out, |a, p, i, o| attribute(a, p, i, &ctx, o));
    }
    if let Some(objects) = event.array("Object")? {
        let objects_path = event.key_path("Object");
        for (i, o) in objects.iter().enumerate() {
            let object_path = join_index(&objects_path, i);
            let object = match Obj::new(o, &object_path, event.source()) {
                Ok(object) => object,
                Err(e) => {
                    let index = out.next_index();
                    out.error(index, &object_path, &e);
                    continue;
                }
            };
            match object.array("Attribute") {
                Ok(Some(attributes)) => {
                    each_item(attributes, &object.key_path("Attribute"), out, |a, p, i, o| attribute(a, p, i, &ctx, o));
                }
                Ok(None) => {}
                Err(e) => {
                    let index = out.next_index();
                    out.error(index, &object_path, &e);
                }
            }
        }
    }
    Ok(())
}

fn attribute<'a>(
    value: &Value<'_>,
    path: Path<'_>,
    index: usize,
    ctx: &EventContext<'a>,
    out: &mut Output<'a>,
) -> Result<(), Error> {
    let a = Obj::at(value, path, out.text())?;
    if a.bool("to_ids")? != Some(true) {
        return Ok(());
    }
    let kind = a.req_str("type")?;
    let raw: Cow<'_, str> = match a.get("value") {
        Some(Value::String(s)) => Cow::Borrowed(*s),
        Some(Value::Number(n)) => Cow::Owned(n.to_string()),
        Some(other) => return Err(crate::json::expected("a string", other).at_path(a.key_path("value"))),
        None => return Err(Error::new(Code::Missing, "missing field `value`").at_path(a.key_path("value"))),
    };
    let observables = observables(kind, &raw).map_err(|e| {
        let key = if e.code() == Code::Unsupported { "type" } else { "value" };
        e.or_path(|| a.key_path(key))
    })?;

    let mut item = Indicator::new(Format::Misp, a.path());
    item.source.type_name = a.cow("type")?;
    item.source.id = a.text_cow("uuid")?;
    item.source.owner.clone_from(&ctx.org);
    item.source.owner_id.clone_from(&ctx.org_id);
    item.name.clone_from(&ctx.info);
    item.description = a.text_cow("comment")?;
    item.lifecycle.modified = a.timestamp("timestamp")?;
    item.lifecycle.first_seen = a.timestamp("first_seen")?;
    item.lifecycle.last_seen = a.timestamp("last_seen")?;
    item.lifecycle.valid_from = item.lifecycle.first_seen.or(item.lifecycle.modified);
    if a.bool("deleted")? == Some(true) {
        item.action = Action::Remove;
    }
    if let Some(uuid) = &ctx.uuid {
        item.external_references.push(ExternalReference {
            source_name: Cow::Borrowed("misp"),
            external_id: Some(uuid.clone()),
            ..ExternalReference::default()
        });
    }
    let attribute_tags = tags(&a)?;
    apply_tags(&mut item, &attribute_tags, &ctx.tags);

    let mut observables = observables;
    crate::decode::errors_at(&mut observables, || a.key_path("value"));
    out.push_split(item, observables, index);
    Ok(())
}

/// Tag names of an event or attribute (`Tag: [{"name"}]`, or `EventTag`/`AttributeTag` lists of
/// `{"Tag":{"name"}}`).
fn tags<'a>(obj: &Obj<'_, 'a>) -> Result<Vec<Cow<'a, str>>, Error> {
    let mut names = Vec::new();
    for key in ["Tag", "EventTag", "AttributeTag"] {
        let Some(list) = obj.array(key)? else { continue };
        let list_path = obj.key_path(key);
        for (i, t) in list.iter().enumerate() {
            let tag_path = join_index(&list_path, i);
            let tag = Obj::new(t, &tag_path, obj.source())?;
            let name = match tag.get("Tag") {
                Some(inner) => {
                    let inner_path = tag.key_path("Tag");
                    Obj::new(inner, &inner_path, obj.source())?.text_cow("name")?
                }
                None => tag.text_cow("name")?,
            };
            if let Some(name) = name {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// TLP, confidence, kill chain and labels from tags: the attribute's take precedence.
fn apply_tags<'a>(item: &mut Indicator<'a>, attribute_tags: &[Cow<'a, str>], event_tags: &[Cow<'a, str>]) {
    let mut attribute_tlp = None;
    let mut event_tlp = None;
    for (tag, from_attribute) in attribute_tags.iter().map(|t| (t, true)).chain(event_tags.iter().map(|t| (t, false))) {
        let lower = tag.to_ascii_lowercase();
        if let Some(level) = lower.strip_prefix("tlp:") {
            let slot = if from_attribute { &mut attribute_tlp } else { &mut event_tlp };
            *slot = Tlp::from_name(level).max(*slot);
        } else if let Some(level) = lower.strip_prefix("misp:confidence-level=") {
            if item.scoring.confidence.is_none() {
                item.scoring.confidence = confidence_level(level.trim_matches('"'));
            }
        } else if let Some(phase) = lower.strip_prefix("kill-chain:") {
            let phase_name = phase.trim_matches('"').split_whitespace().collect::<Vec<_>>().join("-");
            let entry = KillChainPhase {
                kill_chain_name: Cow::Borrowed(crate::decode::threatconnect::KILL_CHAIN),
                phase_name: Cow::Owned(phase_name),
            };
            if !item.kill_chain_phases.contains(&entry) {
                item.kill_chain_phases.push(entry);
            }
        } else {
            item.labels.push(tag.clone());
        }
    }
    item.tlp = attribute_tlp.or(event_tlp);
    item.scoring.score = item.scoring.confidence;
}

/// The `misp:confidence-level` taxonomy, as misp2sentinel maps it.
fn confidence_level(level: &str) -> Option<u8> {
    Some(match level {
        "completely-confident" => 100,
        "usually-confident" => 75,
        "fairly-confident" | "cannot-be-judged" | "cannot-be-evaluated" => 50,
        "rarely-confident" => 25,
        "unconfident" => 0,
        _ => return None,
    })
}

/// The observables of one attribute value.
fn observables(kind: &str, raw: &str) -> Result<Vec<Result<Observable, Error>>, Error> {
    let first = |raw: &str| raw.split_once('|').map_or(raw, |(a, _)| a).to_owned();
    let second = |raw: &str| raw.split_once('|').map(|(_, b)| b.to_owned());
    let with_port = |o: Result<Observable, Error>, raw: &str| -> Result<Observable, Error> {
        let mut o = o?;
        if let Some(port) = second(raw) {
            o.port = Some(port.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                Error::new(Code::Value, format!("invalid port {}: expected a number from 1 to 65535", quote(&port)))
            })?);
        }
        Ok(o)
    };
    let hash_of = |kind: ObservableType, algorithm: HashAlgorithm, value: &str| {
        normalize::observable(kind, Some(algorithm), value)
    };
    Ok(match kind {
        "ip-src" | "ip-dst" => vec![normalize::ip(raw)],
        "ip-src|port" | "ip-dst|port" => vec![with_port(normalize::ip(&first(raw)), raw)],
        "domain" | "hostname" => vec![normalize::observable(ObservableType::Domain, None, raw)],
        "hostname|port" => vec![with_port(normalize::observable(ObservableType::Domain, None, &first(raw)), raw)],
        "domain|ip" => vec![
            normalize::observable(ObservableType::Domain, None, &first(raw)),
            normalize::ip(&second(raw).unwrap_or_default()),
        ],
        "url" | "uri" => vec![normalize::observable(ObservableType::Url, None, raw)],
        "email" | "email-src" | "email-dst" => vec![normalize::observable(ObservableType::Email, None, raw)],
        "email-subject" => vec![normalize::observable(ObservableType::EmailSubject, None, raw)],
        "AS" => vec![normalize::observable(ObservableType::Asn, None, raw)],
        "regkey" => vec![normalize::observable(ObservableType::RegistryKey, None, raw)],
        // The part after `|` is the value's data, which no destination matches on: the key is the
        // observable.
        "regkey|value" => vec![normalize::observable(ObservableType::RegistryKey, None, &first(raw))],
        "x509-fingerprint-md5" => vec![hash_of(ObservableType::Certificate, HashAlgorithm::Md5, raw)],
        "x509-fingerprint-sha1" => vec![hash_of(ObservableType::Certificate, HashAlgorithm::Sha1, raw)],
        "x509-fingerprint-sha256" => vec![hash_of(ObservableType::Certificate, HashAlgorithm::Sha256, raw)],
        other => {
            // `md5`, `sha256`, ... and `filename|md5`, `filename|sha256`, ...
            let (algorithm_name, value) = match other.strip_prefix("filename|") {
                Some(algorithm) => (algorithm, second(raw).unwrap_or_default()),
                None => (other, raw.to_owned()),
            };
            match HashAlgorithm::from_name(algorithm_name) {
                Some(algorithm) => vec![hash_of(ObservableType::File, algorithm, &value)],
                _ => {
                    return Err(Error::new(
                        Code::Unsupported,
                        format!(
                            "MISP attribute type {} is not relayed: expected one of {}",
                            quote(other),
                            TYPES.join(", ")
                        ),
                    ));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_types() {
        let kinds = |t: &str, v: &str| -> Vec<(ObservableType, String)> {
            observables(t, v).unwrap().into_iter().map(|r| r.map(|o| (o.kind, o.value)).unwrap()).collect()
        };
        assert_eq!(kinds("ip-dst|port", "1.2.3.4|443"), [(ObservableType::Ipv4, "1.2.3.4".into())]);
        assert_eq!(observables("ip-dst|port", "1.2.3.4|443").unwrap()[0].as_ref().unwrap().port, Some(443));
        assert_eq!(
            kinds("domain|ip", "Evil.com|1.2.3.4"),
            [(ObservableType::Domain, "evil.com".into()), (ObservableType::Ipv4, "1.2.3.4".into())]
        );
        assert_eq!(kinds("filename|md5", "a.exe|D41D8CD98F00B204E9800998ECF8427E").len(), 1);
        assert_eq!(kinds("AS", "AS13335"), [(ObservableType::Asn, "13335".into())]);
        assert_eq!(
            observables("mutex", "x").unwrap_err().message().split(':').next().unwrap(),
            "MISP attribute type `mutex` is not relayed"
        );
    }

    #[test]
    fn confidence_levels() {
        assert_eq!(confidence_level("usually-confident"), Some(75));
        assert_eq!(confidence_level("nonsense"), None);
    }
}
