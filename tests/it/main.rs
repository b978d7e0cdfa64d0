//! The root package's integration tests, in one binary to keep build time down.

mod book;
mod class;
mod programs;
mod runner;
mod scratch;
mod selfcheck;
