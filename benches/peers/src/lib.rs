//! The child side of `cargo bench -p leaklab-peers`: the workloads, and how each leak detector checks them.
//!
//! Each allocator is the `#[global_allocator]` of its own small binary (`src/bin/peer-*.rs`), installed the
//! way its users install it, and each checks a unit of work for leaks the way its users do:
//!
//! | binary | allocator | a checked unit of work |
//! | --- | --- | --- |
//! | `peer-system` | `std::alloc::System` | none (the baseline) |
//! | `peer-leaklab` | `leaklab::LeakLab` | a `leaklab::Region` per unit, `--sites` to record allocation sites |
//! | `peer-dhat` | `dhat::Alloc` | a testing-mode `dhat::Profiler` for the process; `HeapStats` before and after |
//! | `peer-stats-alloc` | `stats_alloc::StatsAlloc<System>` | a `stats_alloc::Region`; its change must balance |
//! | `peer-header` | reference: `System` + a 16-byte header, no counting | none (the floor of a header design) |
//!
//! The bench (`benches/peers.rs`) runs these binaries as child processes, alternating between them, so every
//! allocator runs in its real configuration (no shim, no dispatch) and on the same code. A child understands:
//!
//! - `time <n> [workload]`: runs every workload in [`WORKLOADS`] (or only the one named), one warm-up and then
//!   [`REPS`] timed runs each, and prints one line per workload: its name and the median nanoseconds per
//!   operation;
//! - `rss <blocks>`: keeps `blocks` blocks of mixed sizes live, and prints its peak resident set size (KiB)
//!   before and while they are live.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hint::black_box;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

/// Timed runs per workload in one child (after one warm-up run); the child reports their median.
pub const REPS: usize = 3;

/// The workloads, in the order they are run and reported: (name, description).
pub const WORKLOADS: [(&str, &str); 4] = [
    ("churn", "Box<u64> churn, 1 thread"),
    ("mixed", "mixed 8..508 B, 64 live, 1 thread"),
    ("churn2", "Box<u64> churn, 2 threads"),
    ("tree", "Rc tree + HashMap<String> (per tree)"),
];

/// Nodes per tree in the `tree` workload.
pub const TREE_NODES: usize = 64;
/// The `tree` workload builds one tree per this many operations of `n`, so that it does about as many
/// allocations as the other workloads (a tree of 64 nodes takes about 250 allocations).
pub const TREE_DIVISOR: usize = 256;

/// How a leak detector checks a unit of work (one test), the way its users do.
pub trait Detector: Sync {
    /// Whether a check covers only the calling thread (leaklab's regions): then each thread of the two-thread
    /// workload runs its own check, as parallel tests do. Process-wide detectors check the whole run.
    const PER_THREAD: bool;

    /// Runs `f` as one checked unit and panics if the detector finds that it leaked.
    fn checked(&self, f: impl FnOnce());
}

/// No detector: the `System` baseline.
pub struct NoDetector;

impl Detector for NoDetector {
    const PER_THREAD: bool = false;
    fn checked(&self, f: impl FnOnce()) {
        f()
    }
}

/// leaklab: every unit runs in a region; sites are on or off explicitly (the workspace's `.cargo/config.toml`
/// turns them on for everything cargo runs).
pub struct LeakLabDetector {
    /// Record each allocation's call stack (`Region::sites`).
    pub sites: bool,
}

impl Detector for LeakLabDetector {
    const PER_THREAD: bool = true;
    fn checked(&self, f: impl FnOnce()) {
        let report = leaklab::Region::new().sites(self.sites).run(f);
        assert!(report.is_clean(), "{report}");
    }
}

/// dhat-rs in heap-testing mode: the process runs a `Profiler::builder().testing()` profiler (its binary
/// starts it), and a unit is clean when `HeapStats::curr_blocks` is back where it was.
pub struct DhatDetector;

impl Detector for DhatDetector {
    const PER_THREAD: bool = false;
    fn checked(&self, f: impl FnOnce()) {
        let before = dhat::HeapStats::get();
        f();
        settle("dhat", || {
            let after = dhat::HeapStats::get();
            (after.curr_blocks == before.curr_blocks && after.curr_bytes == before.curr_bytes)
                .then_some(())
                .ok_or_else(|| format!("{} blocks", after.curr_blocks as isize - before.curr_blocks as isize))
        });
    }
}

/// stats_alloc: a unit is clean when the region's allocations and frees balance.
pub struct StatsAllocDetector(pub &'static stats_alloc::StatsAlloc<std::alloc::System>);

impl Detector for StatsAllocDetector {
    const PER_THREAD: bool = false;
    fn checked(&self, f: impl FnOnce()) {
        let region = stats_alloc::Region::new(self.0);
        f();
        settle("stats_alloc", || {
            let c = region.change();
            (c.allocations == c.deallocations && c.bytes_allocated == c.bytes_deallocated)
                .then_some(())
                .ok_or_else(|| format!("{c:?}"))
        });
    }
}

/// Retries a process-wide check for a short while: a thread that has just been joined may still be freeing
/// its thread-locals (leaklab's regions wait the same way, see `leaklab::DEFAULT_SETTLE`).
fn settle(name: &str, mut clean: impl FnMut() -> Result<(), String>) {
    let start = Instant::now();
    loop {
        match clean() {
            Ok(()) => return,
            Err(e) if start.elapsed() > Duration::from_millis(200) => panic!("{name} reports a leak: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// A small deterministic generator (xorshift32), so every allocator sees the same sizes.
struct XorShift(u32);

impl XorShift {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    /// A layout of 8..=508 bytes (multiples of 4), 8-aligned.
    fn layout(&mut self) -> Layout {
        Layout::from_size_align(8 + (self.next() as usize % 126) * 4, 8).unwrap_or(Layout::new::<u64>())
    }
}

/// Allocates a block with the global allocator and writes its first byte.
fn block(layout: Layout, byte: u8) -> *mut u8 {
    // SAFETY: every layout used here has a non-zero size.
    let p = unsafe { alloc(layout) };
    if p.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: `p` is valid for at least one byte.
    unsafe { p.write(byte) };
    black_box(p)
}

/// `n` `Box<u64>`s, each allocated, written and freed before the next.
pub fn churn(n: usize) {
    for i in 0..n {
        let b = Box::new(i as u64);
        black_box(&b);
    }
}

/// `n` blocks of 8..508 bytes with 64 live: each step frees the oldest block and allocates a new one.
pub fn mixed(n: usize) {
    let mut live = [(std::ptr::null_mut::<u8>(), Layout::new::<u8>()); 64];
    let mut rng = XorShift(0x9E37_79B9);
    for i in 0..n + live.len() {
        let slot = &mut live[i % 64];
        if !slot.0.is_null() {
            // SAFETY: the slot holds a live block allocated with this layout.
            unsafe { dealloc(slot.0, slot.1) };
            slot.0 = std::ptr::null_mut();
        }
        if i < n {
            let layout = rng.layout();
            *slot = (block(layout, i as u8), layout);
        }
    }
}

/// [`churn`] split over two threads; each thread is its own checked unit for per-thread detectors.
pub fn churn_two_threads<D: Detector>(detector: &D, n: usize) {
    let run = || {
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    if D::PER_THREAD {
                        detector.checked(|| churn(n / 2));
                    } else {
                        churn(n / 2);
                    }
                });
            }
        })
    };
    if D::PER_THREAD { run() } else { detector.checked(run) }
}

struct Node {
    name: String,
    parent: RefCell<Weak<Node>>,
    children: RefCell<Vec<Rc<Node>>>,
}

/// `n` times: builds a ternary tree of [`TREE_NODES`] `Rc` nodes with `Weak` parent links and a
/// `HashMap<String, Rc<Node>>` index by name, reads it, and drops it all (what the exercises do).
pub fn tree(n: usize) {
    for t in 0..n {
        let root = Rc::new(Node {
            name: format!("root{t}"),
            parent: RefCell::new(Weak::new()),
            children: RefCell::new(Vec::new()),
        });
        let mut nodes = vec![Rc::clone(&root)];
        let mut index: HashMap<String, Rc<Node>> = HashMap::new();
        for i in 1..TREE_NODES {
            let parent = Rc::clone(&nodes[(i - 1) / 3]);
            let child = Rc::new(Node {
                name: format!("node{i}"),
                parent: RefCell::new(Rc::downgrade(&parent)),
                children: RefCell::new(Vec::new()),
            });
            parent.children.borrow_mut().push(Rc::clone(&child));
            index.insert(child.name.clone(), Rc::clone(&child));
            nodes.push(child);
        }
        let leaf = &index["node63"];
        let depth = std::iter::successors(leaf.parent.borrow().upgrade(), |n| n.parent.borrow().upgrade()).count();
        black_box((depth, root.children.borrow().len()));
    }
}

/// Runs workload `name` for `n` operations as one checked unit (per thread for the two-thread workload) and
/// returns how many operations it did (trees for `tree`).
pub fn run_workload<D: Detector>(detector: &D, name: &str, n: usize) -> usize {
    match name {
        "churn" => detector.checked(|| churn(n)),
        "mixed" => detector.checked(|| mixed(n)),
        "churn2" => churn_two_threads(detector, n),
        "tree" => {
            let trees = (n / TREE_DIVISOR).max(1);
            detector.checked(|| tree(trees));
            return trees;
        }
        other => panic!("unknown workload {other}"),
    }
    n
}

/// The process's peak resident set size in KiB (`VmHWM` in `/proc/self/status`), 0 where unavailable.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Allocates `blocks` blocks of 8..508 bytes, replaces each once, reads the peak RSS while they are all
/// live, and frees them; returns (peak RSS before, peak RSS while live) in KiB.
pub fn live_set<D: Detector>(detector: &D, blocks: usize) -> (u64, u64) {
    let mut live: Vec<(*mut u8, Layout)> = Vec::with_capacity(blocks);
    let before = peak_rss_kib();
    let mut during = 0;
    detector.checked(|| {
        let mut rng = XorShift(0x2545_F491);
        for i in 0..blocks {
            let layout = rng.layout();
            live.push((block(layout, i as u8), layout));
        }
        for (i, slot) in live.iter_mut().enumerate() {
            // SAFETY: the slot holds a live block allocated with this layout; it is replaced right away.
            unsafe { dealloc(slot.0, slot.1) };
            let layout = rng.layout();
            *slot = (block(layout, i as u8), layout);
        }
        during = peak_rss_kib();
        for (p, layout) in live.drain(..) {
            // SAFETY: each block is live and freed once, with its layout.
            unsafe { dealloc(p, layout) };
        }
    });
    (before, during)
}

/// The bytes requested by the blocks [`live_set`] keeps live at its peak (the same in every child).
pub fn live_set_bytes(blocks: usize) -> usize {
    let mut rng = XorShift(0x2545_F491);
    for _ in 0..blocks {
        rng.layout(); // the first pass, replaced by the second
    }
    (0..blocks).map(|_| rng.layout().size()).sum()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The `main` of every `peer-*` binary: runs the command in the process's arguments (see the crate docs).
pub fn child<D: Detector>(detector: &D) {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let number = |i: usize| -> usize {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("usage: time <n> [workload] | rss <blocks>"))
    };
    match args.first().map(String::as_str) {
        Some("time") => {
            let n = number(1);
            let only = args.get(2); // one workload, for profiling a child by hand
            for (name, _) in WORKLOADS.into_iter().filter(|(w, _)| only.is_none_or(|o| o == w)) {
                run_workload(detector, name, n); // warm-up: caches, page tables, the allocator's own set-up
                let mut times = Vec::with_capacity(REPS);
                let mut ops = 1;
                for _ in 0..REPS {
                    let start = Instant::now();
                    ops = run_workload(detector, name, n);
                    times.push(start.elapsed());
                }
                println!("{name} {:.3}", median(times).as_nanos() as f64 / ops as f64);
            }
        }
        Some("rss") => {
            let (before, during) = live_set(detector, number(1));
            println!("{before} {during}");
        }
        _ => panic!("usage: time <n> [workload] | rss <blocks>"),
    }
}
