//! Fuzzes the decoders: any input, auto-detected or forced into each format, must decode or fail
//! with an error — never panic — and whatever decodes must serialise, with every item error
//! saying where and what.
//!
//! Run with `make fuzz` or `cargo +nightly fuzz run decode fuzz/corpus/decode tests/fixtures/decode`
//! from the crate root (the fixtures seed the corpus with real payloads of every format).

#![no_main]

use libfuzzer_sys::fuzz_target;
use ti_relay::model::Format;
use ti_relay::{DecodeOptions, decode};

const FORMATS: [Option<Format>; 6] =
    [None, Some(Format::Stix), Some(Format::Opencti), Some(Format::Threatconnect), Some(Format::Misp), Some(Format::Envelope)];

fuzz_target!(|text: &str| {
    // Auto-detection on every input, plus one forced format chosen by the input's length (so real
    // payloads from the seed corpus stay intact and still meet every decoder).
    check(text, None);
    check(text, FORMATS[text.len() % FORMATS.len()]);
});

fn check(text: &str, format: Option<Format>) {
    let options = DecodeOptions { format, ..DecodeOptions::default() };
    let Ok(decoded) = decode(text, &options) else { return };
    for error in &decoded.errors {
        assert!(!error.path.is_empty() && !error.message.is_empty(), "{error:?}");
    }
    for item in &decoded.items {
        assert!(item.observable.is_some() || item.not_atomic.is_some(), "{item:?}");
    }
    serde_json::to_string(&decoded).expect("a decoded payload serialises");
}
