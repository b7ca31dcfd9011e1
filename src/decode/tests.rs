//! Table tests for format detection, whole-payload failures and per-item errors.

use super::*;
use crate::model::{ObservableType, Tlp};

fn run(payload: &str) -> Decoded<'_> {
    decode(payload, &DecodeOptions::default()).unwrap()
}

#[test]
fn detects_every_shape() {
    for (payload, want) in [
        (r#"{"type":"bundle","id":"bundle--1","objects":[]}"#, Format::Stix),
        (
            r#"{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix"}"#,
            Format::Stix,
        ),
        (r#"[{"type":"ipv4-addr","id":"ipv4-addr--1","value":"1.2.3.4"}]"#, Format::Stix),
        ("[]", Format::Stix),
        (r#"{"type":"create","data":{"type":"ipv4-addr","id":"ipv4-addr--1","value":"1.2.3.4"}}"#, Format::Opencti),
        (
            r#"{"event":"update","data":"{\"data\":{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"1.2.3.4\"}}"}"#,
            Format::Opencti,
        ),
        ("event: create\ndata: {\"data\":{\"type\":\"ipv4-addr\",\"value\":\"1.2.3.4\"}}\n\n", Format::Opencti),
        (r#"{"data":[{"type":"Address","summary":"1.2.3.4","ownerName":"o"}]}"#, Format::Threatconnect),
        (r#"{"type":"Host","summary":"evil.com","rating":3}"#, Format::Threatconnect),
        (r#"[{"type":"URL","text":"http://x.test/","webLink":"https://tc/1"}]"#, Format::Threatconnect),
        (r#"[{"type":"Address","ip":"1.2.3.4"}]"#, Format::Threatconnect),
        (r#"{"Event":{"Attribute":[]}}"#, Format::Misp),
        (r#"{"Attribute":{"type":"ip-dst","value":"1.2.3.4","to_ids":true}}"#, Format::Misp),
        (r#"[{"type":"ip-dst","value":"1.2.3.4","to_ids":true}]"#, Format::Misp),
        (r#"{"response":[{"Event":{"Attribute":[]}}]}"#, Format::Misp),
        (r#"{"action":"upsert","indicators":[]}"#, Format::Envelope),
    ] {
        let decoded = decode(payload, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{payload}: {e}"));
        assert_eq!(decoded.format, want, "{payload}");
        assert!(decoded.errors.is_empty(), "{payload}: {:?}", decoded.errors);
    }
}

#[test]
fn whole_payload_failures_are_errors_with_codes() {
    for (payload, code, message) in [
        ("", Code::Json, "malformed JSON: EOF while parsing a value at line 1 column 0"),
        ("{\"type\":", Code::Json, "malformed JSON: EOF while parsing a value at line 1 column 8"),
        ("[1,]", Code::Json, "malformed JSON: trailing comma at line 1 column 4"),
        (
            r#"{"hello":"world"}"#,
            Code::Shape,
            "unrecognised payload: expected a STIX bundle or object, an OpenCTI event, ThreatConnect indicators, a MISP event or attributes, or an `{\"action\",\"indicators\"}` envelope, found an object with keys `hello`; pass `format` to force one",
        ),
        (
            "42",
            Code::Shape,
            "unrecognised payload: expected a STIX bundle or object, an OpenCTI event, ThreatConnect indicators, a MISP event or attributes, or an `{\"action\",\"indicators\"}` envelope, found a number; pass `format` to force one",
        ),
        (
            r#"{"action":"explode","indicators":[]}"#,
            Code::Shape,
            "invalid action `explode`: expected `upsert` or `delete`",
        ),
        (
            "event: heartbeat\n\n",
            Code::Shape,
            "SSE text without any `data:` line: expected `event: create` and `data: {...}` lines",
        ),
    ] {
        let err = decode(payload, &DecodeOptions::default()).unwrap_err();
        assert_eq!((err.code(), err.message()), (code, message), "{payload}");
    }
}

#[test]
fn oversized_payload_is_refused_before_parsing() {
    let opts = DecodeOptions { max_bytes: 10, ..DecodeOptions::default() };
    let err = decode("[1, 2, 3, 4, 5, 6]", &opts).unwrap_err();
    assert_eq!(err.code(), Code::TooLarge);
    assert_eq!(err.message(), "payload is 18 bytes: expected at most 10 bytes; split it into smaller batches");
}

#[test]
fn forced_format_that_does_not_fit_is_a_shape_error() {
    let opts = DecodeOptions { format: Some(Format::Misp), ..DecodeOptions::default() };
    let err = decode(r#"{"type":"bundle","objects":[]}"#, &opts).unwrap_err();
    assert_eq!(err.code(), Code::Shape);
    assert_eq!(
        err.message(),
        "expected a MISP `{\"Event\"}`, `{\"Attribute\"}` or an array of attributes, found an object"
    );
    // Forcing the right format works even where detection would not.
    let opts = DecodeOptions { format: Some(Format::Threatconnect), ..DecodeOptions::default() };
    let d = decode(r#"[{"type":"EmailSubject","subject":"Invoice overdue"}]"#, &opts).unwrap();
    assert_eq!(d.items.len(), 1);
    assert!(decode(r#"[{"type":"EmailSubject","subject":"Invoice overdue"}]"#, &DecodeOptions::default()).is_err());
}

#[test]
fn item_errors_say_where_and_what() {
    for (payload, index, path, code, message) in [
        (
            r#"{"type":"bundle","objects":[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4'","pattern_type":"stix"}]}"#,
            0,
            "objects[0].pattern",
            Code::Pattern,
            "expected `]`, found end of input at offset 28",
        ),
        (
            r#"[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.999']"}]"#,
            0,
            "[0].pattern",
            Code::Value,
            "invalid IPv4 address `1.2.3.999`: expected four decimal octets 0–255 like `203.0.113.7`, optionally with `/prefix`",
        ),
        (r#"[{"type":"indicator","id":"indicator--1"}]"#, 0, "[0].pattern", Code::Missing, "missing field `pattern`"),
        (
            r#"[{"type":"indicator","id":"indicator--1","pattern":7}]"#,
            0,
            "[0].pattern",
            Code::Type,
            "expected a string, found the number `7`",
        ),
        (
            r#"[{"type":"ipv4-addr","value":"1.2.3.4"},{"type":"indicator","id":"indicator--2","pattern":"x","pattern_type":"sigma"}]"#,
            1,
            "[1].pattern_type",
            Code::Unsupported,
            "pattern type `sigma` is not relayed: expected `stix`",
        ),
        (
            r#"[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4']","valid_until":"soon"}]"#,
            0,
            "[0].valid_until",
            Code::Value,
            "invalid timestamp `soon`: expected RFC 3339, like `2024-01-31T12:00:00Z`",
        ),
        (
            r#"[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4']","confidence":140}]"#,
            0,
            "[0].confidence",
            Code::Value,
            "invalid confidence `140`: expected a number from 0 to 100",
        ),
        (
            r#"{"data":[{"type":"Address","ownerName":"o"}]}"#,
            0,
            "data[0].ip",
            Code::Missing,
            "missing value: expected `ip` or `summary`",
        ),
        (
            r#"[{"type":"update","data":{"type":"ipv4-addr","value":"1.2.3.4"}},{"type":"upgrade","data":{}}]"#,
            1,
            "[1].type",
            Code::Shape,
            "unknown OpenCTI event type `upgrade`: expected `create`, `update`, `merge` or `delete`",
        ),
        (
            r#"{"Attribute":[{"type":"ip-dst|port","value":"1.2.3.4|http","to_ids":true}]}"#,
            0,
            "Attribute[0].value",
            Code::Value,
            "invalid port `http`: expected a number from 1 to 65535",
        ),
    ] {
        let decoded = decode(payload, &DecodeOptions { format: None, ..DecodeOptions::default() })
            .unwrap_or_else(|e| panic!("{payload}: {e}"));
        assert_eq!(decoded.errors.len(), 1, "{payload}: {:?}", decoded.errors);
        let e = &decoded.errors[0];
        assert_eq!((e.index, e.path.as_str(), e.code, e.message.as_str()), (index, path, code, message), "{payload}");
    }
}

#[test]
fn one_bad_item_never_sinks_the_others() {
    let payload = r#"[
        {"type":"ipv4-addr","value":"1.2.3.4"},
        {"type":"ipv4-addr","value":"nope"},
        {"type":"domain-name","value":"evil.example"},
        17,
        {"type":"indicator","id":"indicator--1","pattern":"[url:value = 'http://a.test/'] OR [ipv4-addr:value = '300.1.1.1'] OR [domain-name:value = 'b.test']"}
    ]"#;
    let d = run(payload);
    let values: Vec<&str> = d.items.iter().map(|i| i.observable.as_ref().unwrap().value.as_str()).collect();
    assert_eq!(values, ["1.2.3.4", "evil.example", "http://a.test/", "b.test"]);
    let errors: Vec<(usize, &str)> = d.errors.iter().map(|e| (e.index, e.path.as_str())).collect();
    assert_eq!(errors, [(1, "[1].value"), (3, "[3]"), (4, "[4].pattern")]);
    // Items of one source share its id.
    assert_eq!(d.items[2].source.id, d.items[3].source.id);
}

#[test]
fn tlp_takes_the_strictest_marking() {
    let d = run(r#"[{"type":"ipv4-addr","value":"1.2.3.4","object_marking_refs":[
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}]"#);
    assert_eq!(d.items[0].tlp, Some(Tlp::Red));
}

#[test]
fn opencti_extension_and_legacy_fields_are_both_read() {
    let ext = run(
        r#"{"type":"create","data":{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4']","confidence":10,
        "extensions":{"extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba":{"score":91,"detection":true,"id":"internal-1"}}}}"#,
    );
    let legacy = run(
        r#"{"type":"create","data":{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4']","confidence":10,
        "x_opencti_score":91,"x_opencti_detection":true,"x_opencti_id":"internal-1"}}"#,
    );
    for d in [&ext, &legacy] {
        let item = &d.items[0];
        assert_eq!((item.scoring.score, item.scoring.confidence, item.detection), (Some(91), Some(10), Some(true)));
        assert_eq!(item.source.external_id.as_deref(), Some("internal-1"));
        assert_eq!(item.event, Some(Event::Create));
    }
}

#[test]
fn envelope_delete_turns_everything_into_removals() {
    let d = run(
        r#"{"action":"delete","indicators":["1.2.3.4",{"type":"create","data":{"type":"url","value":"http://x.test/"}}]}"#,
    );
    assert_eq!(d.format, Format::Envelope);
    assert!(d.items.iter().all(|i| i.action == Action::Remove && i.event == Some(Event::Delete)));
    assert_eq!(d.items[0].format, Format::Envelope);
    assert_eq!(d.items[1].format, Format::Opencti);
    assert_eq!(d.items[1].observable.as_ref().unwrap().kind, ObservableType::Url);
}

#[test]
fn envelope_inside_envelope_is_refused() {
    let d = run(r#"{"action":"upsert","indicators":[{"action":"delete","indicators":["1.2.3.4"]}]}"#);
    assert_eq!(d.items.len(), 0);
    assert_eq!(d.errors[0].message, "an envelope cannot contain another envelope");
    assert_eq!(d.errors[0].path, "indicators[0]");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = decode(&deep, &DecodeOptions::default()).unwrap_err();
    assert_eq!(err.code(), Code::Json);
    assert!(err.message().contains("recursion limit exceeded"), "{}", err.message());
}
