//! The Defender mapping end to end: every decode fixture (and a synthetic bundle of every
//! Defender type, large enough to need several import calls) decoded, judged by the policy at
//! Defender destinations built from config text, mapped, and each body checked by the
//! independent validator of `tests/support/msapi.rs`; plus the removal helpers (`ours` never
//! picks another application's or creator's indicator, `lookup_path` escaping, `BatchDelete`).

// Tests fail by panicking and index into results they have just checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/golden.rs"]
mod golden;
#[path = "support/msapi.rs"]
mod msapi;

mod destinations_defender {
    use std::fs;

    use proptest::prelude::*;
    use ti_relay::config::{self, Config, DefenderSettings, Destination, Settings};
    use ti_relay::destinations::defender::{
        BATCH_MAX, DefenderIndicator, batch_delete_body, external_id, lookup_path, map, ours,
    };
    use ti_relay::interpret::defender::DefenderIndicatorSummary;
    use ti_relay::policy::{self, Verdict};
    use ti_relay::time::Timestamp;
    use ti_relay::{DecodeOptions, decode};

    use super::msapi;

    const NOW: &str = "2023-10-01T00:00:00Z";
    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

    /// The errors `map` may give for an item the policy let through: the documented safety nets.
    const SAFETY_NETS: &[&str] = &[
        "Defender takes only MD5, SHA-1 and SHA-256 file hashes",
        "Defender has no `",
        "Defender takes certificates only by their SHA-1 thumbprint",
        "Defender takes internationalised domain names only in punycode",
    ];

    fn config(defender: &str, policy: &str) -> Config {
        let text = format!(
            r#"{{"destinations": [{{"name": "mde", "type": "defender", "tenant": "contoso.onmicrosoft.com",
                "client_id": "{CLIENT}", "credential": {{"secret": "S"}}, "defender": {defender},
                "policy": {policy}}}]}}"#
        );
        config::parse(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Destinations that between them take every type, every action and every optional field.
    fn configs() -> Vec<Config> {
        let all_types = r#""types":["ipv4","ipv6","domain","url","file","certificate"]"#;
        vec![
            config("{}", "{}"),
            config(
                r#"{"application":"ti-relay test","rbac_group_names":["Tier 1","Servers"],"generate_alert":false,
                    "educate_url":"https://intranet.example/why-blocked","recommended_actions":"Isolate the device"}"#,
                &format!(
                    r#"{{"tlp_ceiling":"red",{all_types},"require_detection":false,
                        "action":[{{"min_score":70,"action":"Block"}},{{"min_score":40,"action":"Warn"}},{{"action":"Allowed"}}]}}"#
                ),
            ),
            config(r#"{"generate_alert":false}"#, r#"{"tlp_ceiling":"red","action":"AlertAndBlock"}"#),
            config("{}", r#"{"tlp_ceiling":"red","action":"BlockAndRemediate","types":["file","certificate"]}"#),
            config("{}", r#"{"tlp_ceiling":"red","action":"Allowed"}"#),
        ]
    }

    fn fixtures() -> Vec<(String, String)> {
        let files: Vec<(String, String)> = crate::golden::fixtures()
            .into_iter()
            .map(|p| (p.display().to_string(), fs::read_to_string(&p).unwrap()))
            .collect();
        assert!(files.len() >= 9, "fixtures missing");
        files
    }

    /// A STIX bundle with every Defender type and the awkward values, plus `n` plain IPs.
    fn synthetic(n: usize) -> String {
        let patterns = [
            r"[ipv6-addr:value = '2001:db8::1']",
            r"[ipv6-addr:value = '::ffff:198.51.100.9']",
            r"[domain-name:value = 'Evil.Example.']",
            r"[url:value = 'https://x.example/a?b=c&d=e#f+g']",
            r"[file:hashes.MD5 = '0123456789abcdef0123456789abcdef']",
            r"[file:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']",
            r"[file:hashes.'SHA-256' = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef']",
            r"[file:hashes.'SHA-512' = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef']",
            r"[x509-certificate:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']",
            r"[x509-certificate:hashes.'SHA-256' = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef']",
            r"[email-addr:value = 'a@evil.example']",
            r"[ipv4-addr:value = '198.51.100.0/24']",
        ];
        let mut objects: Vec<String> = patterns.iter().map(ToString::to_string).collect();
        objects.extend((0..n).map(|i| format!("[ipv4-addr:value = '10.{}.{}.{}']", i / 65536, i / 256 % 256, i % 256)));
        let objects: Vec<serde_json::Value> = objects
            .iter()
            .enumerate()
            .map(|(i, pattern)| {
                serde_json::json!({
                    "type": "indicator", "spec_version": "2.1",
                    "id": format!("indicator--00000000-0000-4000-8000-{i:012}"),
                    "created": "2023-09-01T00:00:00Z", "modified": "2023-09-02T00:00:00Z",
                    "valid_from": "2023-09-01T00:00:00Z", "pattern_type": "stix", "pattern": pattern,
                    "name": if i % 2 == 0 { serde_json::Value::Null } else { format!("indicator {i} ").repeat(30).into() },
                    "confidence": if pattern.starts_with("[url:") { 90 } else { (i * 7) % 101 },
                })
            })
            .collect();
        serde_json::json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects})
            .to_string()
    }

    #[derive(Default)]
    struct Tally {
        mapped: usize,
        refused: usize,
    }

    /// Decodes, judges and maps `payload` at `destination`; checks each body and returns them.
    fn map_all(payload: &str, destination: &Destination, tally: &mut Tally, label: &str) -> Vec<String> {
        let decoded = decode(payload, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{label}: {e}"));
        let now = Timestamp::parse(NOW).unwrap();
        let decisions = policy::decide_all(&decoded.items, destination, now, policy::Facts::default());
        let mut bodies = Vec::new();
        for (item, decision) in decoded.items.iter().zip(&decisions) {
            if decision.verdict != Verdict::Upsert {
                assert!(map(item, decision, destination).is_err(), "{label}: only upserts map");
                continue;
            }
            match map(item, decision, destination) {
                Ok(body) => {
                    check(&body, item, decision.action, destination);
                    let json = serde_json::to_string(&body).unwrap();
                    let violations = msapi::defender_indicator(&json);
                    assert!(violations.is_empty(), "{label} {}: {json}\n{violations:?}", item.path);
                    tally.mapped += 1;
                    bodies.push(json);
                }
                Err(why) => {
                    assert!(
                        SAFETY_NETS.iter().any(|s| why.starts_with(s)),
                        "{label} {}: unexpected `{why}`",
                        item.path
                    );
                    tally.refused += 1;
                }
            }
        }
        bodies
    }

    /// The rules the validator cannot see: what goes where.
    fn check(
        body: &DefenderIndicator<'_>,
        item: &ti_relay::Indicator<'_>,
        action: Option<ti_relay::config::IndicatorAction>,
        destination: &Destination,
    ) {
        let Settings::Defender(settings) = &destination.settings else { unreachable!() };
        assert_eq!(Some(body.action), action.map(ti_relay::config::IndicatorAction::as_str));
        assert_eq!(body.application, settings.application);
        assert_eq!(body.external_id, external_id(item));
        assert!(!body.title.trim().is_empty() && body.title.chars().count() <= 250);
        assert!(!body.description.trim().is_empty());
        assert!(body.expiration_time.is_some());
        if body.educate_url.is_some() {
            assert!(body.indicator_type == "Url" && matches!(body.action, "Block" | "Warn"));
        }
        assert_eq!(body.rbac_group_names.is_some(), !settings.rbac_group_names.is_empty());
        if item.format == ti_relay::Format::Threatconnect {
            assert!(body.description.starts_with("ThreatConnect "), "{}", body.description);
        }
    }

    fn check_imports(bodies: &[String], label: &str) -> usize {
        let mut calls = 0;
        for chunk in bodies.chunks(BATCH_MAX) {
            let body = format!("{{\"Indicators\":[{}]}}", chunk.join(","));
            let violations = msapi::defender_import(&body);
            assert!(violations.is_empty(), "{label}: {violations:?}");
            calls += 1;
        }
        calls
    }

    #[test]
    fn every_fixture_maps_to_valid_bodies() {
        let mut tally = Tally::default();
        for cfg in configs() {
            let destination = &cfg.destinations[0];
            let mut all = Vec::new();
            for (name, text) in fixtures() {
                all.extend(map_all(&text, destination, &mut tally, &name));
            }
            check_imports(&all, "fixtures");
        }
        assert!(tally.mapped >= 20, "too few upserts mapped: {}", tally.mapped);
    }

    #[test]
    fn every_type_maps_and_imports_in_chunks() {
        let payload = synthetic(1_100);
        let mut tally = Tally::default();
        for cfg in configs() {
            let bodies = map_all(&payload, &cfg.destinations[0], &mut tally, "synthetic");
            let calls = check_imports(&bodies, "synthetic");
            if bodies.len() > BATCH_MAX {
                assert!(calls >= 2);
            }
            // Every indicatorType the relay can produce shows up at the permissive destination.
            if matches!(&cfg.destinations[0].settings, Settings::Defender(d) if d.application == "ti-relay test") {
                for ty in ["IpAddress", "DomainName", "Url", "FileMd5", "FileSha1", "FileSha256"] {
                    assert!(bodies.iter().any(|b| b.contains(&format!("\"indicatorType\":\"{ty}\""))), "{ty}");
                }
                assert!(bodies.iter().any(|b| b.contains("\"2001:db8:0:0:0:0:0:1\"")));
                assert!(bodies.iter().any(|b| b.contains("\"educateUrl\"")));
            }
            if cfg.destinations[0].policy.types.len() == 2 {
                assert!(bodies.iter().any(|b| b.contains("\"CertificateThumbprint\"")));
            }
        }
        assert!(tally.refused > 0, "the safety nets were never exercised");
    }

    #[test]
    fn batch_delete_bodies_are_valid() {
        let ids: Vec<String> = (1..=1_234).map(|i| i.to_string()).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        for chunk in ids.chunks(BATCH_MAX) {
            let body = batch_delete_body(chunk);
            assert!(msapi::defender_batch_delete(&body).is_empty(), "{body}");
        }
        assert_eq!(batch_delete_body(&["995"]), r#"{"IndicatorIds":["995"]}"#);
        // The limit is the caller's: 501 ids is a body Defender rejects.
        assert!(!msapi::defender_batch_delete(&batch_delete_body(&ids[..=BATCH_MAX])).is_empty());
    }

    /// Undoes `lookup_path`: the `OData` literal of the query, percent-decoded, quotes undoubled.
    fn unescape(path: &str) -> String {
        let literal =
            path.strip_prefix("/api/indicators?$filter=indicatorValue+eq+'").unwrap().strip_suffix('\'').unwrap();
        assert!(literal.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)), "{literal}");
        let bytes = literal.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        let text = String::from_utf8(out).unwrap();
        assert!(!text.replace("''", "").contains('\''), "an undoubled quote in {text}");
        text.replace("''", "'")
    }

    #[test]
    fn lookup_path_escaping_table() {
        for (value, want) in [
            ("203.0.113.7", "'203.0.113.7'"),
            ("it's.example", "'it%27%27s.example'"),
            ("https://x.example/p?a=1&b=2#frag", "'https%3A%2F%2Fx.example%2Fp%3Fa%3D1%26b%3D2%23frag'"),
            ("a+b", "'a%2Bb'"),
            ("100%", "'100%25'"),
            ("münchen.example", "'m%C3%BCnchen.example'"),
            ("https://例え.jp/パス", "'https%3A%2F%2F%E4%BE%8B%E3%81%88.jp%2F%E3%83%91%E3%82%B9'"),
        ] {
            let path = lookup_path(value);
            assert_eq!(path, format!("/api/indicators?$filter=indicatorValue+eq+{want}"));
            assert_eq!(unescape(&path), value);
        }
    }

    fn settings(app: &str) -> DefenderSettings {
        let cfg = config(&format!(r#"{{"application":"{app}"}}"#), "{}");
        match &cfg.destinations[0].settings {
            Settings::Defender(d) => d.clone(),
            _ => unreachable!(),
        }
    }

    fn entry() -> impl Strategy<Value = DefenderIndicatorSummary> {
        let app = prop::option::of(prop::sample::select(vec!["ti-relay", "OpenCTI", "ti-relay ", "TI-RELAY", ""]));
        let who = prop::option::of(prop::sample::select(vec![
            CLIENT,
            "99999999-2222-3333-4444-555555555555",
            "alice@contoso.com",
        ]));
        let value = prop::sample::select(vec!["1.2.3.4", "1.2.3.5", "evil.example", "EVIL.example"]);
        let source_type = prop::option::of(prop::sample::select(vec!["AadApp", "User"]));
        (1u32..50, value, app, who.clone(), who, source_type).prop_map(
            |(id, value, app, by, by_source, source_type)| DefenderIndicatorSummary {
                id: id.to_string(),
                indicator_value: Some(value.to_owned()),
                indicator_type: Some("DomainName".to_owned()),
                application: app.map(str::to_owned),
                created_by: by.map(str::to_owned),
                created_by_source: by_source.map(str::to_owned),
                source_type: source_type.map(str::to_owned),
                ..DefenderIndicatorSummary::default()
            },
        )
    }

    proptest! {
        #[test]
        fn ours_never_returns_someone_elses(list in prop::collection::vec(entry(), 0..20), known in any::<bool>()) {
            let settings = settings("ti-relay");
            let client = known.then_some(CLIENT);
            for value in ["1.2.3.4", "evil.example"] {
                let picked = ours(&list, value, &settings, client);
                let mut seen = std::collections::HashSet::new();
                for id in &picked {
                    prop_assert!(seen.insert(*id), "repeated id {}", id);
                    // Every entry with that id that carries the value: at least one is ours.
                    let mine = list.iter().filter(|e| e.id == *id).any(|e| {
                        e.indicator_value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(value))
                            && e.application.as_deref().map(str::trim) == Some("ti-relay")
                            && e.source_type.as_deref() != Some("User")
                            && (!known || e.created_by.as_deref() == Some(CLIENT) || e.created_by_source.as_deref() == Some(CLIENT))
                    });
                    prop_assert!(mine, "{} is not ours in {:?}", id, list);
                }
                // And nothing of ours is missed.
                for e in &list {
                    let should = e.indicator_value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(value))
                        && e.application.as_deref().map(str::trim) == Some("ti-relay")
                        && e.source_type.as_deref() != Some("User")
                        && (!known || e.created_by.as_deref() == Some(CLIENT) || e.created_by_source.as_deref() == Some(CLIENT));
                    prop_assert!(!should || picked.contains(&e.id.as_str()));
                }
            }
        }

        #[test]
        fn lookup_path_round_trips(value in "[ -~äß€😀]{0,40}") {
            let path = lookup_path(&value);
            prop_assert_eq!(unescape(&path), value);
        }
    }

    #[test]
    fn ours_on_a_real_list_answer() {
        let body = format!(
            r#"{{"value":[
                {{"id":"1","indicatorValue":"evil.example","indicatorType":"DomainName","application":"ti-relay","createdBy":"{CLIENT}","sourceType":"AadApp"}},
                {{"id":"2","indicatorValue":"evil.example","indicatorType":"DomainName","application":"OpenCTI Microsoft Defender Intel","createdBy":"{CLIENT}"}},
                {{"id":"3","indicatorValue":"evil.example","indicatorType":"DomainName","application":"ti-relay","createdBy":"someone@contoso.com","sourceType":"User"}},
                {{"id":"4","indicatorValue":"evil.example","indicatorType":"DomainName","createdBy":"{CLIENT}"}},
                {{"id":"5","indicatorValue":"other.example","indicatorType":"DomainName","application":"ti-relay","createdBy":"{CLIENT}"}}
            ]}}"#
        );
        let list = ti_relay::interpret::defender::parse_list(&body).unwrap();
        let settings = settings("ti-relay");
        assert_eq!(ours(&list.indicators, "evil.example", &settings, Some(CLIENT)), ["1"]);
        assert_eq!(ours(&list.indicators, "evil.example", &settings, None), ["1"]);
        let ids = ours(&list.indicators, "evil.example", &settings, Some(CLIENT));
        assert!(msapi::defender_batch_delete(&batch_delete_body(&ids)).is_empty());
    }
}
