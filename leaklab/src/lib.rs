//! leaklab finds memory leaks in a region of code: install its allocator, run the code in [`check`], and
//! read the [`Report`] of what is still allocated.
//!
//! # 1. Install the allocator
//!
//! Once per binary (a test binary, an example), usually at the top of the test file:
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
//! ```
//!
//! # 2. Check a region of code
//!
//! [`check`] runs a closure, drops its return value, and reports every block allocated while it ran that
//! is still allocated afterwards — wherever it was freed, on this thread or another:
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
//! let report = leaklab::check(|| {
//!     let kept = Box::new([0u8; 48]);
//!     std::mem::forget(kept); // leaks 48 bytes
//! });
//! assert!(!report.is_clean());
//! assert_eq!(report.leaked_blocks(), 1);
//! assert_eq!(report.leaked_bytes(), 48);
//! println!("{report}"); // what leaked, and what usually causes it
//! ```
//!
//! In a test, [`assert_no_leaks!`] panics with the report as the message:
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
//! leaklab::assert_no_leaks!(|| {
//!     let names: Vec<String> = vec!["a".into(), "b".into()];
//!     names.len()
//! });
//! ```
//!
//! # 3. Inside `proptest!`
//!
//! A [`Report`] is an error, so [`prop_assert_no_leaks!`] (or `check(..).into_result()?`) fails the case
//! with the report as its message, and proptest shrinks it to the shortest leaking input:
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
//! use proptest::prelude::*;
//!
//! fn run(sizes: &[u8]) -> usize {
//!     sizes.iter().map(|&n| vec![0u8; n.into()].len()).sum()
//! }
//!
//! proptest! {
//!     // In a test file this carries `#[test]`; here the doc example calls it directly.
//!     fn run_leaks_nothing(sizes in prop::collection::vec(any::<u8>(), 0..20)) {
//!         leaklab::prop_assert_no_leaks!(|| run(&sizes));
//!     }
//! }
//! # run_leaks_nothing();
//! ```
//!
//! # 4. Warm up one-time initialisation
//!
//! A `OnceLock`, a lazily created thread-local or a runtime's first-use buffers are allocated once and
//! kept for the life of the process. Inside a region they look like leaks. Run the code once *before*
//! the region so the one-time work is done:
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
//! use std::sync::OnceLock;
//! static TABLE: OnceLock<Vec<u32>> = OnceLock::new();
//! fn lookup(i: usize) -> u32 {
//!     TABLE.get_or_init(|| (0..256).collect())[i]
//! }
//!
//! lookup(0); // warm-up: the table is built here, outside the region
//! leaklab::assert_no_leaks!(|| lookup(7));
//! ```
//!
//! # 5. Nested regions, threads, and parallel tests
//!
//! - Tests run in parallel threads of one process; each region only counts allocations made by the
//!   thread that runs it, so parallel tests never see each other's blocks.
//! - A block is attributed to the region that allocated it for its whole life: freeing it on another
//!   thread (a channel, a scoped thread) counts for that region. Frees of blocks allocated before the
//!   region, or outside any region, never change a region's counts. `realloc` keeps the attribution.
//! - Regions nest: a leak in an inner region also shows in every enclosing region's report.
//! - When a region ends with blocks outstanding, leaklab waits briefly (bounded; see [`DEFAULT_SETTLE`])
//!   for other threads that are still dropping the region's last values, so a scoped thread's teardown
//!   is not reported as a leak. Clean regions do not wait; a leak only this thread touched is believed
//!   after 10 ms without change, one that other threads have been freeing after 200 ms.
//!
//! # 6. Machine-readable reports
//!
//! With `LEAKLAB_REPORT_DIR=dir`, every report is also appended to `dir/leaklab-<pid>.jsonl`, one JSON
//! object per line. The schema is [`Report`]'s fields, versioned by the `schema` field
//! ([`REPORT_SCHEMA`]); `verdict` is `"clean"`, `"leak"` or `"unavailable"`; `fds` and `threads`
//! list what the ledgers found, and `files` (present only when not empty) what the directory ledger
//! found. Fields are only ever added, each optional, so a reader of `leaklab.report/1` keeps working.
//! Under valgrind's memcheck, each report also carries `valgrind` ([`HeapDelta`]): valgrind's own count of
//! how the heap changed while the region ran, a second opinion that `scripts/oracle.sh` compares with
//! leaklab's count.
//!
//! # 7. File descriptors, threads and files on disk
//!
//! [`Region::track_fds`] also reports descriptors opened in the region and still open at its end, by path;
//! [`Region::track_threads`] reports threads started in it and still running, by name. Both compare
//! *sets* read from `/proc/self` (so an fd closed and another opened in its place is still seen). These
//! resources belong to the whole process, so regions that track them run one at a time, while
//! memory-only regions stay parallel: put every test of a binary that opens files or starts threads under
//! the ledger, or run that binary with `--test-threads=1`. Where `/proc` is missing the report says that
//! these were not checked.
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
//! # if leaklab::ledgers_available() {
//! let path = std::env::temp_dir().join(format!("leaklab-doc-{}", std::process::id()));
//! let report = leaklab::Region::new().track_fds().run(|| {
//!     let file = std::fs::File::create(&path).unwrap();
//!     std::mem::forget(file); // the descriptor stays open
//! });
//! assert_eq!(report.fds.len(), 1);
//! assert!(report.to_string().contains("still open: fd"));
//! # std::fs::remove_file(&path).unwrap();
//! # }
//! ```
//!
//! [`Region::track_dir`] reports files and directories created under a directory in the region and still
//! there at its end: the temporary file a function forgot to delete on its error path, the scratch
//! directory a job left behind. Like the other ledgers it compares sets (the paths under the directory,
//! at any depth, when the region begins and ends), so files that were there before are never reported; a
//! new directory is reported once, with the number of entries inside. The report says
//! `still on disk: <path>`, and the JSON report lists them in `files`. Regions tracking a directory also
//! run one at a time, and the check needs no `/proc`.
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
//! let dir = std::env::temp_dir().join(format!("leaklab-doc-dir-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let report = leaklab::Region::new().track_fds().track_dir(&dir).run(|| {
//!     std::fs::write(dir.join("done.txt"), "ok").unwrap();
//!     std::fs::remove_file(dir.join("done.txt")).unwrap(); // cleaned up
//!     std::fs::write(dir.join("part.tmp"), "half").unwrap(); // forgotten
//! });
//! assert_eq!(report.files.len(), 1);
//! assert!(report.to_string().contains("still on disk:"));
//! assert!(report.to_string().contains("part.tmp (4 bytes)"));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! Setup and behaviour checks that open files *outside* a region can still be seen by a parallel test's
//! ledger. Run them inside [`exclusive`], which takes the same lock and checks nothing:
//!
//! ```
//! # #[global_allocator]
//! # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
//! let dir = leaklab::exclusive(|| {
//!     let dir = std::env::temp_dir().join(format!("leaklab-doc-setup-{}", std::process::id()));
//!     std::fs::create_dir_all(&dir).unwrap();
//!     std::fs::write(dir.join("input.txt"), "x").unwrap();
//!     dir
//! });
//! # leaklab::exclusive(|| std::fs::remove_dir_all(&dir).unwrap());
//! ```
//!
//! # 8. C code
//!
//! C code calls `leaklab_malloc`, `leaklab_calloc`, `leaklab_realloc` and `leaklab_free` (declared in
//! `include/leaklab.h`); its blocks are counted in the calling thread's region and marked as C blocks in
//! the report. A double free or a foreign pointer aborts with a message instead of corrupting memory.
//!
//! To compile C with the `cc` crate, make leaklab a `[dependencies]` entry of the crate whose `build.rs`
//! compiles it: leaklab's `links = "leaklab"` key then hands that build script the header's directory as
//! `DEP_LEAKLAB_INCLUDE` (`cc::Build::new().include(env::var("DEP_LEAKLAB_INCLUDE")?)`). Name the crate in
//! its Rust code too (`use leaklab as _;`), so the linker meets leaklab after the C code that calls it. The
//! C FFI exercises (`exercises/11-c-strings` and on) are complete examples.
//!
//! # How it works, and what it will not do
//!
//! See `ARCHITECTURE.md` at the repository root. In short: a 16-byte header per block holds the tag of the
//! region that allocated it; counters live in per-thread shards updated without locks or atomic
//! read-modify-write; the allocator never panics, never allocates and never locks.

#![deny(missing_docs)]

mod alloc;
mod growth;
mod os;
mod region;
mod report;
mod sites;
mod unwind;
mod valgrind;

pub use alloc::{HEADER_BYTES, LeakLab, leaklab_calloc, leaklab_free, leaklab_malloc, leaklab_realloc};
pub use growth::{GROWING_BLOCKS_PER_ITERATION, GROWING_BYTES_PER_ITERATION, Growth};
pub use os::{LeakedFd, LeakedFile, LeakedThread, ledgers_available};
pub use region::{DEFAULT_SETTLE, Entered, Region, RegionHandle};
pub use report::{GrowthSummary, REPORT_DIR_ENV, REPORT_SCHEMA, Report, Verdict};
pub use sites::{CycleMember, LeakCycle, LeakGroup, LeakKind, Site};
pub use valgrind::HeapDelta;

/// Runs `f` in a tracked region on this thread and reports what it left allocated. `f`'s return value is
/// dropped inside the region. Same as `Region::new().run(f)`.
pub fn check<R>(f: impl FnOnce() -> R) -> Report {
    Region::new().run(f)
}

/// Runs `f` while no region that tracks descriptors, threads or directories runs, and checks nothing.
///
/// For test setup and behaviour checks that open files or start threads outside a region, in a binary
/// whose other tests use those ledgers: without it, a parallel test's ledger could see them. Takes the
/// same process-wide lock as those regions, so it may be nested in one (and they in it) on one thread.
pub fn exclusive<R>(f: impl FnOnce() -> R) -> R {
    let _lock = os::ProcessLock::acquire();
    f()
}

/// Runs `op` `iterations` times and measures what stays allocated per iteration after a warm-up: how a
/// per-request leak in a long-running service shows. Same as `Region::new().growth(iterations, op)`.
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
/// let mut log = Vec::with_capacity(500); // sized up front: only the boxes grow
/// let leaky = leaklab::growth(500, || log.push(Box::new([0u8; 64])));
/// assert!(leaky.is_growing());
/// assert!((leaky.bytes_per_iteration() - 64.0).abs() < 1.0, "{leaky}");
/// # drop(log);
///
/// let steady = leaklab::growth(500, || vec![0u8; 64].len());
/// assert!(!steady.is_growing(), "{steady}");
/// ```
pub fn growth<R>(iterations: usize, op: impl FnMut() -> R) -> Growth {
    Region::new().growth(iterations, op)
}

/// Whether this build captures allocation sites ([`Region::sites`]) by walking frame pointers, the quick
/// way, rather than with the DWARF unwinder. True on x86-64 Linux when the program is compiled with
/// `-C force-frame-pointers=yes`, as in this workspace's `.cargo/config.toml`.
pub const fn sites_walk_frame_pointers() -> bool {
    unwind::uses_frame_pointers()
}

/// Checks a closure with [`check`] and panics with the report when it leaked.
///
/// ```should_panic
/// # #[global_allocator]
/// # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
/// leaklab::assert_no_leaks!(|| Box::leak(Box::new(7)));
/// ```
#[macro_export]
macro_rules! assert_no_leaks {
    ($f:expr $(,)?) => {{
        let report = $crate::check($f);
        if !report.is_clean() {
            ::core::panic!("{}", report);
        }
    }};
}

/// The `proptest!` form of [`assert_no_leaks!`]: returns the report as the failing case's error, so proptest
/// shrinks the input and prints the report with the minimal input.
#[macro_export]
macro_rules! prop_assert_no_leaks {
    ($f:expr $(,)?) => {{
        if let ::core::result::Result::Err(report) = $crate::check($f).into_result() {
            return ::core::result::Result::Err(::core::convert::From::from(report));
        }
    }};
}
