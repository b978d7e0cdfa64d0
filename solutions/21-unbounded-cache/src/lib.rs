//! Link previews for a chat service, with a cache.
//!
//! When a message contains a link, the chat shows a preview of the page: its title and a picture. Making one
//! means fetching the page, which is slow, so [`Previews`] keeps the previews it has made. [`Previews::get`]
//! answers from the cache when it can (a hit) and asks its `fetch` function otherwise (a miss).
//!
//! The links come from the users: anyone can send any link, as many as they like. The service was given
//! memory for `capacity` previews, and the links people actually share must stay cached: the `capacity` most
//! recently used links are always hits.
//!
//! This is the fixed version: the cache holds at most `capacity` previews, and makes room for a new one by
//! dropping the least recently used.

use std::collections::HashMap;

/// How the cache has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests that needed a fetch.
    pub misses: u64,
}

// ANCHOR: fix
/// A cached preview, and when it was last used.
struct Entry {
    preview: String,
    /// The value of the cache's `clock` at the last request for this link.
    last_used: u64,
}

/// A cache of link previews, made with `fetch` when needed.
pub struct Previews<F> {
    fetch: F,
    capacity: usize,
    entries: HashMap<String, Entry>,
    /// Counts requests: a larger value is a more recent request.
    clock: u64,
    stats: Stats,
}

impl<F: FnMut(&str) -> String> Previews<F> {
    /// A cache for `capacity` previews (at least 1), which makes the ones it lacks with `fetch`.
    pub fn new(capacity: usize, fetch: F) -> Self {
        Previews {
            fetch,
            capacity,
            entries: HashMap::with_capacity(capacity),
            clock: 0,
            stats: Stats::default(),
        }
    }

    /// The preview of `url`: the cached one (a hit), or a new one from `fetch` (a miss), kept for next time.
    /// When the cache is full, the preview used longest ago makes room for the new one.
    pub fn get(&mut self, url: &str) -> &str {
        self.clock += 1;
        if let Some(entry) = self.entries.get_mut(url) {
            self.stats.hits += 1;
            entry.last_used = self.clock;
        } else {
            self.stats.misses += 1;
            if self.entries.len() >= self.capacity {
                // Looking at every entry costs `capacity` steps per miss; the `lru` crate does it in one.
                let oldest = self.entries.iter().min_by_key(|(_, entry)| entry.last_used);
                if let Some(oldest) = oldest.map(|(url, _)| url.clone()) {
                    self.entries.remove(&oldest);
                }
            }
            let preview = (self.fetch)(url);
            let last_used = self.clock;
            self.entries.insert(url.to_owned(), Entry { preview, last_used });
        }
        &self.entries[url].preview
    }
}
// ANCHOR_END: fix

impl<F> Previews<F> {
    /// How many requests were hits and how many were misses.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}
