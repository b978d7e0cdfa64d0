//! The leaklab workshop: the exercise catalogue, grading, the runner's state, the self-check and the
//! results export, used by `cargo run`.

pub mod catalogue;
pub mod class;
pub mod grade;
pub mod results;
pub mod saves;
pub mod state;
pub mod terminal;
pub mod verify;
pub mod workshop;
