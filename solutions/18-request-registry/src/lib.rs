//! A small HTTP service that keeps a registry of the requests it is handling.
//!
//! [`Service::handle`] serves one connection: it reads one HTTP/1.1 request, answers it, and closes the
//! connection. Each request gets an id, sent back in an `X-Request-Id` header, and is listed in the registry
//! of requests in flight while it is handled; the admin page and a graceful shutdown read that registry through
//! [`Service::in_flight`].
//!
//! Routes: `GET /health` answers `ok`, `GET /hello/<name>` answers `hello, <name>!`, and `GET /in-flight` is
//! the admin page: one line per request in flight, itself included. Any other path is 404 Not Found, any other
//! method 405 Method Not Allowed, and a request line that does not parse is 400 Bad Request.
//!
//! This is the fixed version: a guard lists a request in the registry and removes it when dropped, so the
//! entry goes away however the request ends, refused with `?` as well as answered.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// A request being handled: what it asked for, and since when.
struct InFlight {
    method: String,
    path: String,
    since: Instant,
}

/// The answer to a request that is not served: the status (`404 Not Found`) and the body.
type Refusal = (&'static str, String);

/// The service. Connection threads share it through an `Arc`.
#[derive(Default)]
pub struct Service {
    next_id: AtomicU64,
    in_flight: Mutex<BTreeMap<u64, InFlight>>,
}

impl Service {
    /// A service that has served no request yet.
    pub fn new() -> Service {
        Service::default()
    }

    /// The requests being handled right now, oldest first, one line each: `#7 GET /health for 2ms`.
    pub fn in_flight(&self) -> Vec<String> {
        let in_flight = self.in_flight.lock().unwrap();
        let line = |(id, r): (&u64, &InFlight)| format!("#{id} {} {} for {:?}", r.method, r.path, r.since.elapsed());
        in_flight.iter().map(line).collect()
    }

    /// Reads one request from `stream`, answers it, and closes the connection.
    ///
    /// # Errors
    /// When reading from or writing to the connection fails.
    pub fn handle(&self, mut stream: TcpStream) -> io::Result<()> {
        let request_line = read_head(&stream)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (status, body) = match self.respond(id, &request_line) {
            Ok(body) => ("200 OK", body),
            Err(refusal) => refusal,
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nX-Request-Id: {id}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes())
    }
}

// ANCHOR: fix
impl Service {
    /// The body of the answer to `request_line`. The request is listed in the registry while it is handled.
    fn respond(&self, id: u64, request_line: &str) -> Result<String, Refusal> {
        let mut words = request_line.split_whitespace();
        let (Some(method), Some(path), Some("HTTP/1.0" | "HTTP/1.1"), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(("400 Bad Request", "bad request".to_owned()));
        };
        let request = InFlight {
            method: method.to_owned(),
            path: path.to_owned(),
            since: Instant::now(),
        };
        // Listed until `_listed` is dropped, at whichever return (or `?`, or panic) ends this function.
        let _listed = Listed::new(&self.in_flight, id, request);
        match (method, path) {
            ("GET", "/in-flight") => Ok(self.in_flight().join("\n")),
            _ => route(method, path),
        }
    }
}

/// A request's entry in the registry of requests in flight. Dropping it removes the entry.
struct Listed<'a> {
    registry: &'a Mutex<BTreeMap<u64, InFlight>>,
    id: u64,
}

impl<'a> Listed<'a> {
    /// Lists `request` under `id` until the guard is dropped.
    fn new(registry: &'a Mutex<BTreeMap<u64, InFlight>>, id: u64, request: InFlight) -> Listed<'a> {
        registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, request);
        Listed { registry, id }
    }
}

impl Drop for Listed<'_> {
    fn drop(&mut self) {
        // A panic elsewhere may have poisoned the lock; the map is still sound, and a `Drop` must not panic.
        self.registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}
// ANCHOR_END: fix

/// The body for a request that parsed, or why there is none.
fn route(method: &str, path: &str) -> Result<String, Refusal> {
    if method != "GET" {
        return Err(("405 Method Not Allowed", "only GET is allowed".to_owned()));
    }
    match path.strip_prefix("/hello/") {
        Some(name) if !name.is_empty() && !name.contains('/') => Ok(format!("hello, {name}!")),
        _ if path == "/health" => Ok("ok".to_owned()),
        _ => Err(("404 Not Found", format!("no route for {path}"))),
    }
}

/// Reads a request head (at most 8 KiB): the request line, which it returns, then header lines up to a blank one.
fn read_head(stream: &TcpStream) -> io::Result<String> {
    let mut lines = BufReader::new(stream.take(8 * 1024)).lines();
    let request_line = lines.next().transpose()?.unwrap_or_default();
    for line in lines {
        if line?.is_empty() {
            break;
        }
    }
    Ok(request_line)
}
