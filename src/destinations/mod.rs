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
//! so) and computes each item's id once for every destination (`map_with_id`).

pub mod defender;
pub mod graph;
pub mod sentinel;
pub(crate) mod write;
