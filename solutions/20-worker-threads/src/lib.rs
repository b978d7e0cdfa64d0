//! A pool of worker threads that count the words of texts, and retry the jobs that fail.
//!
//! [`Pool::new`] starts the workers, named `worker-0`, `worker-1`, and so on. [`Pool::submit`] queues a job,
//! and [`Pool::next_result`] waits for the next finished one, in whatever order the workers finish them. A
//! text that starts with `~` stands for a job that fails once (a flaky download, say) and works when tried
//! again; a text with a `#` in it fails every time. A job that fails goes to the back of the queue, so that
//! its retry does not hold up the jobs behind it, and is given up after [`ATTEMPTS`] tries.
//!
//! This is the fixed version: the pool keeps its workers' join handles, and dropping it sends each worker a
//! `Stop` through the queue and waits for every one of them to end.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
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
/// What goes through the queue: a job, or the signal for one worker to stop.
enum Message {
    Run(Job),
    Stop,
}

/// A pool of worker threads sharing one queue of jobs.
pub struct Pool {
    jobs: Sender<Message>,
    finished: Receiver<Finished>,
    workers: Vec<JoinHandle<()>>,
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
        let workers = (0..workers)
            .map(|i| {
                let (queue, retry, done) = (Arc::clone(&queue), jobs.clone(), done.clone());
                thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || work(&queue, &retry, &done))
                    .expect("start a worker thread")
            })
            .collect();
        Pool {
            jobs,
            finished,
            workers,
        }
    }

    /// Queues a job: count the words of `text`. Its result comes back under `id`.
    pub fn submit(&self, id: u32, text: &str) {
        let job = Job {
            id,
            text: text.to_owned(),
            tries: 0,
        };
        self.jobs.send(Message::Run(job)).expect("the workers hold the queue");
    }

    /// The next finished job, waiting at most `timeout` for one.
    pub fn next_result(&self, timeout: Duration) -> Option<Finished> {
        self.finished.recv_timeout(timeout).ok()
    }
}

impl Drop for Pool {
    /// Stops the workers and waits until they have ended. The workers hold senders of the queue themselves
    /// (to queue retries), so dropping the pool's own sender would never close it: each worker gets an
    /// explicit `Stop`, queued behind the jobs already waiting, and stops at the first one it takes.
    fn drop(&mut self) {
        for _ in &self.workers {
            let _ = self.jobs.send(Message::Stop);
        }
        for worker in self.workers.drain(..) {
            // A worker that panicked has ended too; its panic is not this thread's business.
            let _ = worker.join();
        }
    }
}

/// A worker's life: take the next job from the queue, run it, then send back its result or queue it to be
/// tried again. A worker stops at a `Stop`, or when the queue is closed.
fn work(queue: &Mutex<Receiver<Message>>, retry: &Sender<Message>, done: &Sender<Finished>) {
    loop {
        // Only one worker waits on the queue at a time; the others wait for the lock.
        let next = queue.lock().unwrap().recv();
        let Ok(Message::Run(mut job)) = next else {
            return; // told to stop, or every sender is gone
        };
        job.tries += 1;
        let result = match count_words(&job) {
            Some(words) => Ok(words),
            None if job.tries < ATTEMPTS => {
                let _ = retry.send(Message::Run(job));
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
