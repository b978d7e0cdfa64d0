//! Runs the shared spec, `tests/21_unbounded_cache.rs` at the workspace root, against this crate.
extern crate unbounded_cache_solution as subject;

#[path = "../../../tests/21_unbounded_cache.rs"]
mod spec;
