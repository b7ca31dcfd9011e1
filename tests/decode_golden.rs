//! Golden files: every fixture under `tests/fixtures/decode/` decodes to exactly its reviewed
//! `<name>.decoded.json`. After an intended change, regenerate with
//! `UPDATE_GOLDEN=1 cargo test --test decode_golden` and review the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use ti_relay::{DecodeOptions, decode};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.ends_with(".decoded.json") && (name.ends_with(".json") || name.ends_with(".sse"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_matches_its_golden_file() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    let files = fixtures();
    assert!(files.len() >= 9, "fixtures missing: {files:?}");
    for input in files {
        let text = fs::read_to_string(&input).unwrap();
        let decoded = decode(&text, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let mut got = serde_json::to_string_pretty(&decoded).unwrap();
        got.push('\n');
        let golden = input.with_file_name(format!("{}.decoded.json", input.file_stem().unwrap().to_string_lossy()));
        if update {
            fs::write(&golden, &got).unwrap();
            continue;
        }
        match fs::read_to_string(&golden) {
            Ok(want) if want == got => {}
            Ok(_) => failures.push(format!("{} differs from {}", input.display(), golden.display())),
            Err(_) => failures.push(format!("{} has no golden file {}", input.display(), golden.display())),
        }
    }
    assert!(failures.is_empty(), "{}\n(regenerate with UPDATE_GOLDEN=1 and review the diff)", failures.join("\n"));
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
