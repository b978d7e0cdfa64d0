//! Runs the shared spec, `tests/06_doubly_linked.rs` at the workspace root, against this crate.
extern crate doubly_linked as subject;

#[path = "../../../tests/06_doubly_linked.rs"]
mod spec;
