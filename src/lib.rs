//! The leaklab workshop: the exercise catalogue, grading, and the runner's state, used by `cargo run`.

pub mod catalogue;
pub mod grade;
pub mod state;
