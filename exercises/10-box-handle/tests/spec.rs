//! Runs the shared spec, `tests/10_box_handle.rs` at the workspace root, against this crate.
extern crate box_handle as subject;

#[path = "../../../tests/10_box_handle.rs"]
mod spec;
