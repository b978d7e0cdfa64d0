//! Stress: 8 threads doing random alloc/realloc/free with random layouts while opening and closing regions
//! (nested, sited, settling or not), some blocks freed on other threads, every region's counts checked
//! against a model when it ends.
//!
//! Each thread keeps a model of its live blocks: for each, its layout and the set of the thread's regions
//! that were open when it was allocated (leaklab attributes a block to its innermost region and counts it in
//! every enclosing one, and `realloc` keeps the attribution). When a region ends, the blocks the model still
//! holds with that region in their set are exactly what leaklab must report. Blocks handed to another thread
//! through the shared queue are freed there; before a region ends its thread takes back what is still
//! queued and waits until the others have freed what they took, so the expected counts are exact. The
//! model's own storage is allocated before any region opens, so it never counts.
//!
//! The run opens about 600 regions, fewer than leaklab's 1023 region slots (handed out round-robin), so no
//! slot is reused and the documented slot-reuse race cannot occur.
//! `LEAKLAB_STRESS_SEED=n` picks another seed.

use leaklab::{LeakLab, Region};
use std::alloc::{GlobalAlloc, Layout};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: LeakLab = LeakLab::new();

const THREADS: usize = 8;
/// Rounds per thread; each ends with every block freed, so the model's region bits start afresh.
const ROUNDS: usize = 3;
/// Root regions opened, one after another, by each thread in a round (with nesting, at most 36 regions:
/// the model's bit set has 64).
const ROOTS: usize = 12;
/// Random operations per (unsited) region body; sited regions do a quarter (a stack walk per allocation).
const STEPS: usize = 400;
/// Most blocks a thread holds at once.
const MAX_LIVE: usize = 48;
/// Most blocks one thread has in the queue at once (the queue never grows past its first allocation).
const MAX_SENT: usize = 8;
const MAX_SIZE: usize = 64 * 1024;

/// A live block and the regions (bit `i` = this thread's region `i`) open when it was allocated.
#[derive(Clone, Copy, Debug)]
struct Block {
    ptr: usize,
    layout: Layout,
    regions: u64,
    /// The byte its first and last bytes hold.
    mark: u8,
}

/// A block in the shared queue, waiting for another thread to free it.
#[derive(Debug)]
struct Sent {
    block: Block,
    owner: usize,
}

/// The shared queue (allocated once, with room for every thread's `MAX_SENT` blocks).
static QUEUE: Mutex<Option<VecDeque<Sent>>> = Mutex::new(None);
/// Per owner thread: blocks taken from the queue by another thread and not yet freed.
static IN_FLIGHT: [AtomicUsize; THREADS] = [const { AtomicUsize::new(0) }; THREADS];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Mostly small sizes, a quarter of them anywhere up to 64 KiB.
    fn size(&mut self) -> usize {
        if self.below(4) == 0 {
            self.below(MAX_SIZE + 1)
        } else {
            self.below(257)
        }
    }

    /// Alignments 1..=4096.
    fn align(&mut self) -> usize {
        1 << self.below(13)
    }
}

/// One thread's state: its model, its open regions, its generator.
struct Worker {
    id: usize,
    rng: Rng,
    live: Vec<Block>,
    /// Bits of the regions open right now.
    open: u64,
    /// Regions opened so far (the next region's bit).
    opened: u32,
    /// Blocks this thread has in the queue.
    sent: usize,
    stats: Stats,
}

/// What a run covered, summed over the threads.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    regions: usize,
    sited: usize,
    leaking: usize,
    operations: usize,
    freed_elsewhere: usize,
}

impl std::ops::Add for Stats {
    type Output = Stats;
    fn add(self, o: Stats) -> Stats {
        Stats {
            regions: self.regions + o.regions,
            sited: self.sited + o.sited,
            leaking: self.leaking + o.leaking,
            operations: self.operations + o.operations,
            freed_elsewhere: self.freed_elsewhere + o.freed_elsewhere,
        }
    }
}

fn write_marks(ptr: *mut u8, size: usize, mark: u8) {
    if size > 0 {
        // SAFETY: the block is valid for `size` bytes.
        unsafe {
            ptr.write(mark);
            ptr.add(size - 1).write(mark);
        }
    }
}

impl Worker {
    fn alloc(&mut self) {
        let layout = Layout::from_size_align(self.rng.size(), self.rng.align()).unwrap();
        // SAFETY: leaklab accepts any valid layout, including size zero (its alloc module's docs).
        let ptr = unsafe { GLOBAL.alloc(layout) };
        assert!(!ptr.is_null(), "allocation of {layout:?} failed");
        assert_eq!(ptr as usize % layout.align(), 0, "misaligned block for {layout:?}");
        let mark = self.rng.next() as u8;
        write_marks(ptr, layout.size(), mark);
        self.live.push(Block {
            ptr: ptr as usize,
            layout,
            regions: self.open,
            mark,
        });
    }

    fn realloc(&mut self, i: usize) {
        let block = &mut self.live[i];
        let new_size = 1 + self.rng.below(MAX_SIZE);
        let old_size = block.layout.size();
        // SAFETY: the block is live, was allocated by GLOBAL with `block.layout`, and `new_size` is non-zero.
        let ptr = unsafe { GLOBAL.realloc(block.ptr as *mut u8, block.layout, new_size) };
        assert!(!ptr.is_null(), "realloc to {new_size} failed");
        assert_eq!(ptr as usize % block.layout.align(), 0, "realloc broke alignment");
        if old_size > 0 {
            // SAFETY: the first min(old, new) bytes were kept by realloc.
            assert_eq!(unsafe { ptr.read() }, block.mark, "realloc lost the block's data");
        }
        block.ptr = ptr as usize;
        block.layout = Layout::from_size_align(new_size, block.layout.align()).unwrap();
        write_marks(ptr, new_size, block.mark);
    }

    fn free(block: Block) {
        if block.layout.size() > 0 {
            // SAFETY: the block is live and at least one byte long.
            let (first, last) = unsafe {
                let p = block.ptr as *const u8;
                (p.read(), p.add(block.layout.size() - 1).read())
            };
            assert_eq!((first, last), (block.mark, block.mark), "block overwritten: {block:?}");
        }
        // SAFETY: the block is live and was allocated by GLOBAL with this layout; it is freed once.
        unsafe { GLOBAL.dealloc(block.ptr as *mut u8, block.layout) };
    }

    fn send(&mut self, i: usize) {
        if self.sent >= MAX_SENT {
            return;
        }
        let block = self.live.swap_remove(i);
        let mut queue = QUEUE.lock().unwrap();
        queue.as_mut().unwrap().push_back(Sent { block, owner: self.id });
        self.sent += 1;
    }

    /// Frees one block another thread queued, if there is one.
    fn take_and_free(&mut self) {
        let taken = {
            let mut guard = QUEUE.lock().unwrap();
            let queue = guard.as_mut().unwrap();
            let found = queue.iter().position(|s| s.owner != self.id);
            let taken = found.and_then(|i| queue.remove(i));
            if let Some(s) = &taken {
                IN_FLIGHT[s.owner].fetch_add(1, Ordering::AcqRel);
            }
            taken
        };
        if let Some(Sent { block, owner }) = taken {
            Self::free(block);
            IN_FLIGHT[owner].fetch_sub(1, Ordering::AcqRel);
            self.stats.freed_elsewhere += 1;
        }
    }

    /// Takes back this thread's queued blocks and waits until the others have freed what they took, so that
    /// the model knows every block's fate when a region ends.
    fn recall(&mut self) {
        {
            let mut guard = QUEUE.lock().unwrap();
            let queue = guard.as_mut().unwrap();
            let mut i = 0;
            while i < queue.len() {
                if queue[i].owner == self.id {
                    let s = queue.remove(i).unwrap();
                    self.live.push(s.block);
                } else {
                    i += 1;
                }
            }
        }
        self.sent = 0;
        let start = Instant::now();
        while IN_FLIGHT[self.id].load(Ordering::Acquire) != 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "another thread never freed a block"
            );
            std::thread::yield_now();
        }
    }

    fn step(&mut self) {
        self.stats.operations += 1;
        let n = self.live.len();
        match self.rng.below(100) {
            0..35 if n < MAX_LIVE => self.alloc(),
            35..50 if n > 0 => {
                let i = self.rng.below(n);
                self.realloc(i)
            }
            50..75 if n > 0 => {
                let i = self.rng.below(n);
                Self::free(self.live.swap_remove(i))
            }
            75..85 if n > 0 => {
                let i = self.rng.below(n);
                self.send(i)
            }
            85..95 => self.take_and_free(),
            _ => {}
        }
    }

    /// Runs a region (nested in the regions open now) whose body does `steps` random operations, and
    /// possibly opens nested regions `depth` levels deeper; checks its report against the model.
    fn region(&mut self, steps: usize, depth: u32) {
        let bit = 1u64 << self.opened;
        self.opened += 1;
        assert!(self.opened < 64, "too many regions for the model's bit set");
        let sites = self.rng.below(4) == 0;
        let steps = if sites { steps / 4 } else { steps };
        let mut region = Region::new().sites(sites);
        if self.rng.below(2) == 0 {
            region = region.settle(Duration::ZERO);
        }
        self.open |= bit;
        let report = region.run(|| {
            for s in 0..steps {
                self.step();
                if depth > 0 && s == steps / 2 && self.rng.below(2) == 0 {
                    self.region(steps / 2, depth - 1);
                }
            }
            self.recall();
            if self.rng.below(3) == 0 {
                // Tidy up: free everything this region allocated, so it ends clean.
                let mut i = 0;
                while i < self.live.len() {
                    if self.live[i].regions & bit != 0 {
                        Self::free(self.live.swap_remove(i));
                    } else {
                        i += 1;
                    }
                }
            }
        });
        self.open &= !bit;
        let (blocks, bytes) = self
            .live
            .iter()
            .filter(|b| b.regions & bit != 0)
            .fold((0, 0), |(n, s), b| (n + 1, s + b.layout.size()));
        assert_eq!(
            (report.leaked_blocks(), report.leaked_bytes()),
            (blocks, bytes),
            "thread {} region {}: leaklab's counts differ from the model's\n{report}",
            self.id,
            bit.trailing_zeros()
        );
        assert_eq!(
            report.is_clean(),
            blocks == 0,
            "verdict differs from the counts\n{report}"
        );
        self.stats.regions += 1;
        self.stats.sited += usize::from(sites);
        self.stats.leaking += usize::from(blocks > 0);
    }

    /// One round: blocks from before any region, then `ROOTS` root regions, then everything freed.
    fn run(&mut self) {
        self.opened = 0;
        // Blocks from before any region: freeing or growing them inside regions must not disturb them.
        for _ in 0..8 {
            self.alloc();
        }
        for _ in 0..ROOTS {
            self.region(STEPS, 2);
            // Between regions: free some of what the regions kept (their slots are gone by now).
            for _ in 0..self.live.len() / 2 {
                let i = self.rng.below(self.live.len());
                Self::free(self.live.swap_remove(i));
            }
        }
        self.recall();
        for block in self.live.drain(..) {
            Self::free(block);
        }
    }
}

#[test]
fn eight_threads_of_random_regions_match_the_model() {
    let seed: u64 = std::env::var("LEAKLAB_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1EA4_1AB5);
    *QUEUE.lock().unwrap() = Some(VecDeque::with_capacity(THREADS * MAX_SENT));
    let start = Instant::now();
    let stats = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|id| {
                s.spawn(move || {
                    let mut worker = Worker {
                        id,
                        rng: Rng(seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(id as u64 + 1))),
                        live: Vec::with_capacity(MAX_LIVE + MAX_SENT + 16),
                        open: 0,
                        opened: 0,
                        sent: 0,
                        stats: Stats::default(),
                    };
                    for _ in 0..ROUNDS {
                        worker.run();
                    }
                    worker.stats
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .fold(Stats::default(), |a, b| a + b)
    });
    assert!(QUEUE.lock().unwrap().as_ref().unwrap().is_empty());
    assert!(stats.regions >= THREADS * ROUNDS * ROOTS, "{stats:?}");
    assert!(
        stats.sited > 0 && stats.leaking > 0 && stats.freed_elsewhere > 0,
        "{stats:?}"
    );
    eprintln!("stress: seed {seed:#x}, {stats:?} in {:.2?}", start.elapsed());
}
