//! Fuzzes the STIX pattern parser: any UTF-8 input must parse or fail without panicking; what
//! parses must print to text that parses back to the same tree, and extraction must not panic;
//! `extract_simple` must answer only what the parser and extraction answer.
//!
//! Run with `cargo +nightly fuzz run pattern` from the crate root.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ti_relay::pattern::{SpecVersion, extract, extract_simple, parse, parse_version};

fuzz_target!(|text: &str| {
    // The parser-free reading of the simple shape answers exactly what the parser and extraction do.
    if let Some(fast) = extract_simple(text) {
        for version in [SpecVersion::V2_1, SpecVersion::V2_0] {
            let parsed = parse_version(text, version)
                .unwrap_or_else(|e| panic!("{text:?}: extract_simple answered, the parser ({version:?}) refused: {e}"));
            assert_eq!(fast, extract(&parsed), "{text:?} ({version:?})");
        }
    }
    // 2.0 is a different set of rules over the same parser; it must not panic either.
    let _ = parse_version(text, SpecVersion::V2_0);
    let Ok(pattern) = parse(text) else { return };
    let printed = pattern.to_string();
    let reparsed = parse(&printed).unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
    assert_eq!(reparsed, pattern, "{text:?} printed as {printed:?}");
    assert_eq!(reparsed.to_string(), printed, "printing is not idempotent for {text:?}");
    let _ = extract(&pattern);
});
