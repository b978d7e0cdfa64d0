//! Runs the shared spec, `tests/12_c_library_wrapper.rs` at the workspace root, against this crate.
extern crate c_library_wrapper as subject;

#[path = "../../../tests/12_c_library_wrapper.rs"]
mod spec;
