//! stats_alloc's child of `cargo bench -p leaklab-peers`: the instrumented system allocator installed as in
//! its docs, each unit of work in a `stats_alloc::Region`.

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    leaklab_peers::child(&leaklab_peers::StatsAllocDetector(GLOBAL));
}
