//! The request-body validators of `tests/support/msapi.rs`, pinned: the minimal bodies documented in
//! `reference/microsoft-apis.md` are valid, and every rule has at least one violating body with its
//! exact path and message. Later property tests run every planned request through these validators.

// Tests fail by panicking, index into results they have just checked, and hold long tables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::too_many_lines)]

#[path = "support/msapi.rs"]
mod msapi;

// One module named like the file, so that `cargo test msapi_validators` selects these tests too.
mod msapi_validators {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::msapi::{
        LegacyGeneration, Violation, defender_batch_delete, defender_import, defender_indicator,
        graph_delete_by_external_id, graph_submit, graph_ti_indicator, graph_update, sentinel_legacy_upload,
        sentinel_stix_upload,
    };

    /// The minimal STIX objects upload body of §1.2, verbatim.
    const SENTINEL_MINIMAL: &str = r#"{"sourcesystem":"my-relay","stixobjects":[{"type":"indicator","spec_version":"2.1",
 "id":"indicator--10000003-71a2-445c-ab86-927291df48f8","created":"2024-01-01T00:00:00.000Z",
 "modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.7']",
 "pattern_type":"stix","valid_from":"2024-01-01T00:00:00.000Z"}]}"#;

    /// The minimal `POST /api/indicators` body of §2.3, verbatim.
    const DEFENDER_MINIMAL: &str = r#"{"indicatorValue":"203.0.113.7","indicatorType":"IpAddress","action":"Block","title":"relay","description":"relay","generateAlert":true}"#;

    /// The minimal tiIndicator of §3, verbatim.
    const GRAPH_MINIMAL: &str = r#"{"action":"alert","description":"relay","expirationDateTime":"2026-01-01T00:00:00Z","targetProduct":"Azure Sentinel","threatType":"WatchList","tlpLevel":"green","networkIPv4":"203.0.113.7"}"#;

    const UUID: &str = "10000003-71a2-445c-ab86-927291df48f8";
    const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
    const SHA1: &str = "220e7d15b011d7fac48f2bd61114db1022197f7f";
    const SHA256: &str = "2233223322332233223322332233223322332233223322332233223322332222";

    type Want = &'static [(&'static str, &'static str)];

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// `base` with each edit applied: `(pointer, Some(value))` sets, `(pointer, None)` removes.
    fn edit(base: &Value, edits: &[(&str, Option<Value>)]) -> Value {
        let mut value = base.clone();
        for (pointer, new) in edits {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let parent = value.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent} in {base}"));
            let object = parent.as_object_mut().unwrap();
            match new {
                Some(new) => object.insert((*key).to_owned(), new.clone()),
                None => object.remove(key),
            };
        }
        value
    }

    /// [`edit`], as the body text.
    fn with(base: &Value, edits: &[(&str, Option<Value>)]) -> String {
        edit(base, edits).to_string()
    }

    fn shorten(body: &str) -> String {
        if body.chars().count() > 300 {
            format!("{}…", body.chars().take(300).collect::<String>())
        } else {
            body.to_owned()
        }
    }

    /// Runs `validate` on each body and compares the violations (in any order) with the wanted ones.
    #[track_caller]
    fn check(validate: impl Fn(&str) -> Vec<Violation>, cases: &[(String, &[(&str, &str)])]) {
        let mut failures = Vec::new();
        for (body, want) in cases {
            let mut got: Vec<(String, String)> = validate(body).into_iter().map(|v| (v.path, v.message)).collect();
            got.sort();
            let mut want: Vec<(String, String)> =
                want.iter().map(|&(path, message)| (path.to_owned(), message.to_owned())).collect();
            want.sort();
            if got != want {
                failures.push(format!("{}\n   want: {want:#?}\n    got: {got:#?}", shorten(body)));
            }
        }
        assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    }

    // -----------------------------------------------------------------------------------------
    // Sentinel: STIX objects upload
    // -----------------------------------------------------------------------------------------

    fn sentinel() -> Value {
        parse(SENTINEL_MINIMAL)
    }

    /// One STIX object of another type, valid.
    fn sdo(ty: &str, extra: &Value) -> Value {
        let mut object = json!({
            "type": ty, "spec_version": "2.1", "id": format!("{ty}--{UUID}"),
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
        });
        for (key, value) in extra.as_object().unwrap() {
            object[key] = value.clone();
        }
        object
    }

    fn upload(objects: &[Value]) -> String {
        json!({"sourcesystem": "my-relay", "stixobjects": objects}).to_string()
    }

    fn indicators(n: usize) -> Vec<Value> {
        vec![sentinel()["stixobjects"][0].clone(); n]
    }

    #[test]
    fn sentinel_valid_bodies() {
        let full = edit(
            &sentinel(),
            &[
                ("/stixobjects/0/modified", Some(json!("2024-02-01T10:20:30.5Z"))),
                ("/stixobjects/0/created_by_ref", Some(json!(format!("identity--{UUID}")))),
                ("/stixobjects/0/revoked", Some(json!(false))),
                ("/stixobjects/0/labels", Some(json!(["c2", "botnet"]))),
                ("/stixobjects/0/confidence", Some(json!(0))),
                ("/stixobjects/0/lang", Some(json!("en"))),
                ("/stixobjects/0/object_marking_refs", Some(json!([TLP_GREEN]))),
                (
                    "/stixobjects/0/external_references",
                    Some(json!([{"source_name": "tc", "url": "https://x.example/1", "external_id": "1",
                                 "description": "d", "hashes": {"SHA-256": SHA256}}])),
                ),
                (
                    "/stixobjects/0/granular_markings",
                    Some(json!([{"marking_ref": "marking-definition--089a6ecb-cc15-43cc-9494-767639779123",
                                 "selectors": ["description", "labels"]}, {"lang": "en", "selectors": ["name"]}])),
                ),
                ("/stixobjects/0/pattern_version", Some(json!("2.1"))),
                ("/stixobjects/0/valid_until", Some(json!("2024-01-01T00:00:00.001Z"))),
                ("/stixobjects/0/name", Some(json!("203.0.113.7 | owner"))),
                ("/stixobjects/0/description", Some(json!("{\"a\":1}"))),
                ("/stixobjects/0/indicator_types", Some(json!(["malicious-activity"]))),
                (
                    "/stixobjects/0/kill_chain_phases",
                    Some(json!([{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}])),
                ),
                ("/stixobjects/0/confidence", Some(json!(100))),
                // Unknown properties and extensions are accepted (§1.2).
                ("/stixobjects/0/x_custom", Some(json!({"anything": [1, 2]}))),
                ("/stixobjects/0/extensions", Some(json!({"extension-definition--x": {"rank": 1}}))),
            ],
        );
        let spec20 = edit(
            &sentinel(),
            &[
                ("/stixobjects/0/spec_version", Some(json!("2.0"))),
                // START/STOP with plain strings: STIX 2.0 patterning only.
                (
                    "/stixobjects/0/pattern",
                    Some(json!("[file:name = 'a'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'")),
                ),
            ],
        );
        let no_spec_version = edit(&sentinel(), &[("/stixobjects/0/spec_version", None)]);
        let yara = edit(
            &sentinel(),
            &[
                ("/stixobjects/0/pattern", Some(json!("rule x { condition: true }"))),
                ("/stixobjects/0/pattern_type", Some(json!("yara"))),
            ],
        );
        let others = upload(&[
            sdo("attack-pattern", &json!({"name": "T1566 Phishing"})),
            sdo("threat-actor", &json!({"name": "APT-X"})),
            sdo("identity", &json!({"name": "ACME", "identity_class": "organization"})),
            sdo(
                "relationship",
                &json!({"relationship_type": "indicates", "source_ref": format!("indicator--{UUID}"),
                        "target_ref": format!("threat-actor--{UUID}")}),
            ),
        ]);
        check(
            sentinel_stix_upload,
            &[
                (SENTINEL_MINIMAL.to_owned(), &[]),
                (full.to_string(), &[]),
                (spec20.to_string(), &[]),
                (no_spec_version.to_string(), &[]),
                (yara.to_string(), &[]),
                (others, &[]),
                (upload(&indicators(100)), &[]),
                // Upper-case hexadecimal is still a UUID.
                (
                    with(
                        &sentinel(),
                        &[("/stixobjects/0/id", Some(json!(format!("indicator--{}", UUID.to_uppercase()))))],
                    ),
                    &[],
                ),
            ],
        );
    }

    #[test]
    fn sentinel_top_level() {
        let base = sentinel();
        check(
            sentinel_stix_upload,
            &[
                ("{".to_owned(), &[("$", "malformed JSON: EOF while parsing an object at line 1 column 1")]),
                (String::new(), &[("$", "malformed JSON: EOF while parsing a value at line 1 column 0")]),
                ("[]".to_owned(), &[("$", "expected an object, found an array")]),
                ("null".to_owned(), &[("$", "expected an object, found `null`")]),
                (with(&base, &[("/sourcesystem", None)]), &[("sourcesystem", "required property is missing")]),
                (
                    with(&base, &[("/sourcesystem", Some(json!(5)))]),
                    &[("sourcesystem", "expected a string, found `5`")],
                ),
                (
                    with(&base, &[("/sourcesystem", Some(json!(" ")))]),
                    &[("sourcesystem", "must not be empty, found `\" \"`")],
                ),
                (
                    with(&base, &[("/sourcesystem", Some(json!("microsoft SENTINEL")))]),
                    &[("sourcesystem", "expected your own source name, found the reserved `microsoft SENTINEL`")],
                ),
                (
                    with(&base, &[("/sourcesystem", None), ("/SourceSystem", Some(json!("my-relay")))]),
                    &[
                        (
                            "SourceSystem",
                            "expected `sourcesystem`: send property names in lowercase, as the documented examples do",
                        ),
                        ("sourcesystem", "required property is missing"),
                    ],
                ),
                (
                    with(&base, &[("/extra", Some(json!(1)))]),
                    &[("extra", "unknown top-level property: expected only `sourcesystem` and `stixobjects`")],
                ),
                (
                    with(&base, &[("/odd key", Some(json!(1)))]),
                    &[("$[\"odd key\"]", "unknown top-level property: expected only `sourcesystem` and `stixobjects`")],
                ),
                (with(&base, &[("/stixobjects", None)]), &[("stixobjects", "required property is missing")]),
                (
                    with(&base, &[("/stixobjects", Some(json!({})))]),
                    &[("stixobjects", "expected an array, found an object")],
                ),
                // An empty upload: the doc gives no lower bound; the planner must never send one.
                (
                    with(&base, &[("/stixobjects", Some(json!([])))]),
                    &[("stixobjects", "expected at least 1 object, found an empty array")],
                ),
                (upload(&indicators(101)), &[("stixobjects", "expected at most 100 objects per request, found 101")]),
                (
                    with(&base, &[("/stixobjects", Some(json!(["indicator"])))]),
                    &[("stixobjects[0]", "expected an object, found `\"indicator\"`")],
                ),
            ],
        );
    }

    #[test]
    fn sentinel_common_properties() {
        let base = sentinel();
        let o = "/stixobjects/0";
        let at = |key: &str, value: Value| with(&base, &[(&format!("{o}/{key}"), Some(value))]);
        let without = |key: &str| with(&base, &[(&format!("{o}/{key}"), None)]);
        check(
            sentinel_stix_upload,
            &[
                (without("type"), &[("stixobjects[0].type", "required property is missing")]),
                (
                    at("type", json!("malware")),
                    &[
                        (
                            "stixobjects[0].type",
                            "expected a supported type (`indicator`, `attack-pattern`, `threat-actor`, `identity`, `relationship`), found `malware`",
                        ),
                        ("stixobjects[0].id", "expected the prefix `malware--` to match `type`, found `indicator--`"),
                    ],
                ),
                (without("id"), &[("stixobjects[0].id", "required property is missing")]),
                (at("id", json!(7)), &[("stixobjects[0].id", "expected a string, found `7`")]),
                (
                    at("id", json!(UUID)),
                    &[(
                        "stixobjects[0].id",
                        "expected `indicator--<UUID>`, found `10000003-71a2-445c-ab86-927291df48f8`",
                    )],
                ),
                (
                    at("id", json!(format!("identity--{UUID}"))),
                    &[("stixobjects[0].id", "expected the prefix `indicator--` to match `type`, found `identity--`")],
                ),
                (
                    at("id", json!("indicator--10000003-71a2-445c-ab86-927291df48")),
                    &[(
                        "stixobjects[0].id",
                        "expected a UUID (8-4-4-4-12 hexadecimal digits) after `--`, found `10000003-71a2-445c-ab86-927291df48`",
                    )],
                ),
                (
                    at("id", json!("indicator--10000003-71a2-445c-ab86-927291df48fg")),
                    &[(
                        "stixobjects[0].id",
                        "expected a UUID (8-4-4-4-12 hexadecimal digits) after `--`, found `10000003-71a2-445c-ab86-927291df48fg`",
                    )],
                ),
                (
                    at("spec_version", json!("2.2")),
                    &[("stixobjects[0].spec_version", "expected one of `2.0`, `2.1`, found `2.2`")],
                ),
                (at("spec_version", json!(2.1)), &[("stixobjects[0].spec_version", "expected a string, found `2.1`")]),
                (without("created"), &[("stixobjects[0].created", "required property is missing")]),
                (without("modified"), &[("stixobjects[0].modified", "required property is missing")]),
                (
                    at("created", json!("2024-01-01")),
                    &[(
                        "stixobjects[0].created",
                        "expected an RFC 3339 UTC timestamp, found `2024-01-01` (not `YYYY-MM-DDTHH:MM:SS[.fraction]Z`)",
                    )],
                ),
                (
                    at("modified", json!("2024-01-01T01:00:00+01:00")),
                    &[(
                        "stixobjects[0].modified",
                        "expected an RFC 3339 UTC timestamp, found `2024-01-01T01:00:00+01:00` (offset must be `Z`)",
                    )],
                ),
                (
                    at("modified", json!("2024-01-01T00:00:00")),
                    &[(
                        "stixobjects[0].modified",
                        "expected an RFC 3339 UTC timestamp, found `2024-01-01T00:00:00` (no offset: expected `Z`)",
                    )],
                ),
                (
                    at("modified", json!("2024-01-01t00:00:00z")),
                    &[(
                        "stixobjects[0].modified",
                        "expected an RFC 3339 UTC timestamp, found `2024-01-01t00:00:00z` (not `YYYY-MM-DDTHH:MM:SS[.fraction]Z`)",
                    )],
                ),
                (
                    at("modified", json!("2023-02-29T00:00:00Z")),
                    &[(
                        "stixobjects[0].modified",
                        "expected an RFC 3339 UTC timestamp, found `2023-02-29T00:00:00Z` (day out of range)",
                    )],
                ),
                (
                    at("modified", json!("2024-01-01T24:00:00Z")),
                    &[(
                        "stixobjects[0].modified",
                        "expected an RFC 3339 UTC timestamp, found `2024-01-01T24:00:00Z` (hour out of range)",
                    )],
                ),
                (
                    at("modified", json!("2024-01-01T00:00:00.Z")),
                    &[(
                        "stixobjects[0].modified",
                        "expected an RFC 3339 UTC timestamp, found `2024-01-01T00:00:00.Z` (not `YYYY-MM-DDTHH:MM:SS[.fraction]Z`)",
                    )],
                ),
                (
                    at("modified", json!("2023-12-31T23:59:59.999Z")),
                    &[("stixobjects[0].modified", "must not be earlier than `created`")],
                ),
                (
                    at("created_by_ref", json!(format!("indicator--{UUID}"))),
                    &[("stixobjects[0].created_by_ref", "expected the prefix `identity--`, found `indicator--`")],
                ),
                (
                    at("revoked", json!("true")),
                    &[("stixobjects[0].revoked", "expected a boolean, found the string `\"true\"`: send JSON `true`")],
                ),
                (at("revoked", json!(1)), &[("stixobjects[0].revoked", "expected a boolean, found `1`")]),
                (at("labels", json!("c2")), &[("stixobjects[0].labels", "expected an array, found `\"c2\"`")]),
                (
                    at("labels", json!([])),
                    &[(
                        "stixobjects[0].labels",
                        "must not be empty: STIX forbids empty lists (omit the property instead)",
                    )],
                ),
                (at("labels", json!(["c2", 5])), &[("stixobjects[0].labels[1]", "expected a string, found `5`")]),
                (
                    at("confidence", json!(101)),
                    &[("stixobjects[0].confidence", "expected an integer from 0 to 100, found `101`")],
                ),
                (
                    at("confidence", json!(-1)),
                    &[("stixobjects[0].confidence", "expected an integer from 0 to 100, found `-1`")],
                ),
                (
                    at("confidence", json!(50.5)),
                    &[("stixobjects[0].confidence", "expected an integer from 0 to 100, found `50.5`")],
                ),
                (
                    at("confidence", json!("50")),
                    &[("stixobjects[0].confidence", "expected an integer from 0 to 100, found `\"50\"`")],
                ),
                (at("lang", json!(null)), &[("stixobjects[0].lang", "expected a string, found `null`")]),
                (
                    at("object_marking_refs", json!(["marking-definition--TLP:GREEN"])),
                    &[(
                        "stixobjects[0].object_marking_refs[0]",
                        "expected a UUID (8-4-4-4-12 hexadecimal digits) after `--`, found `TLP:GREEN`",
                    )],
                ),
                (
                    at("object_marking_refs", json!([TLP_GREEN, "TLP:GREEN"])),
                    &[(
                        "stixobjects[0].object_marking_refs[1]",
                        "expected `marking-definition--<UUID>`, found `TLP:GREEN`",
                    )],
                ),
                (
                    at("external_references", json!([{"url": "https://x.example"}])),
                    &[("stixobjects[0].external_references[0].source_name", "required property is missing")],
                ),
                (
                    at("external_references", json!([{"source_name": "tc", "url": 5, "hashes": {"SHA-256": 1}}])),
                    &[
                        ("stixobjects[0].external_references[0].url", "expected a string, found `5`"),
                        ("stixobjects[0].external_references[0].hashes.SHA-256", "expected a string, found `1`"),
                    ],
                ),
                (
                    at("granular_markings", json!([{"selectors": ["labels"]}])),
                    &[("stixobjects[0].granular_markings[0]", "expected `marking_ref` or `lang`, found neither")],
                ),
                (
                    at("granular_markings", json!([{"marking_ref": TLP_GREEN, "lang": "en", "selectors": ["labels"]}])),
                    &[(
                        "stixobjects[0].granular_markings[0]",
                        "expected only one of `marking_ref` and `lang`, found both",
                    )],
                ),
                (
                    at("granular_markings", json!([{"marking_ref": TLP_GREEN}])),
                    &[("stixobjects[0].granular_markings[0].selectors", "required property is missing")],
                ),
                (
                    at("granular_markings", json!([{"marking_ref": TLP_GREEN, "selectors": []}])),
                    &[(
                        "stixobjects[0].granular_markings[0].selectors",
                        "must not be empty: STIX forbids empty lists (omit the property instead)",
                    )],
                ),
            ],
        );
    }

    #[test]
    fn sentinel_indicator_properties() {
        let base = sentinel();
        let o = "/stixobjects/0";
        let at = |key: &str, value: Value| with(&base, &[(&format!("{o}/{key}"), Some(value))]);
        let without = |key: &str| with(&base, &[(&format!("{o}/{key}"), None)]);
        check(
            sentinel_stix_upload,
            &[
                (without("pattern"), &[("stixobjects[0].pattern", "required property is missing")]),
                (at("pattern", json!("")), &[("stixobjects[0].pattern", "must not be empty, found `\"\"`")]),
                (
                    at("pattern", json!("[ipv4-addr:value = '203.0.113.7'")),
                    &[(
                        "stixobjects[0].pattern",
                        "`pattern_type` is `stix` but the pattern does not parse: expected `]`, found end of input at offset 32",
                    )],
                ),
                (without("pattern_type"), &[("stixobjects[0].pattern_type", "required property is missing")]),
                (
                    at("pattern_type", json!("STIX")),
                    &[(
                        "stixobjects[0].pattern_type",
                        "expected `stix` (pattern-type vocabulary values are lowercase), found `STIX`",
                    )],
                ),
                (without("valid_from"), &[("stixobjects[0].valid_from", "required property is missing")]),
                (
                    at("valid_from", json!(1_704_067_200)),
                    &[("stixobjects[0].valid_from", "expected a string, found `1704067200`")],
                ),
                (
                    at("valid_until", json!("2024-01-01T00:00:00Z")),
                    &[("stixobjects[0].valid_until", "must be later than `valid_from`")],
                ),
                (
                    at("valid_until", json!("2023-12-31T00:00:00.000Z")),
                    &[("stixobjects[0].valid_until", "must be later than `valid_from`")],
                ),
                (at("name", json!(["a"])), &[("stixobjects[0].name", "expected a string, found an array")]),
                (at("description", json!({})), &[("stixobjects[0].description", "expected a string, found an object")]),
                (
                    at("indicator_types", json!("malicious-activity")),
                    &[("stixobjects[0].indicator_types", "expected an array, found `\"malicious-activity\"`")],
                ),
                (
                    at("kill_chain_phases", json!(["delivery"])),
                    &[("stixobjects[0].kill_chain_phases[0]", "expected an object, found `\"delivery\"`")],
                ),
                (
                    at("kill_chain_phases", json!([{"kill_chain_name": "lockheed-martin-cyber-kill-chain"}])),
                    &[("stixobjects[0].kill_chain_phases[0].phase_name", "required property is missing")],
                ),
                (
                    at("kill_chain_phases", json!([{"kill_chain_name": "", "phase_name": "delivery"}])),
                    &[("stixobjects[0].kill_chain_phases[0].kill_chain_name", "must not be empty, found `\"\"`")],
                ),
                // EXISTS is STIX 2.1 patterning: a 2.0 object (or `pattern_version` 2.0) may not use it.
                (
                    with(
                        &base,
                        &[
                            ("/stixobjects/0/spec_version", Some(json!("2.0"))),
                            ("/stixobjects/0/pattern", Some(json!("[EXISTS file:name]"))),
                        ],
                    ),
                    &[(
                        "stixobjects[0].pattern",
                        "`pattern_type` is `stix` but the pattern does not parse: `EXISTS` is STIX 2.1 syntax, not available in STIX 2.0 at offset 1",
                    )],
                ),
            ],
        );
    }

    #[test]
    fn sentinel_other_object_types() {
        check(
            sentinel_stix_upload,
            &[
                (
                    upload(&[sdo("attack-pattern", &json!({}))]),
                    &[("stixobjects[0].name", "required property is missing")],
                ),
                (
                    upload(&[sdo("identity", &json!({"name": ""}))]),
                    &[("stixobjects[0].name", "must not be empty, found `\"\"`")],
                ),
                (
                    upload(&[sdo("relationship", &json!({"source_ref": "indicator"}))]),
                    &[
                        ("stixobjects[0].relationship_type", "required property is missing"),
                        ("stixobjects[0].source_ref", "expected `<type>--<UUID>`, found `indicator`"),
                        ("stixobjects[0].target_ref", "required property is missing"),
                    ],
                ),
                // Indicator properties are not required of other types.
                (upload(&[sdo("threat-actor", &json!({"name": "APT-X", "pattern": 5}))]), &[]),
                // Every object of a batch is checked, with its own index.
                (
                    upload(&[sentinel()["stixobjects"][0].clone(), sdo("threat-actor", &json!({"confidence": 200}))]),
                    &[
                        ("stixobjects[1].name", "required property is missing"),
                        ("stixobjects[1].confidence", "expected an integer from 0 to 100, found `200`"),
                    ],
                ),
            ],
        );
    }

    // -----------------------------------------------------------------------------------------
    // Sentinel: legacy upload-indicators API
    // -----------------------------------------------------------------------------------------

    fn legacy(key: &str, objects: Vec<Value>) -> String {
        let mut body = json!({"sourcesystem": "my-relay"});
        body[key] = Value::Array(objects);
        body.to_string()
    }

    #[test]
    fn sentinel_legacy() {
        let v1 = |body: &str| sentinel_legacy_upload(body, LegacyGeneration::V1);
        let v2 = |body: &str| sentinel_legacy_upload(body, LegacyGeneration::V2);
        let one = indicators(1);
        check(
            v1,
            &[
                (legacy("value", one.clone()), &[]),
                (legacy("value", indicators(100)), &[]),
                (legacy("value", indicators(101)), &[("value", "expected at most 100 objects per request, found 101")]),
                (legacy("value", vec![]), &[("value", "expected at least 1 object, found an empty array")]),
                (
                    legacy("indicators", one.clone()),
                    &[
                        ("indicators", "wrong array key for this endpoint generation: expected `value`"),
                        ("value", "required property is missing"),
                    ],
                ),
                (
                    legacy("Value", one.clone()),
                    &[
                        ("Value", "expected `value`: send property names in lowercase, as the documented examples do"),
                        ("value", "required property is missing"),
                    ],
                ),
                (
                    legacy("stixobjects", one.clone()),
                    &[
                        ("stixobjects", "unknown top-level property: expected only `sourcesystem` and `value`"),
                        ("value", "required property is missing"),
                    ],
                ),
                (
                    with(
                        &parse(&legacy("value", one.clone())),
                        &[("/sourcesystem", Some(json!("Microsoft Sentinel")))],
                    ),
                    &[("sourcesystem", "expected your own source name, found the reserved `Microsoft Sentinel`")],
                ),
                // Only indicators, and the indicator rules of §1.2.
                (
                    legacy("value", vec![sdo("attack-pattern", &json!({"name": "x"}))]),
                    &[(
                        "value[0].type",
                        "expected `indicator` (the legacy API uploads only indicators), found `attack-pattern`",
                    )],
                ),
                (
                    with(&parse(&legacy("value", one.clone())), &[("/value/0/valid_from", None)]),
                    &[("value[0].valid_from", "required property is missing")],
                ),
            ],
        );
        check(
            v2,
            &[
                (legacy("indicators", one.clone()), &[]),
                (
                    legacy("value", one.clone()),
                    &[
                        ("value", "wrong array key for this endpoint generation: expected `indicators`"),
                        ("indicators", "required property is missing"),
                    ],
                ),
                (
                    legacy("indicators", indicators(101)),
                    &[("indicators", "expected at most 100 objects per request, found 101")],
                ),
                (
                    with(
                        &parse(&legacy("indicators", one)),
                        &[("/indicators/0/valid_until", Some(json!("2023-01-01T00:00:00Z")))],
                    ),
                    &[("indicators[0].valid_until", "must be later than `valid_from`")],
                ),
            ],
        );
    }

    // -----------------------------------------------------------------------------------------
    // Defender for Endpoint
    // -----------------------------------------------------------------------------------------

    fn defender() -> Value {
        parse(DEFENDER_MINIMAL)
    }

    /// A valid indicator of a type, value and action.
    fn mde(ty: &str, value: &str, action: &str) -> Value {
        edit(
            &defender(),
            &[
                ("/indicatorType", Some(json!(ty))),
                ("/indicatorValue", Some(json!(value))),
                ("/action", Some(json!(action))),
            ],
        )
    }

    #[test]
    fn defender_valid_bodies() {
        let full = edit(
            &defender(),
            &[
                ("/application", Some(json!("ti-relay"))),
                ("/expirationTime", Some(json!("2026-12-12T00:00:00Z"))),
                ("/severity", Some(json!("Informational"))),
                ("/recommendedActions", Some(json!("nothing"))),
                ("/rbacGroupNames", Some(json!(["group1", "group2"]))),
                ("/rbacGroupIds", Some(json!([]))),
                ("/externalId", Some(json!("indicator--x"))),
                ("/id", Some(json!("995"))),
                ("/lastUpdateTime", Some(json!("2026-01-01T00:00:00.1234567Z"))),
                // Unknown keys are allowed (`category`, `mitreTechniques` are reported to work).
                ("/category", Some(json!("Malware"))),
                ("/mitreTechniques", Some(json!(["T1566"]))),
            ],
        );
        let no_generate_alert = edit(&defender(), &[("/generateAlert", None)]);
        let cases: Vec<(String, Want)> = [
            defender(),
            full,
            no_generate_alert,
            mde("FileSha1", SHA1, "BlockAndRemediate"),
            mde("FileMd5", "0123456789abcdefABCDEF0123456789", "Warn"),
            mde("FileSha256", SHA256, "Allowed"),
            mde("CertificateThumbprint", SHA1, "BlockAndRemediate"),
            mde("IpAddress", "2001:4860:4860:0:0:0:0:8888", "Warn"),
            mde("DomainName", "evil-host_1.example.co.uk", "Block"),
            mde("Url", "http://evil.example/path?q=1#f", "Allowed"),
            edit(&mde("Url", "https://evil.example/", "Warn"), &[("/educateUrl", Some(json!("https://intranet/why")))]),
            edit(&mde("FileSha256", SHA256, "Audit"), &[("/generateAlert", Some(json!(true)))]),
        ]
        .into_iter()
        .map(|body| (body.to_string(), &[][..]))
        .collect();
        check(defender_indicator, &cases);
    }

    #[test]
    fn defender_fields() {
        let base = defender();
        let at = |key: &str, value: Value| with(&base, &[(&format!("/{key}"), Some(value))]);
        check(
            defender_indicator,
            &[
                ("{\"a\":".to_owned(), &[("$", "malformed JSON: EOF while parsing a value at line 1 column 5")]),
                ("[]".to_owned(), &[("$", "expected an object, found an array")]),
                (
                    "{}".to_owned(),
                    &[
                        ("indicatorValue", "required property is missing"),
                        ("indicatorType", "required property is missing"),
                        ("action", "required property is missing"),
                        ("title", "required property is missing"),
                        ("description", "required property is missing"),
                    ],
                ),
                (
                    with(&base, &[("/indicatorValue", None), ("/IndicatorValue", Some(json!("203.0.113.7")))]),
                    &[
                        ("IndicatorValue", "field names are case-sensitive, expected `indicatorValue`"),
                        ("indicatorValue", "required property is missing"),
                    ],
                ),
                (
                    at("externalID", json!("x")),
                    &[("externalID", "field names are case-sensitive, expected `externalId`")],
                ),
                (
                    at("GenerateAlert", json!(true)),
                    &[("GenerateAlert", "field names are case-sensitive, expected `generateAlert`")],
                ),
                (at("indicatorValue", json!("")), &[("indicatorValue", "must not be empty, found `\"\"`")]),
                (
                    at("indicatorType", json!("ipaddress")),
                    &[(
                        "indicatorType",
                        "expected one of `FileSha1`, `FileMd5`, `FileSha256`, `CertificateThumbprint`, `IpAddress`, `DomainName`, `Url`, found `ipaddress`",
                    )],
                ),
                (
                    at("action", json!("Alert")),
                    &[(
                        "action",
                        "`Alert` is deprecated (supported until January 2022): expected `Audit` with `generateAlert: true`",
                    )],
                ),
                (
                    at("action", json!("AlertAndBlock")),
                    &[(
                        "action",
                        "`AlertAndBlock` is deprecated (supported until January 2022): expected `BlockAndRemediate` with `generateAlert: true`",
                    )],
                ),
                (
                    at("action", json!("block")),
                    &[(
                        "action",
                        "expected one of `Allowed`, `Audit`, `Warn`, `Block`, `BlockAndRemediate`, found `block`",
                    )],
                ),
                (
                    with(&base, &[("/action", Some(json!("Audit"))), ("/generateAlert", None)]),
                    &[("generateAlert", "`action` `Audit` requires `generateAlert: true`, found no `generateAlert`")],
                ),
                (
                    with(&base, &[("/action", Some(json!("Audit"))), ("/generateAlert", Some(json!(false)))]),
                    &[("generateAlert", "`action` `Audit` requires `generateAlert: true`, found `false`")],
                ),
                (
                    at("action", json!("BlockAndRemediate")),
                    &[(
                        "action",
                        "expected one of `Allowed`, `Audit`, `Warn`, `Block` for `IpAddress` indicators, found `BlockAndRemediate`",
                    )],
                ),
                (
                    mde("DomainName", "evil.example", "BlockAndRemediate").to_string(),
                    &[(
                        "action",
                        "expected one of `Allowed`, `Audit`, `Warn`, `Block` for `DomainName` indicators, found `BlockAndRemediate`",
                    )],
                ),
                (
                    mde("CertificateThumbprint", SHA1, "Block").to_string(),
                    &[(
                        "action",
                        "expected one of `Allowed`, `BlockAndRemediate` for `CertificateThumbprint` indicators, found `Block`",
                    )],
                ),
                (at("title", json!("")), &[("title", "must not be empty, found `\"\"`")]),
                (at("description", json!(5)), &[("description", "expected a string, found `5`")]),
                (
                    at("severity", json!("Critical")),
                    &[("severity", "expected one of `Informational`, `Low`, `Medium`, `High`, found `Critical`")],
                ),
                (
                    at("expirationTime", json!("2026-12-12")),
                    &[(
                        "expirationTime",
                        "expected an RFC 3339 UTC timestamp, found `2026-12-12` (not `YYYY-MM-DDTHH:MM:SS[.fraction]Z`)",
                    )],
                ),
                (
                    at("rbacGroupNames", json!("group1,group2")),
                    &[("rbacGroupNames", "expected an array, found `\"group1,group2\"`")],
                ),
                (at("rbacGroupNames", json!(["group1", 2])), &[("rbacGroupNames[1]", "expected a string, found `2`")]),
                (
                    at("generateAlert", json!("true")),
                    &[("generateAlert", "expected a boolean, found the string `\"true\"`: send JSON `true`")],
                ),
                (at("application", json!(1)), &[("application", "expected a string, found `1`")]),
                (at("id", json!(995)), &[("id", "expected a string, found `995`")]),
                (
                    at("educateUrl", json!("https://intranet/why not")),
                    &[("educateUrl", "expected a URL without whitespace, found `https://intranet/why not`")],
                ),
            ],
        );
    }

    #[test]
    fn defender_values() {
        let v = |ty: &str, value: &str, action: &str| mde(ty, value, action).to_string();
        let ip_error = "expected an IPv4 dotted quad or an IPv6 address with all 8 segments, found";
        check(
            defender_indicator,
            &[
                (
                    v("IpAddress", "10.0.0.0/8", "Block"),
                    &[(
                        "indicatorValue",
                        "CIDR ranges are not supported: expected a single address, found `10.0.0.0/8`",
                    )],
                ),
                (
                    v("IpAddress", "2001:4860:4860::8888", "Block"),
                    &[(
                        "indicatorValue",
                        "expected an IPv6 address with all 8 segments spelled out (no `::`), found `2001:4860:4860::8888`",
                    )],
                ),
                (
                    v("IpAddress", "256.1.1.1", "Block"),
                    &[("indicatorValue", format!("{ip_error} `256.1.1.1`").as_str())],
                ),
                (
                    v("IpAddress", "010.1.1.1", "Block"),
                    &[("indicatorValue", format!("{ip_error} `010.1.1.1`").as_str())],
                ),
                (v("IpAddress", "1.2.3.*", "Block"), &[("indicatorValue", format!("{ip_error} `1.2.3.*`").as_str())]),
                (
                    v("IpAddress", "0:0:0:0:0:ffff:203.0.113.7", "Block"),
                    &[("indicatorValue", format!("{ip_error} `0:0:0:0:0:ffff:203.0.113.7`").as_str())],
                ),
                (
                    v("IpAddress", "evil.example", "Block"),
                    &[("indicatorValue", format!("{ip_error} `evil.example`").as_str())],
                ),
                (
                    v("FileSha1", &SHA1[1..], "Block"),
                    &[(
                        "indicatorValue",
                        "expected 40 hexadecimal digits (SHA-1), found `20e7d15b011d7fac48f2bd61114db1022197f7f`",
                    )],
                ),
                (
                    v("FileMd5", "0123456789abcdef0123456789abcdeg", "Block"),
                    &[(
                        "indicatorValue",
                        "expected 32 hexadecimal digits (MD5), found `0123456789abcdef0123456789abcdeg`",
                    )],
                ),
                (
                    v("FileSha256", SHA1, "Block"),
                    &[(
                        "indicatorValue",
                        "expected 64 hexadecimal digits (SHA-256), found `220e7d15b011d7fac48f2bd61114db1022197f7f`",
                    )],
                ),
                (
                    v("CertificateThumbprint", SHA256, "Allowed"),
                    &[(
                        "indicatorValue",
                        "expected 40 hexadecimal digits (a SHA-1 thumbprint), found `2233223322332233223322332233223322332233223322332233223322332222`",
                    )],
                ),
                (
                    v("DomainName", "http://evil.example", "Block"),
                    &[("indicatorValue", "expected a host name (no scheme), found `http://evil.example`")],
                ),
                (
                    v("DomainName", "evil.example/login", "Block"),
                    &[("indicatorValue", "expected a host name (no path), found `evil.example/login`")],
                ),
                (
                    v("DomainName", "evil.example:8443", "Block"),
                    &[("indicatorValue", "expected a host name (no port), found `evil.example:8443`")],
                ),
                (
                    v("DomainName", "*.evil.example", "Block"),
                    &[("indicatorValue", "expected a host name (no wildcard), found `*.evil.example`")],
                ),
                (
                    v("DomainName", "203.0.113.7", "Block"),
                    &[("indicatorValue", "expected a host name (not an IP address), found `203.0.113.7`")],
                ),
                (
                    v("DomainName", "bücher.example", "Block"),
                    &[(
                        "indicatorValue",
                        "expected a host name (internationalised names in punycode (`xn--…`)), found `bücher.example`",
                    )],
                ),
                (
                    v("DomainName", "evil..example", "Block"),
                    &[(
                        "indicatorValue",
                        "expected a host name (dot-separated labels of 1 to 63 letters, digits, `-` or `_`), found `evil..example`",
                    )],
                ),
                (
                    v("DomainName", "-evil.example", "Block"),
                    &[(
                        "indicatorValue",
                        "expected a host name (dot-separated labels of 1 to 63 letters, digits, `-` or `_`), found `-evil.example`",
                    )],
                ),
                (
                    v("Url", "http://evil.example/a b", "Block"),
                    &[("indicatorValue", "expected a URL without whitespace, found `http://evil.example/a b`")],
                ),
                // A long value is shortened in the message.
                (
                    v("Url", &format!("http://evil.example/{}\n", "a".repeat(100)), "Block"),
                    &[(
                        "indicatorValue",
                        "expected a URL without whitespace, found `http://evil.example/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…`",
                    )],
                ),
            ],
        );
    }

    #[test]
    fn defender_import_bodies() {
        // The documented example (import-ti-indicators.md) uses the deprecated `Alert`: exactly that is wrong.
        let documented = r#"{"Indicators":[
            {"indicatorValue":"220e7d15b011d7fac48f2bd61114db1022197f7f","indicatorType":"FileSha1","title":"demo",
             "application":"demo-test","expirationTime":"2021-12-12T00:00:00Z","action":"Alert","severity":"Informational",
             "description":"demo2","recommendedActions":"nothing","rbacGroupNames":["group1","group2"]},
            {"indicatorValue":"2233223322332233223322332233223322332233223322332233223322332222","indicatorType":"FileSha256",
             "title":"demo2","application":"demo-test2","expirationTime":"2021-12-12T00:00:00Z","action":"Alert",
             "severity":"Medium","description":"demo2","recommendedActions":"nothing","rbacGroupNames":[]}]}"#;
        let deprecated =
            "`Alert` is deprecated (supported until January 2022): expected `Audit` with `generateAlert: true`";
        let import = |n: usize| json!({"Indicators": vec![defender(); n]}).to_string();
        let mut second_bad = vec![defender(); 3];
        second_bad[1]["title"] = json!(null);
        second_bad[2]["indicatorValue"] = json!("203.0.113.0/24");
        check(
            defender_import,
            &[
                (import(1), &[]),
                (import(500), &[]),
                (documented.to_owned(), &[("Indicators[0].action", deprecated), ("Indicators[1].action", deprecated)]),
                (import(501), &[("Indicators", "expected at most 500 indicators per request, found 501")]),
                (import(0), &[("Indicators", "expected at least 1 indicator, found an empty array")]),
                (
                    json!({"indicators": [defender()]}).to_string(),
                    &[
                        ("indicators", "field names are case-sensitive, expected `Indicators`"),
                        ("Indicators", "required property is missing"),
                    ],
                ),
                (
                    json!({"Indicators": defender()}).to_string(),
                    &[("Indicators", "expected an array, found an object")],
                ),
                (
                    json!({"Indicators": second_bad}).to_string(),
                    &[
                        ("Indicators[1].title", "expected a string, found `null`"),
                        (
                            "Indicators[2].indicatorValue",
                            "CIDR ranges are not supported: expected a single address, found `203.0.113.0/24`",
                        ),
                    ],
                ),
                ("\"x\"".to_owned(), &[("$", "expected an object, found `\"x\"`")]),
            ],
        );
    }

    #[test]
    fn defender_batch_delete_bodies() {
        let ids = |n: usize| json!({"IndicatorIds": (1..=n).map(|i| i.to_string()).collect::<Vec<_>>()}).to_string();
        check(
            defender_batch_delete,
            &[
                // The documented example (batch-delete-ti-indicators.md).
                (r#"{"IndicatorIds": [ "1", "2", "5" ]}"#.to_owned(), &[]),
                (ids(500), &[]),
                (ids(501), &[("IndicatorIds", "expected at most 500 ids per request, found 501")]),
                (ids(0), &[("IndicatorIds", "expected at least 1 id, found an empty array")]),
                (
                    r#"{"indicatorIds":["1"]}"#.to_owned(),
                    &[
                        ("indicatorIds", "field names are case-sensitive, expected `IndicatorIds`"),
                        ("IndicatorIds", "required property is missing"),
                    ],
                ),
                (r#"{"IndicatorIds":[995]}"#.to_owned(), &[("IndicatorIds[0]", "expected a string, found `995`")]),
                (
                    r#"{"IndicatorIds":["995","indicator--x",""]}"#.to_owned(),
                    &[
                        ("IndicatorIds[1]", "expected a numeric indicator id like `995`, found `indicator--x`"),
                        ("IndicatorIds[2]", "expected a numeric indicator id like `995`, found ``"),
                    ],
                ),
                ("1".to_owned(), &[("$", "expected an object, found `1`")]),
            ],
        );
    }

    // -----------------------------------------------------------------------------------------
    // Graph tiIndicator
    // -----------------------------------------------------------------------------------------

    fn graph() -> Value {
        parse(GRAPH_MINIMAL)
    }

    /// [`graph_ti_indicator`] on a body text, for [`check`].
    fn graph_one(body: &str) -> Vec<Violation> {
        graph_ti_indicator(&parse(body))
    }

    #[test]
    fn graph_valid_bodies() {
        let mde = edit(
            &graph(),
            &[
                ("/networkIPv4", None),
                ("/targetProduct", Some(json!("Microsoft Defender ATP"))),
                ("/action", Some(json!("block"))),
                ("/fileHashValue", Some(json!(SHA256))),
                ("/fileHashType", Some(json!("sha256"))),
            ],
        );
        let full = edit(
            &graph(),
            &[
                ("/tlpLevel", Some(json!("red"))),
                ("/passiveOnly", Some(json!(true))),
                ("/isActive", Some(json!(false))),
                ("/confidence", Some(json!(100))),
                ("/severity", Some(json!(0))),
                ("/diamondModel", Some(json!("infrastructure"))),
                ("/killChain", Some(json!(["C2", "Actions"]))),
                ("/externalId", Some(json!("indicator--x"))),
                ("/tags", Some(json!(["a"]))),
                ("/activityGroupNames", Some(json!([]))),
                ("/lastReportedDateTime", Some(json!("2025-01-01T00:00:00.123Z"))),
                ("/networkIPv6", Some(json!("2001:db8::1"))),
                ("/networkCidrBlock", Some(json!("2001:db8::/32"))),
                ("/networkSourceCidrBlock", Some(json!("203.0.113.0/24"))),
                ("/networkPort", Some(json!(443))),
                ("/networkProtocol", Some(json!(6))),
                ("/networkDestinationAsn", Some(json!(2_147_483_647))),
                ("/domainName", Some(json!("evil.example"))),
                ("/url", Some(json!("https://evil.example/a?b=c"))),
                ("/fileSize", Some(json!(0))),
                ("/@odata.type", Some(json!("#microsoft.graph.tiIndicator"))),
            ],
        );
        let description_100 = edit(&graph(), &[("/description", Some(json!("d".repeat(100))))]);
        // 50 characters outside the BMP are 100 UTF-16 code units.
        let emoji_100 = edit(&graph(), &[("/description", Some(json!("🦀".repeat(50))))]);
        let email_only =
            edit(&graph(), &[("/networkIPv4", None), ("/emailSenderAddress", Some(json!("a@evil.example")))]);
        let cases: Vec<(String, Want)> = [graph(), mde, full, description_100, emoji_100, email_only]
            .into_iter()
            .map(|body| (body.to_string(), &[][..]))
            .collect();
        check(graph_one, &cases);
    }

    #[test]
    fn graph_properties() {
        let base = graph();
        let at = |key: &str, value: Value| with(&base, &[(&format!("/{key}"), Some(value))]);
        check(
            graph_one,
            &[
                ("[]".to_owned(), &[("$", "expected an object, found an array")]),
                (
                    json!({"networkIPv4": "203.0.113.7"}).to_string(),
                    &[
                        ("action", "required property is missing"),
                        ("description", "required property is missing"),
                        ("expirationDateTime", "required property is missing"),
                        ("targetProduct", "required property is missing"),
                        ("threatType", "required property is missing"),
                        ("tlpLevel", "required property is missing"),
                    ],
                ),
                (
                    at("action", json!("Alert")),
                    &[("action", "expected one of `unknown`, `allow`, `block`, `alert`, found `Alert`")],
                ),
                (at("description", json!("")), &[("description", "must not be empty, found `\"\"`")]),
                (
                    at("description", json!("d".repeat(101))),
                    &[("description", "expected at most 100 characters, found 101")],
                ),
                (
                    at("description", json!("🦀".repeat(51))),
                    &[("description", "expected at most 100 characters, found 102")],
                ),
                (
                    at("expirationDateTime", json!("2026-01-01T00:00:00.000+00:00")),
                    &[(
                        "expirationDateTime",
                        "expected an RFC 3339 UTC timestamp, found `2026-01-01T00:00:00.000+00:00` (offset must be `Z`)",
                    )],
                ),
                (
                    at("targetProduct", json!("Microsoft Sentinel")),
                    &[(
                        "targetProduct",
                        "expected `Azure Sentinel` (the API rejects `Microsoft Sentinel`), found `Microsoft Sentinel`",
                    )],
                ),
                (
                    at("targetProduct", json!("Defender")),
                    &[(
                        "targetProduct",
                        "expected one of `Azure Sentinel`, `Microsoft Defender ATP`, found `Defender`",
                    )],
                ),
                (
                    at("threatType", json!("botnet")),
                    &[(
                        "threatType",
                        "expected one of `Botnet`, `C2`, `CryptoMining`, `Darknet`, `DDoS`, `MaliciousUrl`, `Malware`, `Phishing`, `Proxy`, `PUA`, `WatchList`, found `botnet`",
                    )],
                ),
                (
                    at("tlpLevel", json!("TLP:GREEN")),
                    &[("tlpLevel", "expected one of `unknown`, `white`, `green`, `amber`, `red`, found `TLP:GREEN`")],
                ),
                (at("confidence", json!(101)), &[("confidence", "expected an integer from 0 to 100, found `101`")]),
                (at("severity", json!(6)), &[("severity", "expected an integer from 0 to 5, found `6`")]),
                (at("severity", json!("3")), &[("severity", "expected an integer from 0 to 5, found `\"3\"`")]),
                (
                    at("killChain", json!(["C2", "c2"])),
                    &[(
                        "killChain[1]",
                        "expected one of `Actions`, `C2`, `Delivery`, `Exploitation`, `Installation`, `Reconnaissance`, `Weaponization`, found `c2`",
                    )],
                ),
                (at("killChain", json!("C2")), &[("killChain", "expected an array, found `\"C2\"`")]),
                (at("diamondModel", json!(3)), &[("diamondModel", "expected a string, found `3`")]),
                (
                    at("diamondModel", json!("Adversary")),
                    &[(
                        "diamondModel",
                        "expected one of `unknown`, `adversary`, `capability`, `infrastructure`, `victim`, `unknownFutureValue`, found `Adversary`",
                    )],
                ),
                // The OpenCTI connector sent "true"/"false" strings.
                (
                    at("passiveOnly", json!("true")),
                    &[("passiveOnly", "expected a boolean, found the string `\"true\"`: send JSON `true`")],
                ),
                (
                    at("isActive", json!("False")),
                    &[("isActive", "expected a boolean, found the string `\"False\"`: send JSON `false`")],
                ),
                (at("isActive", json!(0)), &[("isActive", "expected a boolean, found `0`")]),
                (
                    at("networkPort", json!(70000)),
                    &[("networkPort", "expected an integer from 0 to 65535, found `70000`")],
                ),
                (
                    at("networkSourcePort", json!(443.0)),
                    &[("networkSourcePort", "expected an integer from 0 to 65535, found `443.0`")],
                ),
                (
                    at("networkDestinationAsn", json!(4_200_000_000_u32)),
                    &[("networkDestinationAsn", "expected an integer from 0 to 2147483647, found `4200000000`")],
                ),
                (
                    at("networkProtocol", json!(256)),
                    &[("networkProtocol", "expected an integer from 0 to 255, found `256`")],
                ),
                (
                    at("fileSize", json!(-1)),
                    &[("fileSize", "expected an integer from 0 to 9223372036854775807, found `-1`")],
                ),
                (
                    at("networkIPv4", json!("203.0.113.256")),
                    &[("networkIPv4", "expected an IPv4 address, found `203.0.113.256`")],
                ),
                (
                    at("networkSourceIPv6", json!("2001:db8:::1")),
                    &[("networkSourceIPv6", "expected an IPv6 address, found `2001:db8:::1`")],
                ),
                (
                    at("networkCidrBlock", json!("203.0.113.0/33")),
                    &[("networkCidrBlock", "expected a CIDR block like `203.0.113.0/24`, found `203.0.113.0/33`")],
                ),
                (
                    at("networkDestinationCidrBlock", json!("203.0.113.0")),
                    &[(
                        "networkDestinationCidrBlock",
                        "expected a CIDR block like `203.0.113.0/24`, found `203.0.113.0`",
                    )],
                ),
                (
                    at("domainName", json!("https://evil.example")),
                    &[("domainName", "expected a host name (no scheme), found `https://evil.example`")],
                ),
                (
                    at("url", json!("https://evil.example/a b")),
                    &[("url", "expected a URL without whitespace, found `https://evil.example/a b`")],
                ),
                (
                    at("fileCompileDateTime", json!("yesterday")),
                    &[(
                        "fileCompileDateTime",
                        "expected an RFC 3339 UTC timestamp, found `yesterday` (not `YYYY-MM-DDTHH:MM:SS[.fraction]Z`)",
                    )],
                ),
                (at("tags", json!([1])), &[("tags[0]", "expected a string, found `1`")]),
                (at("emailSubject", json!(1)), &[("emailSubject", "expected a string, found `1`")]),
                // OData rejects what the entity does not have; names are case-sensitive.
                (at("foo", json!(1)), &[("foo", "unknown property: a tiIndicator has no `foo`")]),
                (
                    with(&base, &[("/tlpLevel", None), ("/TlpLevel", Some(json!("green")))]),
                    &[
                        ("TlpLevel", "property names are case-sensitive, expected `tlpLevel`"),
                        ("tlpLevel", "required property is missing"),
                    ],
                ),
            ],
        );
    }

    #[test]
    fn graph_cross_property_rules() {
        let base = graph();
        let no_observable = "no observable: expected at least one email, file or network property (e.g. `networkIPv4`, `domainName`, `fileHashValue`)";
        let mde_needs = "`Microsoft Defender ATP` needs one of `domainName`, `url`, `networkDestinationIPv4`, `networkDestinationIPv6`, `fileHashValue`";
        check(
            graph_one,
            &[
                (with(&base, &[("/networkIPv4", None)]), &[("$", no_observable)]),
                (
                    with(&base, &[("/networkIPv4", Some(Value::Null))]),
                    &[("$", no_observable), ("networkIPv4", "expected a string, found `null`")],
                ),
                // `fileHashType` alone observes nothing.
                (
                    with(&base, &[("/networkIPv4", None), ("/fileHashType", Some(json!("sha1")))]),
                    &[("$", no_observable)],
                ),
                (with(&base, &[("/targetProduct", Some(json!("Microsoft Defender ATP")))]), &[("$", mde_needs)]),
                (
                    with(
                        &base,
                        &[
                            ("/targetProduct", Some(json!("Microsoft Defender ATP"))),
                            ("/networkIPv4", None),
                            ("/networkDestinationIPv4", Some(json!("203.0.113.7"))),
                        ],
                    ),
                    &[],
                ),
                (
                    with(&base, &[("/fileHashValue", Some(json!(SHA1)))]),
                    &[("fileHashType", "required with `fileHashValue`")],
                ),
                (
                    with(&base, &[("/fileHashValue", Some(json!(SHA1))), ("/fileHashType", Some(json!("sha256")))]),
                    &[(
                        "fileHashValue",
                        "expected 64 hexadecimal digits (`sha256`), found `220e7d15b011d7fac48f2bd61114db1022197f7f`",
                    )],
                ),
                (
                    with(&base, &[("/fileHashValue", Some(json!(SHA256))), ("/fileHashType", Some(json!("md5")))]),
                    &[(
                        "fileHashValue",
                        "expected 32 hexadecimal digits (`md5`), found `2233223322332233223322332233223322332233223322332233223322332222`",
                    )],
                ),
                (
                    with(
                        &base,
                        &[("/fileHashValue", Some(json!("3:abc:def"))), ("/fileHashType", Some(json!("ctph")))],
                    ),
                    &[],
                ),
                (
                    with(&base, &[("/fileHashValue", Some(json!(SHA1))), ("/fileHashType", Some(json!("SHA1")))]),
                    &[(
                        "fileHashType",
                        "expected one of `unknown`, `sha1`, `sha256`, `md5`, `authenticodeHash256`, `lsHash`, `ctph`, found `SHA1`",
                    )],
                ),
                (
                    with(&base, &[("/tlpLevel", Some(json!("red")))]),
                    &[("passiveOnly", "`tlpLevel` `red` requires `passiveOnly: true`, found no `passiveOnly`")],
                ),
                (
                    with(&base, &[("/tlpLevel", Some(json!("red"))), ("/passiveOnly", Some(json!(false)))]),
                    &[("passiveOnly", "`tlpLevel` `red` requires `passiveOnly: true`, found `false`")],
                ),
                (
                    with(&base, &[("/tlpLevel", Some(json!("red"))), ("/passiveOnly", Some(json!("true")))]),
                    &[("passiveOnly", "expected a boolean, found the string `\"true\"`: send JSON `true`")],
                ),
            ],
        );
    }

    #[test]
    fn graph_submit_bodies() {
        let submit = |n: usize| json!({"value": vec![graph(); n]}).to_string();
        let mut second_bad = vec![graph(); 2];
        second_bad[1]["tlpLevel"] = json!("Green");
        check(
            graph_submit,
            &[
                (submit(1), &[]),
                (submit(100), &[]),
                (submit(101), &[("value", "expected at most 100 tiIndicators per request, found 101")]),
                (submit(0), &[("value", "expected at least 1 tiIndicator, found an empty array")]),
                (
                    json!({"value": second_bad}).to_string(),
                    &[(
                        "value[1].tlpLevel",
                        "expected one of `unknown`, `white`, `green`, `amber`, `red`, found `Green`",
                    )],
                ),
                (
                    json!({"Value": [graph()]}).to_string(),
                    &[
                        ("Value", "property names are case-sensitive, expected `value`"),
                        ("value", "required property is missing"),
                    ],
                ),
                // OData annotations are not properties.
                (json!({"value": [graph()], "@odata.context": "x"}).to_string(), &[]),
                (
                    json!({"value": [graph()], "values": []}).to_string(),
                    &[("values", "unknown top-level property: expected only `value`")],
                ),
                (json!({"value": [1]}).to_string(), &[("value[0]", "expected an object, found `1`")]),
                (
                    graph().to_string(),
                    &[
                        ("value", "required property is missing"),
                        ("action", "unknown top-level property: expected only `value`"),
                        ("description", "unknown top-level property: expected only `value`"),
                        ("expirationDateTime", "unknown top-level property: expected only `value`"),
                        ("networkIPv4", "unknown top-level property: expected only `value`"),
                        ("targetProduct", "unknown top-level property: expected only `value`"),
                        ("threatType", "unknown top-level property: expected only `value`"),
                        ("tlpLevel", "unknown top-level property: expected only `value`"),
                    ],
                ),
                ("{\"value\":[}".to_owned(), &[("$", "malformed JSON: expected value at line 1 column 11")]),
            ],
        );
    }

    #[test]
    fn graph_update_bodies() {
        let item = json!({"id": "some-graph-id", "expirationDateTime": "2026-06-01T00:00:00Z", "targetProduct": "Azure Sentinel"});
        let update = |item: Value| json!({"value": [item]}).to_string();
        check(
            graph_update,
            &[
                (update(item.clone()), &[]),
                (
                    update(edit(
                        &item,
                        &[
                            ("/description", Some(json!("relay"))),
                            ("/isActive", Some(json!(false))),
                            ("/tlpLevel", Some(json!("red"))),
                            ("/passiveOnly", Some(json!(true))),
                            ("/severity", Some(json!(5))),
                            ("/externalId", Some(json!("x"))),
                        ],
                    )),
                    &[],
                ),
                (json!({"value": vec![item.clone(); 100]}).to_string(), &[]),
                (
                    json!({"value": vec![item.clone(); 101]}).to_string(),
                    &[("value", "expected at most 100 tiIndicators per request, found 101")],
                ),
                (
                    update(json!({})),
                    &[
                        ("value[0].id", "required property is missing"),
                        ("value[0].expirationDateTime", "required property is missing"),
                        ("value[0].targetProduct", "required property is missing"),
                    ],
                ),
                (update(edit(&item, &[("/id", Some(json!(" ")))])), &[("value[0].id", "must not be empty")]),
                (
                    update(edit(&item, &[("/networkIPv4", Some(json!("203.0.113.7")))])),
                    &[("value[0].networkIPv4", "not editable by `updateTiIndicators`")],
                ),
                (
                    update(edit(&item, &[("/threatType", Some(json!("Botnet")))])),
                    &[("value[0].threatType", "not editable by `updateTiIndicators`")],
                ),
                (
                    update(edit(&item, &[("/targetProduct", Some(json!("Microsoft Defender ATP")))])),
                    &[(
                        "value[0].targetProduct",
                        "`Microsoft Defender ATP` does not support `updateTiIndicators`: update its indicators one at a time",
                    )],
                ),
                (
                    update(edit(&item, &[("/description", Some(json!("d".repeat(101))))])),
                    &[("value[0].description", "expected at most 100 characters, found 101")],
                ),
                (
                    update(edit(&item, &[("/tlpLevel", Some(json!("red")))])),
                    &[(
                        "value[0].passiveOnly",
                        "`tlpLevel` `red` requires `passiveOnly: true`, found no `passiveOnly`",
                    )],
                ),
                (
                    update(edit(&item, &[("/isActive", Some(json!("false")))])),
                    &[("value[0].isActive", "expected a boolean, found the string `\"false\"`: send JSON `false`")],
                ),
            ],
        );
    }

    #[test]
    fn graph_delete_by_external_id_bodies() {
        let ids =
            |n: usize| json!({"value": (0..n).map(|i| format!("indicator--{i}")).collect::<Vec<_>>()}).to_string();
        check(
            graph_delete_by_external_id,
            &[
                (ids(1), &[]),
                (ids(100), &[]),
                (ids(101), &[("value", "expected at most 100 external ids per request, found 101")]),
                (ids(0), &[("value", "expected at least 1 external id, found an empty array")]),
                (
                    r#"{"value":["a", 5, ""]}"#.to_owned(),
                    &[("value[1]", "expected a string, found `5`"), ("value[2]", "must not be empty, found `\"\"`")],
                ),
                (r#"{"value":"a"}"#.to_owned(), &[("value", "expected an array, found `\"a\"`")]),
            ],
        );
    }

    // -----------------------------------------------------------------------------------------
    // Robustness
    // -----------------------------------------------------------------------------------------

    fn all_validators(body: &str) {
        let _ = sentinel_stix_upload(body);
        let _ = sentinel_legacy_upload(body, LegacyGeneration::V1);
        let _ = sentinel_legacy_upload(body, LegacyGeneration::V2);
        let _ = defender_indicator(body);
        let _ = defender_import(body);
        let _ = defender_batch_delete(body);
        let _ = graph_submit(body);
        let _ = graph_update(body);
        let _ = graph_delete_by_external_id(body);
        if let Ok(value) = serde_json::from_str::<Value>(body) {
            let _ = graph_ti_indicator(&value);
        }
    }

    #[test]
    fn hostile_inputs_are_reported_not_panicked_on() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let deep_object = format!("{{\"stixobjects\":{}", "[".repeat(10_000));
        let huge_number = r#"{"confidence": 1e999}"#;
        for body in [deep.as_str(), deep_object.as_str(), huge_number, "\u{feff}{}", "{\"a\":\"\\ud800\"}", "\0"] {
            all_validators(body);
            let got = sentinel_stix_upload(body);
            assert_eq!(got.len(), 1, "{got:?}");
            assert_eq!(got[0].path, "$", "{got:?}");
        }
        // Odd but well-formed values in every position.
        let odd =
            [json!(null), json!(-1), json!(u64::MAX), json!(1.5), json!(""), json!("é🦀\u{0}"), json!([]), json!({})];
        for value in &odd {
            let mut s = sentinel();
            for key in ["id", "type", "created", "modified", "pattern", "valid_until", "kill_chain_phases", "labels"] {
                s["stixobjects"][0][key] = value.clone();
                all_validators(&s.to_string());
            }
            let mut d = defender();
            let mut g = graph();
            for key in [
                "indicatorValue",
                "indicatorType",
                "action",
                "generateAlert",
                "tlpLevel",
                "fileHashValue",
                "fileHashType",
                "targetProduct",
            ] {
                d[key] = value.clone();
                g[key] = value.clone();
                all_validators(&d.to_string());
                all_validators(&json!({"value": [g.clone()]}).to_string());
            }
        }
        let shown = sentinel_stix_upload(&with(&sentinel(), &[("/sourcesystem", Some(json!(5)))]));
        assert_eq!(shown[0].to_string(), "sourcesystem: expected a string, found `5`");
    }

    /// Any JSON value, up to a few levels deep, with keys the validators look for.
    fn any_json() -> impl Strategy<Value = Value> {
        let keys = prop::sample::select(vec![
            "sourcesystem",
            "stixobjects",
            "value",
            "indicators",
            "Indicators",
            "IndicatorIds",
            "type",
            "id",
            "created",
            "modified",
            "pattern",
            "pattern_type",
            "valid_from",
            "valid_until",
            "indicatorValue",
            "indicatorType",
            "action",
            "tlpLevel",
            "passiveOnly",
            "targetProduct",
            "fileHashValue",
            "fileHashType",
            "granular_markings",
            "x",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            prop::collection::vec(any::<char>(), 0..12).prop_map(|c| Value::from(String::from_iter(c))),
            prop::sample::select(vec![
                "indicator",
                "indicator--10000003-71a2-445c-ab86-927291df48f8",
                "2024-01-01T00:00:00Z",
                "stix",
                "[x:y = 1]",
                "red",
                "IpAddress",
                "Audit",
                "Microsoft Defender ATP",
                "sha256",
                "::",
            ])
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..8)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn validators_never_panic_on_text(chars in prop::collection::vec(any::<char>(), 0..200)) {
            all_validators(&String::from_iter(chars));
        }

        #[test]
        fn validators_never_panic_on_json(value in any_json()) {
            all_validators(&value.to_string());
            all_validators(&json!({"sourcesystem": "x", "stixobjects": [value.clone()]}).to_string());
            all_validators(&json!({"Indicators": [value.clone()], "value": [value]}).to_string());
        }
    }
}
