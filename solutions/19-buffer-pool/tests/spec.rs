//! Runs the shared spec, `tests/19_buffer_pool.rs` at the workspace root, against this crate.
extern crate buffer_pool_solution as subject;

#[path = "../../../tests/19_buffer_pool.rs"]
mod spec;
