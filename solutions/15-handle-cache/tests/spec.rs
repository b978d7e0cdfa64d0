//! Runs the shared spec, `tests/15_handle_cache.rs` at the workspace root, against this crate.
extern crate handle_cache_solution as subject;

#[path = "../../../tests/15_handle_cache.rs"]
mod spec;
