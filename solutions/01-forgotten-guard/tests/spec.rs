//! Runs the shared spec, `tests/01_forgotten_guard.rs` at the workspace root, against this crate.
extern crate forgotten_guard_solution as subject;

#[path = "../../../tests/01_forgotten_guard.rs"]
mod spec;
