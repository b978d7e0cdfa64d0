//! Spec for exercise 15, handle-cache: the cache of open files hits, misses and evicts like a simple LRU
//! model, reads the right bytes, and leaves no file descriptor open.
//!
//! Compiled into both `exercises/15-handle-cache` and `solutions/15-handle-cache` through their
//! `tests/spec.rs`, which names the crate under test `subject`. Every test here opens files, so each does
//! it inside a region that tracks descriptors or inside `leaklab::exclusive`.

use proptest::prelude::*;
use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use subject::{FileCache, Stats};

#[path = "support/scratch.rs"]
mod scratch;
use scratch::Scratch;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// The files the spec reads, and their contents; `missing` is never created.
const FILES: [(&str, &str); 5] = [
    ("a", "alpha: 0123456789"),
    ("b", "bravo"),
    ("c", "charlie: the third file"),
    ("d", ""),
    ("missing", ""),
];
const MISSING: usize = 4;

/// One request to the cache; files are numbered as in [`FILES`].
#[derive(Clone)]
enum Op {
    /// Read `len` bytes of the file from `offset`.
    Read { file: usize, offset: u64, len: usize },
    /// Forget the file.
    Forget(usize),
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Read { file, offset, len } => write!(f, "read({}, {offset}..{})", FILES[file].0, offset + len as u64),
            Op::Forget(file) => write!(f, "forget({})", FILES[file].0),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let file = prop_oneof![4 => 0..4usize, 1 => Just(MISSING)];
    prop_oneof![
        4 => (file.clone(), 0..12u64, 0..8usize).prop_map(|(file, offset, len)| Op::Read { file, offset, len }),
        1 => file.prop_map(Op::Forget),
    ]
}

/// A directory holding [`FILES`], made and removed under leaklab's lock.
struct Files(Scratch);

impl Files {
    fn new() -> Files {
        let dir = Scratch::new();
        leaklab::exclusive(|| {
            for (name, text) in &FILES[..MISSING] {
                std::fs::write(dir.path().join(name), text).expect("a test file");
            }
        });
        Files(dir)
    }

    fn path(&self, file: usize) -> PathBuf {
        self.0.path().join(FILES[file].0)
    }
}

/// Runs `ops` against a fresh cache and a model of it (an LRU list of file numbers); the first difference
/// is returned as an error.
fn run(files: &Files, capacity: usize, ops: &[Op]) -> Result<(), String> {
    let mut cache = FileCache::new(capacity);
    let mut lru: VecDeque<usize> = VecDeque::new();
    let mut stats = Stats::default();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Read { file, offset, len } => {
                let got = cache.read(&files.path(file), offset, len).map_err(|e| e.kind());
                let want = if file == MISSING {
                    stats.misses += 1;
                    Err(std::io::ErrorKind::NotFound)
                } else {
                    if let Some(at) = lru.iter().position(|&f| f == file) {
                        stats.hits += 1;
                        lru.remove(at);
                    } else {
                        stats.misses += 1;
                        if lru.len() == capacity {
                            lru.pop_front();
                            stats.evictions += 1;
                        }
                    }
                    lru.push_back(file);
                    let text = FILES[file].1.as_bytes();
                    let start = (offset as usize).min(text.len());
                    Ok(text[start..(start + len).min(text.len())].to_vec())
                };
                if got != want {
                    return Err(format!("step {step}, {op:?}: returned {got:?}, expected {want:?}"));
                }
            }
            Op::Forget(file) => {
                let was = lru.iter().position(|&f| f == file).map(|at| lru.remove(at)).is_some();
                let got = cache.forget(&files.path(file));
                if got != was {
                    return Err(format!("step {step}, {op:?}: returned {got}, expected {was}"));
                }
            }
        }
        let want: Vec<PathBuf> = lru.iter().map(|&f| files.path(f)).collect();
        if cache.cached() != want.iter().map(PathBuf::as_path).collect::<Vec<&Path>>() {
            return Err(format!(
                "step {step}, {op:?}: cached() is {:?}, expected {want:?} (least recently used first)",
                cache.cached()
            ));
        }
        if cache.stats() != stats {
            return Err(format!(
                "step {step}, {op:?}: stats() is {:?}, expected {stats:?}",
                cache.stats()
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The cache matches the model, and a whole session with it closes every descriptor it opened.
    #[test]
    fn the_cache_matches_the_model_and_leaks_no_descriptor(capacity in 1..=3usize, ops in prop::collection::vec(op(), 0..12)) {
        let files = Files::new();
        // Behaviour first, outside any region (but under the ledgers' lock): a mismatch is not a leak.
        leaklab::exclusive(|| run(&files, capacity, &ops)).map_err(TestCaseError::fail)?;
        let mut behaved = Ok(());
        leaklab::Region::new()
            .track_fds()
            .run(|| behaved = run(&files, capacity, &ops))
            .into_result()?;
        behaved.map_err(TestCaseError::fail)?;
    }
}

/// A full cache evicts its least recently used file, not the oldest one opened.
#[test]
fn a_full_cache_evicts_the_least_recently_used_file() {
    let files = Files::new();
    leaklab::exclusive(|| {
        let mut cache = FileCache::new(2);
        assert_eq!(cache.read(&files.path(0), 0, 5).unwrap(), b"alpha");
        assert_eq!(cache.read(&files.path(1), 0, 5).unwrap(), b"bravo");
        assert_eq!(cache.read(&files.path(0), 7, 3).unwrap(), b"012"); // `a` is now the most recent
        assert_eq!(cache.read(&files.path(2), 0, 7).unwrap(), b"charlie"); // so `b` goes
        assert_eq!(cache.cached(), [files.path(0), files.path(2)]);
        let stats = Stats {
            hits: 1,
            misses: 3,
            evictions: 1,
        };
        assert_eq!(cache.stats(), stats);
    });
}
