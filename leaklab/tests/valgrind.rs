//! leaklab under valgrind: every report carries memcheck's own count of the heap blocks the region kept, and
//! for a region whose thread is the only one allocating it is exactly leaklab's count. The test runs this
//! binary again under valgrind; it is skipped, with a message, when valgrind is not installed.

use leaklab::{HeapDelta, Region, Report};
use std::process::Command;

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

const CHILD: &str = "LEAKLAB_VALGRIND_CHILD";

/// The regions the child checks under valgrind, by label.
fn regions() {
    Region::new()
        .label("forgotten box")
        .run(|| std::mem::forget(Box::new([7u8; 48])));
    Region::new().label("clean").run(|| vec![1u64; 100].len());
    // SAFETY: a C block, deliberately never freed.
    Region::new()
        .label("C block")
        .run(|| unsafe { leaklab::leaklab_malloc(48) });
}

#[test]
fn natively_a_report_has_no_valgrind_count() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let report = leaklab::check(|| std::mem::forget(Box::new(1u8)));
    assert_eq!(report.valgrind, None);
}

#[test]
fn under_valgrind_a_report_carries_memchecks_count_of_the_blocks_kept() {
    if std::env::var_os(CHILD).is_some() {
        regions();
        return;
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("skipped: valgrind is not installed (Debian: apt-get install valgrind)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("leaklab-valgrind-test-{}", std::process::id()));
    let out = Command::new("valgrind")
        .args(["-q", "--leak-check=no", "--log-file=/dev/null"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "under_valgrind_a_report_carries_memchecks_count_of_the_blocks_kept",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env(leaklab::REPORT_DIR_ENV, &dir)
        .env("LEAKLAB_SITES", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let reports: Vec<Report> = std::fs::read_dir(&dir)
        .unwrap()
        .flat_map(|f| {
            std::fs::read_to_string(f.unwrap().path())
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|line| serde_json::from_str(&line).unwrap())
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    let count = |label: &str| {
        reports
            .iter()
            .find(|r| r.label == label)
            .unwrap_or_else(|| panic!("no report `{label}` in {reports:?}"))
            .valgrind
    };
    // valgrind sees the blocks leaklab asked the system for: 48 bytes and the 16-byte header.
    let header = leaklab::HEADER_BYTES as i64;
    assert_eq!(
        count("forgotten box"),
        Some(HeapDelta {
            blocks: 1,
            bytes: 48 + header
        })
    );
    assert_eq!(count("clean"), Some(HeapDelta { blocks: 0, bytes: 0 }));
    assert_eq!(count("C block").map(|d| d.blocks), Some(1));
}
