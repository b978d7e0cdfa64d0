//! Runs the shared spec, `tests/11_c_strings.rs` at the workspace root, against this crate.
extern crate c_strings_solution as subject;

#[path = "../../../tests/11_c_strings.rs"]
mod spec;
