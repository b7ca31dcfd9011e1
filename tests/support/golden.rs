//! Shared by the golden-file tests: the decode fixtures, and comparing output with a reviewed
//! golden file (or rewriting it when `UPDATE_GOLDEN` is set).
#![allow(dead_code, clippy::unwrap_used, clippy::panic)] // test support; not every test uses every helper

use std::fs;
use std::path::{Path, PathBuf};

/// The input fixtures under `tests/fixtures/decode/` (JSON and SSE), sorted.
pub(crate) fn fixtures() -> Vec<PathBuf> {
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

/// Compares `got` with the golden file, or rewrites it under `UPDATE_GOLDEN`; a difference is
/// pushed to `failures`.
pub(crate) fn check(input: &Path, golden: &Path, got: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(golden, got).unwrap();
        return;
    }
    match fs::read_to_string(golden) {
        Ok(want) if want == got => {}
        Ok(_) => failures.push(format!("{} differs from {}", input.display(), golden.display())),
        Err(_) => failures.push(format!("{} has no golden file {}", input.display(), golden.display())),
    }
}

/// Fails with every difference and how to regenerate.
pub(crate) fn assert_none(failures: &[String]) {
    assert!(failures.is_empty(), "{}\n(regenerate with UPDATE_GOLDEN=1 and review the diff)", failures.join("\n"));
}
