//! The code shown in the leaklab book. Each chapter includes regions of these files marked
//! `// ANCHOR: name` … `// ANCHOR_END: name`, and `tests/chapters.rs` checks under leaklab that each
//! snippet leaks, or does not, exactly as the chapter says. Nothing here is meant for production use.

pub mod cache;
pub mod fd;
pub mod guard;
pub mod raii;
pub mod weak;
pub mod why;
