//! Spec for exercise 13, callbacks: the wrapped C event bus calls closures like a simple model, and every
//! closure it was given is freed, when its subscription ends or when the bus is dropped.
//!
//! Compiled into both `exercises/13-callbacks` and `solutions/13-callbacks` through their `tests/spec.rs`,
//! which names the crate under test `subject`.

use proptest::prelude::*;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use subject::{Bus, SubscriptionId};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One call a user of the bus makes. `s<k>` is the k-th subscription made; unsubscribing one that does not
/// exist (yet) is skipped.
#[derive(Clone)]
enum Op {
    /// Subscribe a closure that records what it is called with to this event.
    Subscribe(i32),
    /// `unsubscribe(s<k>)`: a second unsubscribe of the same subscription returns false.
    Unsubscribe(usize),
    /// `emit(event, value)`.
    Emit(i32, i64),
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Subscribe(event) => write!(f, "subscribe(event {event})"),
            Op::Unsubscribe(k) => write!(f, "unsubscribe(s{k})"),
            Op::Emit(event, value) => write!(f, "emit(event {event}, {value})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let event = 0..2i32;
    prop_oneof![
        2 => event.clone().prop_map(Op::Subscribe),
        1 => (0..4usize).prop_map(Op::Unsubscribe),
        2 => (event, 0..100i64).prop_map(|(event, value)| Op::Emit(event, value)),
    ]
}

/// One subscription in the model: its id, its event, and whether it is still subscribed.
struct Subscription {
    id: SubscriptionId,
    event: i32,
    active: bool,
}

/// Runs `ops` against a fresh bus and a model of its subscriptions; the first difference is returned as an
/// error. Every closure records (its subscription number, the value) in one shared log.
fn run(ops: &[Op]) -> Result<(), String> {
    let log: Rc<RefCell<Vec<(usize, i64)>>> = Rc::default();
    let mut bus = Bus::new();
    let mut model: Vec<Subscription> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Subscribe(event) => {
                let (log, k) = (Rc::clone(&log), model.len());
                let id = bus.subscribe(event, move |value| log.borrow_mut().push((k, value)));
                if model.iter().any(|s| s.id == id) {
                    return Err(format!("step {step}: {op:?} returned {id:?}, which s{k} already had"));
                }
                model.push(Subscription {
                    id,
                    event,
                    active: true,
                });
            }
            Op::Unsubscribe(k) => {
                let Some(subscription) = model.get_mut(k) else { continue };
                let (got, want) = (bus.unsubscribe(subscription.id), subscription.active);
                subscription.active = false;
                if got != want {
                    return Err(format!("step {step}: {op:?} returned {got}, expected {want}"));
                }
            }
            Op::Emit(event, value) => {
                let got = bus.emit(event, value);
                let want: Vec<(usize, i64)> = (model.iter().enumerate())
                    .filter(|(_, s)| s.active && s.event == event)
                    .map(|(k, _)| (k, value))
                    .collect();
                let called = std::mem::take(&mut *log.borrow_mut());
                if got != want.len() || called != want {
                    return Err(format!(
                        "step {step}: {op:?} returned {got} and called (subscription, value) {called:?}, expected \
                         {} and {want:?}",
                        want.len()
                    ));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The bus matches the model, and a whole session with it frees every closure it was given.
    #[test]
    fn buses_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// Closures keep their state between calls, run in the order they subscribed, and stop after unsubscribe.
#[test]
fn closures_are_called_in_order_until_unsubscribed() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut bus = Bus::new();
    let mut total = 0;
    let sum = {
        let seen = Rc::clone(&seen);
        bus.subscribe(1, move |value| {
            total += value;
            seen.borrow_mut().push(format!("total {total}"));
        })
    };
    let echo = {
        let seen = Rc::clone(&seen);
        bus.subscribe(1, move |value| seen.borrow_mut().push(format!("echo {value}")))
    };
    assert_eq!(bus.emit(1, 5), 2);
    assert_eq!(bus.emit(2, 9), 0);
    assert_eq!(bus.emit(1, 2), 2);
    assert!(bus.unsubscribe(sum));
    assert!(!bus.unsubscribe(sum));
    assert_eq!(bus.emit(1, 1), 1);
    assert_ne!(sum, echo);
    assert_eq!(*seen.borrow(), ["total 5", "echo 5", "total 7", "echo 2", "echo 1"]);
}
