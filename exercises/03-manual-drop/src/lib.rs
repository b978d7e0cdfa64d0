//! A pool of reusable byte buffers.
//!
//! [`Pool::get`] lends out a [`Buf`]: an empty `Vec<u8>` with room for [`BUF_CAPACITY`] bytes, reused from
//! the pool when it has an idle one. Dropping a `Buf` gives the buffer back to the pool, which keeps at most
//! `capacity` idle buffers. [`Buf::detach`] keeps the bytes instead of giving them back.
//!
//! The tests say this pool leaks buffers. Find out why and fix it, without changing what the pool does.

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

/// How many bytes a new buffer has room for.
pub const BUF_CAPACITY: usize = 256;

/// A pool of byte buffers.
#[derive(Debug)]
pub struct Pool {
    idle: RefCell<Vec<Vec<u8>>>,
    capacity: usize,
}

impl Pool {
    /// An empty pool that will keep at most `capacity` idle buffers.
    pub fn new(capacity: usize) -> Self {
        Pool {
            idle: RefCell::new(Vec::new()),
            capacity,
        }
    }

    /// Lends out an empty buffer: an idle one if there is one, else a new one.
    pub fn get(&self) -> Buf<'_> {
        let bytes = self.idle.borrow_mut().pop();
        let bytes = bytes.unwrap_or_else(|| Vec::with_capacity(BUF_CAPACITY));
        Buf {
            pool: self,
            bytes: ManuallyDrop::new(bytes),
        }
    }

    /// How many idle buffers the pool holds.
    pub fn idle(&self) -> usize {
        self.idle.borrow().len()
    }
}

/// A buffer lent out by a [`Pool`]. Use it like a `Vec<u8>`; drop it to give it back.
#[derive(Debug)]
pub struct Buf<'p> {
    pool: &'p Pool,
    // `ManuallyDrop` lets `detach` move the vector out, even though `Buf` implements `Drop`.
    bytes: ManuallyDrop<Vec<u8>>,
}

impl Buf<'_> {
    /// Keeps the bytes: returns the vector, and the pool does not get this buffer back.
    pub fn detach(mut self) -> Vec<u8> {
        // SAFETY: `self` is forgotten just below, so its `Drop` never sees the emptied `bytes`.
        let bytes = unsafe { ManuallyDrop::take(&mut self.bytes) };
        // Nothing else in `self` owns memory (`pool` is a reference), so forgetting it frees nothing.
        std::mem::forget(self);
        bytes
    }
}

impl Deref for Buf<'_> {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.bytes
    }
}

impl DerefMut for Buf<'_> {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

// ANCHOR: fix
impl Drop for Buf<'_> {
    fn drop(&mut self) {
        let mut idle = self.pool.idle.borrow_mut();
        if idle.len() < self.pool.capacity {
            // SAFETY: this is `drop`: `bytes` is never used again.
            let mut bytes = unsafe { ManuallyDrop::take(&mut self.bytes) };
            bytes.clear();
            idle.push(bytes);
        }
        // Otherwise the pool is full, and this buffer is simply let go.
    }
}
// ANCHOR_END: fix
