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
//! The tests say this cache grows without bound when someone sends links nobody sent before. Find out why and
//! fix it, without losing any hit the tests expect.

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
/// A cache of link previews, made with `fetch` when needed.
pub struct Previews<F> {
    fetch: F,
    entries: HashMap<String, String>,
    stats: Stats,
}

impl<F: FnMut(&str) -> String> Previews<F> {
    /// A cache for `capacity` previews (at least 1), which makes the ones it lacks with `fetch`.
    pub fn new(capacity: usize, fetch: F) -> Self {
        Previews {
            fetch,
            entries: HashMap::with_capacity(capacity),
            stats: Stats::default(),
        }
    }

    /// The preview of `url`: the cached one (a hit), or a new one from `fetch` (a miss), kept for next time.
    pub fn get(&mut self, url: &str) -> &str {
        if self.entries.contains_key(url) {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
            let preview = (self.fetch)(url);
            self.entries.insert(url.to_owned(), preview);
        }
        &self.entries[url]
    }
}
// ANCHOR_END: fix

impl<F> Previews<F> {
    /// How many requests were hits and how many were misses.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}
