//! Runs the shared spec, `tests/13_callbacks.rs` at the workspace root, against this crate.
extern crate callbacks_solution as subject;

#[path = "../../../tests/13_callbacks.rs"]
mod spec;
