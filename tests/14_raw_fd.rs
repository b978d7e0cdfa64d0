//! Spec for exercise 14, raw-fd: the rotating log writes, rotates and reopens like a simple model, and
//! leaves no file descriptor open.
//!
//! Compiled into both `exercises/14-raw-fd` and `solutions/14-raw-fd` through their `tests/spec.rs`, which
//! names the crate under test `subject`. Every test here opens files, so each does it inside a region that
//! tracks descriptors or inside `leaklab::exclusive`: a parallel test's descriptors never reach a report.

use proptest::prelude::*;
use std::fmt;
use std::io;
use std::path::Path;
use subject::RotatingLog;

#[path = "support/scratch.rs"]
mod scratch;
use scratch::Scratch;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// The log's file name in its directory.
const NAME: &str = "app.log";

/// One step a program using the log takes.
#[derive(Clone)]
enum Op {
    /// Append this line.
    Write(String),
    /// Rotate: the current file becomes `app.log.1`.
    Rotate,
    /// Open the log's path again.
    Reopen,
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Write(line) => write!(f, "write({line:?})"),
            Op::Rotate => write!(f, "rotate"),
            Op::Reopen => write!(f, "reopen"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => "[a-z]{1,4}".prop_map(Op::Write),
        1 => Just(Op::Rotate),
        1 => Just(Op::Reopen),
    ]
}

/// What `dir` holds for the log: the contents of `app.log`, `app.log.1`, … `app.log.{keep + 1}`, or `None`
/// for each file that does not exist.
fn on_disk(dir: &Path, keep: usize) -> Result<Vec<Option<String>>, String> {
    (0..=keep + 1)
        .map(|n| {
            let name = if n == 0 { NAME.to_owned() } else { format!("{NAME}.{n}") };
            match std::fs::read_to_string(dir.join(&name)) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("could not read {name}: {e}")),
            }
        })
        .collect()
}

/// Runs `ops` against a fresh log in `dir` and a model of its files; the first difference is an error.
fn run(dir: &Path, keep: usize, ops: &[Op]) -> Result<(), String> {
    let mut log = RotatingLog::open(dir, NAME, keep).map_err(|e| format!("open failed: {e}"))?;
    // The model: the text of `app.log` first, then of `app.log.1`, `app.log.2`, …
    let mut files = vec![String::new()];
    for (step, op) in ops.iter().enumerate() {
        let done = match op {
            Op::Write(line) => {
                files[0].push_str(line);
                files[0].push('\n');
                log.write_line(line)
            }
            Op::Rotate => {
                files.insert(0, String::new());
                files.truncate(keep + 1);
                log.rotate()
            }
            Op::Reopen => log.reopen(),
        };
        done.map_err(|e| format!("step {step}, {op:?}: failed: {e}"))?;
        let want: Vec<Option<String>> = (0..=keep + 1).map(|n| files.get(n).cloned()).collect();
        let got = on_disk(dir, keep)?;
        if got != want {
            return Err(format!(
                "step {step}, {op:?}: the files {NAME}, {NAME}.1, … hold {got:?}, expected {want:?}"
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The log matches the model, and a whole session with it closes every descriptor it opened.
    #[test]
    fn the_log_matches_the_model_and_leaks_no_descriptor(keep in 1..=3usize, ops in prop::collection::vec(op(), 0..10)) {
        // Behaviour first, outside any region (but under the ledgers' lock): a mismatch is not a leak.
        let dir = Scratch::new();
        leaklab::exclusive(|| run(dir.path(), keep, &ops)).map_err(TestCaseError::fail)?;
        let dir = Scratch::new();
        let mut behaved = Ok(());
        leaklab::Region::new()
            .track_fds()
            .run(|| behaved = run(dir.path(), keep, &ops))
            .into_result()?;
        behaved.map_err(TestCaseError::fail)?;
    }
}

/// Rotation keeps `keep` old files, newest first, and drops older ones.
#[test]
fn rotation_keeps_the_newest_old_files() {
    let dir = Scratch::new();
    leaklab::exclusive(|| {
        let mut log = RotatingLog::open(dir.path(), NAME, 2).unwrap();
        for day in ["mon", "tue", "wed", "thu"] {
            log.write_line(day).unwrap();
            log.rotate().unwrap();
        }
        log.write_line("fri").unwrap();
        drop(log);
        let files = on_disk(dir.path(), 2).unwrap();
        assert_eq!(
            files,
            [Some("fri\n".into()), Some("thu\n".into()), Some("wed\n".into()), None]
        );
    });
}

/// After another program moves the file away, `reopen` starts a new file at the log's path.
#[test]
fn reopen_follows_a_file_moved_away() {
    let dir = Scratch::new();
    leaklab::exclusive(|| {
        let mut log = RotatingLog::open(dir.path(), NAME, 1).unwrap();
        log.write_line("before").unwrap();
        std::fs::rename(dir.path().join(NAME), dir.path().join("archived")).unwrap();
        log.write_line("still to the moved file").unwrap();
        log.reopen().unwrap();
        log.write_line("after").unwrap();
        drop(log);
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("archived"), "before\nstill to the moved file\n");
        assert_eq!(read(NAME), "after\n");
    });
}
