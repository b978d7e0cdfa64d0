//! Spec for exercise 02, leaked-config: quotas behave like a simple model, and leak nothing.
//!
//! Compiled into both `exercises/02-leaked-config` and `solutions/02-leaked-config` through their
//! `tests/spec.rs`, which names the crate under test `subject`.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use subject::{Limits, OverLimit, Quotas};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

const TENANTS: [&str; 3] = ["alice", "bob", "carol"];

/// The limits written in `LIMITS_CONFIG`, copied out by hand.
fn limit_of(tenant: &str) -> u32 {
    match tenant {
        "alice" => 4,
        "bob" => 1,
        _ => 2,
    }
}

/// One step a client of the quotas takes.
#[derive(Clone, Copy)]
enum Op {
    /// Make a request as this tenant.
    Request(&'static str),
    /// Start counting this tenant's requests from zero.
    Reset(&'static str),
    /// Look up this tenant's limit through `limits()`.
    Limit(&'static str),
}

/// One short line per step, so a failing sequence is easy to read.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Request(tenant) => write!(f, "request({tenant:?})"),
            Op::Reset(tenant) => write!(f, "reset({tenant:?})"),
            Op::Limit(tenant) => write!(f, "limit({tenant:?})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let tenant = prop::sample::select(&TENANTS[..]);
    prop_oneof![
        3 => tenant.clone().prop_map(Op::Request),
        1 => tenant.clone().prop_map(Op::Limit),
        1 => tenant.prop_map(Op::Reset),
    ]
}

/// Runs `ops` against fresh quotas and a model of them; the first difference is returned as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    let mut quotas = Quotas::new();
    let mut model: BTreeMap<&str, u32> = BTreeMap::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Request(tenant) => {
                let limit = limit_of(tenant);
                let used = model.entry(tenant).or_insert(0);
                let want = if *used < limit {
                    *used += 1;
                    Ok(limit - *used)
                } else {
                    Err(OverLimit { limit })
                };
                let got = quotas.request(tenant);
                if got != want {
                    return Err(format!(
                        "step {step}: request({tenant:?}) returned {got:?}, expected {want:?}"
                    ));
                }
            }
            Op::Reset(tenant) => {
                quotas.reset(tenant);
                model.remove(tenant);
            }
            Op::Limit(tenant) => {
                let (got, want) = (subject::limits().get(tenant), limit_of(tenant));
                if got != want {
                    return Err(format!(
                        "step {step}: limits().get({tenant:?}) is {got}, expected {want}"
                    ));
                }
            }
        }
        for tenant in TENANTS {
            let (got, want) = (quotas.used(tenant), model.get(tenant).copied().unwrap_or(0));
            if got != want {
                return Err(format!("step {step}: used({tenant:?}) is {got}, expected {want}"));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The quotas match the model, and a whole session with them frees everything it allocated.
    #[test]
    fn quotas_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak. This run also does any
        // set-up the crate needs only once per process, which is not a leak either (see leaklab's docs,
        // "Warm up one-time initialisation").
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// `limits()` hands out a `'static` reference that another thread can keep, and a config parses line by line.
#[test]
fn limits_can_be_kept_by_any_thread() {
    let limits: &'static Limits = subject::limits();
    let seen = std::thread::spawn(move || TENANTS.map(|tenant| limits.get(tenant)))
        .join()
        .unwrap();
    assert_eq!(seen, TENANTS.map(limit_of));

    let custom = Limits::parse("# comment\n\ndefault = 7\n  zed = 0  \n");
    assert_eq!((custom.get("zed"), custom.get("alice")), (0, 7));
}
