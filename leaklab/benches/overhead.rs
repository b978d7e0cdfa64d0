//! `cargo bench -p leaklab`: leaklab's time ÷ `System`'s time on the same workloads, measured in one run.
//!
//! Both allocators are driven through the same generic code and the same out-of-line [`Shim`], the way
//! `Box` reaches a global allocator through the compiler's `__rust_alloc` shim (so neither side gets
//! inlined into the loop); leaklab's runs happen inside a live region so every block is counted. Each workload alternates the two
//! allocators several times and compares the medians, so drift in machine load affects both sides.

use leaklab::LeakLab;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: LeakLab = LeakLab::new();

const ROUNDS: usize = 7;

/// Forwards to `A` through calls that are never inlined, like `__rust_alloc` → the global allocator.
struct Shim<A>(A);

// SAFETY: forwards every call unchanged to `A`, which upholds the GlobalAlloc contract.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Shim<A> {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { self.0.alloc(layout) }
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

/// A reference design for calibration: System plus one global atomic byte counter.
struct GlobalCounter(std::sync::atomic::AtomicUsize);

// SAFETY: forwards to System; the counter is bookkeeping only.
unsafe impl GlobalAlloc for GlobalCounter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.0.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

static SYSTEM: Shim<System> = Shim(System);
static COUNTER: Shim<GlobalCounter> = Shim(GlobalCounter(std::sync::atomic::AtomicUsize::new(0)));
static LEAKLAB: Shim<LeakLab> = Shim(LeakLab::new());

/// 5M `Box<u64>`-sized alloc + write + free, one after the other.
fn churn<A: GlobalAlloc>(a: &A, n: usize) {
    let layout = Layout::new::<u64>();
    for i in 0..n {
        // SAFETY: non-zero layout; the block is written within bounds and freed once with its layout.
        unsafe {
            let p = a.alloc(layout).cast::<u64>();
            p.write(i as u64);
            black_box(p);
            a.dealloc(p.cast(), layout);
        }
    }
}

/// Sizes 8..508 bytes with 64 blocks live: each step frees the oldest block and allocates a new one.
fn mixed<A: GlobalAlloc>(a: &A, n: usize) {
    let mut live = [(std::ptr::null_mut::<u8>(), Layout::new::<u8>()); 64];
    let mut x: u32 = 0x9E37_79B9;
    for i in 0..n + live.len() {
        let slot = &mut live[i % 64];
        if !slot.0.is_null() {
            // SAFETY: the slot holds a live block allocated by `a` with this layout.
            unsafe { a.dealloc(slot.0, slot.1) };
            *slot = (std::ptr::null_mut(), slot.1);
        }
        if i < n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let layout = Layout::from_size_align(8 + (x as usize % 126) * 4, 8).unwrap();
            // SAFETY: non-zero layout; the first byte is in bounds.
            unsafe {
                let p = a.alloc(layout);
                p.write(i as u8);
                *slot = (black_box(p), layout);
            }
        }
    }
}

/// Runs `work` once and returns how long it took; leaklab's side runs inside a region.
fn time(tracked: bool, work: impl FnOnce()) -> Duration {
    let start = Instant::now();
    if tracked {
        // Sites off explicitly: the workspace's .cargo/config.toml turns them on for tests.
        let report = leaklab::Region::new().sites(false).run(work);
        assert!(report.is_clean(), "{report}");
    } else {
        work();
    }
    start.elapsed()
}

/// As [`time`] with allocation sites recorded (a stack trace per allocation).
fn time_with_sites(work: impl FnOnce()) -> Duration {
    let start = Instant::now();
    let report = leaklab::Region::new().sites(true).run(work);
    assert!(report.is_clean(), "{report}");
    start.elapsed()
}

fn on_two_threads(tracked: bool, n: usize, work: fn(usize)) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(move || time(tracked, || work(n / 2)));
        }
    });
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Measures `system` and `leaklab` alternately and prints the medians and their ratio.
fn compare(name: &str, target: Option<f64>, system: impl Fn() -> Duration, leaklab: impl Fn() -> Duration) -> f64 {
    system(); // warm-up of caches and page tables for both
    leaklab();
    let (mut s, mut l) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        s.push(system());
        l.push(leaklab());
    }
    let (s, l) = (median(s), median(l));
    let ratio = l.as_secs_f64() / s.as_secs_f64();
    let verdict = match target {
        Some(t) if ratio <= t => format!("(meets target <= {t}x)"),
        Some(t) => format!("(MISSES target <= {t}x)"),
        None => String::new(),
    };
    println!("{name:<34} {:>9.1?} {:>9.1?} {ratio:>7.3}x  {verdict}", s, l);
    ratio
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--test`-like flags; keep that quick.
    let quick = std::env::args().any(|a| a == "--test" || a == "--quick");
    let n = if quick { 50_000 } else { 5_000_000 };
    println!("leaklab overhead vs System, {n} operations per workload, median of {ROUNDS} alternating runs");
    println!("{:<34} {:>9} {:>9} {:>8}", "workload", "System", "leaklab", "ratio");
    compare(
        "Box<u64> churn, 1 thread",
        Some(1.15),
        || time(false, || churn(&SYSTEM, n)),
        || time(true, || churn(&LEAKLAB, n)),
    );
    compare(
        "mixed 8..508 B, 64 live, 1 thread",
        Some(1.15),
        || time(false, || mixed(&SYSTEM, n)),
        || time(true, || mixed(&LEAKLAB, n)),
    );
    compare(
        "Box<u64> churn, 2 threads",
        Some(1.3),
        || on_two_threads(false, n, |n| churn(&SYSTEM, n)),
        || on_two_threads(true, n, |n| churn(&LEAKLAB, n)),
    );
    let sites_n = n / 10;
    let ratio = compare(
        "Box<u64> churn, sites on (n/10)",
        Some(5.0),
        || time(false, || churn(&SYSTEM, sites_n)),
        || time_with_sites(|| churn(&LEAKLAB, sites_n)),
    );
    let system_ns = {
        let t = time(false, || churn(&SYSTEM, sites_n));
        t.as_nanos() as f64 / sites_n as f64
    };
    println!(
        "  sites on: about {:.0} ns per allocation+free ({ratio:.0}x System's {system_ns:.1} ns), {}",
        ratio * system_ns,
        if leaklab::sites_walk_frame_pointers() {
            "walking frame pointers"
        } else {
            "with the DWARF unwinder"
        }
    );
    println!("reference (not leaklab): System + one global atomic counter");
    compare(
        "  Box<u64> churn, 1 thread",
        None,
        || time(false, || churn(&SYSTEM, n)),
        || time(false, || churn(&COUNTER, n)),
    );
    compare(
        "  Box<u64> churn, 2 threads",
        None,
        || on_two_threads(false, n, |n| churn(&SYSTEM, n)),
        || on_two_threads(false, n, |n| churn(&COUNTER, n)),
    );
    println!("per-block overhead: {} header bytes", leaklab::HEADER_BYTES);
}
