//! Runs the shared spec, `tests/09_graph.rs` at the workspace root, against this crate.
extern crate graph_solution as subject;

#[path = "../../../tests/09_graph.rs"]
mod spec;
