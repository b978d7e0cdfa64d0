//! A tiny key-value store with transactions.
//!
//! A [`Transaction`] is a guard: while it is open, nobody else can start one, and if it is dropped
//! without [`Transaction::commit`], its writes are thrown away (a rollback). The store counts commits and
//! rollbacks so an operator can see what happened.
//!
//! The tests say this store leaks memory on every commit. Find out why and fix it, without changing what
//! the store does.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// An in-memory key-value store whose writes go through transactions.
#[derive(Debug, Default)]
pub struct Store {
    data: RefCell<BTreeMap<String, i64>>,
    open: Cell<bool>,
    commits: Cell<usize>,
    rollbacks: Cell<usize>,
}

/// How many transactions were committed and rolled back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Transactions whose writes were applied.
    pub commits: usize,
    /// Transactions dropped without committing.
    pub rollbacks: usize,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The committed value of `key`, if any.
    pub fn get(&self, key: &str) -> Option<i64> {
        self.data.borrow().get(key).copied()
    }

    /// Commit and rollback counts.
    pub fn stats(&self) -> Stats {
        Stats {
            commits: self.commits.get(),
            rollbacks: self.rollbacks.get(),
        }
    }

    /// Starts a transaction named `name` (the name shows up in logs).
    ///
    /// # Panics
    /// If another transaction is still open.
    pub fn transaction(&self, name: &str) -> Transaction<'_> {
        assert!(!self.open.replace(true), "a transaction is already open");
        Transaction {
            store: self,
            name: name.to_owned(),
            writes: Vec::new(),
        }
    }
}

/// An open transaction. Commit it to apply its writes; drop it to roll them back.
#[derive(Debug)]
pub struct Transaction<'s> {
    store: &'s Store,
    name: String,
    writes: Vec<(String, i64)>,
}

// ANCHOR: fix
impl Transaction<'_> {
    /// The transaction's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records a write; it becomes visible when the transaction commits.
    pub fn set(&mut self, key: &str, value: i64) {
        self.writes.push((key.to_owned(), value));
    }

    /// Applies the writes and closes the transaction. Returns how many writes were applied.
    pub fn commit(self) -> usize {
        let mut data = self.store.data.borrow_mut();
        for (key, value) in &self.writes {
            data.insert(key.clone(), *value);
        }
        drop(data);
        let applied = self.writes.len();
        self.store.commits.set(self.store.commits.get() + 1);
        // Close the transaction by hand, then skip `Drop`: it would count this commit as a rollback.
        self.store.open.set(false);
        std::mem::forget(self);
        applied
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        self.store.rollbacks.set(self.store.rollbacks.get() + 1);
        self.store.open.set(false);
    }
}
// ANCHOR_END: fix
