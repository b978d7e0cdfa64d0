//! Spec for exercise 16, temp-files: the store saves, loads and removes documents like a simple model (a
//! failed save keeps the old version), and leaves no file on disk that it was not asked to keep.
//!
//! Compiled into both `exercises/16-temp-files` and `solutions/16-temp-files` through their
//! `tests/spec.rs`, which names the crate under test `subject`. Every test here opens files, so each does
//! it inside a region that tracks descriptors or inside `leaklab::exclusive`.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use subject::Store;

#[path = "support/scratch.rs"]
mod scratch;
use scratch::Scratch;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

const NAMES: [&str; 3] = ["a", "b", "notes"];

/// How the `render` function given to a save behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Render {
    /// Writes the whole text.
    AllOk,
    /// Writes the first `n` bytes of the text (at most all of it), then returns an error.
    FailAfter(usize),
    /// Writes the first `n` bytes of the text (at most all of it), then panics.
    PanicAfter(usize),
}

/// One step a user of the store takes.
#[derive(Clone)]
enum Op {
    /// Save this text as the document, through this renderer.
    Save(&'static str, String, Render),
    /// Load the document.
    Load(&'static str),
    /// Remove the document.
    Remove(&'static str),
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Save(name, text, Render::AllOk) => write!(f, "save({name}, {text:?})"),
            Op::Save(name, text, Render::FailAfter(n)) => write!(f, "save({name}, {text:?}, fail after {n} bytes)"),
            Op::Save(name, text, Render::PanicAfter(n)) => {
                write!(f, "save({name}, {text:?}, panic after {n} bytes)")
            }
            Op::Load(name) => write!(f, "load({name})"),
            Op::Remove(name) => write!(f, "remove({name})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let name = prop::sample::select(&NAMES[..]);
    let render = prop_oneof![
        2 => Just(Render::AllOk),
        1 => (0..4usize).prop_map(Render::FailAfter),
        1 => (0..4usize).prop_map(Render::PanicAfter),
    ];
    prop_oneof![
        3 => (name.clone(), "[a-z]{0,6}", render).prop_map(|(name, text, render)| Op::Save(name, text, render)),
        1 => name.clone().prop_map(Op::Load),
        1 => name.prop_map(Op::Remove),
    ]
}

/// Saves `text` as `name` through `render`; returns whether the save succeeded, failed, or panicked.
fn save(store: &Store, name: &str, text: &str, render: Render) -> Result<io::Result<()>, ()> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        store.save(name, |out| match render {
            Render::AllOk => out.write_all(text.as_bytes()),
            Render::FailAfter(n) => {
                out.write_all(&text.as_bytes()[..n.min(text.len())])?;
                Err(io::Error::other("the renderer gave up"))
            }
            Render::PanicAfter(n) => {
                out.write_all(&text.as_bytes()[..n.min(text.len())])?;
                // `resume_unwind` panics without printing a message, which keeps the test output quiet.
                panic::resume_unwind(Box::new("the renderer panicked"))
            }
        })
    }))
    .map_err(drop)
}

/// Runs `ops` against a store in the empty directory `dir` and a model of it (name → text), then removes
/// every document the model says exists: what is left in `dir` afterwards was never asked for.
fn run(dir: &Path, ops: &[Op]) -> Result<(), String> {
    let store = Store::new(dir);
    let mut model: BTreeMap<&str, String> = BTreeMap::new();
    for (step, op) in ops.iter().enumerate() {
        let fail = |what: String| format!("step {step}, {op:?}: {what}");
        match op {
            Op::Save(name, text, render) => {
                let outcome = save(&store, name, text, *render);
                match (render, outcome) {
                    (Render::AllOk, Ok(Ok(()))) => {
                        model.insert(name, text.clone());
                    }
                    (Render::FailAfter(_), Ok(Err(e))) if e.to_string() == "the renderer gave up" => {}
                    (Render::PanicAfter(_), Err(())) => {}
                    (_, outcome) => return Err(fail(format!("returned {outcome:?}"))),
                }
            }
            Op::Load(_) => {}
            Op::Remove(name) => {
                let got = store.remove(name).map_err(|e| fail(e.to_string()))?;
                let want = model.remove(name).is_some();
                if got != want {
                    return Err(fail(format!("returned {got}, expected {want}")));
                }
            }
        }
        // Every document holds its last saved text (a failed save changes nothing), and no other exists.
        for name in NAMES {
            let got = store.load(name).map_err(|e| fail(e.to_string()))?;
            let want = model.get(name).cloned();
            if got != want {
                return Err(fail(format!("load({name}) returned {got:?}, expected {want:?}")));
            }
        }
        let names = store.names().map_err(|e| fail(e.to_string()))?;
        if names.iter().map(String::as_str).ne(model.keys().copied()) {
            return Err(fail(format!("names() returned {names:?}, expected {:?}", model.keys())));
        }
    }
    for name in model.keys() {
        if !store.remove(name).map_err(|e| e.to_string())? {
            return Err(format!(
                "at the end, remove({name}) returned false, but {name} was saved"
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The store matches the model, and a whole session with it, cleaned up, leaves its directory as it
    /// found it: no temporary file stays behind, however a save ends.
    #[test]
    fn the_store_matches_the_model_and_leaves_no_file_behind(ops in prop::collection::vec(op(), 0..10)) {
        // Behaviour first, outside any region (but under the ledgers' lock): a mismatch is not a leak.
        let dir = Scratch::new();
        leaklab::exclusive(|| run(dir.path(), &ops)).map_err(TestCaseError::fail)?;
        let dir = Scratch::new();
        let mut behaved = Ok(());
        leaklab::Region::new()
            .track_fds()
            .track_dir(dir.path())
            .run(|| behaved = run(dir.path(), &ops))
            .into_result()?;
        behaved.map_err(TestCaseError::fail)?;
    }
}

/// A save that fails halfway keeps the previous version whole.
#[test]
fn a_failed_save_keeps_the_previous_version() {
    let dir = Scratch::new();
    leaklab::exclusive(|| {
        let store = Store::new(dir.path());
        store.save("a", |out| out.write_all(b"version 1")).unwrap();
        let failed = save(&store, "a", "version 2", Render::FailAfter(3));
        assert!(matches!(failed, Ok(Err(_))), "{failed:?}");
        assert!(save(&store, "a", "version 3", Render::PanicAfter(5)).is_err());
        assert_eq!(store.load("a").unwrap().as_deref(), Some("version 1"));
        assert_eq!(store.names().unwrap(), ["a"]);
    });
}
