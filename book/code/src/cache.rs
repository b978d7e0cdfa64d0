//! "Bounded caches": the same cache with and without a bound on its size.

use std::collections::{BTreeMap, VecDeque};

// ANCHOR: unbounded
/// Remembers every answer forever. Keys come from requests, so whoever sends the requests decides how
/// big this gets.
#[derive(Default)]
pub struct UnboundedCache {
    answers: BTreeMap<String, Vec<u8>>,
}

impl UnboundedCache {
    /// The answer for `key`, computed once and then remembered.
    pub fn get(&mut self, key: &str, compute: impl FnOnce() -> Vec<u8>) -> &[u8] {
        self.answers.entry(key.to_owned()).or_insert_with(compute)
    }
}
// ANCHOR_END: unbounded

// ANCHOR: bounded
/// Remembers at most `capacity` answers; inserting one more evicts the oldest.
pub struct BoundedCache {
    capacity: usize,
    answers: BTreeMap<String, Vec<u8>>,
    order: VecDeque<String>,
}

impl BoundedCache {
    /// A cache of at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        BoundedCache {
            capacity,
            answers: BTreeMap::new(),
            order: VecDeque::with_capacity(capacity + 1),
        }
    }

    /// The answer for `key`, computed and remembered if missing, evicting the oldest entry when full.
    pub fn get(&mut self, key: &str, compute: impl FnOnce() -> Vec<u8>) -> &[u8] {
        if !self.answers.contains_key(key) {
            if self.order.len() == self.capacity
                && let Some(oldest) = self.order.pop_front()
            {
                self.answers.remove(&oldest);
            }
            self.order.push_back(key.to_owned());
            self.answers.insert(key.to_owned(), compute());
        }
        &self.answers[key]
    }

    /// How many answers are remembered.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}
// ANCHOR_END: bounded
