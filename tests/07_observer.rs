//! Spec for exercise 07, observer: subscribers see exactly what was published while they were subscribed,
//! and dropping a subject and its observers frees everything.
//!
//! Compiled into both `exercises/07-observer` and `solutions/07-observer` through their `tests/spec.rs`,
//! which names the crate under test `subject`.

use proptest::prelude::*;
use std::fmt;
use subject::Subject;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One step a client takes. `observer k` is the k-th observer subscribed (the first is observer 0), counted
/// modulo the number of observers so far.
#[derive(Clone)]
enum Op {
    /// Subscribe a new observer.
    Subscribe,
    /// Unsubscribe observer k (again, if it already has).
    Unsubscribe(usize),
    /// Publish a value.
    Publish(i32),
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Subscribe => write!(f, "subscribe"),
            Op::Unsubscribe(k) => write!(f, "unsubscribe(observer {k})"),
            Op::Publish(value) => write!(f, "publish({value})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Subscribe),
        1 => (0..12usize).prop_map(Op::Unsubscribe),
        2 => (1..100i32).prop_map(Op::Publish),
    ]
}

/// Runs `ops` against a fresh subject and a model of it; the first difference is returned as an error.
/// The spec keeps every observer it subscribes until the end, as a client that reads them would.
fn run(ops: &[Op]) -> Result<(), String> {
    let subject = Subject::new();
    let mut observers = Vec::new();
    // For observer k: is it subscribed, and what has it seen?
    let mut model: Vec<(bool, Vec<i32>)> = Vec::new();
    let mut latest = None;
    for (step, op) in ops.iter().enumerate() {
        let count = observers.len();
        let fail = |what: String| match *op {
            Op::Unsubscribe(raw) if count > 0 && raw >= count => {
                format!(
                    "after step {step}, {op:?}, that is observer {} of {count}: {what}",
                    raw % count
                )
            }
            _ => format!("after step {step}, {op:?}: {what}"),
        };
        match *op {
            Op::Subscribe => {
                observers.push(subject.subscribe());
                model.push((true, Vec::new()));
            }
            Op::Unsubscribe(_) if observers.is_empty() => {}
            Op::Unsubscribe(k) => {
                let k = k % observers.len();
                observers[k].unsubscribe();
                model[k].0 = false;
            }
            Op::Publish(value) => {
                subject.publish(value);
                latest = Some(value);
                for (subscribed, seen) in &mut model {
                    if *subscribed {
                        seen.push(value);
                    }
                }
            }
        }
        if subject.latest() != latest {
            return Err(fail(format!("latest() is {:?}, expected {latest:?}", subject.latest())));
        }
        let subscribed = model.iter().filter(|(subscribed, _)| *subscribed).count();
        if subject.observer_count() != subscribed {
            return Err(fail(format!(
                "observer_count() is {}, expected {subscribed}",
                subject.observer_count()
            )));
        }
        for (k, (observer, (_, want))) in observers.iter().zip(&model).enumerate() {
            let got = observer.seen();
            if got != *want {
                return Err(fail(format!("observer {k} has seen {got:?}, expected {want:?}")));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Subject and observers match the model, and dropping them frees everything they allocated.
    #[test]
    fn observers_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// An observer sees only what was published while it was subscribed, and leaving twice is harmless.
#[test]
fn an_observer_sees_what_was_published_while_it_was_subscribed() {
    let subject = Subject::new();
    subject.publish(1);
    let early = subject.subscribe();
    subject.publish(2);
    let late = subject.subscribe();
    subject.publish(3);
    early.unsubscribe();
    early.unsubscribe();
    subject.publish(4);
    assert_eq!(early.seen(), [2, 3]);
    assert_eq!(late.seen(), [3, 4]);
    assert_eq!(subject.observer_count(), 1);
    assert_eq!(subject.latest(), Some(4));
}
