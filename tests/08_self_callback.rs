//! Spec for exercise 08, self-callback: buttons behave like a simple model, and leak nothing once dropped.
//!
//! Compiled into both `exercises/08-self-callback` and `solutions/08-self-callback` through their
//! `tests/spec.rs`, which names the crate under test `subject`.

use proptest::prelude::*;
use std::fmt;
use std::rc::Rc;
use subject::Button;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One step a user of the toolkit takes. `Click(i)` and `Drop(i)` pick the `i`-th live button, counting
/// from 0 in the order the buttons were made and wrapping around; they do nothing when there is none.
#[derive(Clone)]
enum Op {
    /// Make a counter button with this name.
    Counter(&'static str),
    /// Make a toggle button with this name.
    Toggle(&'static str),
    /// Click a button.
    Click(usize),
    /// Drop a button.
    Drop(usize),
}

// One line per step, so proptest's minimal input reads like a short script.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Counter(name) => write!(f, "Counter({name:?})"),
            Op::Toggle(name) => write!(f, "Toggle({name:?})"),
            Op::Click(i) => write!(f, "Click({i})"),
            Op::Drop(i) => write!(f, "Drop({i})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        prop::sample::select(&["Save", "Send"][..]).prop_map(Op::Counter),
        prop::sample::select(&["Sound", "Wifi"][..]).prop_map(Op::Toggle),
        (0..6usize).prop_map(Op::Click),
        (0..6usize).prop_map(Op::Drop),
    ]
}

/// What the model knows about one button.
struct Model {
    toggle: bool,
    name: &'static str,
    clicks: u32,
}

impl Model {
    fn label(&self) -> String {
        match (self.toggle, self.clicks % 2 == 1) {
            (false, _) => format!("{} ({})", self.name, self.clicks),
            (true, on) => format!("{}: {}", self.name, if on { "on" } else { "off" }),
        }
    }
}

/// Runs `ops` against fresh buttons and a model of them; the first difference is returned as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    let mut buttons: Vec<(Rc<Button>, Model)> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Counter(name) => buttons.push((
                Button::counter(name),
                Model {
                    toggle: false,
                    name,
                    clicks: 0,
                },
            )),
            Op::Toggle(name) => buttons.push((
                Button::toggle(name),
                Model {
                    toggle: true,
                    name,
                    clicks: 0,
                },
            )),
            Op::Click(_) | Op::Drop(_) if buttons.is_empty() => {}
            Op::Click(i) => {
                let n = buttons.len();
                let (button, model) = &mut buttons[i % n];
                button.click();
                model.clicks += 1;
            }
            Op::Drop(i) => {
                let n = buttons.len();
                drop(buttons.remove(i % n));
            }
        }
        for (i, (button, model)) in buttons.iter().enumerate() {
            let (label, want) = (button.label(), model.label());
            if label != want {
                return Err(format!(
                    "step {step}: button {i} is labelled {label:?}, expected {want:?}"
                ));
            }
            if button.clicks() != model.clicks {
                return Err(format!(
                    "step {step}: button {i} counted {} clicks, expected {}",
                    button.clicks(),
                    model.clicks
                ));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Buttons match the model, and once they are dropped everything they allocated is freed.
    #[test]
    fn buttons_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// A button shared by two owners keeps working after one of them lets go.
#[test]
fn a_shared_button_outlives_one_owner() {
    let counter = Button::counter("Save");
    let toolbar_copy = Rc::clone(&counter);
    counter.click();
    drop(counter);
    toolbar_copy.click();
    assert_eq!(toolbar_copy.label(), "Save (2)");
    assert_eq!(toolbar_copy.clicks(), 2);

    let toggle = Button::toggle("Sound");
    let menu_copy = Rc::clone(&toggle);
    drop(toggle);
    menu_copy.click();
    assert_eq!(menu_copy.label(), "Sound: on");
}
