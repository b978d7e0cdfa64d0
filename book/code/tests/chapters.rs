//! Checks, under leaklab, that every snippet the book shows leaks or does not leak exactly as its chapter
//! says. Parts of this file are shown in the book too (the ANCHOR regions).

use book_examples::{cache, fd, guard, raii, weak, why};
use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// Held by the tests that open files, so that one test's files never show up in another's fd ledger.
static FILES: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A file to open, unique to this test process and test.
fn scratch_file(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("leaklab-book-{}-{name}", std::process::id()));
    std::fs::write(&path, b"hello").unwrap();
    path
}

// ANCHOR: check_forget
#[test]
fn forgetting_a_buffer_leaks_it() {
    let report = leaklab::check(why::forget_a_buffer);
    assert_eq!(report.leaked_blocks(), 1, "{report}");
    assert_eq!(report.leaked_bytes(), 1024, "{report}");
}
// ANCHOR_END: check_forget

#[test]
fn a_leaked_greeting_stays_allocated() {
    let report = leaklab::check(|| why::greeting("Ada").len());
    assert_eq!(report.leaked_blocks(), 1, "{report}");
    assert_eq!(report.leaked_bytes(), "hello, Ada".len(), "{report}");
}

#[test]
fn two_friends_keep_each_other_alive() {
    // Two `Rc` allocations and the two names they own.
    let report = leaklab::check(why::befriend);
    assert_eq!(report.leaked_blocks(), 4, "{report}");
}

#[test]
fn a_raw_descriptor_stays_open() {
    if !leaklab::ledgers_available() {
        eprintln!("skipped: no /proc here, so leaklab cannot list descriptors");
        return;
    }
    let _files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    let path = scratch_file("raw");
    let mut raw = None;
    let report = leaklab::Region::new()
        .track_fds()
        .run(|| raw = Some(why::open_descriptor(&path).unwrap()));
    assert_eq!(report.fds.len(), 1, "{report}");
    assert!(report.fds[0].path.ends_with("-raw"), "{report}");
    // SAFETY: `raw` is the descriptor `open_descriptor` opened and gave up; nothing else owns it.
    drop(unsafe { OwnedFd::from_raw_fd(raw.unwrap()) });
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_lease_goes_back_on_every_path() {
    let pool = raii::Pool::new(2);
    assert_eq!(raii::handle(&pool, b"GET /"), Ok(5));
    assert_eq!(raii::handle(&pool, b""), Err("empty request".into()));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _lease = pool.lease().unwrap();
        panic!("the handler crashed");
    }));
    assert!(panicked.is_err());
    assert_eq!(pool.idle(), 2, "every lease came back, also after the panic");
}

#[test]
fn a_forgotten_lease_leaks_its_connection() {
    // RAII works only if `Drop` runs: `mem::forget` on a lease loses its connection and its buffer.
    let report = leaklab::check(|| {
        let pool = raii::Pool::new(1);
        std::mem::forget(pool.lease());
        pool.idle()
    });
    assert_eq!(report.leaked_bytes(), 4096, "{report}");
}

#[test]
fn a_team_and_its_members_are_freed() {
    leaklab::assert_no_leaks!(|| {
        let team = weak::Team::new("platform");
        let ada = weak::Team::join(&team, "Ada");
        assert_eq!(ada.team().map(|t| t.name.clone()), Some("platform".into()));
        drop(team);
        assert!(ada.team().is_none(), "the team is gone once its last owner lets go");
    });
}

/// A registry with room reserved up front, so that only the entries themselves allocate in the region.
fn registry() -> guard::Registry {
    RefCell::new(HashMap::with_capacity(16))
}

#[test]
fn a_failed_login_leaves_nothing_behind() {
    let sessions = registry();
    let refuse = |_: &str| Err::<(), _>("wrong password".to_owned());
    let report = leaklab::check(|| guard::login(&sessions, 1, "mallory", refuse));
    assert!(report.is_clean(), "{report}");
    assert!(sessions.borrow().is_empty());
    guard::login(&sessions, 2, "ada", |_| Ok(())).unwrap();
    assert_eq!(sessions.borrow().get(&2).map(String::as_str), Some("ada"));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        guard::login(&sessions, 3, "bob", |_| panic!("the password service crashed"))
    }));
    assert!(panicked.is_err());
    assert_eq!(
        sessions.borrow().len(),
        1,
        "the guard also runs when `authorise` panics"
    );
}

#[test]
fn without_the_guard_a_failed_login_stays_registered() {
    let sessions = registry();
    let refuse = |_: &str| Err::<(), _>("wrong password".to_owned());
    let report = leaklab::check(|| guard::login_leaky(&sessions, 1, "mallory", refuse));
    // The user name copied into the map is still allocated: the registry grows with every failure.
    assert_eq!(report.leaked_blocks(), 1, "{report}");
    assert_eq!(report.leaked_bytes(), "mallory".len(), "{report}");
}

#[test]
fn an_adopted_descriptor_is_closed_on_drop() {
    if !leaklab::ledgers_available() {
        eprintln!("skipped: no /proc here, so leaklab cannot list descriptors");
        return;
    }
    let _files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    let path = scratch_file("adopt");
    let report = leaklab::Region::new().track_fds().run(|| {
        let raw = why::open_descriptor(&path).unwrap();
        // SAFETY: `raw` was just opened and given up by `open_descriptor`; nothing else owns it.
        let owned = unsafe { fd::adopt(raw) };
        assert_eq!(owned.as_raw_fd(), raw);
        assert_eq!(fd::read_owned(&owned).unwrap(), b"hello");
    });
    assert!(report.is_clean(), "{report}");
    std::fs::remove_file(path).unwrap();
}

/// Key number `i`: every request asks for a different key, as an attacker would.
fn key(i: usize) -> String {
    format!("user-{i}")
}

// ANCHOR: soak
#[test]
fn the_unbounded_cache_grows_with_every_new_key() {
    let mut cache = cache::UnboundedCache::default();
    let mut i = 0;
    let growth = leaklab::growth(2_000, || {
        i += 1;
        cache.get(&key(i), || vec![0u8; 32]).len()
    });
    assert!(growth.is_growing(), "{growth}");
}

#[test]
fn the_bounded_cache_levels_off() {
    let mut cache = cache::BoundedCache::new(100);
    let mut i = 0;
    let growth = leaklab::growth(2_000, || {
        i += 1;
        cache.get(&key(i), || vec![0u8; 32]).len()
    });
    assert!(!growth.is_growing(), "{growth}");
    assert_eq!(cache.len(), 100);
}
// ANCHOR_END: soak
