//! Runs the shared spec, `tests/20_worker_threads.rs` at the workspace root, against this crate.
extern crate worker_threads as subject;

#[path = "../../../tests/20_worker_threads.rs"]
mod spec;
