//! Runs the shared spec, `tests/07_observer.rs` at the workspace root, against this crate.
extern crate observer as subject;

#[path = "../../../tests/07_observer.rs"]
mod spec;
