//! Golden files: every fixture under `tests/fixtures/decode/` decodes to exactly its reviewed
//! `<name>.decoded.json`. After an intended change, regenerate with
//! `UPDATE_GOLDEN=1 cargo test --test decode_golden` and review the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/golden.rs"]
mod golden;

use std::fs;

use golden::fixtures;

use ti_relay::{DecodeOptions, decode};

#[test]
fn every_fixture_matches_its_golden_file() {
    let mut failures = Vec::new();
    let files = fixtures();
    assert!(files.len() >= 9, "fixtures missing: {files:?}");
    for input in files {
        let text = fs::read_to_string(&input).unwrap();
        let decoded = decode(&text, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let mut got = serde_json::to_string_pretty(&decoded).unwrap();
        got.push('\n');
        let golden = input.with_file_name(format!("{}.decoded.json", input.file_stem().unwrap().to_string_lossy()));
        golden::check(&input, &golden, &got, &mut failures);
    }
    golden::assert_none(&failures);
}

#[test]
fn parsed_and_raw_payloads_decode_alike() {
    // The wasm boundary turns an already-parsed value back into text with JSON.stringify; the
    // result must not depend on formatting.
    for input in fixtures().into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let text = fs::read_to_string(&input).unwrap();
        let compact = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&text).unwrap()).unwrap();
        let a = serde_json::to_string(&decode(&text, &DecodeOptions::default()).unwrap()).unwrap();
        let b = serde_json::to_string(&decode(&compact, &DecodeOptions::default()).unwrap()).unwrap();
        assert_eq!(a, b, "{}", input.display());
    }
}
