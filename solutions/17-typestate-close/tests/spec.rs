//! Runs the shared spec, `tests/17_typestate_close.rs` at the workspace root, against this crate.
extern crate typestate_close_solution as subject;

#[path = "../../../tests/17_typestate_close.rs"]
mod spec;
