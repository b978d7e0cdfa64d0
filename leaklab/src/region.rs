//! Regions: the safe bookkeeping around a tracked stretch of code (open, nest, settle, close).

use crate::alloc::{self, Counts};
use crate::growth::Growth;
use crate::os::{self, LeakedFd, LeakedFile, LeakedThread, ProcessLock};
use crate::report::{self, Report};
use crate::valgrind;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long [`Region::run`] waits, at most, for other threads to finish freeing before it calls a region
/// leaking. Clean regions never wait. Override with `LEAKLAB_SETTLE_MS` or [`Region::settle`].
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(500);

/// A leak stays unchanged for this long before the settle loop believes it, when only the region's own
/// thread has touched the region's blocks: nobody else can still be freeing them.
const STABLE_FOR: Duration = Duration::from_millis(10);

/// The same when other threads have freed (or allocated) the region's blocks: one of them may still be
/// about to free the rest (a scoped thread's teardown, a channel's receiver) and be waiting for a core on a
/// loaded machine. Only regions that really leak, and share their blocks with other threads, pay it.
const STABLE_FOR_SHARED: Duration = Duration::from_millis(200);

/// A tracked region of code, configured before it runs. [`check`](crate::check) is `Region::new().run(f)`.
///
/// ```
/// # #[global_allocator]
/// # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
/// let report = leaklab::Region::new()
///     .label("parse config")
///     .run(|| "a=1".split('=').map(str::to_owned).collect::<Vec<_>>());
/// assert!(report.is_clean(), "{report}");
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a Region does nothing until `run` is called"]
pub struct Region {
    label: Option<String>,
    settle: Option<Duration>,
    fds: bool,
    threads: bool,
    dirs: Vec<PathBuf>,
    sites: Option<bool>,
}

impl Region {
    /// A region with the default label (the current thread's name, which is the test's name under
    /// `cargo test`) and the default settle time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the region in its report and JSON file.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The longest time to wait for other threads' frees when the region ends with blocks outstanding.
    pub fn settle(mut self, budget: Duration) -> Self {
        self.settle = Some(budget);
        self
    }

    /// Record where each block is allocated, so a leak report groups leaked blocks by allocation site and
    /// explains cycles between them. Off by default, or on for every region with `LEAKLAB_SITES=1`.
    ///
    /// Slower: a stack walk per allocation. Build with `-C force-frame-pointers=yes` to make it quick (see
    /// [`sites_walk_frame_pointers`](crate::sites_walk_frame_pointers)); without it the DWARF unwinder
    /// takes 1.5–4 µs per allocation.
    pub fn sites(mut self, on: bool) -> Self {
        self.sites = Some(on);
        self
    }

    /// Also report file descriptors opened in the region and still open at its end, with their paths.
    ///
    /// Descriptors belong to the whole process, so regions tracking them (or threads) run one at a time;
    /// see section 7 of the crate docs.
    pub fn track_fds(mut self) -> Self {
        self.fds = true;
        self
    }

    /// Also report threads started in the region and still running at its end, with their names.
    pub fn track_threads(mut self) -> Self {
        self.threads = true;
        self
    }

    /// Also report files and directories created under `dir` in the region and still there at its end,
    /// with their paths: temporary files a function forgot to delete, a scratch directory left behind.
    /// Call it again to watch several directories.
    ///
    /// Entries are compared by path, at any depth under `dir` (symbolic links are not followed); `dir`
    /// itself is never reported. Like the fd ledger, regions tracking a directory run one at a time. Keep
    /// the directory small (a scratch directory per test): it is listed when the region begins and ends.
    pub fn track_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dirs.push(dir.into());
        self
    }

    /// Runs `f` inside the region, drops its return value there, and reports what is still allocated
    /// (and, when asked for, still open or running).
    ///
    /// Allocations made by this thread while `f` runs are attributed to the region, wherever they are
    /// freed. If `f` panics the region is closed and the panic continues.
    pub fn run<R>(self, f: impl FnOnce() -> R) -> Report {
        let label = self.label.unwrap_or_else(default_label);
        let settle = self.settle.unwrap_or_else(settle_from_env);
        let mut notes = Vec::new();
        let (fds, threads) = if (self.fds || self.threads) && !os::ledgers_available() {
            notes.push("file descriptors and threads were not checked: /proc/self is not available here".to_owned());
            (false, false)
        } else {
            (self.fds, self.threads)
        };
        let dirs = self.dirs;
        let _lock = (fds || threads || !dirs.is_empty()).then(ProcessLock::acquire);
        let before = alloc::untracked(|| Snapshot::take(fds, threads, &dirs));
        Open::prepare_thread();
        let heap_before = valgrind::heap();
        let sites = self.sites.unwrap_or_else(sites_from_env);
        let Some(mut open) = Open::begin() else {
            return Report::unavailable(label, "every region slot is in use (too many regions open at once)");
        };
        if sites {
            open.record_sites();
        }
        drop(f());
        let left = open.end(settle, |counts| {
            alloc::untracked(|| {
                let now = Snapshot::take(fds, threads, &dirs);
                Outstanding {
                    counts,
                    fds: os::added(&before.fds, &now.fds)
                        .into_iter()
                        .map(|(fd, path)| LeakedFd { fd, path })
                        .collect(),
                    threads: os::started(&before.threads, &now.threads),
                    files: os::new_files(&before.files, &now.files),
                    sited: None,
                }
            })
        });
        let heap_after = valgrind::heap();
        let report = alloc::untracked(|| {
            let mut report = Report::new(label, left.counts, left.fds, left.threads, left.files, notes);
            report.valgrind = heap_after.zip(heap_before).map(|(after, before)| after - before);
            if let Some(blocks) = left.sited {
                (report.groups, report.cycles) = crate::sites::explain(&blocks);
            } else if report.leaked_blocks > 0 {
                report
                    .notes
                    .push("run with LEAKLAB_SITES=1 to see where each leaked block was allocated".into());
            }
            report
        });
        report::publish(&report);
        report
    }
}

/// The process-wide resources seen at one moment (empty maps for what is not tracked).
#[derive(Default)]
struct Snapshot {
    fds: BTreeMap<i32, String>,
    threads: BTreeMap<i32, os::Task>,
    files: BTreeMap<PathBuf, os::Entry>,
}

impl Snapshot {
    fn take(fds: bool, threads: bool, dirs: &[PathBuf]) -> Snapshot {
        let mut files = BTreeMap::new();
        for dir in dirs {
            os::entries_under(dir, &mut files);
        }
        Snapshot {
            files,
            fds: if fds { os::open_fds() } else { BTreeMap::new() },
            threads: if threads {
                os::running_threads()
            } else {
                BTreeMap::new()
            },
        }
    }
}

/// What a region has left behind at one moment.
#[derive(Clone, Debug, Default)]
struct Outstanding {
    counts: Counts,
    fds: Vec<LeakedFd>,
    threads: Vec<LeakedThread>,
    files: Vec<LeakedFile>,
    /// The leaked blocks with their sites, when the region recorded sites (filled in after settling).
    sited: Option<Vec<alloc::SiteBlock>>,
}

impl PartialEq for Outstanding {
    fn eq(&self, other: &Self) -> bool {
        (self.counts, &self.fds, &self.threads, &self.files) == (other.counts, &other.fds, &other.threads, &other.files)
    }
}

impl Outstanding {
    fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.fds.is_empty() && self.threads.is_empty() && self.files.is_empty()
    }
}

impl Region {
    /// Runs `op` `iterations` times in the region and measures how much stays allocated per iteration.
    ///
    /// The first fifth of the iterations (at least one) is warm-up: one-time initialisation there (a
    /// `OnceLock`, a connection, a thread-local) does not count. The verdict is the least-squares slope of
    /// outstanding bytes and blocks over the remaining iterations; the result is also written to
    /// `LEAKLAB_REPORT_DIR` as a report with a `growth` section. With allocation sites on, the blocks
    /// allocated after the warm-up and still allocated at the end are grouped by site ([`Growth::sites`]).
    pub fn growth<R>(self, iterations: usize, mut op: impl FnMut() -> R) -> Growth {
        let label = self.label.unwrap_or_else(default_label);
        let warmup = (iterations / 5).max(1).min(iterations);
        let sites = self.sites.unwrap_or_else(sites_from_env);
        let (mut bytes, mut blocks) = (Vec::with_capacity(iterations), Vec::with_capacity(iterations));
        let mut kept = Vec::new();
        Open::prepare_thread();
        let heap_before = valgrind::heap();
        let mut heap_after = None;
        if let Some(mut open) = Open::begin() {
            for i in 0..iterations {
                // Sites only after the warm-up: what is still listed at the end is what the calls kept.
                if sites && i == warmup {
                    open.record_sites();
                }
                drop(op());
                let c = alloc::slot_counts(open.tag) - open.baseline;
                bytes.push((c.bytes + c.c_bytes) as i64);
                blocks.push((c.blocks + c.c_blocks) as i64);
            }
            open.stop();
            heap_after = valgrind::heap();
            if let Some(sited) = open.take_sites() {
                kept = alloc::untracked(|| crate::sites::grown(&sited));
            }
        }
        let growth = Growth {
            label,
            warmup,
            bytes,
            blocks,
            sites: kept,
        };
        let valgrind = heap_after.zip(heap_before).map(|(after, before)| after - before);
        alloc::untracked(|| report::publish(&Report::from_growth(&growth, valgrind)));
        growth
    }
}

/// A handle on the region running on some thread, to attribute another thread's allocations to it: a
/// server thread handling the region's requests, a worker pool. Get it with [`RegionHandle::current`]
/// inside the region and [`enter`](RegionHandle::enter) it on the other thread.
///
/// Allocations made after the region ended are attributed to no region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionHandle {
    tag: u32,
}

/// While alive, this thread's allocations go to the entered region. Not `Send`: drop it on the thread
/// that entered.
#[must_use = "the region is only entered while the guard lives"]
pub struct Entered {
    previous: u32,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl RegionHandle {
    /// The region this thread's allocations currently go to, if any.
    pub fn current() -> Option<RegionHandle> {
        let tag = alloc::thread_region();
        (tag != 0).then_some(RegionHandle { tag })
    }

    /// Attributes this thread's allocations to the region until the guard is dropped (and records their
    /// allocation sites when the region does).
    pub fn enter(self) -> Entered {
        alloc::untracked(|| LEASE.with(|_| ()));
        Entered {
            previous: alloc::set_thread_region(self.tag),
            _not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        alloc::set_thread_region(self.previous);
    }
}

fn default_label() -> String {
    std::thread::current().name().unwrap_or("unnamed thread").to_owned()
}

fn sites_from_env() -> bool {
    std::env::var("LEAKLAB_SITES").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn settle_from_env() -> Duration {
    std::env::var("LEAKLAB_SETTLE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_SETTLE)
}

/// Gives this thread's counter shard back when the thread exits.
struct ShardLease(Option<usize>);

impl Drop for ShardLease {
    fn drop(&mut self) {
        if let Some(index) = self.0 {
            alloc::release_shard(index);
        }
    }
}

thread_local! {
    static LEASE: ShardLease = ShardLease(alloc::acquire_shard());
    /// Open regions on this thread, innermost last, each with the nested regions that ended inside it.
    /// A nested region's slot stays reserved until its root region ends, so that its blocks freed later
    /// still reach the enclosing regions' counts.
    static OPEN: RefCell<Vec<Vec<u32>>> = const { RefCell::new(Vec::new()) };
}

/// A region that has begun on this thread; ending it (or unwinding past it) restores the thread's state.
struct Open {
    tag: u32,
    parent: u32,
    baseline: Counts,
    /// The part of `baseline` counted by other threads (see [`alloc::slot_counts_elsewhere`]).
    baseline_elsewhere: Counts,
    ended: bool,
    /// Whether this region records allocation sites.
    sites: bool,
}

impl Open {
    /// Sets up this thread's own bookkeeping (its counter shard, its list of open regions), which lives as
    /// long as the thread. Done before valgrind's count of the heap is taken, so that count only sees the
    /// region's blocks; [`Open::begin`] does it too.
    fn prepare_thread() {
        alloc::untracked(|| {
            LEASE.with(|_| ());
            OPEN.with(|open| open.borrow_mut().reserve(4));
        });
    }

    fn begin() -> Option<Open> {
        let parent = alloc::thread_region();
        Open::prepare_thread();
        let tag = alloc::untracked(|| {
            let tag = alloc::open_slot(parent)?;
            OPEN.with(|open| open.borrow_mut().push(Vec::new()));
            Some(tag)
        })?;
        let baseline = alloc::slot_counts(tag);
        let baseline_elsewhere = alloc::slot_counts_elsewhere(tag);
        alloc::set_thread_region(tag);
        Some(Open {
            tag,
            parent,
            baseline,
            baseline_elsewhere,
            ended: false,
            sites: false,
        })
    }

    /// Starts recording the allocation sites of the region's new blocks, on this thread and on threads
    /// that enter the region.
    fn record_sites(&mut self) {
        self.sites = true;
        alloc::set_region_sites(self.tag, true);
    }

    /// Stops recording sites and takes the region's sited blocks that are still allocated (`None` when
    /// the region recorded no sites).
    fn take_sites(&mut self) -> Option<Vec<alloc::SiteBlock>> {
        if !std::mem::replace(&mut self.sites, false) {
            return None;
        }
        alloc::set_region_sites(self.tag, false);
        Some(alloc::collect_sites(self.tag))
    }

    /// Stops attributing this thread's allocations to the region.
    fn stop(&self) {
        alloc::set_thread_region(self.parent);
    }

    /// Stops attributing allocations to the region, waits for in-flight frees (and closes, and thread
    /// exits), and returns what is left. `observe` adds the process-wide ledgers to the block counts.
    fn end(mut self, budget: Duration, observe: impl Fn(Counts) -> Outstanding) -> Outstanding {
        self.stop();
        let shared = || alloc::slot_counts_elsewhere(self.tag) != self.baseline_elsewhere;
        let mut left = settle(
            || observe(alloc::slot_counts(self.tag) - self.baseline),
            Outstanding::is_empty,
            || if shared() { STABLE_FOR_SHARED } else { STABLE_FOR },
            budget,
        );
        left.sited = self.take_sites();
        self.close();
        left
    }

    fn close(&mut self) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        self.stop();
        // When unwinding past the region, this detaches its sited blocks from the slot's list.
        self.take_sites();
        let tag = self.tag;
        alloc::untracked(|| {
            OPEN.with(|open| {
                let mut open = open.borrow_mut();
                let mut retired = open.pop().unwrap_or_default();
                retired.push(tag);
                match open.last_mut() {
                    Some(parent) => parent.append(&mut retired),
                    None => retired.into_iter().for_each(alloc::close_slot),
                }
            })
        });
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.close();
    }
}

/// Reads `read` until it is empty, has stopped changing for `stable_for()`, or `budget` has passed.
///
/// Threads that the region's code talked to (a scoped thread, a channel's receiver) can free the region's
/// last blocks a moment after the region's closure returned; reading once would call that a leak.
fn settle<T: PartialEq>(
    read: impl Fn() -> T,
    is_empty: impl Fn(&T) -> bool,
    stable_for: impl Fn() -> Duration,
    budget: Duration,
) -> T {
    let start = Instant::now();
    let mut last = read();
    let mut changed = start;
    let mut pause = Duration::from_micros(20);
    while !is_empty(&last) && start.elapsed() < budget {
        if pause < Duration::from_micros(100) {
            std::thread::yield_now();
        } else {
            std::thread::sleep(pause);
        }
        pause = (pause * 2).min(Duration::from_millis(1));
        let now = read();
        if now != last {
            last = now;
            changed = Instant::now();
        } else if changed.elapsed() >= stable_for() {
            break;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn settle_returns_at_once_when_clean() {
        let reads = Cell::new(0);
        settle(
            || {
                reads.set(reads.get() + 1);
                Counts::default()
            },
            Counts::is_empty,
            || STABLE_FOR,
            Duration::from_secs(10),
        );
        assert_eq!(reads.get(), 1);
    }

    #[test]
    fn settle_waits_for_counts_that_are_still_falling() {
        let left = Cell::new(5isize);
        let c = settle(
            || {
                left.set((left.get() - 1).max(0));
                Counts {
                    blocks: left.get(),
                    ..Counts::default()
                }
            },
            Counts::is_empty,
            || STABLE_FOR,
            Duration::from_secs(10),
        );
        assert!(c.is_empty());
    }

    #[test]
    fn settle_gives_up_on_a_stable_leak_quickly() {
        let start = Instant::now();
        let c = settle(
            || Counts {
                blocks: 1,
                ..Counts::default()
            },
            Counts::is_empty,
            || STABLE_FOR,
            Duration::from_secs(10),
        );
        assert_eq!(c.blocks, 1);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "stable leaks must not wait for the whole budget"
        );
    }
}
