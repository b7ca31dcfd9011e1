//! ThreatConnect v3 indicators: one object, an array, or the API's `{"data":[...]}` /
//! `{"data":{...}}` response envelope.
//!
//! Types (matched ignoring case and spaces, so `Email Subject` = `EmailSubject`) and where each
//! reads its value, falling back to `summary` (seeds 001/002/004):
//!
//! | type | value fields | observable |
//! |---|---|---|
//! | Address | `ip` | ipv4 / ipv6 |
//! | Host | `hostName` | domain |
//! | URL | `text` | url |
//! | File | `md5`, `sha1`, `sha256` (summary `md5 : sha1 : sha256`) | one file item per hash |
//! | `EmailAddress` | `address` | email |
//! | `EmailSubject` | `subject`, `Subject` | email-subject |
//! | CIDR | `block`, `Block` | cidr |
//! | ASN | `AS Number`, `asNumber` | asn |
//! | Registry Key | `Key Name`, `Value Name`, `Value Type` (summary `key : name : type`) | registry-key |
//!
//! Custom-type fields may also arrive as `value1`/`value2`/`value3`. Scoring: `rating` (0–5),
//! `confidence` (0–100), `threatAssessScore` (0–1000, the normalised score is it / 10),
//! `falsePositives`. Tags → labels; security labels `TLP:*` → TLP (the strictest wins); attributes
//! "Phase of Intrusion" → kill chain (Lockheed Martin), "First Seen" / "Last Seen" → lifecycle,
//! "Network Protocol Analysis" → port/protocol, "Description" → description; all attributes are
//! kept. `active: false` asks for removal.

use std::borrow::Cow;

use crate::decode::{Output, each_item, one_item, shape_error};
use crate::error::{Code, Error, quote};
use crate::json::{Obj, Path, Value, join_index, join_key};
use crate::model::{
    Action, Attribute, Format, HashAlgorithm, Indicator, KillChainPhase, Observable, ObservableType, Tlp,
};
use crate::normalize;
use crate::time::Timestamp;

/// The kill chain ThreatConnect's "Phase of Intrusion" values belong to.
pub const KILL_CHAIN: &str = "lockheed-martin-cyber-kill-chain";

/// The indicator types decoded, as ThreatConnect names them.
pub const TYPES: [&str; 9] =
    ["Address", "Host", "URL", "File", "EmailAddress", "EmailSubject", "CIDR", "ASN", "Registry Key"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Address,
    Host,
    Url,
    File,
    EmailAddress,
    EmailSubject,
    Cidr,
    Asn,
    RegistryKey,
}

fn kind(name: &str) -> Option<Kind> {
    let compact: String =
        name.chars().filter(|c| !c.is_whitespace() && *c != '_' && *c != '-').collect::<String>().to_ascii_lowercase();
    Some(match compact.as_str() {
        "address" => Kind::Address,
        "host" => Kind::Host,
        "url" => Kind::Url,
        "file" => Kind::File,
        "emailaddress" => Kind::EmailAddress,
        "emailsubject" => Kind::EmailSubject,
        "cidr" => Kind::Cidr,
        "asn" => Kind::Asn,
        "registrykey" => Kind::RegistryKey,
        _ => return None,
    })
}

/// Whether a value looks like ThreatConnect: `{"data": ...}` holding indicators, or an indicator
/// (a ThreatConnect type name plus one of `summary`, `ownerName`, `threatAssessScore`, `rating`).
pub(crate) fn looks_like(value: &Value<'_>) -> bool {
    if let Some(data) = value.get("data") {
        return match data {
            Value::Array(items) => items.iter().find(|v| !matches!(v, Value::Null)).is_none_or(is_indicator),
            other => is_indicator(other),
        };
    }
    is_indicator(value)
}

fn is_indicator(value: &Value<'_>) -> bool {
    const COMMON: [&str; 5] = ["summary", "ownerName", "threatAssessScore", "rating", "webLink"];
    const VALUES: [&str; 10] =
        ["ip", "hostName", "text", "md5", "sha1", "sha256", "address", "Block", "AS Number", "Key Name"];
    let Some(type_name) = value.get_str("type") else { return false };
    let has = |keys: &[&str]| keys.iter().any(|k| value.get(k).is_some());
    // A known type with its own value field, or any capitalised (custom) type with ThreatConnect's
    // common fields: lower-case STIX types and MISP attributes never look like this.
    (kind(type_name).is_some() && has(&VALUES)) || (type_name.starts_with(char::is_uppercase) && has(&COMMON))
}

/// Decodes one indicator, an array, or a `{"data": ...}` envelope.
pub(crate) fn decode_payload(root: &Value<'_>, path: &str, out: &mut Output<'_>) -> Result<(), Error> {
    match root {
        Value::Array(items) => {
            each_item(items, path, out, indicator);
            Ok(())
        }
        Value::Object(_) if root.get("data").is_some() && !is_indicator(root) => {
            let envelope = Obj::new(root, path, out.text())?;
            let data_path = envelope.key_path("data");
            match envelope.get("data") {
                Some(Value::Array(items)) => each_item(items, &data_path, out, indicator),
                Some(single) => one_item(single, Path::Text(&data_path), out, indicator),
                None => {}
            }
            Ok(())
        }
        Value::Object(_) => {
            one_item(root, Path::Text(path), out, indicator);
            Ok(())
        }
        other => Err(shape_error(Format::Threatconnect, other, path)),
    }
}

fn indicator(value: &Value<'_>, path: Path<'_>, index: usize, out: &mut Output<'_>) -> Result<(), Error> {
    let obj = Obj::at(value, path, out.text())?;
    let type_name = obj.req_str("type")?;
    let Some(kind) = kind(type_name) else {
        return Err(Error::new(
            Code::Unsupported,
            format!(
                "ThreatConnect indicator type {} is not relayed: expected one of {}",
                quote(type_name),
                TYPES.join(", ")
            ),
        )
        .at_path(obj.key_path("type")));
    };
    let mut item = Indicator::new(Format::Threatconnect, obj.path());
    item.source.type_name = obj.cow("type")?;
    item.source.id = id_field(&obj, "id")?;
    item.source.summary = obj.text_cow("summary")?;
    item.source.owner = obj.text_cow("ownerName")?;
    item.source.owner_id = id_field(&obj, "ownerId")?;
    item.source.web_link = obj.text_cow("webLink")?;
    item.source.external_id = obj.text_cow("xid")?;
    item.description = obj.text_cow("description")?;
    item.lifecycle.created = obj.timestamp("dateAdded")?;
    item.lifecycle.modified = obj.timestamp("lastModified")?;
    if obj.bool("active")? == Some(false) {
        item.lifecycle.revoked = true;
        item.action = Action::Remove;
    }
    item.scoring.threat_rating = obj.number_in("rating", 0.0, 5.0)?;
    item.scoring.confidence = obj.number_in("confidence", 0.0, 100.0)?.map(|c| c.round() as u8);
    item.scoring.threat_assess_score = obj.number_in("threatAssessScore", 0.0, 1000.0)?.map(|s| s.round() as u16);
    item.scoring.false_positives = false_positives(&obj)?;
    item.scoring.score = item
        .scoring
        .threat_assess_score
        .map(|s| ((f64::from(s) / 10.0).round() as u8).min(100))
        .or(item.scoring.confidence);
    item.labels = names(&obj, "tags")?;
    item.tlp = names(&obj, "securityLabels")?.iter().filter_map(|l| Tlp::from_name(l)).max();
    let network = attributes(&obj, &mut item)?;

    let mut observables = observables(&obj, kind)?;
    if matches!(kind, Kind::Address | Kind::Host | Kind::Url) {
        for observable in observables.iter_mut().flatten() {
            observable.port = network.0;
            observable.protocol.clone_from(&network.1);
        }
    }
    out.push_split(item, observables, index);
    Ok(())
}

/// A numeric or string id field, as text.
fn id_field<'a>(obj: &Obj<'_, 'a>, key: &str) -> Result<Option<Cow<'a, str>>, Error> {
    Ok(match obj.get(key) {
        None => None,
        Some(Value::Number(n)) => Some(Cow::Owned(n.to_string())),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.trim().len() == s.len() => Some(obj.source().cow(s)),
        Some(Value::String(s)) => Some(Cow::Owned(s.trim().to_owned())),
        Some(other) => return Err(crate::json::expected("a number or string id", other).at_path(obj.key_path(key))),
    })
}

/// `falsePositives` is a count, or (in some exports) an object `{"count": n}`.
fn false_positives(obj: &Obj<'_, '_>) -> Result<Option<u32>, Error> {
    let path = obj.key_path("falsePositives");
    let count = match obj.get("falsePositives") {
        Some(v @ Value::Object(_)) => Obj::new(v, &path, obj.source())?.number("count")?,
        Some(_) => obj.number("falsePositives")?,
        None => obj.number("falsePositiveCount")?,
    };
    match count {
        Some(n) if n < 0.0 || n.fract() != 0.0 || n > f64::from(u32::MAX) => {
            Err(Error::new(Code::Value, format!("invalid false-positive count `{n}`: expected a whole number ≥ 0"))
                .at_path(path))
        }
        Some(n) => Ok(Some(n as u32)),
        None => Ok(None),
    }
}

/// The `name`s of a sub-collection (`tags`, `securityLabels`), given as `{"data":[{name}]}`, a
/// plain array of `{name}`, or an array of strings.
fn names<'a>(obj: &Obj<'_, 'a>, key: &str) -> Result<Vec<Cow<'a, str>>, Error> {
    let Some((list, list_path)) = collection(obj, key)? else { return Ok(Vec::new()) };
    list.iter()
        .enumerate()
        .filter_map(|(i, v)| match v {
            Value::String(s) => Some(Ok(obj.source().cow(s))),
            Value::Object(_) => {
                let path = join_index(&list_path, i);
                match Obj::new(v, &path, obj.source()).and_then(|o| o.text_cow("name")) {
                    Ok(Some(name)) => Some(Ok(name)),
                    Ok(None) => {
                        Some(Err(Error::new(Code::Missing, "missing field `name`").at_path(join_key(&path, "name"))))
                    }
                    Err(e) => Some(Err(e)),
                }
            }
            Value::Null => None,
            other => {
                Some(Err(crate::json::expected("an object with `name`", other).at_path(join_index(&list_path, i))))
            }
        })
        .collect()
}

/// A v3 sub-collection: `{"data":[...]}` or a bare array; with its path.
fn collection<'v>(obj: &Obj<'v, '_>, key: &str) -> Result<Option<(&'v [Value<'v>], String)>, Error> {
    let path = obj.key_path(key);
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some((*items, path))),
        Some(wrapper @ Value::Object(_)) => {
            let data_path = join_key(&path, "data");
            match wrapper.get("data") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) => Ok(Some((*items, data_path))),
                Some(other) => Err(crate::json::expected("an array", other).at_path(data_path)),
            }
        }
        Some(other) => Err(crate::json::expected("an array or `{\"data\":[...]}`", other).at_path(path)),
    }
}

/// Reads the attributes into the item; returns (port, protocol) from "Network Protocol Analysis".
fn attributes<'a>(obj: &Obj<'_, 'a>, item: &mut Indicator<'a>) -> Result<(Option<u16>, Option<String>), Error> {
    let mut network = (None, None);
    let Some((list, list_path)) = collection(obj, "attributes")? else { return Ok(network) };
    for (i, v) in list.iter().enumerate() {
        let path = join_index(&list_path, i);
        let attribute = Obj::new(v, &path, obj.source())?;
        let Some(kind) = attribute.text_cow("type")? else { continue };
        let value: Cow<'a, str> = match attribute.get("value") {
            Some(Value::String(s)) => obj.source().cow(s),
            Some(Value::Number(n)) => Cow::Owned(n.to_string()),
            Some(Value::Bool(b)) => Cow::Owned(b.to_string()),
            _ => continue,
        };
        match kind.to_ascii_lowercase().as_str() {
            "phase of intrusion" => {
                for phase in value.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
                    let phase_name = phase.to_ascii_lowercase().split_whitespace().collect::<Vec<_>>().join("-");
                    let entry = KillChainPhase {
                        kill_chain_name: Cow::Borrowed(KILL_CHAIN),
                        phase_name: Cow::Owned(phase_name),
                    };
                    if !item.kill_chain_phases.contains(&entry) {
                        item.kill_chain_phases.push(entry);
                    }
                }
            }
            "last seen" => {
                item.lifecycle.last_seen =
                    Some(Timestamp::parse(&value).map_err(|e| e.at_path(join_key(&path, "value")))?);
            }
            "first seen" => {
                item.lifecycle.first_seen =
                    Some(Timestamp::parse(&value).map_err(|e| e.at_path(join_key(&path, "value")))?);
            }
            "network protocol analysis" => network = port_protocol(&value),
            "description" if item.description.is_none() => item.description = Some(value.clone()),
            _ => {}
        }
        item.attributes.push(Attribute { kind, value });
    }
    Ok(network)
}

/// Reads a port and a protocol out of free text like `TCP/443`, `443/tcp`, `tcp:8080`, `HTTPS`.
fn port_protocol(text: &str) -> (Option<u16>, Option<String>) {
    let mut port = None;
    let mut protocol = None;
    for token in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()) {
        if let Ok(n) = token.parse::<u16>() {
            if n > 0 && port.is_none() {
                port = Some(n);
            }
        } else if protocol.is_none() && token.bytes().all(|b| b.is_ascii_alphabetic()) && token.len() <= 10 {
            protocol = Some(token.to_ascii_lowercase());
        }
    }
    (port, protocol)
}

/// The observables of one indicator: its type's own fields, else `summary`.
fn observables(obj: &Obj<'_, '_>, kind: Kind) -> Result<Vec<Result<Observable, Error>>, Error> {
    let field = |keys: &[&str]| -> Result<Option<(String, String)>, Error> {
        for key in keys {
            match obj.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => return Ok(Some((s.to_string(), obj.key_path(key)))),
                Some(Value::Number(n)) => return Ok(Some((n.to_string(), obj.key_path(key)))),
                Some(Value::String(_)) | None => {}
                Some(other) => return Err(crate::json::expected("a string", other).at_path(obj.key_path(key))),
            }
        }
        Ok(None)
    };
    let required = |keys: &[&str]| -> Result<(String, String), Error> {
        field(keys)?.ok_or_else(|| {
            Error::new(
                Code::Missing,
                format!("missing value: expected `{}` or `summary`", keys.first().copied().unwrap_or("summary")),
            )
            .at_path(obj.key_path(keys.first().copied().unwrap_or("summary")))
        })
    };
    let one = |t: ObservableType, keys: &[&str]| -> Result<Vec<Result<Observable, Error>>, Error> {
        let (raw, path) = required(keys)?;
        Ok(vec![normalize::observable(t, None, &raw).map_err(|e| e.at_path(path))])
    };
    match kind {
        Kind::Address => {
            let (raw, path) = required(&["ip", "summary", "value1"])?;
            Ok(vec![normalize::ip(&raw).map_err(|e| e.at_path(path))])
        }
        Kind::Host => one(ObservableType::Domain, &["hostName", "summary", "value1"]),
        Kind::Url => one(ObservableType::Url, &["text", "summary", "value1"]),
        Kind::EmailAddress => one(ObservableType::Email, &["address", "summary", "value1"]),
        Kind::EmailSubject => one(ObservableType::EmailSubject, &["subject", "Subject", "summary", "value1"]),
        Kind::Cidr => one(ObservableType::Cidr, &["block", "Block", "summary", "value1"]),
        Kind::Asn => one(ObservableType::Asn, &["AS Number", "asNumber", "asn", "summary", "value1"]),
        Kind::RegistryKey => {
            let summary = obj.text("summary")?;
            let mut parts = summary.map(|s| s.split(" : ").map(str::trim)).into_iter().flatten();
            let (from_summary_key, from_summary_name, from_summary_type) = (parts.next(), parts.next(), parts.next());
            let key = field(&["Key Name", "keyName", "value1"])?
                .map(|(k, _)| k)
                .or_else(|| from_summary_key.map(str::to_owned));
            let Some(key) = key else {
                return Err(Error::new(Code::Missing, "missing value: expected `Key Name` or `summary`")
                    .at_path(obj.key_path("Key Name")));
            };
            let mut observable =
                normalize::observable(ObservableType::RegistryKey, None, &key).map_err(|e| e.at_path(obj.path()))?;
            observable.value_name = field(&["Value Name", "valueName", "value2"])?
                .map(|(v, _)| v)
                .or_else(|| from_summary_name.map(str::to_owned));
            observable.value_type = field(&["Value Type", "valueType", "value3"])?
                .map(|(v, _)| v)
                .or_else(|| from_summary_type.map(str::to_owned));
            Ok(vec![Ok(observable)])
        }
        Kind::File => {
            let mut found = Vec::new();
            for (key, algorithm) in
                [("sha256", HashAlgorithm::Sha256), ("sha1", HashAlgorithm::Sha1), ("md5", HashAlgorithm::Md5)]
            {
                if let Some(raw) = obj.text(key)? {
                    found.push(
                        normalize::observable(ObservableType::File, Some(algorithm), raw)
                            .map_err(|e| e.at_path(obj.key_path(key))),
                    );
                }
            }
            if found.is_empty() {
                let (summary, path) = required(&["summary"])?;
                for part in summary.split(':').map(str::trim).filter(|p| !p.is_empty()) {
                    let algorithm = match part.len() {
                        32 => Some(HashAlgorithm::Md5),
                        40 => Some(HashAlgorithm::Sha1),
                        64 => Some(HashAlgorithm::Sha256),
                        _ => None,
                    };
                    found.push(match algorithm {
                        Some(a) => {
                            normalize::observable(ObservableType::File, Some(a), part).map_err(|e| e.at_path(&path))
                        }
                        None => Err(Error::new(
                            Code::Value,
                            format!(
                                "invalid file hash {}: expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256) hex digits",
                                quote(part)
                            ),
                        )
                        .at_path(&path)),
                    });
                }
                // Strongest first, as when the hash fields are present.
                super::sort_strongest_first(&mut found, |r| r.as_ref().ok().map_or(0, |o| o.value.len() + 1));
            }
            Ok(found)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_ignore_case_and_spaces() {
        assert!(kind("Email Subject") == Some(Kind::EmailSubject));
        assert!(kind("EmailSubject") == Some(Kind::EmailSubject));
        assert!(kind("registry key") == Some(Kind::RegistryKey));
        assert!(kind("Mutex").is_none());
    }

    #[test]
    fn network_protocol_analysis() {
        assert_eq!(port_protocol("TCP/443"), (Some(443), Some("tcp".into())));
        assert_eq!(port_protocol("8080 udp"), (Some(8080), Some("udp".into())));
        assert_eq!(port_protocol("HTTPS"), (None, Some("https".into())));
        assert_eq!(port_protocol("99999"), (None, None));
    }
}
