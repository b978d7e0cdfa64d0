//! The unsafe core: the `GlobalAlloc` wrapper, block headers, region slots and per-thread counter shards.
//!
//! Everything else in leaklab is safe code built on the handful of functions exported from here.
//!
//! # Memory layout of a block
//!
//! ```text
//!  base (from System)          header (16 bytes)        user pointer
//!  |<----- padding ------>|<- size | tag | guard ->|<---- user data ---->|
//! ```
//!
//! The user pointer is aligned to `max(align, 16)`; the header always sits in the 16 bytes just before
//! it. Rust blocks put the header at `base` when `align <= 16`; C blocks (see [`c_alloc`]) keep 32 spare
//! bytes in front of the header, so that the allocator's own free-list bookkeeping, written into the first
//! bytes of a freed chunk, does not overwrite the guard and a double free can still be recognised.
//!
//! # Counting
//!
//! A *tag* names a region: the low [`SLOT_BITS`] bits are a slot index, the rest a generation that changes
//! every time the slot is reused, so a block freed long after its region ended does not disturb a newer
//! region in the same slot. Counts are kept per (thread shard, slot, kind). A thread that runs a region owns
//! a shard and updates it with plain relaxed loads and stores (no `lock` prefix on the hot path); threads
//! without a shard use the shared shard with atomic read-modify-write. A region's outstanding count is the
//! sum over all shards minus the sum when the region began.
//!
//! # Invariants
//!
//! 1. A block's header is written before its pointer escapes, and read only while the block is live.
//! 2. A shard is written with plain load/store only by the one thread that owns it (ownership is taken with
//!    an acquire CAS and given back with a release store); everyone else only reads it.
//! 3. Nothing here allocates, locks or panics; invalid frees abort with a message written by `write(2)`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU32, AtomicUsize, Ordering};

/// Bytes of header in front of every user pointer.
pub(crate) const HEADER: usize = 16;
/// Extra bytes in front of the header of a C block (see the module docs).
const C_PREFIX: usize = 32;
/// Number of bits of a tag that hold the slot index.
pub(crate) const SLOT_BITS: u32 = 10;
/// How many regions can be open (or retired and awaiting their root) at once.
pub(crate) const MAX_SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u32 = (MAX_SLOTS as u32) - 1;
/// Shards for threads that run regions; more threads than this fall back to the shared shard.
const MAX_SHARDS: usize = 64;

const GUARD_RUST: u32 = 0x1EA4_0001;
const GUARD_C: u32 = 0x1EA4_000C;
const GUARD_FREED: u32 = 0xF3EE_D1ED;

/// The kind of a block: allocated by Rust through `GlobalAlloc`, or by C through `leaklab_malloc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Rust = 0,
    C = 1,
}

#[repr(C, align(16))]
struct Header {
    size: usize,
    tag: u32,
    guard: u32,
}

const _: () = assert!(std::mem::size_of::<Header>() == HEADER);

struct Counter {
    blocks: AtomicIsize,
    bytes: AtomicIsize,
}

#[repr(C, align(64))]
struct Shard {
    owned: AtomicBool,
    counts: [[Counter; 2]; MAX_SLOTS],
}

impl Shard {
    const fn new() -> Self {
        Shard {
            owned: AtomicBool::new(false),
            counts: [const {
                [const {
                    Counter {
                        blocks: AtomicIsize::new(0),
                        bytes: AtomicIsize::new(0),
                    }
                }; 2]
            }; MAX_SLOTS],
        }
    }
}

#[repr(align(64))]
struct Slot {
    /// Generation of the region using this slot; 0 while the slot is free.
    generation: AtomicU32,
    /// Tag of the enclosing region, 0 for a root region.
    parent: AtomicU32,
}

static SLOTS: [Slot; MAX_SLOTS] = [const {
    Slot {
        generation: AtomicU32::new(0),
        parent: AtomicU32::new(0),
    }
}; MAX_SLOTS];
static SHARDS: [Shard; MAX_SHARDS] = [const { Shard::new() }; MAX_SHARDS];
static SHARED: Shard = Shard::new();
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(1);
static NEXT_GENERATION: AtomicU32 = AtomicU32::new(1);

struct Local {
    /// Tag of the region this thread's allocations are attributed to (0: none).
    region: Cell<u32>,
    /// This thread's shard, or null to use the shared one.
    shard: Cell<*const Shard>,
    /// Set while leaklab itself runs code that may allocate; such allocations are not attributed.
    busy: Cell<bool>,
}

thread_local! {
    static LOCAL: Local = const {
        Local { region: Cell::new(0), shard: Cell::new(ptr::null()), busy: Cell::new(false) }
    };
}

/// The instrumented global allocator. Install it once per binary:
///
/// ```
/// #[global_allocator]
/// static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
/// ```
///
/// It forwards to [`std::alloc::System`] and adds a 16-byte header to every block recording which region
/// allocated it. Outside any region it only writes that header.
pub struct LeakLab {
    _private: (),
}

impl LeakLab {
    /// Creates the allocator. `const`, so it can initialise the `#[global_allocator]` static.
    pub const fn new() -> Self {
        LeakLab { _private: () }
    }
}

impl Default for LeakLab {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts for one region and kind, as read by [`outstanding`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub blocks: isize,
    pub bytes: isize,
    pub c_blocks: isize,
    pub c_bytes: isize,
}

impl Counts {
    /// Nothing outstanding (negative values only arise from the documented slot-reuse race).
    pub fn is_empty(&self) -> bool {
        self.blocks <= 0 && self.bytes <= 0 && self.c_blocks <= 0 && self.c_bytes <= 0
    }
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts {
            blocks: self.blocks - o.blocks,
            bytes: self.bytes - o.bytes,
            c_blocks: self.c_blocks - o.c_blocks,
            c_bytes: self.c_bytes - o.c_bytes,
        }
    }
}

fn slot_of(tag: u32) -> &'static Slot {
    &SLOTS[(tag & SLOT_MASK) as usize]
}

/// Whether `tag` still names the region that currently owns its slot.
#[inline]
fn is_current(tag: u32) -> bool {
    tag != 0 && slot_of(tag).generation.load(Ordering::Relaxed) == tag >> SLOT_BITS
}

/// Adds `blocks`/`bytes` to the region `tag`, if it has not ended, and to its enclosing regions.
/// `shard` is this thread's shard (null for the shared one).
#[inline]
fn count(mut tag: u32, shard: *const Shard, kind: Kind, blocks: isize, bytes: isize) {
    while is_current(tag) {
        let slot = (tag & SLOT_MASK) as usize;
        add(shard, slot, kind, blocks, bytes);
        tag = SLOTS[slot].parent.load(Ordering::Relaxed);
    }
}

/// [`count`] for a `tag` already known to be current: skips the first generation check.
#[inline]
fn count_current(tag: u32, shard: *const Shard, kind: Kind, blocks: isize, bytes: isize) {
    let slot = (tag & SLOT_MASK) as usize;
    add(shard, slot, kind, blocks, bytes);
    count(SLOTS[slot].parent.load(Ordering::Relaxed), shard, kind, blocks, bytes);
}

#[inline]
fn add(shard: *const Shard, slot: usize, kind: Kind, blocks: isize, bytes: isize) {
    if shard.is_null() {
        let c = &SHARED.counts[slot][kind as usize];
        c.blocks.fetch_add(blocks, Ordering::Relaxed);
        c.bytes.fetch_add(bytes, Ordering::Relaxed);
    } else {
        // SAFETY: a non-null shard pointer in LOCAL always points into SHARDS (a static) and is owned by
        // this thread (invariant 2), so plain load + store cannot lose another thread's update.
        let c = unsafe { &(*shard).counts[slot][kind as usize] };
        c.blocks
            .store(c.blocks.load(Ordering::Relaxed) + blocks, Ordering::Relaxed);
        c.bytes
            .store(c.bytes.load(Ordering::Relaxed) + bytes, Ordering::Relaxed);
    }
}

/// The region new allocations on this thread belong to (0 for none), and this thread's shard.
#[inline]
fn local() -> (u32, *const Shard) {
    LOCAL
        .try_with(|l| (if l.busy.get() { 0 } else { l.region.get() }, l.shard.get()))
        .unwrap_or((0, ptr::null()))
}

/// This thread's shard, or null for the shared one.
#[inline]
fn local_shard() -> *const Shard {
    LOCAL.try_with(|l| l.shard.get()).unwrap_or(ptr::null())
}

/// Offset from the base of a block to its user pointer.
#[inline]
fn offset(align: usize, kind: Kind) -> usize {
    match kind {
        Kind::Rust => align.max(HEADER),
        Kind::C => C_PREFIX + HEADER,
    }
}

/// The layout passed to `System` for a user layout, or `None` when it would overflow.
#[inline]
fn outer_layout(layout: Layout, kind: Kind) -> Option<Layout> {
    let align = layout.align().max(HEADER);
    let size = layout.size().checked_add(offset(layout.align(), kind))?;
    // `Layout`'s own rule: the size rounded up to the alignment must not exceed isize::MAX.
    if size > isize::MAX as usize - (align - 1) {
        return None;
    }
    // SAFETY: `align` is a power of two (the max of two powers of two) and `size` was checked above.
    Some(unsafe { Layout::from_size_align_unchecked(size, align) })
}

/// # Safety
/// `user` must be a pointer returned by this allocator for a block that is still live.
#[inline]
unsafe fn header<'a>(user: *mut u8) -> &'a mut Header {
    // SAFETY: per the contract, `user - HEADER` is the block's 16-byte-aligned header, written at allocation.
    unsafe { &mut *user.sub(HEADER).cast::<Header>() }
}

/// The layout a live block was allocated with; `layout` is the block's user layout.
///
/// # Safety
/// `outer_layout(layout, kind)` returned `Some` when the block was allocated.
#[inline]
unsafe fn live_outer_layout(layout: Layout, kind: Kind) -> Layout {
    // SAFETY: the same computation succeeded when the block was allocated, so it cannot overflow now.
    unsafe {
        Layout::from_size_align_unchecked(layout.size() + offset(layout.align(), kind), layout.align().max(HEADER))
    }
}

/// Allocates a block for `layout`, attributed to region `tag` (0 for none) and counted in `shard`.
///
/// # Safety
/// As [`GlobalAlloc::alloc`]; `layout` may have size zero.
#[inline]
unsafe fn alloc_block(layout: Layout, kind: Kind, (tag, shard): (u32, *const Shard), zeroed: bool) -> *mut u8 {
    let Some(outer) = outer_layout(layout, kind) else {
        return ptr::null_mut();
    };
    // SAFETY: `outer` has a non-zero size (it includes the header).
    let base = unsafe {
        if zeroed {
            System.alloc_zeroed(outer)
        } else {
            System.alloc(outer)
        }
    };
    if base.is_null() {
        return base;
    }
    // SAFETY: `offset` is within `outer`, so `user` and the header before it lie inside the new block.
    let user = unsafe { base.add(offset(layout.align(), kind)) };
    // A stale tag (a region that ended while this thread still pointed at it) is not recorded.
    let tag = if is_current(tag) {
        count_current(tag, shard, kind, 1, layout.size() as isize);
        tag
    } else {
        0
    };
    let guard = if kind == Kind::C { GUARD_C } else { GUARD_RUST };
    // SAFETY: the header lies inside the block just allocated and is 16-byte aligned (invariant 1).
    unsafe {
        user.sub(HEADER).cast::<Header>().write(Header {
            size: layout.size(),
            tag,
            guard,
        })
    };
    user
}

/// Checks the guard of a block about to be freed or resized, aborting with a clear message when it is not
/// a live block of the expected kind.
#[inline]
fn check_guard(h: &Header, kind: Kind, what: &str) {
    let expected = if kind == Kind::C { GUARD_C } else { GUARD_RUST };
    if h.guard != expected {
        bad_guard(h, what);
    }
}

#[cold]
#[inline(never)]
fn bad_guard(h: &Header, what: &str) -> ! {
    if h.guard == GUARD_FREED {
        abort_with(&[
            "leaklab: double free of a ",
            &Decimal(h.size).to_string_buf(),
            "-byte block (",
            what,
            ")",
        ]);
    } else if h.guard == GUARD_RUST || h.guard == GUARD_C {
        abort_with(&[
            "leaklab: ",
            what,
            " was given a block from the other side of the FFI boundary: free C blocks with leaklab_free and Rust blocks with Rust",
        ]);
    } else {
        abort_with(&[
            "leaklab: ",
            what,
            " was given a pointer not allocated by leaklab (or already freed)",
        ]);
    }
}

/// Frees a live block.
///
/// # Safety
/// `user` was returned by [`alloc_block`] with the same `layout` and `kind`, and is live.
#[inline]
unsafe fn free_block(user: *mut u8, layout: Layout, kind: Kind, what: &str) {
    // SAFETY: the caller guarantees `user` is a live block of ours.
    let h = unsafe { header(user) };
    check_guard(h, kind, what);
    if h.tag != 0 {
        count(h.tag, local_shard(), kind, -1, -(h.size as isize));
    }
    h.guard = GUARD_FREED;
    // SAFETY: `base` and the outer layout are exactly what `alloc_block` passed to System.
    unsafe { System.dealloc(user.sub(offset(layout.align(), kind)), live_outer_layout(layout, kind)) };
}

/// Resizes a live block, keeping its attribution.
///
/// # Safety
/// As [`GlobalAlloc::realloc`], with `kind` the block's kind.
unsafe fn realloc_block(user: *mut u8, layout: Layout, new_size: usize, kind: Kind, what: &str) -> *mut u8 {
    // SAFETY: the caller guarantees `user` is a live block of ours.
    let h = unsafe { header(user) };
    check_guard(h, kind, what);
    let (tag, old_size) = (h.tag, h.size);
    let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
        return ptr::null_mut();
    };
    if layout.align() <= HEADER || kind == Kind::C {
        // The header moves with the data: System.realloc keeps the (base-relative) offset.
        let (Some(outer), Some(new_outer)) = (outer_layout(layout, kind), outer_layout(new_layout, kind)) else {
            return ptr::null_mut();
        };
        let off = offset(layout.align(), kind);
        // SAFETY: `base`/`outer` are what alloc_block passed to System; `new_outer.size()` is non-zero.
        let base = unsafe { System.realloc(user.sub(off), outer, new_outer.size()) };
        if base.is_null() {
            return base;
        }
        // SAFETY: the block now has room for header and `new_size` bytes after `off`.
        let user = unsafe { base.add(off) };
        // SAFETY: the header was copied by realloc and is live.
        unsafe { header(user).size = new_size };
        if tag != 0 {
            count(tag, local_shard(), kind, 0, new_size as isize - old_size as isize);
        }
        user
    } else {
        // Over-aligned: System.realloc would not keep our alignment, so move by hand.
        // SAFETY: valid layout; the new block is attributed to the same region as the old one.
        let new = unsafe { alloc_block(new_layout, kind, (tag, local_shard()), false) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least min(old, new) bytes long.
            unsafe {
                ptr::copy_nonoverlapping(user, new, old_size.min(new_size));
                free_block(user, layout, kind, what);
            }
        }
        new
    }
}

// SAFETY: every method forwards to System with a layout that contains the caller's layout at an offset that
// keeps the caller's alignment; headers are written before the pointer is returned (invariant 1); nothing
// here unwinds, allocates or locks.
unsafe impl GlobalAlloc for LeakLab {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { alloc_block(layout, Kind::Rust, local(), false) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { alloc_block(layout, Kind::Rust, local(), true) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator with `layout` (GlobalAlloc contract).
        unsafe { free_block(ptr, layout, Kind::Rust, "dealloc") }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { realloc_block(ptr, layout, new_size, Kind::Rust, "realloc") }
    }
}

const C_ALIGN: usize = 16;

/// `malloc` for C code, attributed to the calling thread's region and counted as a C block.
///
/// # Safety
/// Callable from C like `malloc`. The leaklab allocator must be the global allocator of the process.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaklab_malloc(size: usize) -> *mut core::ffi::c_void {
    match Layout::from_size_align(size, C_ALIGN) {
        // SAFETY: alloc_block accepts any valid layout, including size zero.
        Ok(l) => unsafe { alloc_block(l, Kind::C, local(), false).cast() },
        Err(_) => ptr::null_mut(),
    }
}

/// `calloc` for C code: `n * size` zeroed bytes, or null on overflow.
///
/// # Safety
/// As [`leaklab_malloc`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaklab_calloc(n: usize, size: usize) -> *mut core::ffi::c_void {
    match n.checked_mul(size).map(|s| Layout::from_size_align(s, C_ALIGN)) {
        // SAFETY: as in leaklab_malloc.
        Some(Ok(l)) => unsafe { alloc_block(l, Kind::C, local(), true).cast() },
        _ => ptr::null_mut(),
    }
}

/// `realloc` for C code; keeps the block's region. `ptr` may be null (then it is `leaklab_malloc`).
///
/// # Safety
/// `ptr` is null or a live pointer from `leaklab_malloc/calloc/realloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaklab_realloc(ptr: *mut core::ffi::c_void, size: usize) -> *mut core::ffi::c_void {
    if ptr.is_null() {
        // SAFETY: as in leaklab_malloc.
        return unsafe { leaklab_malloc(size) };
    }
    // SAFETY: `ptr` is ours per the contract; its header holds the size it was allocated with.
    unsafe {
        let h = header(ptr.cast());
        check_guard(h, Kind::C, "leaklab_realloc");
        let old = h.size;
        let layout = Layout::from_size_align_unchecked(old, C_ALIGN);
        realloc_block(ptr.cast(), layout, size, Kind::C, "leaklab_realloc").cast()
    }
}

/// `free` for C code. Null is ignored; a pointer leaklab did not allocate, or a double free, aborts the
/// process with a message on stderr.
///
/// # Safety
/// `ptr` is null or a pointer from `leaklab_malloc/calloc/realloc` (anything else is diagnosed on a best-effort
/// basis).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaklab_free(ptr: *mut core::ffi::c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` is ours per the contract; the guard is checked before anything else is trusted.
    unsafe {
        let h = header(ptr.cast());
        check_guard(h, Kind::C, "leaklab_free");
        let layout = Layout::from_size_align_unchecked(h.size, C_ALIGN);
        free_block(ptr.cast(), layout, Kind::C, "leaklab_free");
    }
}

/// Writes `parts` to stderr without allocating and aborts.
fn abort_with(parts: &[&str]) -> ! {
    for p in parts.iter().chain(std::iter::once(&"\n")) {
        // SAFETY: writes a valid, initialised byte slice to fd 2; errors are ignored on the way to abort.
        unsafe { write(2, p.as_ptr(), p.len()) };
    }
    std::process::abort()
}

unsafe extern "C" {
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

/// A number formatted into a stack buffer, for messages written without allocating.
struct Decimal(usize);

struct DecimalBuf {
    buf: [u8; 20],
    start: usize,
}

impl Decimal {
    fn to_string_buf(&self) -> DecimalBuf {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut n = self.0;
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        DecimalBuf { buf, start: i }
    }
}

impl std::ops::Deref for DecimalBuf {
    type Target = str;
    fn deref(&self) -> &str {
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("?")
    }
}

// ---- the safe interface used by the rest of the crate -----------------------------------------------

/// Runs `f` with this thread's allocations unattributed (the reentrancy guard), restoring the previous
/// state afterwards, also on unwind.
pub(crate) fn untracked<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LOCAL.try_with(|l| l.busy.set(self.0));
        }
    }
    let _restore = Restore(LOCAL.try_with(|l| l.busy.replace(true)).unwrap_or(false));
    f()
}

/// The region this thread's allocations currently go to (0 for none).
pub(crate) fn thread_region() -> u32 {
    LOCAL.try_with(|l| l.region.get()).unwrap_or(0)
}

/// Points this thread's allocations at region `tag` (0 for none) and returns the previous tag.
pub(crate) fn set_thread_region(tag: u32) -> u32 {
    LOCAL.try_with(|l| l.region.replace(tag)).unwrap_or(0)
}

/// Gives this thread a shard of its own if it has none and one is free. Returns the shard index taken,
/// which the caller must hand back with [`release_shard`] when the thread exits.
pub(crate) fn acquire_shard() -> Option<usize> {
    if LOCAL.try_with(|l| !l.shard.get().is_null()).unwrap_or(true) {
        return None;
    }
    for (i, shard) in SHARDS.iter().enumerate() {
        if shard
            .owned
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            let _ = LOCAL.try_with(|l| l.shard.set(shard));
            return Some(i);
        }
    }
    None
}

/// Gives shard `index` back (at thread exit); this thread uses the shared shard from now on.
pub(crate) fn release_shard(index: usize) {
    let _ = LOCAL.try_with(|l| l.shard.set(ptr::null()));
    SHARDS[index].owned.store(false, Ordering::Release);
}

/// Claims a free slot for a new region nested in `parent` (0 for a root) and returns its tag, or `None`
/// when all slots are in use.
pub(crate) fn open_slot(parent: u32) -> Option<u32> {
    let start = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
    for i in 0..MAX_SLOTS {
        // Slot 0 is never used, so tag 0 can mean "no region".
        let index = (start + i) % MAX_SLOTS;
        if index == 0 {
            continue;
        }
        let slot = &SLOTS[index];
        let mut generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed) & (u32::MAX >> SLOT_BITS);
        if generation == 0 {
            generation = 1;
        }
        if slot
            .generation
            .compare_exchange(0, generation, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            slot.parent.store(parent, Ordering::Relaxed);
            return Some(generation << SLOT_BITS | index as u32);
        }
    }
    None
}

/// Frees the slot of region `tag`; frees of its blocks are ignored from now on.
pub(crate) fn close_slot(tag: u32) {
    let slot = slot_of(tag);
    slot.parent.store(0, Ordering::Relaxed);
    let _ = slot
        .generation
        .compare_exchange(tag >> SLOT_BITS, 0, Ordering::AcqRel, Ordering::Relaxed);
}

/// The counts recorded for `tag`'s slot, summed over every shard (compare two readings for a delta).
pub(crate) fn slot_counts(tag: u32) -> Counts {
    let slot = (tag & SLOT_MASK) as usize;
    let mut total = Counts::default();
    for shard in SHARDS.iter().chain(std::iter::once(&SHARED)) {
        let [rust, c] = &shard.counts[slot];
        total.blocks += rust.blocks.load(Ordering::Relaxed);
        total.bytes += rust.bytes.load(Ordering::Relaxed);
        total.c_blocks += c.blocks.load(Ordering::Relaxed);
        total.c_bytes += c.bytes.load(Ordering::Relaxed);
    }
    total
}

/// Size of the header leaklab adds to each block, in bytes (for the docs and benchmarks).
pub const HEADER_BYTES: usize = HEADER;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_formats_without_allocating() {
        assert_eq!(&*Decimal(0).to_string_buf(), "0");
        assert_eq!(&*Decimal(48).to_string_buf(), "48");
        assert_eq!(&*Decimal(usize::MAX).to_string_buf(), "18446744073709551615");
    }

    #[test]
    fn outer_layout_rejects_overflow() {
        let huge = Layout::from_size_align(isize::MAX as usize - 8, 8).unwrap();
        assert!(outer_layout(huge, Kind::Rust).is_none());
    }
}
