//! The thread ledger, alone in its binary, in one test: any other test starting threads at the same time
//! (libtest starts a thread per test) would be (rightly) seen by it.

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

#[test]
fn a_thread_left_running_is_reported_by_name_and_a_joined_one_is_not() {
    if !leaklab::ledgers_available() {
        return;
    }
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let mut handle = None;
    let report = leaklab::Region::new().track_threads().run(|| {
        let worker = std::thread::Builder::new().name("stuck-worker".into()).spawn(move || {
            started_tx.send(()).unwrap();
            stop_rx.recv()
        });
        // A new thread shows its parent's name until it has started and named itself.
        started_rx.recv().unwrap();
        handle = Some(worker.unwrap());
    });
    assert_eq!(report.threads.len(), 1, "{report}");
    assert_eq!(report.threads[0].name, "stuck-worker");
    assert!(
        report.to_string().contains("still running: thread stuck-worker"),
        "{report}"
    );
    drop(stop_tx);
    handle.unwrap().join().unwrap().unwrap_err();
    let report = leaklab::Region::new()
        .track_threads()
        .run(|| std::thread::spawn(|| 2 + 2).join().unwrap());
    assert!(report.is_clean(), "{report}");

    a_thread_that_renames_itself_during_a_region_is_not_new();
}

/// std names a spawned thread from inside it, a moment after it starts, so a thread started just before a
/// region may take its name while the region runs. It was running before: no leak. (Once reported as a
/// second `worker-0` by spec 20, one run in a few.) The rename is done by hand here, through `comm`.
fn a_thread_that_renames_itself_during_a_region_is_not_new() {
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (renamed_tx, renamed_rx) = std::sync::mpsc::channel::<()>();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let early = std::thread::Builder::new()
        .name("early".into())
        .spawn(move || {
            go_rx.recv().unwrap();
            std::fs::write("/proc/thread-self/comm", "renamed").unwrap();
            renamed_tx.send(()).unwrap();
            stop_rx.recv()
        })
        .unwrap();
    let report = leaklab::Region::new().track_threads().run(|| {
        go_tx.send(()).unwrap();
        renamed_rx.recv().unwrap();
    });
    // (The channels allocate on first use, so only the thread ledger is asked here.)
    assert!(
        report.threads.is_empty(),
        "a thread started before the region was reported:\n{report}"
    );
    drop(stop_tx);
    early.join().unwrap().unwrap_err();
}
