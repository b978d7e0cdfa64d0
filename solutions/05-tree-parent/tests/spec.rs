//! Runs the shared spec, `tests/05_tree_parent.rs` at the workspace root, against this crate.
extern crate tree_parent_solution as subject;

#[path = "../../../tests/05_tree_parent.rs"]
mod spec;
