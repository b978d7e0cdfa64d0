//! Runs the shared spec, `tests/18_request_registry.rs` at the workspace root, against this crate.
extern crate request_registry as subject;

#[path = "../../../tests/18_request_registry.rs"]
mod spec;
