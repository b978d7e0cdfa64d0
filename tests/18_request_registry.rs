//! Spec for exercise 18, request-registry: the service answers real HTTP requests over loopback like a simple
//! model, and serving a request leaves nothing behind: memory does not grow with the number of requests.
//!
//! Compiled into both `exercises/18-request-registry` and `solutions/18-request-registry` through their
//! `tests/spec.rs`, which names the crate under test `subject`.
//!
//! The server is the spec's own [`Loopback`]: a thread accepting connections on an ephemeral port of
//! 127.0.0.1 (nothing but loopback is touched) and handing each one to the service. Every test sends a fixed,
//! bounded number of requests; every socket has a timeout; a panic in the service is caught and reported as a
//! failed request; and dropping the `Loopback` stops its thread, or leaves it behind for the process to end if
//! the service hangs. The last two tests check exactly that with a handler that panics and one that hangs.

use leaklab::{Growth, Region, RegionHandle};
use proptest::prelude::*;
use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use subject::Service;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// How long one step of an exchange (connecting, the answer, the server finishing) may take.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Requests sent to measure growth in each property-test case (the first fifth is warm-up).
const REQUESTS_PER_CASE: usize = 100;

/// Requests sent by the soak test.
const SOAK_REQUESTS: usize = 400;

// ---------------------------------------------------------------------------------------------------------
// The loopback server
// ---------------------------------------------------------------------------------------------------------

/// What the server thread says after each connection: handled, or how the handler failed.
type Served = Result<(), String>;

/// Where the server thread posts a [`Served`] for each connection. A mutex and a condition variable rather
/// than a channel: a channel allocates its waiting machinery the first time a receiver blocks, which could
/// happen in the middle of a growth measurement and look like growth.
#[derive(Default)]
struct Mailbox {
    posted: Mutex<VecDeque<Served>>,
    ready: Condvar,
}

impl Mailbox {
    fn post(&self, served: Served) {
        self.posted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(served);
        self.ready.notify_all();
    }

    /// The oldest message, waiting at most `timeout` for one.
    fn take(&self, timeout: Duration) -> Option<Served> {
        let posted = self.posted.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut posted, _) = self
            .ready
            .wait_timeout_while(posted, timeout, |posted| posted.is_empty())
            .unwrap_or_else(PoisonError::into_inner);
        posted.pop_front()
    }
}

/// The spec's server: one thread accepting connections on 127.0.0.1 and handing them, one at a time, to a
/// handler. Dropping it stops the thread.
struct Loopback {
    addr: SocketAddr,
    timeout: Duration,
    stop: Arc<AtomicBool>,
    /// The region the handler's allocations are attributed to, while a growth measurement runs.
    region: Arc<Mutex<Option<RegionHandle>>>,
    served: Arc<Mailbox>,
    /// Disconnected when the server thread has ended.
    ended: Receiver<()>,
    thread: Option<JoinHandle<()>>,
    /// Set when an exchange timed out: the handler is stuck, and dropping need not wait for it.
    stuck: Cell<bool>,
}

impl Loopback {
    /// Binds an ephemeral port on 127.0.0.1 and starts serving connections with `handler`. Each accepted
    /// connection gets read and write timeouts of `timeout`.
    fn start(timeout: Duration, handler: impl Fn(TcpStream) -> io::Result<()> + Send + 'static) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let region = Arc::new(Mutex::new(None));
        let served = Arc::new(Mailbox::default());
        let (alive, ended) = mpsc::channel::<()>();
        let thread = thread::Builder::new().name("loopback-server".into()).spawn({
            let (stop, region, mailbox) = (Arc::clone(&stop), Arc::clone(&region), Arc::clone(&served));
            move || {
                let _alive = alive;
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let outcome = match stream {
                        Ok(stream) => {
                            let region = *region.lock().unwrap_or_else(PoisonError::into_inner);
                            serve_one(&handler, stream, timeout, region)
                        }
                        Err(e) => Err(format!("accepting a connection failed: {e}")),
                    };
                    // After a failure the case is over: stop serving, so later connections are refused at once.
                    let failed = outcome.is_err();
                    mailbox.post(outcome);
                    if failed {
                        break;
                    }
                }
            }
        })?;
        Ok(Loopback {
            addr,
            timeout,
            stop,
            region,
            served,
            ended,
            thread: Some(thread),
            stuck: Cell::new(false),
        })
    }

    /// From now on, the handler's allocations count for `region` (or for no region).
    fn attribute_to(&self, region: Option<RegionHandle>) {
        *self.region.lock().unwrap_or_else(PoisonError::into_inner) = region;
    }

    /// Sends `raw` on a new connection, reads the whole answer, and waits until the server has finished with
    /// the connection, so everything the handler did for this request is done when this returns.
    fn exchange(&self, raw: &str) -> Result<String, String> {
        let mut stream = TcpStream::connect_timeout(&self.addr, self.timeout)
            .map_err(|e| format!("could not connect to the service: {e}"))?;
        let timeouts = stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)));
        timeouts.map_err(|e| format!("could not set the socket's timeouts: {e}"))?;
        stream
            .write_all(raw.as_bytes())
            .map_err(|e| format!("could not send the request: {e}"))?;
        let mut answer = Vec::new();
        if let Err(e) = stream.read_to_end(&mut answer) {
            // A reset connection usually means the handler failed: its message follows at once. After a read
            // timeout the handler is most likely stuck, and there is no point waiting again.
            let stuck = matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut);
            self.stuck.set(stuck);
            return Err(
                match self.served.take(if stuck { Duration::ZERO } else { self.timeout }) {
                    Some(Err(problem)) => problem,
                    _ if stuck => format!("no complete answer within {:?}: is the service stuck?", self.timeout),
                    _ => format!("the connection failed before the answer was complete: {e}"),
                },
            );
        }
        match self.served.take(self.timeout) {
            Some(Ok(())) => String::from_utf8(answer).map_err(|_| "the answer is not UTF-8".to_owned()),
            Some(Err(problem)) => Err(problem),
            None => Err(format!(
                "the service answered but did not finish with the connection within {:?}",
                self.timeout
            )),
        }
    }
}

/// Hands one connection to `handler` on this (the server) thread, inside `region` when there is one, and
/// turns an error or a panic into a message.
fn serve_one(
    handler: &impl Fn(TcpStream) -> io::Result<()>,
    stream: TcpStream,
    timeout: Duration,
    region: Option<RegionHandle>,
) -> Served {
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("could not set the connection's timeouts: {e}"))?;
    let entered = region.map(RegionHandle::enter);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| handler(stream)));
    drop(entered);
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("the service returned an error: {e}")),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_owned());
            Err(format!("the service panicked: {message}"))
        }
    }
}

impl Drop for Loopback {
    /// Stops the server thread: sets the flag, wakes `accept` with a connection of its own, and joins the
    /// thread. A thread stuck in the handler is left behind; the process ends it on exit.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, self.timeout);
        let wait = if self.stuck.get() { Duration::ZERO } else { self.timeout };
        match self.ended.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {
                eprintln!("spec: the service did not stop; its thread is left to end with the process")
            }
            _ => {
                if let Some(thread) = self.thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

/// A loopback server for a fresh [`Service`].
fn serve_a_new_service() -> io::Result<Loopback> {
    let service = Service::new();
    Loopback::start(TIMEOUT, move |stream| service.handle(stream))
}

// ---------------------------------------------------------------------------------------------------------
// Requests and the model
// ---------------------------------------------------------------------------------------------------------

/// One request a client sends.
#[derive(Clone)]
enum Request {
    /// `method path HTTP/1.1`, with a `Host` header.
    Http { method: &'static str, path: String },
    /// A request line that is not HTTP.
    Garbage,
}

/// The request line, so a failing sequence reads like an access log.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Http { method, path } => write!(f, "{method} {path}"),
            Request::Garbage => write!(f, "garbage"),
        }
    }
}

impl Request {
    fn get(path: &str) -> Request {
        Request::Http {
            method: "GET",
            path: path.to_owned(),
        }
    }

    /// The bytes sent.
    fn raw(&self) -> String {
        match self {
            Request::Http { method, path } => format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            Request::Garbage => "HELLO THERE\r\n\r\n".to_owned(),
        }
    }

    /// The model: the answer the documented routes give this request, as the service's `id`-th request.
    fn expected(&self, id: u64) -> Expected {
        let is = |text: String| Body::Is(text);
        let (status, body) = match self {
            Request::Garbage => (400, is("bad request".to_owned())),
            Request::Http { method, .. } if *method != "GET" => (405, is("only GET is allowed".to_owned())),
            Request::Http { path, .. } => match path.strip_prefix("/hello/") {
                Some(name) if !name.is_empty() && !name.contains('/') => (200, is(format!("hello, {name}!"))),
                _ if path == "/health" => (200, is("ok".to_owned())),
                _ if path == "/in-flight" => (200, Body::ListsItself),
                _ => (404, is(format!("no route for {path}"))),
            },
        };
        Expected { status, id, body }
    }
}

/// What the model expects of an answer.
#[derive(Debug)]
struct Expected {
    status: u16,
    id: u64,
    body: Body,
}

/// What the model expects of an answer's body.
#[derive(Debug)]
enum Body {
    /// Exactly this text.
    Is(String),
    /// The admin page, which must list the request that asks for it: a line `#<id> GET /in-flight for <time>`.
    /// Other lines are not checked here.
    ListsItself,
}

impl Expected {
    fn matches(&self, answer: &Answer) -> bool {
        let own_line = format!("#{} GET /in-flight for ", self.id);
        (answer.status, answer.id) == (self.status, self.id)
            && match &self.body {
                Body::Is(text) => answer.body == *text,
                Body::ListsItself => answer.body.lines().any(|line| line.starts_with(&own_line)),
            }
    }
}

fn request() -> impl Strategy<Value = Request> {
    let path = prop_oneof![
        Just("/health".to_owned()),
        Just("/in-flight".to_owned()),
        "[a-z]{1,4}".prop_map(|name| format!("/hello/{name}")),
        "[a-z]{1,6}".prop_map(|word| format!("/{word}")),
        Just("/hello/".to_owned()),
    ];
    let method = prop_oneof![4 => Just("GET"), 1 => Just("POST"), 1 => Just("DELETE")];
    prop_oneof![
        8 => (method, path).prop_map(|(method, path)| Request::Http { method, path }),
        1 => Just(Request::Garbage),
    ]
}

/// What the spec reads from an answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// The `X-Request-Id` header.
    id: u64,
    body: String,
}

impl Answer {
    /// Parses an HTTP/1.1 answer: the status line, the headers (`Content-Length` must match the body), the body.
    fn parse(text: &str) -> Result<Answer, String> {
        let bad = |why: &str| format!("{why} in the answer {text:?}");
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| bad("no blank line after the head"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3)?.parse().ok())
            .ok_or_else(|| bad("no `HTTP/1.1 <status>` line"))?;
        let header = |name: &str| {
            head.split("\r\n")
                .skip(1)
                .filter_map(|line| line.split_once(':'))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim().to_owned())
        };
        let id = header("X-Request-Id")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| bad("no numeric X-Request-Id header"))?;
        if header("Content-Length").and_then(|n| n.parse::<usize>().ok()) != Some(body.len()) {
            return Err(bad("a Content-Length that is not the body's length"));
        }
        Ok(Answer {
            status,
            id,
            body: body.to_owned(),
        })
    }
}

// ---------------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------------

/// Sends each request once and compares every answer with the model. The first difference is the error.
fn check_answers(server: &Loopback, requests: &[Request]) -> Result<(), String> {
    for (i, request) in requests.iter().enumerate() {
        let want = request.expected(i as u64 + 1);
        let got = server.exchange(&request.raw()).and_then(|text| Answer::parse(&text));
        if !got.as_ref().is_ok_and(|answer| want.matches(answer)) {
            return Err(format!("request {i}, {request:?}: got {got:?}, expected {want:?}"));
        }
    }
    Ok(())
}

/// Sends `total` requests, going round `requests`, and measures what stays allocated per request, counting
/// what the service allocates on the server thread.
fn growth_per_request(server: &Loopback, requests: &[Request], total: usize) -> Result<Growth, String> {
    let raw: Vec<String> = requests.iter().map(Request::raw).collect();
    let mut failure = None;
    let mut sent = 0;
    let growth = Region::new().label("serving requests").growth(total, || {
        if sent == 0 {
            server.attribute_to(RegionHandle::current());
        }
        if failure.is_none()
            && let Err(e) = server.exchange(&raw[sent % raw.len()])
        {
            failure = Some(e);
        }
        sent += 1;
    });
    server.attribute_to(None);
    match failure {
        Some(e) => Err(format!("during the soak: {e}")),
        None => Ok(growth),
    }
}

/// The failure message for a service that grows: the rate per request first, then leaklab's report.
fn grows(growth: &Growth, requests: &[Request], plot: Option<String>) -> String {
    let mut message = format!(
        "the service keeps {:.1} bytes ({:.2} blocks) more after every request: {} requests over loopback, \
         going round {requests:?}\n{growth}",
        growth.bytes_per_iteration(),
        growth.blocks_per_iteration(),
        growth.iterations(),
    );
    if let Some(plot) = plot {
        message.push_str(&format!("\n  plot: {plot}"));
    }
    message
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        // A service that hangs fails every case after a timeout; do not spend minutes shrinking that.
        max_shrink_time: 10_000,
        ..ProptestConfig::default()
    })]

    /// Every answer matches the model, and serving the same requests again and again leaves nothing behind.
    #[test]
    fn answers_match_the_model_and_requests_leave_nothing_behind(requests in prop::collection::vec(request(), 1..6)) {
        let server = serve_a_new_service().map_err(|e| TestCaseError::fail(format!("could not start: {e}")))?;
        // Behaviour first, outside any region: a wrong answer is not a leak.
        check_answers(&server, &requests).map_err(TestCaseError::fail)?;
        let growth = growth_per_request(&server, &requests, REQUESTS_PER_CASE).map_err(TestCaseError::fail)?;
        if growth.is_growing() {
            let shrunk = "\n  `requests` below is the shortest list that still makes the service grow";
            return Err(TestCaseError::fail(grows(&growth, &requests, None) + shrunk));
        }
    }
}

/// A soak: 400 requests of a typical mix, mostly answered, some refused. Memory stays flat; the plot of the
/// run is written to `target/leaklab/growth/<package>.svg`.
#[test]
fn a_soak_of_mixed_traffic_does_not_grow() {
    let mix = [
        Request::get("/hello/ann"),
        Request::get("/health"),
        Request::get("/hello/bob"),
        Request::get("/favicon.ico"),
        Request::Http {
            method: "POST",
            path: "/hello/cy".to_owned(),
        },
        Request::Garbage,
        Request::get("/hello/dee"),
        Request::get("/in-flight"),
        Request::get("/admin"),
    ];
    let server = serve_a_new_service().expect("start the loopback server");
    check_answers(&server, &mix).unwrap_or_else(|e| panic!("{e}"));
    let growth = growth_per_request(&server, &mix, SOAK_REQUESTS).unwrap_or_else(|e| panic!("{e}"));
    let plot = growth
        .save_svg(env!("CARGO_PKG_NAME"))
        .map(|path| path.display().to_string())
        .ok();
    assert!(!growth.is_growing(), "{}", grows(&growth, &mix, plot));
}

/// The harness itself: a handler that panics makes the exchange fail at once with the panic's message, and
/// the server still stops when dropped.
#[test]
fn the_loopback_server_reports_a_panicking_handler_and_stops() {
    let started = Instant::now();
    let server = Loopback::start(TIMEOUT, |_stream| -> io::Result<()> { panic!("the handler broke") }).unwrap();
    let outcome = server.exchange(&Request::get("/health").raw());
    drop(server);
    assert_eq!(outcome, Err("the service panicked: the handler broke".to_owned()));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

/// The harness itself: a handler that never answers makes the exchange fail after the timeout, and dropping
/// the server returns promptly, leaving the stuck thread to end with the process.
#[test]
fn the_loopback_server_gives_up_on_a_stuck_handler_and_stops() {
    let started = Instant::now();
    let timeout = Duration::from_millis(200);
    let server = Loopback::start(timeout, |_stream| {
        thread::sleep(Duration::from_secs(60));
        Ok(())
    })
    .unwrap();
    let outcome = server.exchange(&Request::get("/health").raw());
    drop(server);
    let e = outcome.unwrap_err();
    assert!(e.contains("no complete answer within"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}
