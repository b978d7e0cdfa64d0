//! An outbox of log records waiting to be sent.
//!
//! [`Outbox::push`] queues a record; [`Outbox::flush`] hands the queued records, oldest first, to a `send`
//! function, and empties the outbox. Delivery is at most once: if `send` fails or panics, the rest of the
//! batch is dropped unsent. The queue is a singly linked list built on raw pointers, the kind of unsafe code
//! found inside many low-level crates.
//!
//! The tests say this outbox leaks memory when a flush goes wrong. Find out why and fix it, without changing
//! what the outbox does.

use std::ptr;

/// One queued record. Nodes are made by `Box::into_raw` and owned by whoever holds the chain they are in.
struct Node {
    record: String,
    next: *mut Node,
}

/// A queue of records waiting to be sent.
#[derive(Debug)]
pub struct Outbox {
    head: *mut Node,
    tail: *mut Node,
    len: usize,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
            len: 0,
        }
    }
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records are waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no record is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `record` behind the others.
    pub fn push(&mut self, record: &str) {
        let node = Box::into_raw(Box::new(Node {
            record: record.to_owned(),
            next: ptr::null_mut(),
        }));
        if self.tail.is_null() {
            self.head = node;
        } else {
            // SAFETY: `tail` is the last node of the chain this outbox owns, and nothing else is using it.
            unsafe { (*self.tail).next = node };
        }
        self.tail = node;
        self.len += 1;
    }

    // ANCHOR: fix
    /// Sends the queued records, oldest first, and empties the outbox. Returns how many were sent.
    ///
    /// # Errors
    /// The first error `send` returns. The record it refused and the ones after it are dropped unsent, as they
    /// are if `send` panics.
    pub fn flush<E>(&mut self, mut send: impl FnMut(&str) -> Result<(), E>) -> Result<usize, E> {
        // Take the whole chain out of the outbox: it is empty from now on, whatever `send` does.
        let mut rest = std::mem::replace(&mut self.head, ptr::null_mut());
        self.tail = ptr::null_mut();
        self.len = 0;
        let mut sent = 0;
        while !rest.is_null() {
            // SAFETY: `rest` is the first node of the chain we took; nothing else can reach it.
            send(unsafe { &(*rest).record })?;
            // SAFETY: the node came from `Box::into_raw` in `push`, and we move `rest` past it, so it is freed
            // exactly once, here.
            let node = unsafe { Box::from_raw(rest) };
            rest = node.next;
            sent += 1;
        }
        Ok(sent)
    }
    // ANCHOR_END: fix
}

/// Frees every node of a chain.
///
/// # Safety
/// `node` is null or the first node of a chain made by `Box::into_raw`, which the caller owns and nobody
/// uses again.
unsafe fn free_chain(mut node: *mut Node) {
    while !node.is_null() {
        // SAFETY: the caller owns the chain; each node is freed once, after we read its `next`.
        let boxed = unsafe { Box::from_raw(node) };
        node = boxed.next;
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // SAFETY: the outbox owns its chain, and is never used again.
        unsafe { free_chain(self.head) }
    }
}
