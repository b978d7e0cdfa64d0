//! A pool of worker threads that count the words of texts, and retry the jobs that fail.
//!
//! [`Pool::new`] starts the workers, named `worker-0`, `worker-1`, and so on. [`Pool::submit`] queues a job,
//! and [`Pool::next_result`] waits for the next finished one, in whatever order the workers finish them. A
//! text that starts with `~` stands for a job that fails once (a flaky download, say) and works when tried
//! again; a text with a `#` in it fails every time. A job that fails goes to the back of the queue, so that
//! its retry does not hold up the jobs behind it, and is given up after [`ATTEMPTS`] tries.
//!
//! The tests say a pool leaves threads behind when it is dropped. Find out why and fix it, without changing
//! what the pool does.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How many times a job is tried before it is given up.
pub const ATTEMPTS: u32 = 3;

/// A job that failed every time it was tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GaveUp {
    /// How many times it was tried.
    pub attempts: u32,
}

/// A finished job: its id, and its text's word count or the news that it was given up.
pub type Finished = (u32, Result<usize, GaveUp>);

/// A job, and how many times it has been tried so far.
struct Job {
    id: u32,
    text: String,
    tries: u32,
}

// ANCHOR: fix
/// A pool of worker threads sharing one queue of jobs.
pub struct Pool {
    jobs: Sender<Job>,
    finished: Receiver<Finished>,
}

impl Pool {
    /// Starts `workers` threads (at least one).
    ///
    /// # Panics
    /// If the operating system cannot start a thread.
    pub fn new(workers: usize) -> Pool {
        let (jobs, queue) = mpsc::channel();
        let queue = Arc::new(Mutex::new(queue));
        let (done, finished) = mpsc::channel();
        for i in 0..workers {
            let (queue, retry, done) = (Arc::clone(&queue), jobs.clone(), done.clone());
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || work(&queue, &retry, &done))
                .expect("start a worker thread");
        }
        Pool { jobs, finished }
    }

    /// Queues a job: count the words of `text`. Its result comes back under `id`.
    pub fn submit(&self, id: u32, text: &str) {
        let job = Job {
            id,
            text: text.to_owned(),
            tries: 0,
        };
        self.jobs.send(job).expect("the workers hold the queue");
    }

    /// The next finished job, waiting at most `timeout` for one.
    pub fn next_result(&self, timeout: Duration) -> Option<Finished> {
        self.finished.recv_timeout(timeout).ok()
    }
}

/// A worker's life: take the next job from the queue, run it, then send back its result or queue it to be
/// tried again. A worker stops when the queue is closed.
fn work(queue: &Mutex<Receiver<Job>>, retry: &Sender<Job>, done: &Sender<Finished>) {
    loop {
        // Only one worker waits on the queue at a time; the others wait for the lock.
        let next = queue.lock().unwrap().recv();
        let Ok(mut job) = next else {
            return; // every sender is gone: the queue is closed
        };
        job.tries += 1;
        let result = match count_words(&job) {
            Some(words) => Ok(words),
            None if job.tries < ATTEMPTS => {
                let _ = retry.send(job);
                continue;
            }
            None => Err(GaveUp { attempts: job.tries }),
        };
        let _ = done.send((job.id, result));
    }
}
// ANCHOR_END: fix

/// Runs a job: `None` when this try fails.
fn count_words(job: &Job) -> Option<usize> {
    let fails = job.text.contains('#') || (job.text.starts_with('~') && job.tries == 1);
    (!fails).then(|| job.text.split_whitespace().count())
}
