//! Spec for exercise 06, doubly-linked: the list behaves like a `VecDeque` when walked either way, and
//! dropping it frees every node.
//!
//! Compiled into both `exercises/06-doubly-linked` and `solutions/06-doubly-linked` through their
//! `tests/spec.rs`, which names the crate under test `subject`.

use proptest::prelude::*;
use std::collections::VecDeque;
use std::fmt;
use subject::List;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One step a client of the list takes.
#[derive(Clone)]
enum Op {
    PushFront(i32),
    PushBack(i32),
    PopFront,
    PopBack,
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::PushFront(value) => write!(f, "push_front({value})"),
            Op::PushBack(value) => write!(f, "push_back({value})"),
            Op::PopFront => write!(f, "pop_front"),
            Op::PopBack => write!(f, "pop_back"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1..100i32).prop_map(Op::PushFront),
        2 => (1..100i32).prop_map(Op::PushBack),
        1 => Just(Op::PopFront),
        1 => Just(Op::PopBack),
    ]
}

/// Runs `ops` against a fresh list and a `VecDeque`; the first difference is returned as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    let mut list = List::new();
    let mut model = VecDeque::new();
    for (step, op) in ops.iter().enumerate() {
        let popped = match *op {
            Op::PushFront(value) => {
                list.push_front(value);
                model.push_front(value);
                None
            }
            Op::PushBack(value) => {
                list.push_back(value);
                model.push_back(value);
                None
            }
            Op::PopFront => Some((list.pop_front(), model.pop_front())),
            Op::PopBack => Some((list.pop_back(), model.pop_back())),
        };
        if let Some((got, want)) = popped
            && got != want
        {
            return Err(format!("step {step}, {op:?}: returned {got:?}, expected {want:?}"));
        }
        let forward: Vec<i32> = list.iter().collect();
        let want: Vec<i32> = model.iter().copied().collect();
        if forward != want {
            return Err(format!(
                "after step {step}, {op:?}: iter() gives {forward:?}, expected {want:?}"
            ));
        }
        let backward: Vec<i32> = list.iter_rev().collect();
        let want: Vec<i32> = model.iter().rev().copied().collect();
        if backward != want {
            return Err(format!(
                "after step {step}, {op:?}: iter_rev() gives {backward:?}, expected {want:?}"
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The list matches the model both ways, and dropping it frees everything it allocated.
    #[test]
    fn lists_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// Values that own memory come back out of either end intact, and the links stay right in between.
#[test]
fn owned_values_come_out_of_both_ends() {
    let mut list = List::new();
    for word in ["b", "c", "d"] {
        list.push_back(word.to_owned());
    }
    list.push_front("a".to_owned());
    assert_eq!(list.pop_back().as_deref(), Some("d"));
    assert_eq!(list.pop_front().as_deref(), Some("a"));
    assert_eq!(list.iter_rev().collect::<Vec<_>>(), ["c", "b"]);
    assert_eq!(list.pop_back().as_deref(), Some("c"));
    assert_eq!(list.pop_back().as_deref(), Some("b"));
    assert_eq!(list.pop_front(), None);
    assert_eq!(list.iter().count(), 0);
}
