//! Spec for exercise 21, unbounded-cache: the cache answers like a least-recently-used cache should, and an
//! attacker sending links nobody sent before cannot make it grow.
//!
//! Compiled into both `exercises/21-unbounded-cache` and `solutions/21-unbounded-cache` through their
//! `tests/spec.rs`, which names the crate under test `subject`.
//!
//! A cache is meant to keep memory, so a leak check around one request would always find some. What must not
//! happen is *growth*: after warm-up, memory per request must be flat however many requests come, so these
//! checks use [`leaklab::growth`]. The model of hits is a lower bound rather than an exact LRU: a request for a
//! link among the `capacity` most recently used must be a hit, and a link never seen before must be a miss;
//! anything else may be either. A cache that keeps everything satisfies it; so does a correct bounded one.

use leaklab::{Growth, Region};
use proptest::prelude::*;
use std::cell::Cell;
use std::fmt;
use subject::{Previews, Stats};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// The capacity of the cache in the property test: small, so that eviction happens all the time.
const CAPACITY: usize = 4;

/// Requests in the attack test.
const ATTACK_REQUESTS: usize = 40_000;

/// Times each case's requests are sent again to measure growth (the first fifth is warm-up). Many, so that a
/// bounded cache whose size goes up and down in a cycle (one that is emptied whenever it is full, say) fits
/// a flat line and fails the model's check instead, which says what is wrong with it.
const PASSES: usize = 200;

/// One request for a preview.
#[derive(Clone, Copy)]
enum Request {
    /// One of a few links that users share again and again.
    Known(u8),
    /// A link nobody sent before: every `fresh` request is a new one.
    Fresh,
}

/// Short: `link 3`, `fresh`.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Known(k) => write!(f, "link {k}"),
            Request::Fresh => write!(f, "fresh"),
        }
    }
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![3 => (0..8u8).prop_map(Request::Known), 1 => Just(Request::Fresh)]
}

/// Makes the URLs of requests: the same URL for a known link every time, a new one for every fresh request.
/// All URLs of one kind have the same length, so a bounded cache has the same size whichever links it holds.
#[derive(Default)]
struct Links {
    fresh: u64,
}

impl Links {
    fn url(&mut self, request: Request) -> String {
        match request {
            Request::Known(k) => format!("https://chat.example/shared/{k}"),
            Request::Fresh => {
                self.fresh += 1;
                format!("https://attacker.example/?n={:08}", self.fresh)
            }
        }
    }
}

/// What the spec's `fetch` makes for a URL.
fn preview_of(url: &str) -> String {
    format!("preview of {url}")
}

/// The model: which URLs a cache of `capacity` must hold (the most recently used) and which it has ever seen.
struct Model {
    capacity: usize,
    /// Distinct URLs, least recently used first.
    recent: Vec<String>,
}

impl Model {
    /// Whether a request for `url` must be a hit (`Some(true)`), must be a miss (`Some(false)`), or may be
    /// either; then records the request.
    fn request(&mut self, url: &str) -> Option<bool> {
        let position = self.recent.iter().position(|u| u == url);
        let must = match position {
            None => Some(false),
            Some(i) if i + self.capacity >= self.recent.len() => Some(true),
            Some(_) => None,
        };
        if let Some(i) = position {
            self.recent.remove(i);
        }
        self.recent.push(url.to_owned());
        must
    }
}

/// Sends `requests` to a cache of `CAPACITY` and checks every answer, hit or miss, and the stats against the
/// model. The first difference is the error.
fn check_answers(requests: &[Request]) -> Result<(), String> {
    let fetches = Cell::new(0u64);
    let mut cache = Previews::new(CAPACITY, |url: &str| {
        fetches.set(fetches.get() + 1);
        preview_of(url)
    });
    let mut model = Model {
        capacity: CAPACITY,
        recent: Vec::new(),
    };
    let (mut links, mut hits) = (Links::default(), 0);
    for (i, &request) in requests.iter().enumerate() {
        let url = links.url(request);
        let fetched_before = fetches.get();
        let preview = cache.get(&url).to_owned();
        let fetched = fetches.get() - fetched_before;
        let must = model.request(&url);
        let hit = fetched == 0;
        hits += u64::from(hit);
        if preview != preview_of(&url) || fetched > 1 || must.is_some_and(|must| must != hit) {
            let expected = match must {
                Some(true) => "a hit: it is among the most recently used",
                Some(false) => "a miss: nobody asked for it before",
                None => "its preview, fetched at most once",
            };
            return Err(format!(
                "request {i} ({request:?}, {url}) returned {preview:?} after {fetched} fetches; expected {expected}"
            ));
        }
    }
    let want = Stats {
        hits,
        misses: requests.len() as u64 - hits,
    };
    if cache.stats() != want {
        return Err(format!("the stats are {:?}, expected {want:?}", cache.stats()));
    }
    Ok(())
}

/// The failure message for a cache that grows: what each request costs, then leaklab's report.
fn grows(growth: &Growth, what: &str, plot: Option<String>) -> String {
    let mut message = format!(
        "the cache keeps {:.1} bytes ({:.2} blocks) more after every {what}\n{growth}",
        growth.bytes_per_iteration(),
        growth.blocks_per_iteration(),
    );
    if let Some(plot) = plot {
        message.push_str(&format!("\n  plot: {plot}"));
    }
    message
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Hits and misses follow the model, and sending the same mix of requests again and again (with new
    /// fresh links each time) does not grow the cache.
    #[test]
    fn hits_follow_the_model_and_new_links_do_not_grow_the_cache(
        requests in prop::collection::vec(request(), 1..16),
    ) {
        // Behaviour first, outside any region: a wrong answer is not a leak.
        check_answers(&requests).map_err(TestCaseError::fail)?;
        let mut cache = Previews::new(CAPACITY, preview_of);
        let mut links = Links::default();
        let growth = Region::new().label("sending the requests again").growth(PASSES, || {
            for &request in &requests {
                cache.get(&links.url(request));
            }
        });
        if growth.is_growing() {
            let shrunk = "\n  `requests` below is the shortest list that still makes the cache grow";
            return Err(TestCaseError::fail(grows(&growth, "pass over the requests below", None) + shrunk));
        }
    }
}

/// The attack: 40,000 requests to a cache of 64 previews, three in four for a link nobody sent before, one in
/// four for the link everybody shares. The shared link stays a hit throughout, and memory stays flat. The plot
/// of the run is written to `target/leaklab/growth/<package>.svg`.
///
/// Why so many: a bounded cache's hash table can still double once, at a random moment well after it is
/// full (when deleted entries have used up its spare room), and a step like that looks like growth to a
/// short run. Over 40,000 requests, with the first 8,000 as warm-up, even the largest such step of a cache of
/// 64 stays under leaklab's threshold, while a cache that keeps every link grows by a hundred bytes a request.
#[test]
fn an_attacker_sending_new_links_cannot_grow_the_cache() {
    let mut cache = Previews::new(64, preview_of);
    let mut links = Links::default();
    let popular = Request::Known(0);
    cache.get(&links.url(popular));
    let (mut sent, mut popular_misses) = (0, 0);
    let growth = Region::new().label("one request").growth(ATTACK_REQUESTS, || {
        sent += 1;
        if sent % 4 == 0 {
            let before = cache.stats().misses;
            cache.get(&links.url(popular));
            popular_misses += cache.stats().misses - before;
        } else {
            cache.get(&links.url(Request::Fresh));
        }
    });
    assert_eq!(
        popular_misses, 0,
        "the shared link must stay cached: it is used every fourth request"
    );
    let plot = growth
        .save_svg(env!("CARGO_PKG_NAME"))
        .map(|path| path.display().to_string())
        .ok();
    assert!(!growth.is_growing(), "{}", grows(&growth, "request", plot));
}
