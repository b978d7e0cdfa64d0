//! Operating-system resources: the file-descriptor and thread ledgers, read from `/proc/self`, and the
//! directory ledger, read from the tracked directories.
//!
//! All three compare *sets* (fd → path, thread id → start time, path → entry) taken when a region begins and
//! when it ends, never counts, so a descriptor closed and another opened in its place is still noticed.
//! File descriptors, threads and files belong to the whole process (files to the whole system), so regions
//! that ask for these ledgers run one at a time ([`ProcessLock`]); regions that only count memory still
//! run in parallel. Code outside such regions that opens files or starts threads at the same moment can
//! still appear in a report: keep every test of a binary that opens descriptors under the ledger, or
//! inside [`exclusive`](crate::exclusive) (the exercise specs do).

use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// A file descriptor opened inside a region and still open at its end.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LeakedFd {
    /// The descriptor number.
    pub fd: i32,
    /// What it refers to: a path, or `socket:[inode]`, `pipe:[inode]`, `anon_inode:…`.
    pub path: String,
}

/// A thread started inside a region and still running at its end.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LeakedThread {
    /// The kernel's thread id.
    pub tid: i32,
    /// The thread's name (the kernel keeps the first 15 bytes).
    pub name: String,
}

/// A file or directory created under a tracked directory inside a region and still there at its end.
///
/// A directory left behind is one entry; what it holds is counted in `entries` and `bytes`, not listed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LeakedFile {
    /// Where it is: the tracked directory joined with the entry's path under it.
    pub path: String,
    /// True for a directory.
    #[serde(default)]
    pub dir: bool,
    /// Its size; for a directory, the size of the files under it.
    #[serde(default)]
    pub bytes: u64,
    /// For a directory, how many files and directories it holds (at any depth); 0 for a file.
    #[serde(default)]
    pub entries: usize,
}

static PROCESS_LOCK: Mutex<()> = Mutex::new(());

thread_local! {
    /// How many tracked regions this thread has open; only the outermost one takes the lock.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Held by a region that tracks file descriptors or threads, for as long as it runs. Reentrant on one
/// thread, so tracked regions can nest (a test's setup in an outer region, the check in an inner one).
pub(crate) struct ProcessLock {
    _guard: Option<MutexGuard<'static, ()>>,
}

impl ProcessLock {
    pub(crate) fn acquire() -> ProcessLock {
        let outermost = DEPTH.with(|d| d.replace(d.get() + 1)) == 0;
        // A panic in another tracked region poisons the lock; the ledger itself is still sound.
        ProcessLock {
            _guard: outermost.then(|| PROCESS_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())),
        }
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// Whether this system has the `/proc/self` files the ledgers read.
pub fn ledgers_available() -> bool {
    std::path::Path::new("/proc/self/fd").is_dir()
}

/// The process's open descriptors, fd → what it refers to. Empty where `/proc` is unavailable.
pub(crate) fn open_fds() -> BTreeMap<i32, String> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return BTreeMap::new();
    };
    let own = format!("/proc/{}/fd", std::process::id());
    dir.flatten()
        .filter_map(|entry| {
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?.to_string_lossy().into_owned();
            // The directory handle this listing itself uses.
            (target != own).then_some((fd, target))
        })
        .collect()
}

/// A thread found in `/proc/self/task`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Task {
    /// When it started, in clock ticks after boot: tells it from a later thread given the same id.
    pub(crate) start: u64,
    /// Its name (`comm`). A thread std spawns shows its parent's name until it has named itself.
    pub(crate) name: String,
}

/// The process's threads, tid → when it started and its name. Empty where `/proc` is unavailable; a thread
/// that ends while the list is read is left out.
pub(crate) fn running_threads() -> BTreeMap<i32, Task> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return BTreeMap::new();
    };
    dir.flatten()
        .filter_map(|entry| {
            let tid = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let name = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            Some((
                tid,
                Task {
                    start: start_time(&stat)?,
                    name: name.trim_end().to_owned(),
                },
            ))
        })
        .collect()
}

/// Field 22 of a `/proc/<pid>/task/<tid>/stat` line, `starttime`. The name (field 2) is in parentheses and
/// may hold spaces and parentheses itself, so fields are counted after the last `)`, where field 3 begins.
fn start_time(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// The threads of `now` that were not running when `before` was taken, with their names at `now`.
///
/// Compared by id and start time, never by name: std names a spawned thread from inside it, so a thread
/// started just before a region can change its name while the region runs, and is still not new.
pub(crate) fn started(before: &BTreeMap<i32, Task>, now: &BTreeMap<i32, Task>) -> Vec<LeakedThread> {
    now.iter()
        .filter(|(tid, task)| before.get(tid).is_none_or(|old| old.start != task.start))
        .map(|(tid, task)| LeakedThread {
            tid: *tid,
            name: task.name.clone(),
        })
        .collect()
}

/// One entry found under a tracked directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    dir: bool,
    bytes: u64,
}

/// Every file and directory under `root`, at any depth, by path (symbolic links are entries, never
/// followed). `root` itself is not an entry. Empty when `root` does not exist; entries that vanish while
/// the tree is read are skipped.
pub(crate) fn entries_under(root: &Path, into: &mut BTreeMap<PathBuf, Entry>) {
    let Ok(dir) = std::fs::read_dir(root) else {
        return;
    };
    for entry in dir.flatten() {
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let path = entry.path();
        if meta.is_dir() {
            entries_under(&path, into);
        }
        into.insert(
            path,
            Entry {
                dir: meta.is_dir(),
                bytes: if meta.is_file() { meta.len() } else { 0 },
            },
        );
    }
}

/// The entries of `now` whose path was not in `before`, outermost only: a new directory is one
/// [`LeakedFile`] that counts what is under it.
///
/// Only names are compared (like `ls` before and after): a file that existed before the region and was
/// rewritten or replaced in it is not new.
pub(crate) fn new_files(before: &BTreeMap<PathBuf, Entry>, now: &BTreeMap<PathBuf, Entry>) -> Vec<LeakedFile> {
    let mut left: Vec<LeakedFile> = Vec::new();
    let mut outer: Option<&Path> = None;
    // Sorted by path, so everything under a directory comes right after it.
    for (path, entry) in now.iter().filter(|(path, _)| !before.contains_key(*path)) {
        if let (Some(dir), Some(last)) = (outer, left.last_mut())
            && path.starts_with(dir)
        {
            last.entries += 1;
            last.bytes += entry.bytes;
            continue;
        }
        outer = entry.dir.then_some(path.as_path());
        left.push(LeakedFile {
            path: path.to_string_lossy().into_owned(),
            dir: entry.dir,
            bytes: entry.bytes,
            entries: 0,
        });
    }
    left
}

/// The entries of `now` that were not in `before` (same key and same value).
pub(crate) fn added<V: PartialEq + Clone>(before: &BTreeMap<i32, V>, now: &BTreeMap<i32, V>) -> Vec<(i32, V)> {
    now.iter()
        .filter(|(k, v)| before.get(k) != Some(v))
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_compares_keys_and_values() {
        let before = BTreeMap::from([(3, "a".to_owned()), (4, "b".to_owned())]);
        let now = BTreeMap::from([(3, "a".to_owned()), (4, "c".to_owned()), (5, "d".to_owned())]);
        assert_eq!(added(&before, &now), vec![(4, "c".to_owned()), (5, "d".to_owned())]);
    }

    #[test]
    fn started_compares_ids_and_start_times_not_names() {
        let task = |start, name: &str| Task {
            start,
            name: name.to_owned(),
        };
        let before = BTreeMap::from([(10, task(5, "spec")), (11, task(6, "main")), (12, task(7, "gone"))]);
        let now = BTreeMap::from([
            (10, task(5, "worker-0")), // renamed itself after the snapshot: not new
            (11, task(9, "main")),     // the same id, a later thread: new
            (13, task(8, "worker-1")), // new
        ]);
        let thread = |tid, name: &str| LeakedThread {
            tid,
            name: name.to_owned(),
        };
        assert_eq!(started(&before, &now), [thread(11, "main"), thread(13, "worker-1")]);
    }

    #[test]
    fn the_start_time_is_read_after_the_name() {
        let stat = "4242 (a (tricky) name) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 19 20";
        assert_eq!(start_time(stat), Some(987654));
        assert_eq!(start_time("4242 (x) S 1 2"), None);
    }

    #[test]
    fn new_files_lists_new_names_and_folds_new_directories() {
        let entry = |dir, bytes| Entry { dir, bytes };
        let before = BTreeMap::from([
            (PathBuf::from("/d/kept"), entry(false, 3)),
            (PathBuf::from("/d/old"), entry(true, 0)),
        ]);
        let now = BTreeMap::from([
            (PathBuf::from("/d/kept"), entry(false, 9)), // rewritten: not new
            (PathBuf::from("/d/new.tmp"), entry(false, 5)),
            (PathBuf::from("/d/old"), entry(true, 0)),
            (PathBuf::from("/d/old/inner"), entry(false, 1)), // new, in an old directory
            (PathBuf::from("/d/scratch"), entry(true, 0)),
            (PathBuf::from("/d/scratch/a"), entry(false, 2)),
            (PathBuf::from("/d/scratch/sub"), entry(true, 0)),
            (PathBuf::from("/d/scratch/sub/b"), entry(false, 4)),
            (PathBuf::from("/d/scratch2"), entry(false, 7)), // a sibling whose name starts like the directory's
        ]);
        let file = |path: &str, dir, bytes, entries| LeakedFile {
            path: path.to_owned(),
            dir,
            bytes,
            entries,
        };
        assert_eq!(
            new_files(&before, &now),
            [
                file("/d/new.tmp", false, 5, 0),
                file("/d/old/inner", false, 1, 0),
                file("/d/scratch", true, 6, 3),
                file("/d/scratch2", false, 7, 0),
            ]
        );
        assert_eq!(new_files(&now, &now), []);
    }

    #[test]
    fn an_open_file_appears_with_its_path() {
        if !ledgers_available() {
            return;
        }
        let path = std::env::temp_dir().join(format!("leaklab-os-test-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let fds = open_fds();
        assert!(fds.values().any(|p| p == &path.to_string_lossy()), "{fds:?}");
        drop(file);
        std::fs::remove_file(path).unwrap();
    }
}
