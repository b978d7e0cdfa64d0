//! The thread ledger, alone in its binary: any other test starting threads at the same time would be
//! (rightly) seen by it.

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
}
