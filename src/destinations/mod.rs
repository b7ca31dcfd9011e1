//! Mappings: one item, with its policy [`Decision`](crate::policy::Decision), into the exact object
//! each destination API takes (SPEC §6; reference/microsoft-apis.md §1–§3).
//!
//! Every module exposes the same shape: `map(item, decision, destination)` (Sentinel also takes
//! `now`, for the `modified` of a revocation) returns a
//! `#[derive(Serialize)]` object borrowing from the item, or a sentence saying why the item
//! cannot be made valid for that API (the planner turns it into a `skip` with reason
//! `invalid_value`, so no request the API would reject is ever sent). Batching, request URLs,
//! headers and rate-limit classes belong to the planner, not here. The planner writes the objects
//! into its request bodies with `write` (hand-written JSON, the same bytes as `serde_json`, tested
//! so) and computes each item's id once for every destination (`map_with_id`; Sentinel's `prepare`).

pub mod defender;
pub mod graph;
pub mod sentinel;
pub(crate) mod write;

/// Whether `text` is empty or only whitespace (`str::trim` would leave nothing). Most text starts
/// with a visible ASCII character, which answers at once without `trim`'s Unicode decoding.
pub(crate) fn blank(text: &str) -> bool {
    match text.as_bytes().first() {
        None => true,
        Some(&b) if b > b' ' && b < 0x80 => false,
        Some(_) => text.trim().is_empty(),
    }
}

/// `text.trim()`, answering at once when both ends are visible ASCII characters (most text).
pub(crate) fn trimmed(text: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    if visible(text.as_bytes().first()) && visible(text.as_bytes().last()) { text } else { text.trim() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_trimmed_agree_with_trim() {
        for text in
            ["", " ", "\t\n", "a", " a", "a ", " a b ", "\u{a0}", "\u{a0}x\u{2003}", "é", " é ", "x\u{3000}", "\u{85}"]
        {
            assert_eq!(blank(text), text.trim().is_empty(), "{text:?}");
            assert_eq!(trimmed(text), text.trim(), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn blank_and_trimmed_are_trim(text in "\\PC{0,12}|[ \\t\\n\\u{a0}\\u{2003}]{0,3}[a-z]{0,3}[ \\t\\u{85}]{0,3}") {
            proptest::prop_assert_eq!(blank(&text), text.trim().is_empty());
            proptest::prop_assert_eq!(trimmed(&text), text.trim());
        }
    }
}
