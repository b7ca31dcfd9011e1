//! Fuzzes the JSON parser differentially: for any text, `Value::parse` (the hand-written parser of
//! src/json/parse.rs) and the `serde_json` tree builder it replaced (src/json/oracle.rs) must both
//! accept it with the same tree (strings borrowed or owned alike, floats bit for bit) or both
//! reject it with the same message. The check lives in the crate (`ti_relay::fuzz_json_parse`,
//! compiled only under cargo-fuzz's `--cfg fuzzing`), since the parser is crate-private.
//!
//! Run with `make fuzz` or `cargo +nightly fuzz run json_parse fuzz/corpus/json_parse tests/fixtures/decode`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| ti_relay::fuzz_json_parse(text));
