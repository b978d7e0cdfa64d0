//! Runs the shared spec, `tests/14_raw_fd.rs` at the workspace root, against this crate.
extern crate raw_fd as subject;

#[path = "../../../tests/14_raw_fd.rs"]
mod spec;
