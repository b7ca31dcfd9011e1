//! ti-relay's core: decoding, STIX patterning, policy, mapping and planning for a relay of
//! threat-intelligence indicators into Microsoft Sentinel, Defender for Endpoint and Graph.
//!
//! In scope: everything that decides. Out of scope: everything that touches the world. The core
//! performs no I/O and reads no clock or randomness — time comes in as an argument — so the same
//! input gives the same bytes natively and in WebAssembly. The hosts (Cloudflare Worker, Azure
//! Functions handler, CLI, browser preview) live under `worker/` and only carry.
//!
//! Layout:
//! - [`decode`]: every input format into the canonical [`model`].
//! - [`pattern`]: the STIX 2.1 patterning grammar, printer, and observable extraction.
//! - [`normalize`]: validation and canonical forms of observable values.
//! - [`destinations`]: items into Sentinel STIX objects, Defender indicators, Graph tiIndicators.
//! - [`plan`]: payload + config + now → verdicts and exact HTTP requests; responses → outcomes.
//! - [`policy`]: one verdict per item and destination, with a reason code for every skip.
//! - [`config`]: the relay's configuration, validated with every problem reported.
//! - [`cloud`]: login, API and token-scope hosts per Microsoft cloud.
//! - [`ids`]: deterministic ids (name-based UUID version 5).
//! - [`interpret`]: HTTP responses of the Microsoft APIs into per-item outcomes.
//! - [`model`], [`time`], [`error`]: the shared vocabulary.
//! - `boundary` (wasm32 only): the one module that knows about wasm-bindgen.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod cloud;
pub mod config;
pub mod decode;
pub mod destinations;
pub mod error;
mod fasthash;
pub mod ids;
pub mod interpret;
pub(crate) mod json;
pub mod model;
pub mod normalize;
pub mod pattern;
pub mod plan;
pub mod policy;
pub mod time;

#[cfg(target_arch = "wasm32")]
mod boundary;
#[cfg(any(target_arch = "wasm32", test))]
mod transfer;

pub use decode::{DecodeOptions, Decoded, ItemError, decode};

/// For the `json_parse` fuzz target only (cargo-fuzz builds with `--cfg fuzzing`): the crate's JSON
/// parser and the `serde_json` tree builder it replaced (`json::oracle`) must accept the same texts
/// with the same trees (strings borrowed from the text alike, floats bit for bit) and reject the
/// same texts with the same message.
///
/// # Panics
///
/// When they differ: that is the finding.
#[cfg(fuzzing)]
#[doc(hidden)]
#[allow(clippy::panic)]
pub fn fuzz_json_parse(text: &str) {
    let arena = json::Arena::new();
    match (json::Value::parse(text, &arena), json::oracle::parse(text)) {
        (Ok(ours), Ok(theirs)) => {
            assert!(json::oracle::same(&ours, text, &theirs), "{text:?}: {ours:?} is not {theirs:?}");
        }
        (Err(ours), Err(theirs)) => assert_eq!(ours.message(), format!("malformed JSON: {theirs}"), "{text:?}"),
        (ours, theirs) => panic!("{text:?}: parsed as {ours:?}, serde_json says {theirs:?}"),
    }
}
pub use error::{Code, Error};
pub use model::{Format, Indicator, Observable, ObservableType, Tlp};

/// The crate version (`Cargo.toml`), as `version()` reports it to JS.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What [`parse_pattern`] reports: the tree, its canonical text, and what a destination can act on.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PatternReport<'a> {
    /// The parse tree.
    pub tree: pattern::Pattern<'a>,
    /// The pattern printed canonically (upper-case keywords, normalised spacing).
    pub canonical: String,
    /// Whether the pattern reduces to atomic observables (SPEC §4).
    pub atomic: bool,
    /// The atomic observables, when `atomic` (values that failed validation are in `errors`).
    pub observables: Vec<Observable>,
    /// Why the pattern is not atomic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Observables whose values are invalid (`[ipv4-addr:value = '999.1.1.1']`).
    pub errors: Vec<ValueError>,
}

/// An observable value inside a pattern that failed validation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ValueError {
    /// The machine-readable kind.
    pub code: Code,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Parses a STIX 2.1 pattern and extracts its atomic observables.
pub fn parse_pattern(text: &str) -> Result<PatternReport<'_>, Error> {
    parse_pattern_version(text, pattern::SpecVersion::V2_1)
}

/// [`parse_pattern`] with the rules of a given STIX version.
pub fn parse_pattern_version(text: &str, version: pattern::SpecVersion) -> Result<PatternReport<'_>, Error> {
    let tree = pattern::parse_version(text, version)?;
    let canonical = tree.to_string();
    let (atomic, observables, reason, errors) = match pattern::extract(&tree) {
        pattern::Extraction::NotAtomic(reason) => (false, Vec::new(), Some(reason), Vec::new()),
        pattern::Extraction::Atomic(results) => {
            let mut observables = Vec::new();
            let mut errors = Vec::new();
            for result in results {
                match result {
                    Ok(o) => observables.push(o),
                    Err(e) => errors.push(ValueError { code: e.code(), message: e.message().to_owned() }),
                }
            }
            (true, observables, None, errors)
        }
    };
    Ok(PatternReport { tree, canonical, atomic, observables, reason, errors })
}
