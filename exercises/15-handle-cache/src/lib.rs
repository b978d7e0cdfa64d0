//! A cache of open files, like the one a static file server keeps so that it does not open a file for
//! every request.
//!
//! [`FileCache::read`] reads a range of bytes from a file, keeping up to `capacity` files open; when it
//! needs one more, it evicts the least recently used. [`FileCache::forget`] drops a file from the cache
//! (after it changed on disk, say). The cache keeps raw descriptors and reads with `pread`, so several
//! readers could share one descriptor without moving a file position.
//!
//! The tests say this cache leaks file descriptors. Find out why and fix it, without changing what the
//! cache does.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// How the cache has been used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Reads of a file that was already open.
    pub hits: u64,
    /// Reads that had to open their file (including those that failed to).
    pub misses: u64,
    /// Files closed to make room for another.
    pub evictions: u64,
}

// ANCHOR: fix
/// Open files by path, at most `capacity` of them.
#[derive(Debug)]
pub struct FileCache {
    capacity: usize,
    open: HashMap<PathBuf, RawFd>,
    /// The cached paths, least recently used first.
    recency: VecDeque<PathBuf>,
    stats: Stats,
}

impl FileCache {
    /// An empty cache that keeps at most `capacity` files (at least one) open.
    pub fn new(capacity: usize) -> FileCache {
        FileCache {
            capacity: capacity.max(1),
            open: HashMap::new(),
            recency: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    /// Reads up to `len` bytes of `path` from `offset` (fewer at the end of the file).
    pub fn read(&mut self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        if self.open.contains_key(path) {
            self.stats.hits += 1;
            self.recency.retain(|p| p != path);
        } else {
            self.stats.misses += 1;
            let fd = File::open(path)?.into_raw_fd();
            if self.open.len() == self.capacity {
                let oldest = self.recency.pop_front().expect("a full cache has a least recent path");
                self.open.remove(&oldest);
                self.stats.evictions += 1;
            }
            self.open.insert(path.to_owned(), fd);
        }
        self.recency.push_back(path.to_owned());
        // SAFETY: the descriptor is open and belongs to the cache; `ManuallyDrop` stops this `File` from
        // closing it.
        let file = ManuallyDrop::new(unsafe { File::from_raw_fd(self.open[path]) });
        let mut buf = vec![0; len];
        let n = file.read_at(&mut buf, offset)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Drops `path` from the cache; true if it was cached.
    pub fn forget(&mut self, path: &Path) -> bool {
        self.recency.retain(|p| p != path);
        self.open.remove(path).is_some()
    }
}

impl Drop for FileCache {
    fn drop(&mut self) {
        for &fd in self.open.values() {
            // SAFETY: the cache owns its descriptors and is never used again; each `File` closes one.
            drop(unsafe { File::from_raw_fd(fd) });
        }
    }
}
// ANCHOR_END: fix

impl FileCache {
    /// The cached paths, least recently used first.
    pub fn cached(&self) -> Vec<&Path> {
        self.recency.iter().map(PathBuf::as_path).collect()
    }

    /// How the cache has been used so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}
