//! Growth measurements: per-call leaks are measured exactly, one-time initialisation is not growth, and
//! other threads' activity does not change the verdict.

use leaklab::RegionHandle;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

#[test]
fn a_64_byte_per_call_leak_measures_64_bytes_per_iteration() {
    let mut kept: Vec<Box<[u8; 64]>> = Vec::with_capacity(1000);
    let g = leaklab::growth(1000, || kept.push(Box::new([1; 64])));
    assert!(g.is_growing(), "{g}");
    assert!((g.bytes_per_iteration() - 64.0).abs() <= 1.0, "{g}");
    assert!((g.blocks_per_iteration() - 1.0).abs() <= 0.02, "{g}");
    assert!(g.to_string().contains("grows: 64.0 bytes"), "{g}");
}

#[test]
fn one_time_initialisation_without_a_per_call_leak_measures_zero() {
    static TABLE: OnceLock<Vec<u64>> = OnceLock::new();
    let g = leaklab::growth(500, || TABLE.get_or_init(|| (0..1000).collect()).iter().sum::<u64>());
    assert_eq!(g.bytes_per_iteration(), 0.0, "{g}");
    assert_eq!(g.blocks_per_iteration(), 0.0, "{g}");
    assert!(!g.is_growing(), "{g}");
    assert!(
        g.bytes.last().copied().unwrap() >= 8000,
        "the table itself was allocated in the region"
    );
}

#[test]
fn frees_on_a_busy_other_thread_do_not_change_the_verdict() {
    // Bounded, so the backlog (and with it the late frees) fluctuates without a trend; an unbounded queue
    // behind a slow consumer really does grow, and leaklab rightly says so.
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(8);
    let worker = std::thread::spawn(move || {
        let mut noise = Vec::new();
        for (i, v) in rx.into_iter().enumerate() {
            noise.push(vec![0u8; 100]); // the worker's own churn, never attributed to the region
            if i % 7 == 0 {
                std::thread::sleep(Duration::from_micros(50));
                noise.clear();
            }
            drop(v);
        }
    });
    tx.send(Vec::new()).unwrap(); // warm-up of the channel outside the region
    let g = leaklab::growth(2000, || tx.send(vec![7u8; 256]).unwrap());
    drop(tx);
    worker.join().unwrap();
    assert!(!g.is_growing(), "{g}");
    assert!(g.bytes_per_iteration().abs() < 0.5, "{g}");
}

/// A server thread that keeps one `String` per request. Returns the growth measured over `requests`
/// requests, with the server attributing its allocations to the region when `enter` is true.
fn serve(requests: usize, enter: bool) -> leaklab::Growth {
    serve_in(leaklab::Region::new(), requests, enter)
}

/// [`serve`], measured by `region`.
fn serve_in(region: leaklab::Region, requests: usize, enter: bool) -> leaklab::Growth {
    let (tx, rx) = mpsc::channel::<u32>();
    let (ack_tx, ack_rx) = mpsc::channel::<()>();
    let mut channels = Some((rx, ack_tx));
    let mut server = None;
    let g = region.growth(requests, || {
        // The server starts in the first (warm-up) iteration, so its own setup does not count.
        if let Some((rx, ack_tx)) = channels.take() {
            let region = RegionHandle::current().expect("inside growth's region");
            server = Some(std::thread::spawn(move || {
                let _entered = enter.then(|| region.enter());
                let mut sessions = Vec::new();
                for id in rx {
                    sessions.push(format!("session {id:08}"));
                    ack_tx.send(()).unwrap();
                }
                sessions.len()
            }));
        }
        tx.send(7).unwrap();
        ack_rx.recv().unwrap();
    });
    drop(tx);
    assert_eq!(server.unwrap().join().unwrap(), requests);
    g
}

#[test]
fn a_server_thread_that_enters_the_region_has_its_per_request_leak_measured() {
    let g = serve(600, true);
    assert!(g.is_growing(), "{g}");
    assert!(
        (g.blocks_per_iteration() - 1.0).abs() < 0.05,
        "one String per request: {g}"
    );
}

#[test]
fn a_server_thread_that_does_not_enter_is_not_attributed() {
    let g = serve(600, false);
    assert!(!g.is_growing(), "{g}");
}

#[test]
fn the_growth_plot_is_an_svg_with_the_series() {
    let mut kept = Vec::new();
    let g = leaklab::growth(100, || kept.push(vec![0u8; 32]));
    let dir = std::env::temp_dir().join(format!("leaklab-plot-{}", std::process::id()));
    let path = dir.join("leaky.svg");
    g.write_svg(&path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.contains("<polyline"), "the line series is drawn");
    assert!(svg.contains("bytes/iteration"), "the caption names the rate");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn with_sites_on_a_growth_names_where_the_kept_blocks_were_allocated() {
    let mut kept: Vec<Box<[u8; 64]>> = Vec::with_capacity(300);
    let g = leaklab::Region::new()
        .sites(true)
        .growth(300, || kept.push(Box::new([1; 64])));
    // Only blocks allocated after the warm-up (the first 60 calls) are listed: what the calls keep.
    assert_eq!(g.sites.len(), 1, "{g}");
    let group = &g.sites[0];
    assert_eq!(
        (group.kind, group.blocks, group.bytes),
        (leaklab::LeakKind::Growth, 240, 240 * 64)
    );
    let site = group.site.as_ref().expect("a site in this file");
    assert_eq!(site.file, "tests/growth.rs", "{g}");
    assert!(site.function.contains("with_sites_on_a_growth"), "{g}");
    let text = g.to_string();
    assert!(
        text.contains("kept since the warm-up, by where it was allocated:"),
        "{text}"
    );
    assert!(
        text.contains("240 blocks, 15360 bytes: kept by the calls, allocated at tests/growth.rs:"),
        "{text}"
    );
}

#[test]
fn a_server_thread_that_enters_the_region_records_sites_too() {
    let g = serve_in(leaklab::Region::new().sites(true), 300, true);
    assert!(g.is_growing(), "{g}");
    let sessions = g
        .sites
        .iter()
        .find(|group| group.site.as_ref().is_some_and(|s| s.function.contains("serve_in")))
        .unwrap_or_else(|| panic!("the server thread's Strings are listed with their site: {g}"));
    assert_eq!(sessions.blocks, 240, "one String per request after the warm-up: {g}");
    // The `Vec<String>` holding them starts with two small numbers, like an `Rc`'s counts; it is not one.
    assert!(g.sites.iter().all(|group| !group.rc), "{g}");
}
