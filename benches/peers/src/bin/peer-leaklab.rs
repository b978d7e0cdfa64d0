//! leaklab's child of `cargo bench -p leaklab-peers`: `LeakLab` installed as usual, each unit of work in a
//! region; `--sites` records allocation sites.

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

fn main() {
    let sites = std::env::args().any(|a| a == "--sites");
    leaklab_peers::child(&leaklab_peers::LeakLabDetector { sites });
}
