//! The leaklab workshop: the exercise catalogue, grading, the runner's state, the self-check and the
//! results export, used by `cargo run`.

pub mod catalogue;
pub mod class;
pub mod grade;
pub mod results;
pub mod state;
pub mod verify;
pub mod workshop;
