//! Spec for exercise 01, forgotten-guard: transactions behave like a simple model, and leak nothing.
//!
//! Compiled into both `exercises/01-forgotten-guard` and `solutions/01-forgotten-guard` through their
//! `tests/spec.rs`, which names the crate under test `subject`.

use proptest::prelude::*;
use std::collections::BTreeMap;
use subject::{Stats, Store};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One step a client of the store takes.
#[derive(Clone, Debug)]
enum Op {
    /// Open a transaction, make these writes, then commit (or drop it, rolling back).
    Transaction {
        name: String,
        writes: Vec<(&'static str, i64)>,
        commit: bool,
    },
    /// Read a committed value.
    Get(&'static str),
}

fn op() -> impl Strategy<Value = Op> {
    let key = prop::sample::select(&["alice", "bob", "carol"][..]);
    prop_oneof![
        (
            "[a-z]{0,8}",
            prop::collection::vec((key.clone(), -9i64..10), 0..4),
            any::<bool>()
        )
            .prop_map(|(name, writes, commit)| Op::Transaction { name, writes, commit }),
        key.prop_map(Op::Get),
    ]
}

/// Runs `ops` against a fresh store and a model of it; the first difference is returned as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    let store = Store::new();
    let mut model = BTreeMap::new();
    let mut stats = Stats::default();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Transaction { name, writes, commit } => {
                let mut tx = store.transaction(name);
                if tx.name() != name {
                    return Err(format!(
                        "step {step}: transaction name is {:?}, expected {name:?}",
                        tx.name()
                    ));
                }
                for (key, value) in writes {
                    tx.set(key, *value);
                }
                if *commit {
                    let applied = tx.commit();
                    if applied != writes.len() {
                        return Err(format!(
                            "step {step}: commit applied {applied} writes, expected {}",
                            writes.len()
                        ));
                    }
                    model.extend(writes.iter().map(|&(k, v)| (k, v)));
                    stats.commits += 1;
                } else {
                    drop(tx);
                    stats.rollbacks += 1;
                }
            }
            Op::Get(key) => {
                let (got, want) = (store.get(key), model.get(key).copied());
                if got != want {
                    return Err(format!("step {step}: get({key:?}) returned {got:?}, expected {want:?}"));
                }
            }
        }
        if store.stats() != stats {
            return Err(format!(
                "step {step}: stats are {:?}, expected {stats:?}",
                store.stats()
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The store matches the model, and a whole session with it frees everything it allocated.
    #[test]
    fn transactions_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// A transaction that is opened again after a commit works: the guard really was closed.
#[test]
fn a_committed_transaction_releases_the_store() {
    let store = Store::new();
    let mut tx = store.transaction("first");
    tx.set("alice", 1);
    assert_eq!(tx.commit(), 1);
    let tx = store.transaction("second");
    drop(tx);
    assert_eq!(
        store.stats(),
        Stats {
            commits: 1,
            rollbacks: 1
        }
    );
    assert_eq!(store.get("alice"), Some(1));
}
