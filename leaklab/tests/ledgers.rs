//! The file-descriptor and directory ledgers, and bad-free diagnostics. A binary of its own: every test
//! here that opens files does so under a ledger (or in `leaklab::exclusive`), so no parallel test opens
//! descriptors behind its back.

use std::process::Command;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("leaklab-ledger-{}-{name}", std::process::id()))
}

#[test]
fn a_file_left_open_is_reported_by_path() {
    if !leaklab::ledgers_available() {
        eprintln!("skipped: /proc/self is not available");
        return;
    }
    let path = scratch("open");
    let mut kept = None;
    let report = leaklab::Region::new()
        .track_fds()
        .run(|| kept = Some(std::fs::File::create(&path).unwrap()));
    assert_eq!(report.fds.len(), 1, "{report}");
    assert_eq!(report.fds[0].path, path.to_string_lossy());
    assert!(!report.is_clean());
    assert!(
        report
            .to_string()
            .contains(&format!("still open: fd {} -> {}", report.fds[0].fd, path.display())),
        "{report}"
    );
    drop(kept);
    let report = leaklab::Region::new().track_fds().run(|| std::fs::read(&path).unwrap());
    assert!(report.is_clean(), "{report}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn an_fd_closed_and_reopened_on_another_path_is_still_seen() {
    if !leaklab::ledgers_available() {
        return;
    }
    let (a, b) = (scratch("a"), scratch("b"));
    // The setup opens a file too, so it runs under the ledger (an outer tracked region) like the check.
    let mut inner = Vec::new();
    leaklab::Region::new().track_fds().run(|| {
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        let mut held = Some(std::fs::File::open(&a).unwrap());
        let mut replacement = None;
        // Same number of open fds before and after: a count would call this clean.
        let report = leaklab::Region::new().track_fds().run(|| {
            held = None;
            replacement = Some(std::fs::File::open(&b).unwrap());
        });
        inner = report.fds.iter().map(|f| f.path.clone()).collect();
    });
    assert_eq!(inner, [b.to_string_lossy()]);
    std::fs::remove_file(a).unwrap();
    std::fs::remove_file(b).unwrap();
}

#[test]
fn parallel_fd_regions_are_serialised_and_exact() {
    if !leaklab::ledgers_available() {
        return;
    }
    let reports: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let path = scratch(&format!("par{i}"));
                let mut kept = None;
                let report = leaklab::Region::new().track_fds().run(|| {
                    let file = std::fs::File::create(&path).unwrap();
                    if i % 2 == 1 {
                        kept = Some(file);
                    }
                });
                drop(kept);
                std::fs::remove_file(&path).unwrap();
                (i, path, report)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for (i, path, report) in reports {
        let paths: Vec<_> = report.fds.iter().map(|f| f.path.clone()).collect();
        if i % 2 == 1 {
            assert_eq!(paths, [path.to_string_lossy()], "region {i}: {report}");
        } else {
            assert!(report.is_clean(), "region {i}: {report}");
        }
    }
}

/// A fresh, empty scratch directory for one test (made under the ledger's lock).
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    leaklab::exclusive(|| {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
    });
    dir
}

#[test]
fn files_left_in_a_tracked_directory_are_reported_by_path_and_nothing_else_is() {
    let dir = scratch_dir("dir");
    let (kept, left, job) = (dir.join("kept.txt"), dir.join("left.tmp"), dir.join("job"));
    leaklab::exclusive(|| std::fs::write(&kept, "before").unwrap());
    let report = leaklab::Region::new().track_fds().track_dir(&dir).run(|| {
        std::fs::write(&kept, "rewritten: there before the region").unwrap();
        std::fs::write(dir.join("gone.tmp"), "removed again").unwrap();
        std::fs::remove_file(dir.join("gone.tmp")).unwrap();
        std::fs::write(&left, "half").unwrap();
        std::fs::create_dir_all(job.join("sub")).unwrap();
        std::fs::write(job.join("a"), "12").unwrap();
        std::fs::write(job.join("sub").join("b"), "345").unwrap();
    });
    assert!(!report.is_clean());
    let found: Vec<_> = report
        .files
        .iter()
        .map(|f| (f.path.clone(), f.dir, f.bytes, f.entries))
        .collect();
    assert_eq!(
        found,
        [
            (job.to_string_lossy().into_owned(), true, 5, 3),
            (left.to_string_lossy().into_owned(), false, 4, 0),
        ],
        "{report}"
    );
    let text = report.to_string();
    assert!(text.contains("leaked 2 files left on disk."), "{text}");
    assert!(
        text.contains(&format!("\n  still on disk: {} (4 bytes)", left.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\n  still on disk: {}/ (a directory: 3 entries, 5 bytes)",
            job.display()
        )),
        "{text}"
    );
    assert!(
        report.to_json().contains(r#""files":[{"path":"#),
        "{}",
        report.to_json()
    );

    // The same work, cleaned up, is clean.
    let report = leaklab::Region::new().track_dir(&dir).run(|| {
        std::fs::remove_file(&left).unwrap();
        std::fs::remove_dir_all(&job).unwrap();
        std::fs::write(dir.join("again.tmp"), "x").unwrap();
        std::fs::remove_file(dir.join("again.tmp")).unwrap();
    });
    assert!(report.is_clean(), "{report}");
    leaklab::exclusive(|| std::fs::remove_dir_all(&dir).unwrap());
}

#[test]
fn a_tracked_directory_that_does_not_exist_yet_reports_what_is_created_in_it() {
    let parent = scratch_dir("later");
    let dir = parent.join("made-in-the-region");
    let report = leaklab::Region::new().track_dir(&dir).run(|| {
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("x"), "1").unwrap();
    });
    // The directory itself is never reported, only what is under it.
    let paths: Vec<_> = report.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(paths, [dir.join("x").to_string_lossy()], "{report}");
    leaklab::exclusive(|| std::fs::remove_dir_all(&parent).unwrap());
}

#[test]
fn exclusive_keeps_tracked_regions_out_while_it_runs() {
    let dir = scratch_dir("exclusive");
    let (go_tx, go_rx) = std::sync::mpsc::channel();
    let setup = dir.join("setup.txt");
    let region = {
        let dir = dir.clone();
        std::thread::spawn(move || {
            go_rx.recv().unwrap();
            // Begins only once `exclusive` below has returned, so the setup file is there before it.
            leaklab::Region::new()
                .track_dir(&dir)
                .run(|| std::thread::sleep(std::time::Duration::from_millis(100)))
        })
    };
    leaklab::exclusive(|| {
        go_tx.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::fs::write(&setup, "made while the region waited").unwrap();
    });
    let report = region.join().unwrap();
    assert!(report.is_clean(), "{report}");
    leaklab::exclusive(|| std::fs::remove_dir_all(&dir).unwrap());
}

/// Runs the ignored test `name` of this binary in a child process and returns its stderr and status.
/// Spawning opens pipes, so it runs under the fd ledger like everything else in this binary.
fn run_child(name: &str) -> (String, std::process::ExitStatus) {
    let mut result = None;
    leaklab::Region::new().track_fds().run(|| {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--include-ignored", "--nocapture"])
            .env("LEAKLAB_CHILD", "1")
            .output()
            .unwrap();
        result = Some((String::from_utf8_lossy(&out.stderr).into_owned(), out.status));
    });
    result.unwrap()
}

#[test]
#[ignore = "run by double_free_of_a_c_block_aborts_with_a_clear_message in a child process"]
fn child_double_free() {
    if std::env::var_os("LEAKLAB_CHILD").is_none() {
        return;
    }
    // SAFETY: deliberately wrong: the block is freed twice, which leaklab must catch and abort on.
    unsafe {
        let p = leaklab::leaklab_malloc(48);
        leaklab::leaklab_free(p);
        leaklab::leaklab_free(p);
    }
}

/// Hands `leaklab_free` a pointer into a 16-byte aligned stack buffer, `bytes` past its start, and must not
/// return: leaklab aborts. (In the parent process it does nothing.)
fn free_a_stack_pointer(bytes: usize) {
    /// 16-byte aligned, like a leaklab block.
    #[repr(C, align(16))]
    struct Aligned([u8; 64]);
    if std::env::var_os("LEAKLAB_CHILD").is_none() {
        return;
    }
    let mut on_stack = Aligned([0; 64]);
    // SAFETY: deliberately wrong: a stack pointer is not a leaklab block; leaklab must abort.
    unsafe { leaklab::leaklab_free(on_stack.0.as_mut_ptr().add(bytes).cast()) };
}

#[test]
#[ignore = "run by a_foreign_pointer_aborts_with_a_clear_message in a child process"]
fn child_foreign_free() {
    free_a_stack_pointer(32); // aligned like a leaklab block: the guard check has to tell
}

#[test]
#[ignore = "run by a_foreign_pointer_aborts_with_a_clear_message in a child process"]
fn child_misaligned_free() {
    free_a_stack_pointer(40); // 8 bytes off 16-byte alignment: no allocator returns it
}

#[test]
fn double_free_of_a_c_block_aborts_with_a_clear_message() {
    let (stderr, status) = run_child("child_double_free");
    assert!(!status.success());
    assert!(
        stderr.contains("leaklab: double free of a 48-byte block (leaklab_free)"),
        "{stderr}"
    );
}

#[test]
fn a_foreign_pointer_aborts_with_a_clear_message() {
    for child in ["child_foreign_free", "child_misaligned_free"] {
        let (stderr, status) = run_child(child);
        assert!(!status.success(), "{child}");
        assert!(
            stderr.contains("leaklab_free was given a pointer not allocated by leaklab"),
            "{child}: {stderr}"
        );
    }
}
