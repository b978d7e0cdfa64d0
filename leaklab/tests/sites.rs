//! Reports that teach: allocation sites, cycles named as such, kinds of leak. Snapshots hold the text a
//! learner reads (no addresses, no timings; temporary paths are redacted).

use std::cell::RefCell;
use std::rc::Rc;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// A node of a list whose links are all strong: two of them in a ring never drop.
struct Node {
    _value: u64,
    next: Option<Rc<RefCell<Node>>>,
}

fn make_ring() {
    let first = Rc::new(RefCell::new(Node { _value: 1, next: None }));
    let second = Rc::new(RefCell::new(Node {
        _value: 2,
        next: Some(Rc::clone(&first)),
    }));
    first.borrow_mut().next = Some(second);
}

fn forget_a_buffer() {
    let buffer = vec![0u8; 48];
    std::mem::forget(buffer);
}

fn leak_a_c_buffer() {
    // SAFETY: a valid call; the block is deliberately never freed.
    let _ = unsafe { leaklab::leaklab_malloc(40) };
}

fn sited() -> leaklab::Region {
    leaklab::Region::new().sites(true)
}

#[test]
fn an_rc_cycle_is_named_with_its_members_sites() {
    let report = sited().run(make_ring);
    assert_eq!(report.cycles.len(), 1, "{report}");
    assert!(report.cycles[0].members.iter().all(|m| m.rc), "{report}");
    insta::assert_snapshot!(report.to_string());
}

#[test]
fn a_forgotten_buffer_is_forgotten_at_its_site() {
    let report = sited().run(forget_a_buffer);
    assert_eq!(report.groups.len(), 1, "{report}");
    assert_eq!(report.groups[0].kind, leaklab::LeakKind::Forgotten);
    insta::assert_snapshot!(report.to_string());
}

#[test]
fn a_c_allocation_is_reported_as_such() {
    let report = sited().run(leak_a_c_buffer);
    assert_eq!(report.groups[0].kind, leaklab::LeakKind::C, "{report}");
    insta::assert_snapshot!(report.to_string());
}

#[test]
fn an_open_file_is_listed_with_its_path() {
    if !leaklab::ledgers_available() {
        eprintln!("skipped: /proc/self is not available");
        return;
    }
    let path = std::env::temp_dir().join(format!("leaklab-sites-{}.log", std::process::id()));
    let mut kept = None;
    let report = sited()
        .track_fds()
        .run(|| kept = Some(std::fs::File::create(&path).unwrap()));
    drop(kept);
    std::fs::remove_file(&path).unwrap();
    insta::with_settings!({ filters => vec![(r"fd \d+ -> \S+", "fd [N] -> [temp file]")] }, {
        insta::assert_snapshot!(report.to_string());
    });
}

#[test]
fn sites_off_says_how_to_turn_them_on() {
    let report = leaklab::Region::new().sites(false).run(forget_a_buffer);
    assert!(report.groups.is_empty());
    assert!(report.to_string().contains("LEAKLAB_SITES=1"), "{report}");
}

#[test]
fn counting_is_exact_with_sites_on_through_realloc_alignment_and_other_threads() {
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(64);
    let mut sent = None;
    let report = sited().run(|| {
        for i in 0..40usize {
            let mut v = Vec::with_capacity(1);
            v.extend(std::iter::repeat_n(i as u8, i * 3)); // grows by realloc: sited blocks move
            kept.push(v);
        }
        let over_aligned = std::alloc::Layout::from_size_align(100, 4096).unwrap();
        // SAFETY: non-zero layout, freed once below with the same layout.
        unsafe {
            let p = std::alloc::alloc(over_aligned);
            let p = std::alloc::realloc(p, over_aligned, 5000);
            std::alloc::dealloc(p, std::alloc::Layout::from_size_align(5000, 4096).unwrap());
        }
        kept.drain(..20).for_each(drop);
        sent = Some(vec![7u64; 10]);
    });
    // 20 vectors kept (those with i >= 20, all non-empty) and `sent`; all blocks are grouped.
    let expected_blocks = 20 + 1;
    assert_eq!(report.leaked_blocks(), expected_blocks, "{report}");
    assert_eq!(
        report.groups.iter().map(|g| g.blocks).sum::<usize>(),
        expected_blocks,
        "{report}"
    );
    assert_eq!(
        report.groups.iter().map(|g| g.bytes).sum::<usize>(),
        report.leaked_bytes()
    );
    // Freed after the region, on another thread: the detached records must not be touched.
    let v = sent.take().unwrap();
    std::thread::spawn(move || drop(v)).join().unwrap();
    drop(kept);
}
