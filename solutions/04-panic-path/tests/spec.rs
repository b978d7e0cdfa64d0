//! Runs the shared spec, `tests/04_panic_path.rs` at the workspace root, against this crate.
extern crate panic_path_solution as subject;

#[path = "../../../tests/04_panic_path.rs"]
mod spec;
