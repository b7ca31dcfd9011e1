//! The plan's request shapes, `retain`, `resend` and the Defender removal flow (lookup → `BatchDelete` →
//! single deletes), end to end through `plan` and `interpret`.

// Long tables of cases and JSON built by hand.
#![allow(clippy::too_many_lines)]

use serde_json::{Value as Json, json};

use super::*;
use crate::config;

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

fn config_text(defender_extra: &str, sentinel_extra: &str) -> String {
    format!(
        r#"{{"destinations": [
        {{"name": "sentinel", "type": "sentinel", "tenant": "contoso.onmicrosoft.com",
         "client_id": "{CLIENT}", "credential": {{"secret": "SENTINEL_SECRET"}},
         "sentinel": {{"workspace_id": "66666666-7777-8888-9999-000000000000"{sentinel_extra}}}}},
        {{"name": "defender", "type": "defender", "tenant": "contoso.onmicrosoft.com",
         "client_id": "{CLIENT}", "credential": {{"secret": "DEFENDER_SECRET"}}{defender_extra}}},
        {{"name": "graph", "type": "graph", "tenant": "contoso.onmicrosoft.com",
         "client_id": "{CLIENT}", "credential": {{"secret": "GRAPH_SECRET"}}}}
    ]}}"#
    )
}

fn cfg() -> Config {
    config::parse(&config_text("", "")).unwrap()
}

fn facts() -> PlanFacts {
    PlanFacts { now: Some(Timestamp::parse("2024-03-10T00:00:00Z").unwrap()), ..PlanFacts::default() }
}

fn ipv4s(count: usize) -> String {
    let objects: Vec<String> =
        (0..count).map(|i| format!(r#"{{"type":"ipv4-addr","value":"10.0.{}.{}"}}"#, i / 256, i % 256)).collect();
    format!("[{}]", objects.join(","))
}

/// An envelope removing these values.
fn removals(values: &[String]) -> String {
    json!({"action": "delete", "indicators": values}).to_string()
}

fn values(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("10.1.{}.{}", i / 256, i % 256)).collect()
}

fn op<'p>(plan: &'p Plan, op: &str) -> Vec<&'p Request> {
    plan.requests.iter().filter(|r| r.op == op).collect()
}

fn respond(config: &Config, request: &Request, status: u16, body: &str) -> Interpretation {
    interpret(config, request, &Response::new(status, &[], body)).unwrap()
}

/// One indicator of a Defender listing, created by this relay.
fn ours(id: usize, value: &str) -> Json {
    json!({"id": id.to_string(), "indicatorValue": value, "indicatorType": "IpAddress", "application": "ti-relay",
           "createdBy": CLIENT, "sourceType": "AadApp"})
}

fn listing(entries: &[Json]) -> String {
    json!({"value": entries}).to_string()
}

fn keys(items: &[ItemOutcome]) -> Vec<&str> {
    items.iter().map(|i| i.key.as_str()).collect()
}

// ---- rate -----------------------------------------------------------------------------------------

#[test]
fn the_rate_table_is_the_documented_limits() {
    let w = |requests, per_ms| RateWindow { requests, per_ms };
    let table: Vec<(&str, Vec<RateWindow>)> = LimitClass::ALL.iter().map(|c| (c.name(), c.rate().to_vec())).collect();
    assert_eq!(
        table,
        [
            ("sentinel-upload", vec![w(100, 60_000)]),
            ("defender-import", vec![w(30, 60_000)]),
            ("defender-read", vec![w(100, 60_000), w(1500, 3_600_000)]),
            ("defender-batch-delete", vec![w(30, 60_000), w(1500, 3_600_000)]),
            ("defender-delete", vec![w(100, 60_000), w(1500, 3_600_000)]),
            ("graph", vec![w(1000, 60_000)]),
        ]
    );
    for class in LimitClass::ALL {
        assert_eq!(LimitClass::from_name(class.name()), Some(class));
    }
    assert_eq!(LimitClass::from_name("defender"), None);
}

#[test]
fn every_request_carries_its_class_and_rate_after_limit() {
    let config = cfg();
    let plan = plan(&config, &ipv4s(3), &facts()).unwrap();
    for request in &plan.requests {
        let (class, rest) = request.limit.split_once(':').unwrap();
        assert_eq!(rest, format!("contoso.onmicrosoft.com:{CLIENT}"));
        assert_eq!(request.rate, LimitClass::from_name(class).unwrap().rate());
    }
    let text = serde_json::to_string(&plan.requests[1]).unwrap();
    assert!(
        text.contains(&format!(
            r#""limit":"defender-import:contoso.onmicrosoft.com:{CLIENT}","rate":[{{"requests":30,"per_ms":60000}}]}}"#
        )),
        "{text}"
    );
    // A request without `rate` (from an older host) still reads.
    let mut value: Json = serde_json::from_str(&text).unwrap();
    value.as_object_mut().unwrap().remove("rate");
    let back: Request = serde_json::from_value(value).unwrap();
    assert!(back.rate.is_empty());
}

// ---- retain ---------------------------------------------------------------------------------------

#[test]
fn retain_narrows_every_list_body_byte_identically_to_a_plan_of_those_objects() {
    let config = cfg();
    let payload: Vec<Json> = serde_json::from_str(&ipv4s(7)).unwrap();
    let full = plan(&config, &ipv4s(7), &facts()).unwrap();
    let removal = removals(&values(5));
    let graph_removal = plan(&config, &removal, &facts()).unwrap();
    let keep = [0usize, 2, 3, 6];
    let subset: Vec<&Json> = keep.iter().map(|&i| &payload[i]).collect();
    let part = plan(&config, &serde_json::to_string(&subset).unwrap(), &facts()).unwrap();
    for op_name in ["sentinel-upload", "defender-import", "graph-submit"] {
        let request = op(&full, op_name)[0];
        let wanted: Vec<ItemKey> = keep.iter().map(|&i| request.items[i].clone()).collect();
        let narrowed = retain(request, &wanted).unwrap();
        let expected = op(&part, op_name)[0];
        assert_eq!(narrowed.body, expected.body, "{op_name}");
        assert_eq!(narrowed.items, expected.items, "{op_name}");
        assert_eq!(
            (&narrowed.id, &narrowed.url, &narrowed.headers, &narrowed.limit, &narrowed.rate),
            (&request.id, &request.url, &request.headers, &request.limit, &request.rate)
        );
        // Keys in any order, repeated: the original order, once.
        let mut shuffled = wanted.clone();
        shuffled.reverse();
        shuffled.push(wanted[0].clone());
        assert_eq!(retain(request, &shuffled).unwrap(), narrowed);
        // Every key: the request itself.
        assert_eq!(&retain(request, &request.items).unwrap(), request);
    }
    // Graph removals list external ids.
    let delete = op(&graph_removal, "graph-delete")[0];
    let narrowed = retain(delete, &delete.items[1..3]).unwrap();
    let ids: Json = serde_json::from_str(delete.body.as_deref().unwrap()).unwrap();
    assert_eq!(narrowed.body.unwrap(), json!({"value": [ids["value"][1], ids["value"][2]]}).to_string());
}

#[test]
fn retain_narrows_legacy_sentinel_bodies() {
    for (generation, key) in [("v1", "value"), ("v2", "indicators")] {
        let extra = format!(r#", "api": "legacy", "legacy_generation": "{generation}""#);
        let config = config::parse(&config_text("", &extra)).unwrap();
        let full = plan(&config, &ipv4s(3), &facts()).unwrap();
        let upload = op(&full, "sentinel-upload")[0];
        assert!(upload.url.starts_with("https://sentinelus.azure-api.net/"), "{}", upload.url);
        let narrowed = retain(upload, &upload.items[2..]).unwrap();
        let body: Json = serde_json::from_str(narrowed.body.as_deref().unwrap()).unwrap();
        assert_eq!(body[key].as_array().unwrap().len(), 1);
        assert_eq!(body["sourcesystem"], "ti-relay");
        assert!(narrowed.body.unwrap().starts_with(r#"{"sourcesystem":"ti-relay","#));
    }
}

#[test]
fn retain_keeps_a_shared_object_when_any_of_its_items_is_kept() {
    let config = config::parse(&config_text("", r#", "split_patterns": false"#)).unwrap();
    // One pattern with two hashes (one object, two items), then two single observables.
    let payload = r#"[
        {"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-03-01T00:00:00Z","modified":"2024-03-01T00:00:00Z","valid_from":"2024-03-01T00:00:00Z",
         "pattern":"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f'] OR [file:hashes.MD5 = 'e5e8b4a4b5b5c2e1e8c4b5a4b5c2e1e8']","pattern_type":"stix"},
        {"type":"ipv4-addr","value":"198.51.100.1"},
        {"type":"indicator","spec_version":"2.1","id":"indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-03-01T00:00:00Z","modified":"2024-03-01T00:00:00Z","valid_from":"2024-03-01T00:00:00Z",
         "pattern":"[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']","pattern_type":"stix"}
    ]"#;
    let full = plan(&config, payload, &facts()).unwrap();
    let upload = op(&full, "sentinel-upload")[0];
    assert_eq!(upload.objects, [0, 0, 1, 2, 2]);
    let objects = |r: &Request| -> Vec<Json> {
        let body: Json = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        body["stixobjects"].as_array().unwrap().clone()
    };
    let all = objects(upload);
    let i = &upload.items;
    // (kept item positions, expected objects, expected `objects`)
    let cases: &[(&[usize], &[usize], &[usize])] = &[
        (&[1], &[0], &[]),
        (&[0, 1], &[0], &[0, 0]),
        (&[0, 2], &[0, 1], &[]),
        (&[1, 2, 3, 4], &[0, 1, 2], &[0, 1, 2, 2]),
        (&[4], &[2], &[]),
        (&[3, 4], &[2], &[0, 0]),
        (&[0, 3, 4], &[0, 2], &[0, 1, 1]),
    ];
    for &(kept, want_objects, want_map) in cases {
        let wanted: Vec<ItemKey> = kept.iter().map(|&k| i[k].clone()).collect();
        let narrowed = retain(upload, &wanted).unwrap();
        assert_eq!(narrowed.items, wanted);
        let got = objects(&narrowed);
        let expected: Vec<Json> = want_objects.iter().map(|&o| all[o].clone()).collect();
        assert_eq!(got, expected, "{kept:?}");
        assert_eq!(narrowed.objects, want_map, "{kept:?}");
    }
    // A record error on the shared object still rejects exactly its items in the narrowed request.
    let narrowed = retain(upload, &[i[0].clone(), i[1].clone(), i[4].clone()]).unwrap();
    let got = respond(
        &config,
        &narrowed,
        200,
        r#"{"errors":[{"recordIndex":1,"errorMessages":["Error for Property=pattern: invalid"]}]}"#,
    );
    let accepted: Vec<bool> = got.items.iter().map(|o| o.outcome.is_accepted()).collect();
    assert_eq!(accepted, [true, true, false]);
}

#[test]
fn retain_leaves_bodies_without_item_lists_as_they_are() {
    let config = cfg();
    let full = plan(&config, &removals(&values(3)), &facts()).unwrap();
    let lookup = op(&full, "defender-lookup")[0];
    let narrowed = retain(lookup, &[lookup.items[2].clone(), lookup.items[0].clone()]).unwrap();
    assert_eq!(narrowed.items, [lookup.items[0].clone(), lookup.items[2].clone()]);
    assert_eq!(narrowed.values, [lookup.values[0].clone(), lookup.values[2].clone()]);
    assert_eq!((&narrowed.url, &narrowed.body), (&lookup.url, &lookup.body));
    let batch = Request {
        op: "defender-batch-delete".into(),
        body: Some(r#"{"IndicatorIds":["1","2"]}"#.into()),
        values: Vec::new(),
        ..lookup.clone()
    };
    let narrowed = retain(&batch, &batch.items[1..2]).unwrap();
    assert_eq!((narrowed.items.len(), narrowed.body), (1, batch.body.clone()));
}

#[test]
fn retain_errors() {
    let config = cfg();
    let full = plan(&config, &ipv4s(2), &facts()).unwrap();
    let import = op(&full, "defender-import")[0];
    let e = retain::<ItemKey>(import, &[]).unwrap_err();
    assert_eq!(
        (e.code(), e.message(), e.path()),
        (
            Code::Options,
            "expected at least one item key to keep, found none: request `defender:defender-import:0` cannot be \
             narrowed to nothing",
            Some("keys")
        )
    );
    let e = retain(import, &[import.items[0].clone(), "nope".into()]).unwrap_err();
    assert_eq!(
        (e.code(), e.message(), e.path()),
        (
            Code::Options,
            "unknown item key `nope`: request `defender:defender-import:0` carries no such item",
            Some("keys[1]")
        )
    );
    let odd = Request { op: "defender-frobnicate".into(), ..import.clone() };
    assert!(retain(&odd, &import.items).unwrap_err().message().starts_with("unknown request op `defender-frobnicate`"));
    for body in
        [None, Some("not json"), Some(r#"{"Other":[]}"#), Some(r#"{"Indicators":[{}]}"#), Some(r#"{"Indicators":{}}"#)]
    {
        let mangled = Request { body: body.map(str::to_owned), ..import.clone() };
        let e = retain(&mangled, &import.items[..1]).unwrap_err();
        assert_eq!(e.code(), Code::Options);
        assert!(e.message().starts_with("invalid body of request `defender:defender-import:0`"), "{}", e.message());
    }
}

// ---- resend ---------------------------------------------------------------------------------------

#[test]
fn resend_is_the_request_narrowed_to_its_retry_items() {
    let config = cfg();
    let full = plan(&config, &ipv4s(3), &facts()).unwrap();
    let import = op(&full, "defender-import")[0];
    let body = r#"{"value":[
        {"id":"1","indicator":"10.0.0.0","isFailed":false},
        {"id":null,"indicator":"10.0.0.1","isFailed":true,"failureReason":"bad"}
    ]}"#;
    let got = respond(&config, import, 200, body);
    let kinds: Vec<&str> = got
        .items
        .iter()
        .map(|i| match i.outcome {
            Outcome::Accepted => "A",
            Outcome::Rejected { .. } => "R",
            Outcome::Retry { .. } => "T",
        })
        .collect();
    assert_eq!(kinds, ["A", "R", "T"]);
    let resend = got.resend.unwrap();
    assert_eq!(resend.items, [import.items[2].clone()]);
    assert_eq!(resend, retain(import, &import.items[2..]).unwrap());
    // Throttled: everything again, after the wait.
    let headers = [("Retry-After".to_owned(), "30".to_owned())];
    let got = interpret(&config, import, &Response::new(429, &headers, "")).unwrap();
    assert_eq!(got.retry_after_ms, Some(30_000));
    assert_eq!(got.resend.as_ref(), Some(import));
    // Nothing to retry: no `resend` at all in the JSON.
    let got = respond(&config, import, 400, "");
    assert_eq!(got.resend, None);
    let text = serde_json::to_string(&got).unwrap();
    assert!(!text.contains("resend"), "{text}");
    let got = interpret(&config, import, &Response::new(503, &headers, "")).unwrap();
    let text = serde_json::to_string(&got).unwrap();
    assert!(text.contains(r#""retry_after_ms":30000,"resend":{"id":"defender:defender-import:0""#), "{text}");
}

// ---- Defender removals ----------------------------------------------------------------------------

#[test]
fn one_removal_looks_its_value_up() {
    let config = cfg();
    let full = plan(&config, &removals(&values(1)), &facts()).unwrap();
    let lookups = op(&full, "defender-lookup");
    assert_eq!(lookups.len(), 1);
    assert_eq!(
        lookups[0].url,
        "https://api.securitycenter.microsoft.com/api/indicators?$filter=indicatorValue+eq+'10.1.0.0'"
    );
    assert_eq!(lookups[0].values, ["10.1.0.0"]);
    // Without `values` (a request from before they existed): the value comes from the URL.
    let bare = Request { values: Vec::new(), ..lookups[0].clone() };
    let got = respond(&config, &bare, 200, &listing(&[ours(7, "10.1.0.0")]));
    assert_eq!(got.follow_up.len(), 1);
    assert_eq!(got.follow_up[0].body.as_deref(), Some(r#"{"IndicatorIds":["7"]}"#));
}

#[test]
fn several_removals_share_one_listing_of_our_indicators() {
    let config = config::parse(&config_text(r#", "defender": {"application": "O'Brien & Co"}"#, "")).unwrap();
    let full = plan(&config, &removals(&values(4)), &facts()).unwrap();
    let lookups = op(&full, "defender-lookup");
    assert_eq!(lookups.len(), 1);
    let lookup = lookups[0];
    assert_eq!(
        lookup.url,
        "https://api.securitycenter.microsoft.com/api/indicators?$filter=application+eq+'O%27%27Brien%20%26%20Co'&$top=10000"
    );
    assert_eq!((lookup.method.as_str(), lookup.body.as_deref()), ("GET", None));
    assert_eq!(lookup.items.len(), 4);
    assert_eq!(lookup.values, values(4));
    assert!(lookup.limit.starts_with("defender-read:"));
    assert_eq!(own_listing_skip(&lookup.url), Some(0));
    assert_eq!(own_listing_skip("https://x/api/indicators?$filter=indicatorValue+eq+'a'"), None);
}

#[test]
fn a_listing_becomes_batch_deletes_of_our_ids() {
    let config = cfg();
    let full = plan(&config, &removals(&values(4)), &facts()).unwrap();
    let lookup = op(&full, "defender-lookup")[0];
    let v = &lookup.values;
    let mut theirs = ours(99, &v[0]);
    theirs["application"] = json!("Another Tool");
    // v[0]: ids 1 and 3 (a duplicate); v[1]: id 2; v[2]: nothing of ours; v[3]: id 3 as well
    // (the same indicator answers two items; it is deleted once).
    let entries = [ours(1, &v[0]), ours(2, &v[1]), theirs, ours(3, &v[0]), ours(3, &v[3]), ours(4, "10.9.9.9")];
    let got = respond(&config, lookup, 200, &listing(&entries));
    // The unmatched item is accepted; the others wait for the BatchDelete.
    assert_eq!(keys(&got.items), [lookup.items[2].as_str()]);
    assert!(got.items[0].outcome.is_accepted());
    assert_eq!(got.resend, None);
    assert_eq!(got.follow_up.len(), 1);
    let delete = &got.follow_up[0];
    assert_eq!(delete.id, "defender:defender-lookup:0>defender-batch-delete:0");
    assert_eq!((delete.op.as_str(), delete.method.as_str()), ("defender-batch-delete", "POST"));
    assert_eq!(delete.url, "https://api.securitycenter.microsoft.com/api/indicators/BatchDelete");
    assert_eq!(delete.body.as_deref(), Some(r#"{"IndicatorIds":["1","3","2"]}"#));
    assert_eq!(delete.items, [lookup.items[0].clone(), lookup.items[1].clone(), lookup.items[3].clone()]);
    assert_eq!(delete.limit, format!("defender-batch-delete:contoso.onmicrosoft.com:{CLIENT}"));
    assert_eq!(delete.rate, LimitClass::DefenderBatchDelete.rate());
    assert_eq!(delete.headers.get("content-type").map(String::as_str), Some("application/json"));
    let done = respond(&config, delete, 204, "");
    assert!(done.items.iter().all(|i| i.outcome.is_accepted()) && done.items.len() == 3);
    // Nothing of ours at all: every removal already holds.
    let got = respond(&config, lookup, 200, &listing(&[]));
    assert_eq!(got.items.len(), 4);
    assert!(got.follow_up.is_empty());
    // A failed listing: every item retries with the listing itself.
    let got = respond(&config, lookup, 503, "");
    assert_eq!(got.items.len(), 4);
    assert_eq!(got.resend.as_ref(), Some(lookup));
}

#[test]
fn batch_deletes_hold_at_most_500_ids_and_the_items_whose_ids_they_hold() {
    let config = cfg();
    let full = plan(&config, &removals(&values(700)), &facts()).unwrap();
    let lookup = op(&full, "defender-lookup")[0];
    // One id per item, and a second one for item 499: its two ids straddle the two batches.
    let mut entries: Vec<Json> = lookup.values.iter().enumerate().map(|(i, v)| ours(i, v)).collect();
    entries.push(ours(1000, &lookup.values[499]));
    let got = respond(&config, lookup, 200, &listing(&entries));
    assert!(got.items.is_empty());
    let sizes: Vec<(usize, usize)> = got
        .follow_up
        .iter()
        .map(|r| {
            let body: Json = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
            (body["IndicatorIds"].as_array().unwrap().len(), r.items.len())
        })
        .collect();
    // Ids in first-seen order (by item): item 499's second id opens the second batch.
    assert_eq!(sizes, [(500, 500), (201, 201)]);
    assert_eq!(got.follow_up[0].items[499], lookup.items[499]);
    assert_eq!(got.follow_up[1].items[0], lookup.items[499]);
    assert_eq!(got.follow_up[1].id, "defender:defender-lookup:0>defender-batch-delete:1");
}

#[test]
fn a_full_page_asks_for_the_next_one_for_the_unmatched_items() {
    let config = cfg();
    let full = plan(&config, &removals(&values(3)), &facts()).unwrap();
    let lookup = op(&full, "defender-lookup")[0];
    // A full page: 9,999 indicators of ours with other values, and one for the first removal.
    let mut entries: Vec<Json> =
        (0..defender::LIST_PAGE - 1).map(|i| ours(i + 10, &format!("10.200.{}.{}", i / 256 % 256, i % 256))).collect();
    entries.push(ours(5, &lookup.values[0]));
    let got = respond(&config, lookup, 200, &listing(&entries));
    assert!(got.items.is_empty());
    assert_eq!(got.follow_up.len(), 2);
    let (delete, next) = (&got.follow_up[0], &got.follow_up[1]);
    assert_eq!(delete.items, [lookup.items[0].clone()]);
    assert_eq!(next.op, "defender-lookup");
    assert_eq!(next.id, "defender:defender-lookup:0>defender-lookup:1");
    // 10,000 read, one of them deleted before the next page is read (or read twice, harmlessly).
    assert!(next.url.ends_with("?$filter=application+eq+'ti-relay'&$top=10000&$skip=9999"), "{}", next.url);
    assert_eq!(next.items, lookup.items[1..]);
    assert_eq!(next.values, lookup.values[1..]);
    assert_eq!(next.rate, LimitClass::DefenderRead.rate());
    // The next page, short: what is still unmatched is accepted.
    let got = respond(&config, next, 200, &listing(&[ours(6, &lookup.values[2])]));
    assert_eq!(keys(&got.items), [lookup.items[1].as_str()]);
    assert_eq!(got.follow_up.len(), 1);
    assert_eq!(got.follow_up[0].items, [lookup.items[2].clone()]);
    // A page that says there is more (`@odata.nextLink`), even when short, is followed too.
    let body =
        json!({"value": [ours(6, "10.7.7.7")], "@odata.nextLink": "https://x/api/indicators?$skip=1"}).to_string();
    let got = respond(&config, next, 200, &body);
    assert!(got.items.is_empty());
    assert!(got.follow_up[0].url.ends_with("&$skip=10000"), "{}", got.follow_up[0].url);
    // A single-value lookup never pages.
    let single = plan(&config, &removals(&values(1)), &facts()).unwrap();
    let got = respond(&config, op(&single, "defender-lookup")[0], 200, &listing(&entries));
    assert!(got.items.is_empty());
    let ops: Vec<&str> = got.follow_up.iter().map(|r| r.op.as_str()).collect();
    assert_eq!(ops, ["defender-batch-delete"]);
    let got = respond(&config, op(&single, "defender-lookup")[0], 200, &listing(&entries[..9_999]));
    assert!(got.items.len() == 1 && got.follow_up.is_empty());
}

#[test]
fn a_batch_delete_answered_404_deletes_one_by_one() {
    let config = cfg();
    let full = plan(&config, &removals(&values(2)), &facts()).unwrap();
    let lookup = op(&full, "defender-lookup")[0];
    let got = respond(&config, lookup, 200, &listing(&[ours(1, &lookup.values[0]), ours(2, &lookup.values[1])]));
    let batch = &got.follow_up[0];
    let got = respond(&config, batch, 404, r#"{"error":{"code":"NotFound","message":"Indicator 2 not found"}}"#);
    assert!(got.items.is_empty() && got.resend.is_none());
    assert_eq!(got.follow_up.len(), 2);
    for (n, (delete, id)) in got.follow_up.iter().zip(["1", "2"]).enumerate() {
        assert_eq!(delete.id, format!("{}>defender-delete:{n}", batch.id));
        assert_eq!((delete.op.as_str(), delete.method.as_str()), ("defender-delete", "DELETE"));
        assert_eq!(delete.url, format!("https://api.securitycenter.microsoft.com/api/indicators/{id}"));
        assert_eq!(delete.body, None);
        assert!(delete.headers.is_empty());
        assert_eq!(delete.items, batch.items);
        assert_eq!(delete.limit, format!("defender-delete:contoso.onmicrosoft.com:{CLIENT}"));
        assert_eq!(delete.rate, LimitClass::DefenderDelete.rate());
    }
    let delete = &got.follow_up[1];
    for status in [200, 204, 404] {
        let got = respond(&config, delete, status, "");
        assert_eq!(got.items.len(), 2);
        assert!(got.items.iter().all(|i| i.outcome.is_accepted()), "{status}");
    }
    let got = respond(&config, delete, 429, "");
    assert!(got.items.iter().all(|i| i.outcome.is_retry()));
    assert_eq!(got.resend.as_ref(), Some(delete));
    assert!(!respond(&config, delete, 403, "").items[0].outcome.is_accepted());
    // One id answered 404: it is gone, which is what the removal wanted.
    let single = Request { body: Some(r#"{"IndicatorIds":["1"]}"#.into()), ..batch.clone() };
    let got = respond(&config, &single, 404, "");
    assert!(got.follow_up.is_empty());
    assert!(got.items.len() == 2 && got.items.iter().all(|i| i.outcome.is_accepted()));
    // A body that is not a BatchDelete's is an error, not a guess.
    let mangled = Request { body: Some("{}".into()), ..batch.clone() };
    let e = interpret(&config, &mangled, &Response::new(404, &[], "")).unwrap_err();
    assert_eq!(e.code(), Code::Options);
    assert!(e.message().starts_with("invalid body of request"), "{}", e.message());
}

#[test]
fn lookup_without_values_for_several_items_is_an_error() {
    let config = cfg();
    let full = plan(&config, &removals(&values(2)), &facts()).unwrap();
    let bare = Request { values: Vec::new(), ..op(&full, "defender-lookup")[0].clone() };
    let e = interpret(&config, &bare, &Response::new(200, &[], r#"{"value":[]}"#)).unwrap_err();
    assert_eq!(
        (e.code(), e.message(), e.path()),
        (
            Code::Options,
            "invalid `defender-lookup` request `defender:defender-lookup:0`: expected 2 `values` (one per item, as \
             `plan` wrote them), found 0",
            Some("request.values")
        )
    );
}

// ---- endpoints ------------------------------------------------------------------------------------

#[test]
fn loopback_base_urls_reach_every_request() {
    let emulator = r#", "api_base_url": "http://127.0.0.1:8787""#;
    let text = config_text(emulator, r#", "api": "legacy""#).replacen(
        r#""credential": {"secret": "SENTINEL_SECRET"}"#,
        r#""credential": {"secret": "SENTINEL_SECRET"}, "api_base_url": "http://localhost:8787/sentinel""#,
        1,
    );
    let config = config::parse(&text).unwrap();
    let full = plan(&config, &ipv4s(1), &facts()).unwrap();
    let urls: Vec<&str> = full.requests.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://localhost:8787/sentinel/workspaces/66666666-7777-8888-9999-000000000000/threatintelligenceindicators:upload?api-version=2022-07-01",
            "http://127.0.0.1:8787/api/indicators/import",
            "https://graph.microsoft.com/beta/security/tiIndicators/submitTiIndicators",
        ]
    );
    let lookup = plan(&config, &removals(&values(2)), &facts()).unwrap();
    let lookup = op(&lookup, "defender-lookup")[0];
    assert!(lookup.url.starts_with("http://127.0.0.1:8787/api/indicators?"));
    let got = respond(&config, lookup, 200, &listing(&[ours(1, &lookup.values[0])]));
    assert_eq!(got.follow_up[0].url, "http://127.0.0.1:8787/api/indicators/BatchDelete");
}

// ---- facts.format -----------------------------------------------------------------------------------

#[test]
fn facts_format_forces_the_input_format() {
    let config = cfg();
    let payload = ipv4s(2);
    let detected = plan(&config, &payload, &facts()).unwrap();
    let forced = plan(&config, &payload, &PlanFacts { format: Some(Format::Stix), ..facts() }).unwrap();
    assert_eq!(forced, detected);
    assert_eq!(forced.items.len(), 2);
    // Forced through the MISP decoder, STIX objects carry no MISP attribute: nothing to plan.
    let misp = plan(&config, &payload, &PlanFacts { format: Some(Format::Misp), ..facts() }).unwrap();
    assert!(misp.items.is_empty() && misp.requests.is_empty(), "{misp:?}");
    // Forced as an OpenCTI event, a STIX object is one without `data`: an item error, no items.
    let forced = PlanFacts { format: Some(Format::Opencti), ..facts() };
    let opencti = plan(&config, r#"{"type":"ipv4-addr","value":"10.0.0.1"}"#, &forced).unwrap();
    assert!(opencti.items.is_empty(), "{opencti:?}");
    assert_eq!(opencti.errors.len(), 1);
    assert_eq!(opencti.errors[0].path, "data");
}

/// The plan's hand-written JSON is `serde_json`'s, byte for byte: every decode fixture (skips with
/// messages, removals, non-atomic items without an observable, items without a source id, decode
/// errors), and the requests with and without bodies.
#[test]
fn plan_json_is_what_serde_json_writes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode");
    let mut payloads: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".decoded.json"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    payloads.push(ipv4s(3));
    payloads.push(removals(&values(2)));
    payloads.push(r#"["10.0.0.1", "evil.example", "not a value \" \\ \u0001"]"#.to_owned());
    payloads.push(r#"[{"type":"indicator","spec_version":"2.1","id":"indicator--8af3db94-fa68-4d29-8564-b5eda36de888","pattern":"[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '5.6.7.8']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]"#.to_owned());
    let configs = [
        cfg(),
        config::parse(&config_text(
            r#", "policy": {"tlp_ceiling": "green", "min_score": 50, "dedup": true}"#,
            r#", "split_patterns": false"#,
        ))
        .unwrap(),
    ];
    let (mut checked, mut seen) = (0, [false; 4]);
    for config in &configs {
        for payload in &payloads {
            let Ok(mut plan) = plan(config, payload, &facts()) else { continue };
            assert_eq!(plan.to_json().unwrap(), serde_json::to_string(&plan).unwrap());
            for request in &mut plan.requests {
                request.body = None;
            }
            assert_eq!(plan.to_json().unwrap(), serde_json::to_string(&plan).unwrap());
            // The parts the boundary hands over separately.
            assert_eq!(plan.items_json(), serde_json::to_string(&plan.items).unwrap());
            let rest = format!(
                r#"{{"requests":{},"errors":{}}}"#,
                serde_json::to_string(&plan.requests).unwrap(),
                serde_json::to_string(&plan.errors).unwrap()
            );
            assert_eq!(plan.to_json_without_items().unwrap(), rest);
            checked += plan.items.len();
            seen[0] |= plan.items.iter().any(|i| i.observable.is_none());
            seen[1] |= plan.items.iter().any(|i| i.source_id.is_none());
            seen[2] |= plan.items.iter().flat_map(|i| &i.verdicts).any(|v| v.reason.is_some() && v.message.is_some());
            seen[3] |= !plan.errors.is_empty();
        }
    }
    assert!(checked > 20, "{checked}");
    assert_eq!(seen, [true; 4], "no observable, no source id, a skip with its message, decode errors");
}
