//! Spec for exercise 03, manual-drop: the buffer pool behaves like a simple model, and leaks nothing.
//!
//! Compiled into both `exercises/03-manual-drop` and `solutions/03-manual-drop` through their
//! `tests/spec.rs`, which names the crate under test `subject`.

use proptest::prelude::*;
use std::fmt;
use subject::{BUF_CAPACITY, Buf, Pool};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One step a user of the pool takes. `n` picks one of the buffers in use (counting round, so any `n` works);
/// with no buffer in use, the step does nothing.
#[derive(Clone, Copy)]
enum Op {
    /// Get a buffer from the pool.
    Get,
    /// Append a byte to buffer `n`.
    Push(usize, u8),
    /// Drop buffer `n`, giving it back to the pool.
    Drop(usize),
    /// Keep buffer `n`'s bytes with `detach`.
    Detach(usize),
}

/// One short line per step, so a failing sequence is easy to read.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Get => write!(f, "get"),
            Op::Push(n, byte) => write!(f, "push({n}, {byte})"),
            Op::Drop(n) => write!(f, "drop({n})"),
            Op::Detach(n) => write!(f, "detach({n})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0..4usize;
    prop_oneof![
        2 => Just(Op::Get),
        2 => (n.clone(), any::<u8>()).prop_map(|(n, byte)| Op::Push(n, byte)),
        1 => n.clone().prop_map(Op::Drop),
        1 => n.prop_map(Op::Detach),
    ]
}

/// Checks the whole state: the idle count, and every buffer in use against the model.
fn compare(step: usize, pool: &Pool, in_use: &[Buf<'_>], idle: usize, model: &[Vec<u8>]) -> Result<(), String> {
    if pool.idle() != idle {
        return Err(format!(
            "step {step}: the pool has {} idle buffers, expected {idle}",
            pool.idle()
        ));
    }
    for (i, (buf, want)) in in_use.iter().zip(model).enumerate() {
        if buf[..] != want[..] || buf.capacity() < BUF_CAPACITY {
            return Err(format!(
                "step {step}: buffer {i} holds {:?} with room for {}, expected {want:?} with room for at least \
                 {BUF_CAPACITY}",
                &buf[..],
                buf.capacity()
            ));
        }
    }
    Ok(())
}

/// Runs `ops` against a fresh pool and a model of it, then drops the buffers still in use; the first
/// difference is returned as an error.
fn run(capacity: usize, ops: &[Op]) -> Result<(), String> {
    let pool = Pool::new(capacity);
    let mut in_use = Vec::new();
    // The model: the bytes in each buffer in use, and how many buffers the pool keeps idle.
    let mut model: Vec<Vec<u8>> = Vec::new();
    let mut idle: usize = 0;
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Get => {
                in_use.push(pool.get());
                model.push(Vec::new());
                idle = idle.saturating_sub(1);
            }
            Op::Push(n, byte) if !in_use.is_empty() => {
                let i = n % in_use.len();
                in_use[i].push(byte);
                model[i].push(byte);
            }
            Op::Drop(n) if !in_use.is_empty() => {
                let i = n % in_use.len();
                drop(in_use.remove(i));
                model.remove(i);
                idle = (idle + 1).min(capacity);
            }
            Op::Detach(n) if !in_use.is_empty() => {
                let i = n % in_use.len();
                let (got, want) = (in_use.remove(i).detach(), model.remove(i));
                if got != want {
                    return Err(format!("step {step}: detach({n}) returned {got:?}, expected {want:?}"));
                }
            }
            Op::Push(..) | Op::Drop(_) | Op::Detach(_) => {}
        }
        compare(step, &pool, &in_use, idle, &model)?;
    }
    // The end of the session: every buffer still in use goes back to the pool.
    idle = (idle + in_use.len()).min(capacity);
    drop(in_use);
    compare(ops.len(), &pool, &[], idle, &[])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The pool matches the model, and a whole session with it frees everything it allocated.
    #[test]
    fn pool_matches_the_model_and_leaks_nothing(capacity in 1..3usize, ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(capacity, &ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(capacity, &ops));
    }
}

/// A buffer given back is lent out again, emptied; a detached one is not given back.
#[test]
fn a_buffer_given_back_is_reused_empty() {
    let pool = Pool::new(1);
    let mut buf = pool.get();
    buf.extend_from_slice(b"hello");
    let address = buf.as_ptr();
    drop(buf);
    assert_eq!(pool.idle(), 1);

    let mut buf = pool.get();
    assert_eq!(pool.idle(), 0);
    assert_eq!(
        (buf.as_ptr(), buf.len()),
        (address, 0),
        "the idle buffer is reused, empty"
    );
    buf.push(7);
    assert_eq!(buf.detach(), [7]);
    assert_eq!(pool.idle(), 0);
}
