//! Properties of config validation: no input makes it panic; every answer is either a config or a
//! non-empty list of located problems; valid configs stay valid through serialisation.

// Tests fail by panicking and index into results they have just checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// One module named like the file, so that `cargo test config` selects these tests too.
mod config_proptest {
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use ti_relay::config;

    /// Keys of the schema (and near misses), so random documents reach deep into the validator.
    const KEYS: &[&str] = &[
        "source_system",
        "policy",
        "destinations",
        "name",
        "type",
        "enabled",
        "tenant",
        "client_id",
        "credential",
        "secret",
        "certificate",
        "managed_identity",
        "cloud",
        "login_host",
        "login_base_url",
        "api_base_url",
        "sentinel",
        "defender",
        "graph",
        "workspace_id",
        "api",
        "legacy_generation",
        "split_patterns",
        "application",
        "rbac_group_names",
        "quota_reserve",
        "generate_alert",
        "educate_url",
        "recommended_actions",
        "target_product",
        "passive_only",
        "resource_path",
        "types",
        "min_score",
        "min_confidence",
        "min_threat_rating",
        "max_false_positives",
        "tags_any",
        "tags_none",
        "owners",
        "require_detection",
        "modified_since",
        "tlp_ceiling",
        "tlp_default",
        "tlp_override",
        "action",
        "severity",
        "expiry",
        "default_days",
        "days",
        "hours",
        "max_days",
        "dedup",
        "dry_run",
        "file",
        "network",
        "ipv4",
        "min_scroe",
        "",
        "ключ",
    ];
    const STRINGS: &[&str] = &[
        "sentinel",
        "defender",
        "graph",
        "global",
        "china",
        "dod",
        "usgov-high",
        "Block",
        "Alert",
        "AlertAndBlock",
        "allow",
        "High",
        "amber",
        "white",
        "red",
        "legacy",
        "v1",
        "stix-objects",
        "Azure Sentinel",
        "Microsoft Sentinel",
        "00000000-0000-0000-0000-000000000000",
        "contoso.com",
        "https://a.example.com",
        "ipv4",
        "cidr",
        "2024-01-01T00:00:00Z",
        "Abc8Q~secret",
        "",
        "~",
        "\u{0}",
        "ü",
    ];

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1000i64..20000).prop_map(|n| json!(n)),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
            prop::sample::select(STRINGS).prop_map(|s| json!(s)),
            ".{0,80}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..8)
                    .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    fn check(text: &str) {
        match config::parse(text) {
            Ok(c) => {
                assert!(!c.destinations.is_empty());
                // What a valid config serialises to is plain JSON.
                serde_json::to_string(&c).unwrap();
            }
            Err(e) => {
                assert!(!e.errors.is_empty());
                for err in &e.errors {
                    assert!(!err.path.is_empty(), "{err:?}");
                    assert!(!err.message.is_empty(), "{err:?}");
                }
            }
        }
        // Validation is deterministic.
        assert_eq!(config::validate(text), config::validate(text));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_json_never_panics(doc in json_value()) {
            check(&doc.to_string());
            check(&json!({ "destinations": [doc.clone()] }).to_string());
            check(&json!({ "policy": doc.clone(), "destinations": [{"name": "d", "type": "graph", "tenant": "contoso.com",
                "credential": {"managed_identity": true}, "policy": doc}] }).to_string());
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}") {
            check(&text);
        }

        /// A secret-looking value is never echoed, whatever it is.
        #[test]
        fn secrets_are_never_echoed(secret in "[A-Za-z0-9~+/=._-]{16,80}") {
            let doc = json!({"destinations": [{"name": "d", "type": "graph", "tenant": "contoso.com",
                "client_id": "00000000-0000-0000-0000-000000000000", "credential": {"secret": secret}}]});
            if let Err(e) = config::parse(&doc.to_string()) {
                prop_assert!(!e.to_string().contains(&secret));
            }
        }
    }
}
