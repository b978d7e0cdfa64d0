//! dhat-rs's child of `cargo bench -p leaklab-peers`: `dhat::Alloc` installed and a heap-testing profiler
//! running for the whole process, as dhat's docs set up a heap usage test.

#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    leaklab_peers::child(&leaklab_peers::DhatDetector);
}
