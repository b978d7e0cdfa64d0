//! "Ownership: RAII and Drop": a pool whose leases give their connection back in `Drop`.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

/// A pretend network connection with its own buffer.
#[derive(Debug)]
pub struct Connection {
    /// The connection's receive buffer.
    pub buffer: Vec<u8>,
}

// ANCHOR: lease
/// Idle connections, lent out one at a time.
pub struct Pool {
    idle: RefCell<Vec<Connection>>,
}

/// A connection on loan. Dropping the lease gives the connection back to its pool.
pub struct Lease<'p> {
    pool: &'p Pool,
    conn: Option<Connection>,
}

impl Pool {
    /// A pool of `n` connections.
    pub fn new(n: usize) -> Pool {
        let conns = (0..n)
            .map(|_| Connection {
                buffer: Vec::with_capacity(4096),
            })
            .collect();
        Pool {
            idle: RefCell::new(conns),
        }
    }

    /// Lends out an idle connection, if there is one.
    pub fn lease(&self) -> Option<Lease<'_>> {
        let conn = self.idle.borrow_mut().pop()?;
        Some(Lease {
            pool: self,
            conn: Some(conn),
        })
    }

    /// How many connections are idle.
    pub fn idle(&self) -> usize {
        self.idle.borrow().len()
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // Runs on every way out of the lease's scope: the end of a block, `return`, `?`, a panic.
        if let Some(conn) = self.conn.take() {
            self.pool.idle.borrow_mut().push(conn);
        }
    }
}
// ANCHOR_END: lease

impl Deref for Lease<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until it is dropped")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until it is dropped")
    }
}

// ANCHOR: use
/// Reads a request on a leased connection. Every early return gives the connection back.
pub fn handle(pool: &Pool, request: &[u8]) -> Result<usize, String> {
    let mut conn = pool.lease().ok_or("no idle connection")?;
    if request.is_empty() {
        return Err("empty request".into()); // `conn` is dropped here: back in the pool
    }
    conn.buffer.extend_from_slice(request);
    let n = conn.buffer.len();
    conn.buffer.clear();
    Ok(n) // ... and here
}
// ANCHOR_END: use
