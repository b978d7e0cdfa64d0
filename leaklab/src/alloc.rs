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
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

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
/// Guards of blocks that carry a [`SiteRecord`] in front of their header.
const GUARD_RUST_SITED: u32 = 0x1EA4_5001;
const GUARD_C_SITED: u32 = 0x1EA4_500C;
const GUARD_FREED: u32 = 0xF3EE_D1ED;

/// Return addresses kept per block when allocation sites are recorded.
pub(crate) const SITE_FRAMES: usize = 24;

/// In front of the header of a block allocated with sites on: the call stack that allocated it, and the
/// links of its region's list of such blocks. The links and `linked` are only touched with the slot's
/// `sites_lock` held; `frames` is written before the record is linked.
#[repr(C, align(16))]
struct SiteRecord {
    frames: [usize; SITE_FRAMES],
    next: AtomicPtr<SiteRecord>,
    prev: AtomicPtr<SiteRecord>,
    linked: AtomicBool,
}

const SITE_BYTES: usize = std::mem::size_of::<SiteRecord>();
const _: () = assert!(SITE_BYTES.is_multiple_of(HEADER));

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
    /// Guards `sites_head` and the links of the records in that list (site mode only; never taken on
    /// the ordinary allocation path).
    sites_lock: AtomicBool,
    /// The region's blocks that carry a site record, newest first.
    sites_head: AtomicPtr<SiteRecord>,
    /// Whether the region's new blocks record their allocation site (on any thread that allocates for it).
    sites: AtomicBool,
}

static SLOTS: [Slot; MAX_SLOTS] = [const {
    Slot {
        generation: AtomicU32::new(0),
        parent: AtomicU32::new(0),
        sites_lock: AtomicBool::new(false),
        sites_head: AtomicPtr::new(ptr::null_mut()),
        sites: AtomicBool::new(false),
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

/// Where a new block goes: its region's tag (0 for none) and this thread's shard.
#[derive(Clone, Copy)]
struct Target {
    tag: u32,
    shard: *const Shard,
}

/// The target of new allocations on this thread.
#[inline]
fn local() -> Target {
    LOCAL
        .try_with(|l| Target {
            tag: if l.busy.get() { 0 } else { l.region.get() },
            shard: l.shard.get(),
        })
        .unwrap_or(Target {
            tag: 0,
            shard: ptr::null(),
        })
}

/// This thread's shard, or null for the shared one.
#[inline]
fn local_shard() -> *const Shard {
    LOCAL.try_with(|l| l.shard.get()).unwrap_or(ptr::null())
}

/// The shape of a block: who allocated it, and whether it carries a site record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    kind: Kind,
    sited: bool,
}

impl Shape {
    fn guard(self) -> u32 {
        match (self.kind, self.sited) {
            (Kind::Rust, false) => GUARD_RUST,
            (Kind::C, false) => GUARD_C,
            (Kind::Rust, true) => GUARD_RUST_SITED,
            (Kind::C, true) => GUARD_C_SITED,
        }
    }
}

/// Offset from the base of a block to its user pointer.
#[inline]
fn offset(align: usize, shape: Shape) -> usize {
    match shape {
        // Round up with a mask (alignments are powers of two): a division here would be evaluated
        // speculatively on every allocation.
        Shape { sited: true, .. } => {
            let a = align.max(HEADER);
            (SITE_BYTES + HEADER + a - 1) & !(a - 1)
        }
        Shape { kind: Kind::Rust, .. } => align.max(HEADER),
        Shape { kind: Kind::C, .. } => C_PREFIX + HEADER,
    }
}

/// The layout passed to `System` for a user layout, or `None` when it would overflow.
#[inline]
fn outer_layout(layout: Layout, shape: Shape) -> Option<Layout> {
    let align = layout.align().max(HEADER);
    let size = layout.size().checked_add(offset(layout.align(), shape))?;
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
/// `outer_layout(layout, shape)` returned `Some` when the block was allocated.
#[inline]
unsafe fn live_outer_layout(layout: Layout, shape: Shape) -> Layout {
    // SAFETY: the same computation succeeded when the block was allocated, so it cannot overflow now.
    unsafe {
        Layout::from_size_align_unchecked(
            layout.size() + offset(layout.align(), shape),
            layout.align().max(HEADER),
        )
    }
}

/// Allocates a block for `layout` for `target`. The block records its allocation site when its region
/// records sites, or when `inherit` is not null: then it copies `inherit`'s frames (a block moved by realloc
/// keeps its allocation site).
///
/// # Safety
/// As [`GlobalAlloc::alloc`]; `layout` may have size zero; `inherit` is null or a live block's record.
#[inline(always)] // the hot path: measured 25% slower when LLVM chose not to inline it
unsafe fn alloc_block(layout: Layout, kind: Kind, target: Target, zeroed: bool, inherit: *const SiteRecord) -> *mut u8 {
    // A stale tag (a region that ended while this thread still pointed at it) is not recorded.
    let tag = if is_current(target.tag) { target.tag } else { 0 };
    if tag != 0 && (!inherit.is_null() || slot_of(tag).sites.load(Ordering::Relaxed)) {
        // SAFETY: forwarded contract.
        return unsafe { alloc_sited(layout, kind, tag, target.shard, zeroed, inherit) };
    }
    // SAFETY: forwarded contract; a constant shape keeps this path as short as it was before sites.
    unsafe { alloc_shaped(layout, Shape { kind, sited: false }, tag, target.shard, zeroed) }
}

/// Allocates a block of `shape` for region `tag` (0 for none) and writes its header.
///
/// # Safety
/// As [`GlobalAlloc::alloc`]; `tag` is 0 or current.
#[inline(always)]
unsafe fn alloc_shaped(layout: Layout, shape: Shape, tag: u32, shard: *const Shard, zeroed: bool) -> *mut u8 {
    let Some(outer) = outer_layout(layout, shape) else {
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
    let user = unsafe { base.add(offset(layout.align(), shape)) };
    if tag != 0 {
        count_current(tag, shard, shape.kind, 1, layout.size() as isize);
    }
    // SAFETY: the header lies inside the block just allocated and is 16-byte aligned (invariant 1).
    unsafe {
        user.sub(HEADER).cast::<Header>().write(Header {
            size: layout.size(),
            tag,
            guard: shape.guard(),
        })
    };
    user
}

/// Allocates a block that records its allocation site (zero-filled, so that the leak report reads
/// initialised words; see `collect_sites`). Out of line: site mode is the slow, opt-in path.
///
/// # Safety
/// As [`GlobalAlloc::alloc`]; `tag` is current; `inherit` is null or a live record.
#[cold]
#[inline(never)]
unsafe fn alloc_sited(
    layout: Layout,
    kind: Kind,
    tag: u32,
    shard: *const Shard,
    zeroed: bool,
    inherit: *const SiteRecord,
) -> *mut u8 {
    // Zeroed here rather than with `calloc` unless the caller asked for zeroed memory: glibc's `calloc`
    // bypasses its per-thread cache, which made every sited allocation several times slower.
    // SAFETY: forwarded contract.
    let user = unsafe { alloc_shaped(layout, Shape { kind, sited: true }, tag, shard, zeroed) };
    if !user.is_null() {
        // SAFETY: `user` starts `layout.size()` bytes of the new block; a sited block was just allocated with
        // room for its record; `inherit` per our contract.
        unsafe {
            if !zeroed {
                ptr::write_bytes(user, 0, layout.size());
            }
            record_site(user, tag, inherit)
        };
    }
    user
}

/// Writes the site record of a new sited block and links it into its region's list. Out of line, so
/// the ordinary allocation path stays as small as it was without sites.
///
/// # Safety
/// `user` is a new sited block of region `tag` (SITE_BYTES of room before its header); `inherit` is null
/// or a live record.
#[cold]
#[inline(never)]
unsafe fn record_site(user: *mut u8, tag: u32, inherit: *const SiteRecord) {
    // SAFETY: per the contract the record's room is valid for writes and 16-byte aligned; its fields are
    // written one by one (the frames in place: copying them through the stack cost a tenth of a sited
    // allocation) and all of them before the record is linked.
    unsafe {
        let record = user.sub(HEADER + SITE_BYTES).cast::<SiteRecord>();
        let frames = ptr::addr_of_mut!((*record).frames);
        if inherit.is_null() {
            frames.write([0; SITE_FRAMES]);
            crate::unwind::capture(&mut *frames);
        } else {
            frames.write((*inherit).frames);
        }
        ptr::addr_of_mut!((*record).next).write(AtomicPtr::new(ptr::null_mut()));
        ptr::addr_of_mut!((*record).prev).write(AtomicPtr::new(ptr::null_mut()));
        ptr::addr_of_mut!((*record).linked).write(AtomicBool::new(false));
        link_site(tag, record);
    }
}

fn lock_sites(slot: &Slot) {
    while slot
        .sites_lock
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
}

fn unlock_sites(slot: &Slot) {
    slot.sites_lock.store(false, Ordering::Release);
}

/// Adds `record` to the front of region `tag`'s list of sited blocks.
#[inline(never)]
///
/// # Safety
/// `record` is a fully written, unlinked record of a live block.
unsafe fn link_site(tag: u32, record: *mut SiteRecord) {
    let slot = slot_of(tag);
    lock_sites(slot);
    // SAFETY: the list and its records' links are only touched with the lock held; records in the list
    // belong to live blocks (a block unlinks itself before it is freed).
    unsafe {
        let head = slot.sites_head.load(Ordering::Relaxed);
        (*record).next.store(head, Ordering::Relaxed);
        if !head.is_null() {
            (*head).prev.store(record, Ordering::Relaxed);
        }
        (*record).linked.store(true, Ordering::Relaxed);
    }
    slot.sites_head.store(record, Ordering::Relaxed);
    unlock_sites(slot);
}

/// Removes `record` from region `tag`'s list, if it is still in it.
///
/// # Safety
/// `record` belongs to a live sited block of region `tag`.
#[cold]
#[inline(never)]
unsafe fn unlink_site(tag: u32, record: *mut SiteRecord) {
    let slot = slot_of(tag);
    lock_sites(slot);
    // SAFETY: as in `link_site`; a record detached by `collect_sites` has `linked == false`.
    unsafe {
        if (*record).linked.load(Ordering::Relaxed) {
            let (prev, next) = (
                (*record).prev.load(Ordering::Relaxed),
                (*record).next.load(Ordering::Relaxed),
            );
            if prev.is_null() {
                slot.sites_head.store(next, Ordering::Relaxed);
            } else {
                (*prev).next.store(next, Ordering::Relaxed);
            }
            if !next.is_null() {
                (*next).prev.store(prev, Ordering::Relaxed);
            }
            (*record).linked.store(false, Ordering::Relaxed);
        }
    }
    unlock_sites(slot);
}

/// Checks the guard of a block about to be freed or resized and returns its shape, aborting with a clear
/// message when it is not a live block of the expected kind.
#[inline]
fn check_guard(h: &Header, kind: Kind, what: &str) -> Shape {
    let plain = Shape { kind, sited: false };
    if h.guard == plain.guard() {
        return plain;
    }
    check_sited_guard(h, kind, what)
}

#[cold]
#[inline(never)]
fn check_sited_guard(h: &Header, kind: Kind, what: &str) -> Shape {
    let sited = Shape { kind, sited: true };
    if h.guard != sited.guard() {
        bad_guard(h, what);
    }
    sited
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
    } else if [GUARD_RUST, GUARD_C, GUARD_RUST_SITED, GUARD_C_SITED].contains(&h.guard) {
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
#[inline(always)] // the hot path: measured 25% slower when LLVM chose not to inline it
unsafe fn free_block(user: *mut u8, layout: Layout, kind: Kind, what: &str) {
    // SAFETY: the caller guarantees `user` is a live block of ours.
    let shape = check_guard(unsafe { header(user) }, kind, what);
    if shape.sited {
        // SAFETY: forwarded contract.
        return unsafe { free_sited(user, layout, kind) };
    }
    // SAFETY: forwarded contract; a constant shape keeps this path as short as it was before sites.
    unsafe { free_shaped(user, layout, Shape { kind, sited: false }) }
}

/// Uncounts and frees a live block of `shape`.
///
/// # Safety
/// `user` is a live block of ours of this `shape`, allocated with `layout`.
#[inline(always)]
unsafe fn free_shaped(user: *mut u8, layout: Layout, shape: Shape) {
    // SAFETY: the caller guarantees `user` is a live block of ours.
    let h = unsafe { header(user) };
    if h.tag != 0 {
        count(h.tag, local_shard(), shape.kind, -1, -(h.size as isize));
    }
    h.guard = GUARD_FREED;
    // SAFETY: `base` and the outer layout are exactly what `alloc_block` passed to System.
    unsafe {
        System.dealloc(
            user.sub(offset(layout.align(), shape)),
            live_outer_layout(layout, shape),
        )
    };
}

/// Frees a sited block: out of its region's list first, then as usual.
///
/// # Safety
/// `user` is a live sited block of ours, allocated with `layout`.
#[cold]
#[inline(never)]
unsafe fn free_sited(user: *mut u8, layout: Layout, kind: Kind) {
    // SAFETY: a sited block's record sits right before its header; the block is still live.
    unsafe {
        unlink_site(header(user).tag, user.sub(HEADER + SITE_BYTES).cast());
        free_shaped(user, layout, Shape { kind, sited: true });
    }
}

/// Resizes a live block, keeping its attribution (and its allocation site).
///
/// # Safety
/// As [`GlobalAlloc::realloc`], with `kind` the block's kind.
unsafe fn realloc_block(user: *mut u8, layout: Layout, new_size: usize, kind: Kind, what: &str) -> *mut u8 {
    // SAFETY: the caller guarantees `user` is a live block of ours.
    let h = unsafe { header(user) };
    let shape = check_guard(h, kind, what);
    let (tag, old_size) = (h.tag, h.size);
    let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
        return ptr::null_mut();
    };
    if !shape.sited && (layout.align() <= HEADER || kind == Kind::C) {
        // The header moves with the data: System.realloc keeps the (base-relative) offset.
        let (Some(outer), Some(new_outer)) = (outer_layout(layout, shape), outer_layout(new_layout, shape)) else {
            return ptr::null_mut();
        };
        let off = offset(layout.align(), shape);
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
        // Over-aligned (System.realloc would not keep the alignment) or sited (its list links must not
        // move under the list): allocate, copy, free. The new block keeps the region and the site.
        let target = Target {
            tag,
            shard: local_shard(),
        };
        let inherit = if shape.sited {
            // SAFETY: a sited block's record sits right before its header.
            unsafe { user.sub(HEADER + SITE_BYTES).cast::<SiteRecord>().cast_const() }
        } else {
            ptr::null()
        };
        // SAFETY: valid layout; `inherit` is null or the live old block's record.
        let new = unsafe { alloc_block(new_layout, kind, target, false, inherit) };
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
        unsafe { alloc_block(layout, Kind::Rust, local(), false, ptr::null()) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { alloc_block(layout, Kind::Rust, local(), true, ptr::null()) }
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
        Ok(l) => unsafe { alloc_block(l, Kind::C, local(), false, ptr::null()).cast() },
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
        Some(Ok(l)) => unsafe { alloc_block(l, Kind::C, local(), true, ptr::null()).cast() },
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
    // SAFETY: `ptr` is ours per the contract (checked as far as it can be); its header holds the size it
    // was allocated with.
    unsafe {
        let h = c_header(ptr.cast(), "leaklab_realloc");
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
    // SAFETY: `ptr` is ours per the contract (checked as far as it can be).
    unsafe {
        let h = c_header(ptr.cast(), "leaklab_free");
        let layout = Layout::from_size_align_unchecked(h.size, C_ALIGN);
        free_block(ptr.cast(), layout, Kind::C, "leaklab_free");
    }
}

/// The header of a C block handed back to `what`, once its alignment and guard show it is one; aborts with a
/// clear message otherwise. C code passes whatever pointer it has, so the alignment is checked before the
/// header is read (a misaligned header would not even be a valid reference).
///
/// # Safety
/// If `ptr` is 16-byte aligned, the 16 bytes before it are readable.
unsafe fn c_header<'a>(ptr: *mut u8, what: &str) -> &'a mut Header {
    if !(ptr as usize).is_multiple_of(C_ALIGN) {
        abort_with(&["leaklab: ", what, " was given a pointer not allocated by leaklab"]);
    }
    // SAFETY: aligned, and readable per the contract; the guard is checked before anything else is trusted.
    let h = unsafe { header(ptr) };
    check_guard(h, Kind::C, what);
    h
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
    slot.sites.store(false, Ordering::Relaxed);
    let _ = slot
        .generation
        .compare_exchange(tag >> SLOT_BITS, 0, Ordering::AcqRel, Ordering::Relaxed);
}

/// The counts recorded for `tag`'s slot, summed over every shard (compare two readings for a delta).
pub(crate) fn slot_counts(tag: u32) -> Counts {
    sum_shards(tag, |_| true)
}

/// The counts recorded for `tag`'s slot by other threads than this one: frees of the region's blocks
/// elsewhere, allocations by threads that entered it. Unchanged while only this thread touches the region.
/// (A thread without a shard of its own shares one with others, so for it this is every count.)
pub(crate) fn slot_counts_elsewhere(tag: u32) -> Counts {
    let own = local_shard();
    sum_shards(tag, |shard| own.is_null() || !ptr::eq(shard, own))
}

fn sum_shards(tag: u32, include: impl Fn(&Shard) -> bool) -> Counts {
    let slot = (tag & SLOT_MASK) as usize;
    let mut total = Counts::default();
    for shard in SHARDS.iter().chain(std::iter::once(&SHARED)).filter(|s| include(s)) {
        let [rust, c] = &shard.counts[slot];
        total.blocks += rust.blocks.load(Ordering::Relaxed);
        total.bytes += rust.bytes.load(Ordering::Relaxed);
        total.c_blocks += c.blocks.load(Ordering::Relaxed);
        total.c_bytes += c.bytes.load(Ordering::Relaxed);
    }
    total
}

/// Turns allocation-site recording on or off for region `tag`'s new blocks, on every thread.
pub(crate) fn set_region_sites(tag: u32, on: bool) {
    slot_of(tag).sites.store(on, Ordering::Relaxed);
}

/// A sited block still allocated when its region ended, as read by [`collect_sites`].
#[derive(Clone, Debug)]
pub(crate) struct SiteBlock {
    /// User bytes.
    pub size: usize,
    /// Rust or C.
    pub kind: Kind,
    /// Return addresses of the allocating call stack, innermost first (0 = none).
    pub frames: [usize; SITE_FRAMES],
    /// The block's first two words (an `Rc`/`Arc` allocation starts with its strong and weak counts).
    pub head: [usize; 2],
    /// Indices (into the returned list) of the blocks whose address this block's words hold.
    pub points_to: Vec<usize>,
}

/// Takes the list of region `tag`'s sited blocks that are still allocated, reading each block's words to
/// find pointers into the others, and empties the list (later frees of those blocks leave it alone).
///
/// Blocks cannot be freed meanwhile: a sited block unlinks itself under the same lock before it is freed.
pub(crate) fn collect_sites(tag: u32) -> Vec<SiteBlock> {
    let slot = slot_of(tag);
    untracked(|| {
        let mut found: Vec<(usize, *mut SiteRecord)> = Vec::new();
        lock_sites(slot);
        let mut record = slot.sites_head.swap(ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: every record in the list belongs to a live block (invariant of link/unlink) and stays
        // live while the lock is held; user data starts SITE_BYTES + HEADER after the record.
        unsafe {
            while !record.is_null() {
                found.push(((record as usize) + SITE_BYTES + HEADER, record));
                (*record).linked.store(false, Ordering::Relaxed);
                record = (*record).next.load(Ordering::Relaxed);
            }
        }
        // Address-sorted, to find which block an address points into.
        found.sort_unstable_by_key(|&(addr, _)| addr);
        let mut blocks = Vec::with_capacity(found.len());
        for &(addr, record) in &found {
            // SAFETY: as above; the header precedes the user data.
            let (size, kind, frames) = unsafe {
                let h = header(addr as *mut u8);
                let kind = if h.guard == GUARD_C_SITED { Kind::C } else { Kind::Rust };
                (h.size, kind, (*record).frames)
            };
            // SAFETY: sited blocks are zero-filled at allocation, so all `size` bytes are initialised; the
            // block stays allocated while the lock is held. Reads are volatile because other threads may
            // still hold the block (a leak is, by definition, still reachable by someone).
            let word = |i: usize| unsafe { ptr::read_volatile((addr as *const usize).add(i)) };
            let words = size / std::mem::size_of::<usize>();
            let mut points_to = Vec::new();
            for i in 0..words {
                let v = word(i);
                let j = found.partition_point(|&(a, _)| a <= v);
                if j > 0 {
                    let target = j - 1;
                    // SAFETY: `found[target]` is a live sited block (see above).
                    let target_size = unsafe { header(found[target].0 as *mut u8).size };
                    if v < found[target].0 + target_size.max(1) {
                        points_to.push(target);
                    }
                }
            }
            // A table of many entries points to each once; a block may point to another many times.
            points_to.sort_unstable();
            points_to.dedup();
            let head = if words >= 2 { [word(0), word(1)] } else { [0, 0] };
            blocks.push(SiteBlock {
                size,
                kind,
                frames,
                head,
                points_to,
            });
        }
        unlock_sites(slot);
        blocks
    })
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
        assert!(
            outer_layout(
                huge,
                Shape {
                    kind: Kind::Rust,
                    sited: false
                }
            )
            .is_none()
        );
        assert!(
            outer_layout(
                huge,
                Shape {
                    kind: Kind::C,
                    sited: true
                }
            )
            .is_none()
        );
    }
}
