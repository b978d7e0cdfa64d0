//! A reference design for `cargo bench -p leaklab-peers`, not a leak detector: `System` plus a 16-byte header
//! written at allocation and checked at free, without any counting. It is the floor of any header-based
//! design such as leaklab's, so leaklab's time minus this one's is what its per-region counting costs.

use std::alloc::{GlobalAlloc, Layout, System};

const HEADER: usize = 16;
const GUARD: usize = 0x1EA4_0001;

struct HeaderOnly;

/// The layout passed to System, and the user pointer's offset in it.
fn outer(layout: Layout) -> Option<(Layout, usize)> {
    let offset = layout.align().max(HEADER);
    let outer = Layout::from_size_align(layout.size().checked_add(offset)?, offset).ok()?;
    Some((outer, offset))
}

// SAFETY: every block is a System block of `outer(layout)` with the user pointer `offset` bytes in, which keeps
// the caller's alignment (offset is a multiple of it) and leaves room for the header; dealloc reverses it.
unsafe impl GlobalAlloc for HeaderOnly {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((outer, offset)) = outer(layout) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `outer` has a non-zero size (it includes the header).
        let base = unsafe { System.alloc(outer) };
        if base.is_null() {
            return base;
        }
        // SAFETY: the user pointer and the 16-byte, 16-aligned header before it lie inside the new block.
        unsafe {
            let user = base.add(offset);
            user.sub(HEADER).cast::<[usize; 2]>().write([layout.size(), GUARD]);
            user
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout (GlobalAlloc contract), so its header is live and
        // `outer(layout)` is what was passed to System.
        unsafe {
            let header = ptr.sub(HEADER).cast::<[usize; 2]>();
            if (*header)[1] != GUARD {
                std::process::abort();
            }
            (*header)[1] = 0;
            let (outer, offset) = outer(layout).unwrap_unchecked();
            System.dealloc(ptr.sub(offset), outer);
        }
    }
}

#[global_allocator]
static GLOBAL: HeaderOnly = HeaderOnly;

fn main() {
    leaklab_peers::child(&leaklab_peers::NoDetector);
}
