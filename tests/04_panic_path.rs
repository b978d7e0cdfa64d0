//! Spec for exercise 04, panic-path: the outbox behaves like a simple model, and leaks nothing, even when
//! sending fails or panics.
//!
//! Compiled into both `exercises/04-panic-path` and `solutions/04-panic-path` through their
//! `tests/spec.rs`, which names the crate under test `subject`.

use proptest::prelude::*;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use subject::Outbox;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// How the `send` function given to a flush behaves. `n` counts the records of the batch from 0; in a batch
/// with fewer records, the sender stops at the last one instead.
#[derive(Clone, Copy, Debug)]
enum Sender {
    /// Accepts every record.
    AllOk,
    /// Accepts the records before record `n`, and refuses record `n` with an error.
    FailAt(usize),
    /// Accepts the records before record `n`, and panics at record `n`.
    PanicAt(usize),
}

impl Sender {
    /// Where the sender stops in a batch of `len` records, if it does.
    fn stop(self, len: usize) -> Option<usize> {
        let last = len.checked_sub(1)?;
        match self {
            Sender::AllOk => None,
            Sender::FailAt(n) | Sender::PanicAt(n) => Some(n.min(last)),
        }
    }
}

/// One step a user of the outbox takes.
#[derive(Clone)]
enum Op {
    /// Queue this record.
    Push(String),
    /// Flush the outbox through this sender.
    Flush(Sender),
}

/// One short line per step, so a failing sequence is easy to read.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Push(record) => write!(f, "push({record:?})"),
            Op::Flush(Sender::AllOk) => write!(f, "flush"),
            Op::Flush(Sender::FailAt(n)) => write!(f, "flush(fail at {n})"),
            Op::Flush(Sender::PanicAt(n)) => write!(f, "flush(panic at {n})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let sender = prop_oneof![
        Just(Sender::AllOk),
        (0..3usize).prop_map(Sender::FailAt),
        (0..3usize).prop_map(Sender::PanicAt),
    ];
    prop_oneof![
        2 => "[a-z]{1,3}".prop_map(Op::Push),
        1 => sender.prop_map(Op::Flush),
    ]
}

/// The error the spec's sender returns: it refused the record at this position in the batch.
#[derive(Debug, PartialEq, Eq)]
struct Refused(usize);

/// What a flush did: returned a result, or panicked.
type Outcome = Result<Result<usize, Refused>, &'static str>;

/// Flushes `outbox`, which holds `len` records, through `sender`; returns the outcome and the records
/// delivered.
fn flush(outbox: &mut Outbox, sender: Sender, len: usize) -> (Outcome, Vec<String>) {
    let stop = sender.stop(len);
    let mut delivered = Vec::new();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        outbox.flush(|record| {
            let at = delivered.len();
            if stop == Some(at) {
                if let Sender::PanicAt(_) = sender {
                    // `resume_unwind` panics without printing a message, which keeps the test output quiet.
                    panic::resume_unwind(Box::new("the sender panicked"));
                }
                return Err(Refused(at));
            }
            delivered.push(record.to_owned());
            Ok(())
        })
    }));
    (outcome.map_err(|_| "a panic"), delivered)
}

/// Runs `ops` against a fresh outbox and a model of it (the queued records); the first difference is returned
/// as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    let mut outbox = Outbox::new();
    let mut model: Vec<&str> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Push(record) => {
                outbox.push(record);
                model.push(record);
            }
            Op::Flush(sender) => {
                // The model: the batch is sent up to the record where the sender stops, then dropped.
                let batch = std::mem::take(&mut model);
                let stop = sender.stop(batch.len());
                let want: Outcome = match (sender, stop) {
                    (_, None) => Ok(Ok(batch.len())),
                    (Sender::PanicAt(_), Some(_)) => Err("a panic"),
                    (_, Some(n)) => Ok(Err(Refused(n))),
                };
                let want_delivered = &batch[..stop.unwrap_or(batch.len())];
                let (got, delivered) = flush(&mut outbox, *sender, batch.len());
                if got != want || delivered != want_delivered {
                    return Err(format!(
                        "step {step}: {op:?} returned {got:?} after sending {delivered:?}, expected {want:?} after \
                         sending {want_delivered:?}"
                    ));
                }
            }
        }
        if outbox.len() != model.len() || outbox.is_empty() != model.is_empty() {
            return Err(format!(
                "step {step}: the outbox holds {} records, expected {}",
                outbox.len(),
                model.len()
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The outbox matches the model, and a whole session with it frees everything it allocated, including the
    /// flushes that fail or panic.
    #[test]
    fn outbox_matches_the_model_and_leaks_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        // Panics in `send` are caught inside `run`, so the checked region always ends normally.
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// After a flush fails or panics, the outbox is empty and keeps working, in order.
#[test]
fn the_outbox_carries_on_after_a_failed_flush() {
    let mut outbox = Outbox::new();
    outbox.push("one");
    outbox.push("two");
    outbox.push("three");
    let (outcome, delivered) = flush(&mut outbox, Sender::FailAt(1), 3);
    assert_eq!(
        (outcome, &delivered[..]),
        (Ok(Err(Refused(1))), &["one".to_owned()][..])
    );
    assert!(outbox.is_empty());

    outbox.push("four");
    assert_eq!(flush(&mut outbox, Sender::PanicAt(0), 1), (Err("a panic"), vec![]));
    assert!(outbox.is_empty());

    outbox.push("five");
    outbox.push("six");
    assert_eq!(
        flush(&mut outbox, Sender::AllOk, 2),
        (Ok(Ok(2)), vec!["five".into(), "six".into()])
    );
    assert_eq!(outbox.len(), 0);
}
