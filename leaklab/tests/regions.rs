//! leaklab's counting, checked against models: random layouts, threads, nesting, settling, C blocks.

use leaklab::{LeakLab, Report};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;

#[global_allocator]
static GLOBAL: LeakLab = LeakLab::new();

/// A raw block, freed explicitly (never by Drop) so the tests control exactly when.
#[derive(Debug)]
struct Block {
    ptr: usize,
    layout: Layout,
}

// SAFETY (for every helper below): blocks are created by `alloc`, resized by `resize`, and freed once by
// `free`; the layouts passed back are the ones they were allocated with.
fn alloc(layout: Layout) -> Block {
    // SAFETY: leaklab accepts any valid layout, including size zero (documented in its alloc module).
    let ptr = unsafe { GLOBAL.alloc(layout) };
    assert!(!ptr.is_null(), "allocation of {layout:?} failed");
    assert_eq!(ptr as usize % layout.align(), 0, "misaligned block for {layout:?}");
    // SAFETY: `ptr` is valid for `layout.size()` bytes.
    unsafe { ptr.write_bytes(0xA5, layout.size()) };
    Block {
        ptr: ptr as usize,
        layout,
    }
}

fn resize(block: &mut Block, new_size: usize) {
    let keep = block.layout.size().min(new_size);
    // SAFETY: `block` is live and was allocated by GLOBAL with `block.layout`.
    let ptr = unsafe { GLOBAL.realloc(block.ptr as *mut u8, block.layout, new_size) };
    assert!(!ptr.is_null());
    assert_eq!(ptr as usize % block.layout.align(), 0, "realloc broke alignment");
    // SAFETY: the first `keep` bytes were copied by realloc.
    let kept = unsafe { std::slice::from_raw_parts(ptr, keep) };
    assert!(kept.iter().all(|&b| b == 0xA5), "realloc lost data");
    // SAFETY: the block is now `new_size` bytes long.
    unsafe { ptr.write_bytes(0xA5, new_size) };
    block.ptr = ptr as usize;
    block.layout = Layout::from_size_align(new_size, block.layout.align()).unwrap();
}

fn free(block: Block) {
    // SAFETY: see above.
    unsafe { GLOBAL.dealloc(block.ptr as *mut u8, block.layout) };
}

#[derive(Clone, Debug)]
enum Op {
    Alloc {
        size: usize,
        align_log2: u32,
    },
    Realloc {
        index: usize,
        size: usize,
    },
    Free {
        index: usize,
    },
    /// Free on a thread spawned for the purpose.
    FreeOnAnotherThread {
        index: usize,
    },
    /// Free a block that was allocated before the region began.
    FreeOlder {
        index: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let size = prop_oneof![0usize..64, 64usize..4096, 4096usize..65536];
    prop_oneof![
        3 => (size.clone(), 0u32..=12).prop_map(|(size, align_log2)| Op::Alloc { size, align_log2 }),
        2 => (any::<usize>(), size).prop_map(|(index, size)| Op::Realloc { index, size }),
        2 => any::<usize>().prop_map(|index| Op::Free { index }),
        1 => any::<usize>().prop_map(|index| Op::FreeOnAnotherThread { index }),
        1 => any::<usize>().prop_map(|index| Op::FreeOlder { index }),
    ]
}

/// Runs `ops` in a region; returns the report and the model's expectation (blocks, bytes).
/// Blocks left live by `ops` are freed after the report is taken.
fn run_in_region(ops: &[Op]) -> (Report, usize, usize) {
    let mut older: Vec<Block> = (0..4)
        .map(|i| alloc(Layout::from_size_align(24 * (i + 1), 8).unwrap()))
        .collect();
    let mut live: Vec<Block> = Vec::with_capacity(ops.len());
    let report = leaklab::check(|| {
        for op in ops {
            match *op {
                Op::Alloc { size, align_log2 } => {
                    live.push(alloc(Layout::from_size_align(size, 1 << align_log2).unwrap()))
                }
                Op::Realloc { index, size } if !live.is_empty() => {
                    let n = live.len();
                    resize(&mut live[index % n], size)
                }
                Op::Free { index } if !live.is_empty() => free(live.swap_remove(index % live.len())),
                Op::FreeOnAnotherThread { index } if !live.is_empty() => {
                    let block = live.swap_remove(index % live.len());
                    thread::scope(|s| {
                        s.spawn(move || free(block));
                    });
                }
                Op::FreeOlder { index } if !older.is_empty() => free(older.swap_remove(index % older.len())),
                _ => {}
            }
        }
    });
    let expected = (live.len(), live.iter().map(|b| b.layout.size()).sum());
    live.into_iter().chain(older).for_each(free);
    (report, expected.0, expected.1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Four threads run random sequences at once, each in its own region; each region's counts match
    /// its own model exactly.
    #[test]
    fn concurrent_regions_count_exactly(programs in prop::collection::vec(prop::collection::vec(op(), 0..24), 4)) {
        let barrier = Arc::new(Barrier::new(programs.len()));
        let results: Vec<(Report, usize, usize)> = thread::scope(|s| {
            let handles: Vec<_> = programs
                .iter()
                .map(|ops| {
                    let barrier = Arc::clone(&barrier);
                    s.spawn(move || {
                        barrier.wait();
                        run_in_region(ops)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (thread, (report, blocks, bytes)) in results.iter().enumerate() {
            prop_assert_eq!(report.leaked_blocks(), *blocks, "thread {}: {}", thread, report);
            prop_assert_eq!(report.leaked_bytes(), *bytes, "thread {}: {}", thread, report);
            prop_assert_eq!(report.is_clean(), *blocks == 0);
        }
    }
}

#[test]
fn a_forgotten_box_is_one_block_of_its_size() {
    let report = leaklab::check(|| std::mem::forget(Box::new([7u8; 48])));
    assert_eq!((report.leaked_blocks(), report.leaked_bytes()), (1, 48), "{report}");
    assert!(!report.is_clean());
    let text = report.to_string();
    assert!(text.contains("leaked 1 block (48 bytes)"), "{text}");
}

#[test]
fn a_clean_region_is_clean() {
    let report = leaklab::check(|| (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
    assert!(report.is_clean(), "{report}");
    assert_eq!((report.leaked_blocks(), report.leaked_bytes()), (0, 0));
}

#[test]
fn blocks_sent_to_another_thread_and_freed_there_are_not_leaks() {
    let (tx, rx) = mpsc::channel::<Vec<u64>>();
    let consumer = thread::spawn(move || rx.into_iter().map(|v| v.len()).sum::<usize>());
    tx.send(vec![0]).unwrap(); // warm-up: the channel allocates its first buffer outside the region
    let report = leaklab::check(|| {
        for i in 0..20 {
            tx.send(vec![i; 100]).unwrap();
        }
    });
    drop(tx);
    assert_eq!(consumer.join().unwrap(), 2001);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn blocks_kept_by_another_thread_are_leaks_of_the_region_that_allocated_them() {
    let (tx, rx) = mpsc::channel::<Box<[u8; 100]>>();
    tx.send(Box::new([0; 100])).unwrap();
    let keeper = thread::spawn(move || rx.into_iter().collect::<Vec<_>>());
    let report = leaklab::check(|| tx.send(Box::new([1; 100])).unwrap());
    drop(tx);
    let kept = keeper.join().unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!((report.leaked_blocks(), report.leaked_bytes()), (1, 100), "{report}");
}

#[test]
fn eight_parallel_regions_half_leaking_see_only_their_own_blocks() {
    let barrier = Arc::new(Barrier::new(8));
    let reports: Vec<Report> = (0..8)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                leaklab::check(|| {
                    let mut churn = Vec::new();
                    for j in 0..2000 {
                        churn.push(vec![j as u8; (j % 64) + i]);
                        if churn.len() > 16 {
                            churn.remove(0);
                        }
                    }
                    if i % 2 == 1 {
                        std::mem::forget(vec![0u8; 1000 + i]);
                    }
                })
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for (i, report) in reports.iter().enumerate() {
        if i % 2 == 1 {
            assert_eq!(
                (report.leaked_blocks(), report.leaked_bytes()),
                (1, 1000 + i),
                "region {i}: {report}"
            );
        } else {
            assert!(report.is_clean(), "region {i}: {report}");
        }
    }
}

#[test]
fn freeing_older_blocks_inside_a_region_does_not_disturb_it() {
    let older: Vec<Box<[u8; 64]>> = (0..10).map(|_| Box::new([0; 64])).collect();
    let report = leaklab::check(|| {
        drop(older);
        std::mem::forget(Box::new(1u32));
    });
    assert_eq!((report.leaked_blocks(), report.leaked_bytes()), (1, 4), "{report}");
}

#[test]
fn growing_an_older_vec_inside_a_region_is_not_a_leak_of_the_region() {
    let mut older: Vec<u64> = Vec::with_capacity(1);
    let report = leaklab::check(|| older.extend(0..1000));
    assert!(report.is_clean(), "{report}");
    assert_eq!(older.len(), 1000);
}

#[test]
fn a_block_allocated_in_a_region_and_grown_after_it_is_still_attributed_to_it() {
    let mut kept = None;
    let report = leaklab::check(|| kept = Some(Vec::<u8>::with_capacity(8)));
    assert_eq!(report.leaked_bytes(), 8, "{report}");
    let mut v = kept.take().unwrap();
    v.extend(0..100u8);
    drop(v);
}

#[test]
fn nested_regions_report_inner_leaks_in_the_outer_region_too() {
    let mut inner = (0, 0);
    let outer = leaklab::check(|| {
        std::mem::forget(Box::new([0u8; 10]));
        let report = leaklab::Region::new()
            .label("inner")
            .run(|| std::mem::forget(Box::new([0u8; 20])));
        inner = (report.leaked_blocks(), report.leaked_bytes());
        // A block allocated in the inner region and freed in the outer one is not a leak of either.
        let mut moved = None;
        let clean_inner = leaklab::check(|| moved = Some(Box::new([0u8; 30])));
        assert_eq!(clean_inner.leaked_bytes(), 30);
        drop(moved);
    });
    assert_eq!(inner, (1, 20));
    // The outer region leaked its own 10 bytes and the inner 20; the reports it created were dropped in it.
    assert_eq!((outer.leaked_blocks(), outer.leaked_bytes()), (2, 30), "{outer}");
}

#[test]
fn a_region_survives_a_panic_in_its_closure() {
    let caught = std::panic::catch_unwind(|| leaklab::check(|| panic!("boom")));
    assert!(caught.is_err());
    let report = leaklab::check(|| std::mem::forget(Box::new(5u8)));
    assert_eq!(report.leaked_blocks(), 1, "{report}");
}

#[test]
fn zero_sized_over_aligned_and_large_layouts_are_honoured() {
    let report = leaklab::check(|| {
        for (size, align) in [(0, 1), (0, 4096), (1, 8192), (3, 4096), (1 << 20, 64), (17, 32)] {
            let layout = Layout::from_size_align(size, align).unwrap();
            let mut block = alloc(layout);
            resize(&mut block, size * 2 + 5);
            resize(&mut block, size / 2);
            free(block);
        }
    });
    assert!(report.is_clean(), "{report}");
}

#[test]
fn an_impossible_layout_returns_null_instead_of_panicking() {
    let layout = Layout::from_size_align(isize::MAX as usize / 4096 * 4096 - 4096, 4096).unwrap();
    // SAFETY: a valid layout; a null result is expected and not used.
    let ptr = unsafe { GLOBAL.alloc(layout) };
    assert!(ptr.is_null());
}

#[test]
fn c_blocks_are_counted_and_marked() {
    let report = leaklab::check(|| {
        // SAFETY: the pointers come from leaklab's C entry points and are freed at most once.
        unsafe {
            let kept = leaklab::leaklab_malloc(48);
            assert!(!kept.is_null());
            let zeroed = leaklab::leaklab_calloc(4, 8).cast::<u64>();
            assert_eq!(*zeroed.add(3), 0);
            let grown = leaklab::leaklab_realloc(zeroed.cast(), 4096);
            leaklab::leaklab_free(grown);
            leaklab::leaklab_free(std::ptr::null_mut());
            let _ = kept;
        }
    });
    assert_eq!((report.leaked_blocks(), report.leaked_bytes()), (1, 48), "{report}");
    assert_eq!((report.c_blocks, report.c_bytes), (1, 48));
    assert!(
        report
            .to_string()
            .contains("allocated by C (leaklab_malloc): 1 block, 48 bytes"),
        "{report}"
    );
}

#[test]
fn assert_no_leaks_panics_with_the_report() {
    let panic = std::panic::catch_unwind(|| leaklab::assert_no_leaks!(|| Box::leak(Box::new(1u16)))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.starts_with("leaklab: `"), "{message}");
    assert!(message.contains("leaked 1 block (2 bytes)"), "{message}");
    leaklab::assert_no_leaks!(|| Box::new(1u16));
}

#[test]
fn prop_assert_no_leaks_returns_the_report_as_the_case_error() {
    fn leaking() -> Result<(), TestCaseError> {
        leaklab::prop_assert_no_leaks!(|| Box::leak(Box::new([0u8; 3])));
        Ok(())
    }
    fn clean() -> Result<(), TestCaseError> {
        leaklab::prop_assert_no_leaks!(|| Box::new([0u8; 3]));
        Ok(())
    }
    let error = leaking().unwrap_err().to_string();
    assert!(error.contains("leaked 1 block (3 bytes)"), "{error}");
    clean().unwrap();
}
