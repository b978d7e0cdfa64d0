//! Runs the shared spec, `tests/08_self_callback.rs` at the workspace root, against this crate.
extern crate self_callback_solution as subject;

#[path = "../../../tests/08_self_callback.rs"]
mod spec;
