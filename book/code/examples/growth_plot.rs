//! Writes the growth plots shown in the book's "Soak and load testing" chapter: the unbounded and the
//! bounded cache under the same stream of new keys. Run by `scripts/detectors.sh`, which sets
//! `LEAKLAB_PLOT_DIR`; `cargo run -p book-examples --example growth-plot` alone writes under `target/`.

use book_examples::cache::{BoundedCache, UnboundedCache};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: plot
    let mut unbounded = UnboundedCache::default();
    let mut i = 0;
    let growth = leaklab::Region::new().label("unbounded cache").growth(1_000, || {
        i += 1;
        unbounded.get(&format!("user-{i}"), || vec![0u8; 32]).len()
    });
    println!("{growth}");
    println!("plot: {}", growth.save_svg("unbounded-cache")?.display());
    // ANCHOR_END: plot

    let mut bounded = BoundedCache::new(100);
    let mut i = 0;
    let growth = leaklab::Region::new()
        .label("bounded cache (100 entries)")
        .growth(1_000, || {
            i += 1;
            bounded.get(&format!("user-{i}"), || vec![0u8; 32]).len()
        });
    println!("{growth}");
    println!("plot: {}", growth.save_svg("bounded-cache")?.display());
    Ok(())
}
