//! Runs the shared spec, `tests/16_temp_files.rs` at the workspace root, against this crate.
extern crate temp_files as subject;

#[path = "../../../tests/16_temp_files.rs"]
mod spec;
