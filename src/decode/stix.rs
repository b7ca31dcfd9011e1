//! STIX 2.0 / 2.1: bundles, single objects and arrays of objects.
//!
//! Items come from `indicator` objects with `pattern_type` `stix` (the pattern is parsed and split
//! into atomic observables, SPEC §4) and from the cyber-observable objects `ipv4-addr`,
//! `ipv6-addr`, `domain-name` (and OpenCTI's `hostname`), `url`, `file` (one item per hash),
//! `email-addr`, `email-message` (subject), `autonomous-system`, `windows-registry-key`,
//! `x509-certificate` (one item per thumbprint) and `network-traffic` (its `dst_ref` resolved in the
//! bundle, with port and protocol). Marking definitions and identities in the same bundle supply
//! TLP and author names; other SDOs and SROs are context, not items.
//!
//! OpenCTI's data is read from both places it has lived: the extensions
//! `extension-definition--ea279b3e-…` (SDOs) / `extension-definition--f93e2c80-…` (SCOs) and the
//! older top-level `x_opencti_*` properties.

use std::cell::OnceCell;

use crate::decode::tlp::Markings;
use crate::decode::{Output, each_item, errors_at, one_item, shape_error};
use crate::error::{Code, Error, quote};
use crate::json::{Obj, Path, Value, expected, join_index, join_key};
use crate::model::{
    Action, Event, ExternalReference, Format, HashAlgorithm, Indicator, KillChainPhase, Observable, ObservableType,
};
use crate::normalize;
use crate::pattern::{self, Extraction, SpecVersion};

/// OpenCTI's extension on SDOs (indicators).
pub const OPENCTI_SDO_EXTENSION: &str = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba";
/// OpenCTI's extension on SCOs (observables).
pub const OPENCTI_SCO_EXTENSION: &str = "extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82";

/// The observable types decoded into items.
pub const OBSERVABLE_TYPES: [&str; 12] = [
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "hostname",
    "url",
    "file",
    "email-addr",
    "email-message",
    "autonomous-system",
    "windows-registry-key",
    "x509-certificate",
    "network-traffic",
];

/// STIX types that are context, never items: read for TLP and names, or simply not indicators.
const CONTEXT_TYPES: [&str; 26] = [
    "bundle",
    "marking-definition",
    "identity",
    "relationship",
    "sighting",
    "report",
    "note",
    "opinion",
    "grouping",
    "observed-data",
    "attack-pattern",
    "campaign",
    "course-of-action",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "threat-actor",
    "tool",
    "vulnerability",
    "language-content",
    "extension-definition",
    "incident",
    "case-incident",
    "x-opencti-case-incident",
];

/// Whether a value looks like STIX: a bundle, an indicator or observable, or an object whose id is
/// `<type>--<uuid>`.
pub(crate) fn looks_like(value: &Value<'_>) -> bool {
    match value.get_str("type") {
        Some("bundle" | "indicator") => true,
        Some(t) if OBSERVABLE_TYPES.contains(&t) => true,
        Some(t) => value.get_str("id").is_some_and(|id| id.split_once("--").is_some_and(|(prefix, _)| prefix == t)),
        None => false,
    }
}

/// What an object is read against: the bundle's markings and identities, and the event that
/// carried it.
pub(crate) struct Context<'v> {
    format: Format,
    event: Option<Event>,
    markings: Markings<'v>,
    /// Identity names by id (their `name` values: a map of the same type as `by_id`, one
    /// instantiation of the hash table's code in wasm).
    identities: crate::fasthash::FastMap<&'v str, &'v Value<'v>>,
    objects: &'v [Value<'v>],
    by_id: OnceCell<crate::fasthash::FastMap<&'v str, &'v Value<'v>>>,
}

impl<'v> Context<'v> {
    /// A context for objects outside any bundle (OpenCTI events).
    pub(crate) fn standalone(format: Format, event: Option<Event>) -> Self {
        Self {
            format,
            event,
            markings: Markings::default(),
            identities: crate::fasthash::FastMap::default(),
            objects: &[],
            by_id: OnceCell::new(),
        }
    }

    /// A context over the objects of a bundle or array: learns TLP markings and identity names.
    fn over(objects: &'v [Value<'v>], format: Format) -> Self {
        let mut ctx = Self::standalone(format, None);
        ctx.objects = objects;
        for object in objects {
            match object.get_str("type") {
                Some("marking-definition") => {
                    ctx.markings.learn(object);
                }
                Some("identity") => {
                    if let (Some(id), Some(name @ Value::String(_))) = (object.get_str("id"), object.get("name")) {
                        ctx.identities.insert(id, name);
                    }
                }
                _ => {}
            }
        }
        ctx
    }

    fn find(&self, id: &str) -> Option<&'v Value<'v>> {
        let objects = self.objects;
        self.by_id
            .get_or_init(|| objects.iter().filter_map(|o| o.get_str("id").map(|id| (id, o))).collect())
            .get(id)
            .copied()
    }
}

/// Decodes a STIX payload: a bundle, one object, or an array of objects.
pub(crate) fn decode_payload(root: &Value<'_>, path: &str, out: &mut Output<'_>) -> Result<(), Error> {
    match root {
        Value::Object(_) if root.get_str("type") == Some("bundle") => {
            let bundle = Obj::new(root, path, out.text())?;
            let objects = bundle.array("objects")?.unwrap_or(&[]);
            let ctx = Context::over(objects, Format::Stix);
            let list_path = bundle.key_path("objects");
            each_item(objects, &list_path, out, |object, path, index, out| {
                decode_object(&ctx, object, path, index, out)
            });
            Ok(())
        }
        Value::Object(_) if looks_like(root) => {
            let ctx = Context::standalone(Format::Stix, None);
            one_item(root, Path::Text(path), out, |object, path, index, out| {
                decode_object(&ctx, object, path, index, out)
            });
            Ok(())
        }
        Value::Array(objects) => {
            let ctx = Context::over(objects, Format::Stix);
            each_item(objects, path, out, |object, path, index, out| decode_object(&ctx, object, path, index, out));
            Ok(())
        }
        other => Err(shape_error(Format::Stix, other, path)),
    }
}

/// Decodes one STIX object into zero or more items (pushed to `out`); problems with parts of it
/// (one bad hash among three) are pushed as errors, a problem with the whole object is returned.
pub(crate) fn decode_object(
    ctx: &Context<'_>,
    value: &Value<'_>,
    path: Path<'_>,
    index: usize,
    out: &mut Output<'_>,
) -> Result<(), Error> {
    let obj = Obj::at(value, path, out.text())?;
    let kind = obj.req_str("type")?;
    if kind == "indicator" {
        return indicator(ctx, &obj, index, out);
    }
    if OBSERVABLE_TYPES.contains(&kind) {
        return observable_object(ctx, &obj, kind, index, out);
    }
    if CONTEXT_TYPES.contains(&kind) || kind.starts_with("x-") {
        return Ok(());
    }
    Err(Error::new(
        Code::Unsupported,
        format!(
            "STIX object type {} is not relayed: expected `indicator` or an observable ({})",
            quote(kind),
            OBSERVABLE_TYPES.join(", ")
        ),
    )
    .at_path(obj.key_path("type")))
}

fn indicator<'a>(ctx: &Context<'_>, obj: &Obj<'_, 'a>, index: usize, out: &mut Output<'a>) -> Result<(), Error> {
    // Built where it lands, at the end of the output.
    let (slot, base) = out.begin(Indicator::new(ctx.format, obj.path()));
    let Some(base) = base else { return Ok(()) };
    match fill_indicator(ctx, obj, base) {
        Ok(Extraction::NotAtomic(reason)) => {
            base.not_atomic = Some(reason);
            out.finish_one(slot);
        }
        Ok(Extraction::Atomic(mut observables)) => {
            errors_at(&mut observables, || obj.key_path("pattern"));
            out.finish_split(slot, observables, index);
        }
        Err(e) => {
            out.abandon(slot);
            return Err(e);
        }
    }
    Ok(())
}

/// Fills an indicator's fields in `base` and extracts the observables of its pattern.
fn fill_indicator<'a>(ctx: &Context<'_>, obj: &Obj<'_, 'a>, base: &mut Indicator<'a>) -> Result<Extraction, Error> {
    common(ctx, obj, base)?;
    let pattern_text = obj.req_str("pattern")?;
    let pattern_type = obj.str("pattern_type")?.unwrap_or("stix");
    if !pattern_type.eq_ignore_ascii_case("stix") {
        return Err(Error::new(
            Code::Unsupported,
            format!("pattern type {} is not relayed: expected `stix`", quote(pattern_type)),
        )
        .at_path(obj.key_path("pattern_type")));
    }
    base.name = obj.text_cow("name")?;
    if base.description.is_none() {
        base.description = obj.text_cow("description")?;
    }
    base.lifecycle.valid_from = obj.timestamp("valid_from")?;
    base.lifecycle.valid_until = obj.timestamp("valid_until")?;
    base.indicator_types = obj.cows("indicator_types")?;
    base.kill_chain_phases = kill_chain_phases(obj)?;
    base.pattern = obj.cow("pattern")?;

    // The usual one-comparison pattern without the parser; anything else through it.
    Ok(match pattern::extract_simple(pattern_text) {
        Some(extraction) => extraction,
        None => pattern::extract(
            &parse_pattern(pattern_text, base.spec_version.as_deref())
                .map_err(|e| e.at_path(obj.key_path("pattern")))?,
        ),
    })
}

/// Parses with the rules of the declared spec version. STIX 2.1 requires `spec_version` on every
/// object, so an object without one is 2.0 — or a 2.1 producer that forgot: try 2.1 first and fall
/// back to the 2.0 rules, reporting the 2.1 error if neither parses.
fn parse_pattern<'t>(text: &'t str, spec_version: Option<&str>) -> Result<pattern::Pattern<'t>, Error> {
    match spec_version {
        Some("2.0") => pattern::parse_version(text, SpecVersion::V2_0),
        Some(_) => pattern::parse_version(text, SpecVersion::V2_1),
        None => pattern::parse_version(text, SpecVersion::V2_1)
            .or_else(|e| pattern::parse_version(text, SpecVersion::V2_0).map_err(|_| e)),
    }
}

fn observable_object<'a>(
    ctx: &Context<'_>,
    obj: &Obj<'_, 'a>,
    kind: &str,
    index: usize,
    out: &mut Output<'a>,
) -> Result<(), Error> {
    // Built where it lands, at the end of the output.
    let (slot, base) = out.begin(Indicator::new(ctx.format, obj.path()));
    let Some(base) = base else { return Ok(()) };
    match observables_of(ctx, obj, kind, base) {
        Ok(observables) => out.finish_split(slot, observables, index),
        Err(e) => {
            out.abandon(slot);
            return Err(e);
        }
    }
    Ok(())
}

/// Fills an observable object's fields in `base` and reads its observables.
fn observables_of<'a>(
    ctx: &Context<'_>,
    obj: &Obj<'_, 'a>,
    kind: &str,
    base: &mut Indicator<'a>,
) -> Result<Vec<Result<Observable, Error>>, Error> {
    common(ctx, obj, base)?;
    let value_at = |key: &str, t: ObservableType| -> Result<Observable, Error> {
        let raw = obj.req_str(key)?;
        normalize::observable(t, None, raw).map_err(|e| e.at_path(obj.key_path(key)))
    };
    let observables: Vec<Result<Observable, Error>> = match kind {
        "ipv4-addr" => vec![value_at("value", ObservableType::Ipv4)],
        "ipv6-addr" => vec![value_at("value", ObservableType::Ipv6)],
        "domain-name" | "hostname" => vec![value_at("value", ObservableType::Domain)],
        "url" => vec![value_at("value", ObservableType::Url)],
        "email-addr" => vec![value_at("value", ObservableType::Email)],
        "email-message" => vec![value_at("subject", ObservableType::EmailSubject)],
        "autonomous-system" => vec![asn(obj)],
        "windows-registry-key" => vec![registry_key(obj)],
        "file" => hashes(obj, ObservableType::File)?,
        "x509-certificate" => hashes(obj, ObservableType::Certificate)?,
        "network-traffic" => vec![network_traffic(ctx, obj)],
        _ => Vec::new(),
    };
    Ok(observables)
}

/// The fields every STIX object shares, plus OpenCTI's.
fn common<'a>(ctx: &Context<'_>, obj: &Obj<'_, 'a>, item: &mut Indicator<'a>) -> Result<(), Error> {
    item.event = ctx.event;
    if ctx.event == Some(Event::Delete) {
        item.action = Action::Remove;
    }
    let kind = obj.req_str("type")?;
    item.source.type_name = obj.cow("type")?;
    item.source.id = obj.cow("id")?;
    if kind == "indicator" && item.source.id.is_none() {
        return Err(Error::new(Code::Missing, "missing field `id`").at_path(obj.key_path("id")));
    }
    item.spec_version = obj.cow("spec_version")?;
    item.lifecycle.created = obj.timestamp("created")?;
    item.lifecycle.modified = obj.timestamp("modified")?;
    if obj.bool("revoked")? == Some(true) {
        item.lifecycle.revoked = true;
        item.action = Action::Remove;
    }
    item.labels = obj.cows("labels")?;
    item.scoring.confidence = obj.number_in("confidence", 0.0, 100.0)?.map(|c| c.round() as u8);
    if let Some(refs) = obj.array("object_marking_refs")? {
        item.tlp = ctx.markings.strictest(refs.iter().filter_map(Value::as_str));
    }
    if let Some(author) = obj.cow("created_by_ref")? {
        item.source.owner =
            ctx.identities.get(author.as_ref()).and_then(|name| name.as_str()).map(|name| obj.source().cow(name));
        item.source.owner_id = Some(author);
    }
    item.external_references = external_references(obj)?;
    opencti_fields(obj, item)?;
    if item.scoring.score.is_none() {
        item.scoring.score = item.scoring.confidence;
    }
    Ok(())
}

/// OpenCTI's properties, from its extensions or the legacy `x_opencti_*` fields.
fn opencti_fields<'a>(obj: &Obj<'_, 'a>, item: &mut Indicator<'a>) -> Result<(), Error> {
    if let Some(extensions) = obj.child("extensions")? {
        for ext_id in [OPENCTI_SDO_EXTENSION, OPENCTI_SCO_EXTENSION] {
            if let Some(ext) = extensions.child(ext_id)? {
                read_opencti(&ext, item)?;
            }
        }
    }
    // Legacy top-level properties fill whatever the extensions did not.
    if obj.fields().any(|(key, _)| key.starts_with("x_opencti_")) { read_legacy_opencti(obj, item) } else { Ok(()) }
}

fn read_opencti<'a>(ext: &Obj<'_, 'a>, item: &mut Indicator<'a>) -> Result<(), Error> {
    if let Some(score) = ext.number_in("score", 0.0, 100.0)? {
        item.scoring.score = Some(score.round() as u8);
    }
    if let Some(detection) = ext.bool("detection")? {
        item.detection = Some(detection);
    }
    if let Some(id) = ext.cow("id")? {
        item.source.external_id = Some(id);
    }
    if item.description.is_none() {
        item.description = ext.text_cow("description")?;
    }
    item.labels.extend(ext.cows("labels")?);
    if item.source.owner_id.is_none() {
        item.source.owner_id = ext.cow("created_by_ref")?;
    }
    Ok(())
}

fn read_legacy_opencti<'a>(obj: &Obj<'_, 'a>, item: &mut Indicator<'a>) -> Result<(), Error> {
    if item.scoring.score.is_none() {
        item.scoring.score = obj.number_in("x_opencti_score", 0.0, 100.0)?.map(|s| s.round() as u8);
    }
    if item.detection.is_none() {
        item.detection = obj.bool("x_opencti_detection")?;
    }
    if item.source.external_id.is_none() {
        item.source.external_id = obj.cow("x_opencti_id")?;
    }
    if item.description.is_none() {
        item.description = obj.text_cow("x_opencti_description")?;
    }
    item.labels.extend(obj.cows("x_opencti_labels")?);
    if item.source.owner_id.is_none() {
        item.source.owner_id = obj.cow("x_opencti_created_by_ref")?;
    }
    Ok(())
}

fn kill_chain_phases<'a>(obj: &Obj<'_, 'a>) -> Result<Vec<KillChainPhase<'a>>, Error> {
    let Some(list) = obj.list("kill_chain_phases")? else { return Ok(Vec::new()) };
    list.objects()
        .map(|phase| {
            let phase = phase?;
            Ok(KillChainPhase {
                kill_chain_name: phase.req_cow("kill_chain_name")?,
                phase_name: phase.req_cow("phase_name")?,
            })
        })
        .collect()
}

fn external_references<'a>(obj: &Obj<'_, 'a>) -> Result<Vec<ExternalReference<'a>>, Error> {
    let Some(list) = obj.list("external_references")? else { return Ok(Vec::new()) };
    list.objects()
        .map(|reference| {
            let r = reference?;
            Ok(ExternalReference {
                source_name: r.cow("source_name")?.unwrap_or_default(),
                url: r.cow("url")?,
                external_id: r.cow("external_id")?,
                description: r.cow("description")?,
            })
        })
        .collect()
}

fn asn(obj: &Obj<'_, '_>) -> Result<Observable, Error> {
    let path = obj.key_path("number");
    let number = match obj.get("number") {
        None => return Err(Error::new(Code::Missing, "missing field `number`").at_path(path)),
        Some(Value::Number(n)) => n.as_i64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
            Error::new(Code::Value, format!("invalid AS number `{n}`: expected a whole number from 0 to 4294967295"))
                .at_path(&path)
        })?,
        Some(Value::String(s)) => normalize::asn(s).map_err(|e| e.at_path(&path))?,
        Some(other) => return Err(expected("a number", other).at_path(path)),
    };
    Ok(Observable::new(ObservableType::Asn, number.to_string()))
}

fn registry_key(obj: &Obj<'_, '_>) -> Result<Observable, Error> {
    let key = obj.req_str("key")?;
    let mut observable =
        normalize::observable(ObservableType::RegistryKey, None, key).map_err(|e| e.at_path(obj.key_path("key")))?;
    if let Some(first) = obj.array("values")?.and_then(<[Value<'_>]>::first) {
        let path = join_index(&obj.key_path("values"), 0);
        let value = Obj::new(first, &path, obj.source())?;
        observable.value_name = value.text("name")?.map(str::to_owned);
        observable.value_type = value.text("data_type")?.map(str::to_owned);
    }
    Ok(observable)
}

/// One observable per entry of `hashes` (files, certificates), in a stable order: strongest first.
fn hashes(obj: &Obj<'_, '_>, kind: ObservableType) -> Result<Vec<Result<Observable, Error>>, Error> {
    let hashes_path = obj.key_path("hashes");
    let Some(value) = obj.get("hashes") else {
        let what = if kind == ObservableType::File { "a file" } else { "a certificate" };
        return Err(Error::new(
            Code::Missing,
            format!("missing field `hashes`: {what} is relayed by its hashes (MD5, SHA-1, SHA-256, ...)"),
        )
        .at_path(hashes_path));
    };
    let hashes = Obj::new(value, &hashes_path, obj.source())?;
    let mut found: Vec<(Option<HashAlgorithm>, Result<Observable, Error>)> = hashes
        .fields()
        .map(|(name, raw)| {
            let path = join_key(&hashes_path, name);
            let Some(algorithm) = HashAlgorithm::from_name(name) else {
                return (
                    None,
                    Err(Error::new(
                        Code::Unsupported,
                        format!("hash algorithm {} is not supported: expected MD5, SHA-1, SHA-256, SHA-512, SHA3-256, SHA3-512, SSDEEP or TLSH", quote(name)),
                    )
                    .at_path(path)),
                );
            };
            let result = match raw.as_str() {
                Some(text) => normalize::observable(kind, Some(algorithm), text).map_err(|e| e.at_path(&path)),
                None => Err(expected("a string", raw).at_path(path)),
            };
            (Some(algorithm), result)
        })
        .collect();
    crate::decode::sort_strongest_first(&mut found, |(algorithm, _)| {
        algorithm.map_or(0, |a| usize::from(hash_rank(a)) + 1)
    });
    Ok(found.into_iter().map(|(_, r)| r).collect())
}

/// Preference order among hashes: SHA-256 first (Defender prefers it), MD5 last.
fn hash_rank(algorithm: HashAlgorithm) -> u8 {
    match algorithm {
        HashAlgorithm::Sha256 => 9,
        HashAlgorithm::Sha1 => 8,
        HashAlgorithm::Sha512 => 7,
        HashAlgorithm::Sha384 => 6,
        HashAlgorithm::Sha224 => 5,
        HashAlgorithm::Sha3_256 => 4,
        HashAlgorithm::Sha3_512 => 3,
        HashAlgorithm::Md5 => 2,
        HashAlgorithm::Ssdeep => 1,
        HashAlgorithm::Tlsh => 0,
    }
}

/// A `network-traffic` SCO: its destination (resolved in the bundle) with port and protocol.
fn network_traffic(ctx: &Context<'_>, obj: &Obj<'_, '_>) -> Result<Observable, Error> {
    let dst_ref = obj.req_str("dst_ref")?;
    let Some(target) = ctx.find(dst_ref) else {
        return Err(Error::new(
            Code::Missing,
            format!(
                "network-traffic destination {} is not in the payload: send the address object in the same bundle",
                quote(dst_ref)
            ),
        )
        .at_path(obj.key_path("dst_ref")));
    };
    let value = target.get_str("value").ok_or_else(|| {
        Error::new(Code::Missing, format!("network-traffic destination {} has no `value`", quote(dst_ref)))
            .at_path(obj.key_path("dst_ref"))
    })?;
    let mut observable = normalize::host(value).map_err(|e| e.at_path(obj.key_path("dst_ref")))?;
    if let Some(port) = obj.number("dst_port")? {
        if !(1.0..=65535.0).contains(&port) || port.fract() != 0.0 {
            return Err(Error::new(
                Code::Value,
                format!("invalid port `{port}`: expected a whole number from 1 to 65535"),
            )
            .at_path(obj.key_path("dst_port")));
        }
        observable.port = Some(port as u16);
    }
    observable.protocol = obj.strings("protocols")?.first().map(|p| p.to_ascii_lowercase());
    Ok(observable)
}
