//! Runs the shared spec, `tests/02_leaked_config.rs` at the workspace root, against this crate.
extern crate leaked_config as subject;

#[path = "../../../tests/02_leaked_config.rs"]
mod spec;
