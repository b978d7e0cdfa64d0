//! Spec for exercise 20, worker-threads: the pool finishes every job like a simple model, and no worker
//! thread (nor the memory it holds) outlives its pool.
//!
//! Compiled into both `exercises/20-worker-threads` and `solutions/20-worker-threads` through their
//! `tests/spec.rs`, which names the crate under test `subject`.
//!
//! Threads belong to the whole process, and leaklab's thread ledger reports every thread that appeared while
//! a region ran and is still running at its end, whoever started it. libtest starts one thread per test, so a
//! second test in this binary could start (or start its workers) during the tracked region and be reported
//! as a leak. This binary therefore has exactly one test: the property test below, whose cases run one after
//! another on one thread. Put any new check inside it rather than next to it.
//!
//! Nothing here can hang: every wait for a result has a timeout, a watchdog ends the process with a message if
//! dropping a pool takes more than ten seconds, and a leaked worker is parked on the queue, using no CPU, until
//! the process exits at the end of the tests.

use leaklab::Region;
use proptest::prelude::*;
use std::fmt;
use std::io::{self, Write};
use std::process;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};
use subject::{ATTEMPTS, Finished, GaveUp, Pool};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// The longest wait for one result before the spec gives up on the pool.
const TIMEOUT: Duration = Duration::from_secs(5);

/// One step a client of the pool takes.
#[derive(Clone)]
enum Op {
    /// Submit a job with this text; its id is the number of jobs submitted before it.
    Submit(String),
    /// Wait for the results of every job submitted so far.
    Collect,
    /// Wait for every result, drop the pool, and start a new one with this many workers.
    Restart(usize),
}

/// One short line per step.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Submit(text) => write!(f, "submit({text:?})"),
            Op::Collect => write!(f, "collect"),
            Op::Restart(workers) => write!(f, "restart({workers} workers)"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let text = prop_oneof![
        4 => "[a-z]{1,3}( [a-z]{1,3}){0,3}",
        1 => "~[a-z]{1,3}( [a-z]{1,3}){0,2}",
        1 => "[a-z]{0,3}#[a-z]{0,3}",
    ];
    prop_oneof![
        5 => text.prop_map(Op::Submit),
        2 => Just(Op::Collect),
        1 => (1..4usize).prop_map(Op::Restart),
    ]
}

/// The model: what a job with this text finishes with.
fn expected(text: &str) -> Result<usize, GaveUp> {
    if text.contains('#') {
        Err(GaveUp { attempts: ATTEMPTS })
    } else {
        Ok(text.split_whitespace().count())
    }
}

/// Waits for the results of the `pending` jobs and compares them, in id order, with the model.
fn collect(pool: &Pool, pending: &mut Vec<(u32, String)>) -> Result<(), String> {
    let mut got: Vec<Finished> = Vec::with_capacity(pending.len());
    for _ in 0..pending.len() {
        match pool.next_result(TIMEOUT) {
            Some(finished) => got.push(finished),
            None => {
                return Err(format!(
                    "only {} of {} results arrived within {TIMEOUT:?} each",
                    got.len(),
                    pending.len()
                ));
            }
        }
    }
    got.sort_unstable();
    let want: Vec<Finished> = pending.drain(..).map(|(id, text)| (id, expected(&text))).collect();
    if got == want {
        Ok(())
    } else {
        Err(format!("the results, by job id, were {got:?}, expected {want:?}"))
    }
}

/// Runs `ops` against a pool of `workers` workers; the first difference from the model is the error. Every
/// pool is dropped before this returns.
fn run(workers: usize, ops: &[Op]) -> Result<(), String> {
    let mut pool = Pool::new(workers);
    let mut pending = Vec::new();
    let mut submitted = 0;
    for (step, op) in ops.iter().enumerate() {
        let outcome = match op {
            Op::Submit(text) => {
                pool.submit(submitted, text);
                pending.push((submitted, text.clone()));
                submitted += 1;
                Ok(())
            }
            Op::Collect => collect(&pool, &mut pending),
            Op::Restart(workers) => {
                collect(&pool, &mut pending).map(|()| retire(std::mem::replace(&mut pool, Pool::new(*workers))))
            }
        };
        outcome.map_err(|e| format!("step {step}, {op:?}: {e}"))?;
    }
    let outcome = collect(&pool, &mut pending).map_err(|e| format!("at the end: {e}"));
    retire(pool);
    outcome
}

/// How long dropping a pool may take before the spec stops the whole run.
const DROP_LIMIT: Duration = Duration::from_secs(10);

/// When the pool being dropped must be gone, in milliseconds after `EPOCH`; 0 while no pool is being dropped.
static DROP_DEADLINE: AtomicU64 = AtomicU64::new(0);

/// The watchdog's clock.
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Drops `pool` under the watchdog's eye. A `Drop` that waits for workers that never stop (a `join` before
/// telling them to stop, say) would otherwise hang the tests for ever.
fn retire(pool: Pool) {
    DROP_DEADLINE.store(now_ms() + DROP_LIMIT.as_millis() as u64, Ordering::SeqCst);
    drop(pool);
    DROP_DEADLINE.store(0, Ordering::SeqCst);
}

/// Starts the watchdog, once, before any region: a thread that ends the process with a message when a pool has
/// been dropping for longer than `DROP_LIMIT`. It writes to the real stderr, past libtest's capture, because
/// the test that would print the captured output never finishes.
fn start_watchdog() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        now_ms();
        let watchdog = move || {
            loop {
                thread::sleep(Duration::from_millis(100));
                let deadline = DROP_DEADLINE.load(Ordering::SeqCst);
                if deadline != 0 && now_ms() > deadline {
                    let _ = writeln!(
                        io::stderr(),
                        "spec: dropping a pool has not returned after {DROP_LIMIT:?}: its `Drop` is waiting for \
                         workers that never stop. A worker stops only when told to, or when its queue closes."
                    );
                    process::exit(101);
                }
            }
        };
        thread::Builder::new()
            .name("spec-watchdog".into())
            .spawn(watchdog)
            .expect("start the spec's watchdog");
    });
}

/// The first time a thread blocks on a channel, std gives it a small record for waiting (kept until the thread
/// ends): one-time work, like a `OnceLock`. The behaviour run does not always block (the results may be there
/// already), so block once here, outside any region, rather than for the first time inside one.
fn warm_up_blocking_receive() {
    let (_sender, receiver) = mpsc::channel::<()>();
    let _ = receiver.recv_timeout(Duration::from_millis(1));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every job's result matches the model, and once a session's pools are dropped, none of their worker
    /// threads is still running and nothing they allocated is left.
    #[test]
    fn jobs_match_the_model_and_no_worker_outlives_its_pool(
        workers in 1..4usize,
        ops in prop::collection::vec(op(), 0..10),
    ) {
        start_watchdog();
        // Behaviour first, outside any region: a wrong result is not a leak.
        run(workers, &ops).map_err(TestCaseError::fail)?;
        warm_up_blocking_receive();
        // Then the same session with the thread ledger on.
        Region::new().track_threads().run(|| run(workers, &ops)).into_result()?;
    }
}
