//! The baseline child of `cargo bench -p leaklab-peers`: the system allocator, no leak checking.

fn main() {
    leaklab_peers::child(&leaklab_peers::NoDetector);
}
