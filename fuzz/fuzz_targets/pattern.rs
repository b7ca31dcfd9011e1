//! Fuzzes the STIX pattern parser: any UTF-8 input must parse or fail without panicking; what
//! parses must print to text that parses back to the same tree, and extraction must not panic.
//!
//! Run with `cargo +nightly fuzz run pattern` from the crate root.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ti_relay::pattern::{SpecVersion, extract, parse, parse_version};

fuzz_target!(|text: &str| {
    // 2.0 is a different set of rules over the same parser; it must not panic either.
    let _ = parse_version(text, SpecVersion::V2_0);
    let Ok(pattern) = parse(text) else { return };
    let printed = pattern.to_string();
    let reparsed = parse(&printed).unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
    assert_eq!(reparsed, pattern, "{text:?} printed as {printed:?}");
    assert_eq!(reparsed.to_string(), printed, "printing is not idempotent for {text:?}");
    let _ = extract(&pattern);
});
