//! Runs the shared spec, `tests/03_manual_drop.rs` at the workspace root, against this crate.
extern crate manual_drop_solution as subject;

#[path = "../../../tests/03_manual_drop.rs"]
mod spec;
