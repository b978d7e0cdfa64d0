//! The current call stack's return addresses, captured without allocating, for allocation sites.
//!
//! Two ways, chosen when leaklab is compiled:
//!
//! - **Frame pointers** (`cfg(leaklab_frame_pointers)`: x86-64 Linux, when leaklab's build script finds
//!   `-C force-frame-pointers` in the flags cargo compiles with, as this workspace's `.cargo/config.toml`
//!   sets). Every function that calls
//!   another then keeps its caller's frame pointer and its return address side by side on the stack, so the
//!   walk is two loads per frame, each checked to lie on this thread's stack. The standard library ships
//!   with frame pointers in all its non-leaf functions, so the chain also runs through `std`.
//! - **The DWARF unwinder** (`_Unwind_Backtrace`, through the `backtrace` crate) everywhere else. It needs
//!   no build flag but reads unwind tables at every frame: 1.5–4 µs for a 24-frame stack on the machines
//!   measured in docs/BENCHMARKS.md.
//!
//! Both give the same return addresses; with frame pointers a sited allocation is about 30 times quicker.
//! If the frame-pointer walk cannot start (no stack bounds for this thread, or running on another stack such
//! as a signal stack), the DWARF unwinder is used for that capture.

/// Fills `frames` with return addresses of the current call stack, innermost first; returns how many.
#[inline(never)]
pub(crate) fn capture(frames: &mut [usize]) -> usize {
    #[cfg(leaklab_frame_pointers)]
    if let Some(n) = frame_pointers::walk(frames).filter(|&n| n > 0) {
        return n;
    }
    dwarf(frames)
}

/// [`capture`] with the DWARF unwinder. Anything it allocates (it should not) is not attributed.
fn dwarf(frames: &mut [usize]) -> usize {
    if frames.is_empty() {
        return 0;
    }
    let mut n = 0;
    crate::alloc::untracked(|| {
        // SAFETY: on the platforms leaklab supports (Linux, via _Unwind_Backtrace) the unwinder is
        // thread-safe and does not call back into this allocator; the closure does not panic (n <
        // frames.len() holds at every call, as the walk stops when the closure returns false).
        unsafe {
            backtrace::trace_unsynchronized(|frame| {
                frames[n] = frame.ip() as usize;
                n += 1;
                n < frames.len()
            })
        }
    });
    n
}

/// Whether [`capture`] walks frame pointers in this build.
pub(crate) const fn uses_frame_pointers() -> bool {
    cfg!(leaklab_frame_pointers)
}

#[cfg(leaklab_frame_pointers)]
mod frame_pointers {
    use std::cell::Cell;
    use std::mem::MaybeUninit;
    use std::ptr;

    thread_local! {
        /// This thread's stack as (lowest, one past highest) address: (0, 0) until it is looked up, (1, 0)
        /// if it could not be.
        static STACK: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    }

    /// This thread's stack bounds, looked up once per thread.
    fn stack_bounds() -> Option<(usize, usize)> {
        let mut bounds = STACK.try_with(Cell::get).ok()?;
        if bounds == (0, 0) {
            bounds = look_up().unwrap_or((1, 0));
            let _ = STACK.try_with(|s| s.set(bounds));
        }
        (bounds.0 < bounds.1).then_some(bounds)
    }

    /// Asks the C library where this thread's stack is. glibc may allocate here (for the main thread it
    /// reads `/proc/self/maps`), but with its own `malloc`, never through leaklab.
    fn look_up() -> Option<(usize, usize)> {
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        // SAFETY: `pthread_getattr_np` initialises `attr` when it returns 0, and only then is it read and
        // destroyed; `addr` and `size` are valid for writes.
        unsafe {
            if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
                return None;
            }
            let mut addr = ptr::null_mut();
            let mut size = 0;
            let found = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size) == 0;
            libc::pthread_attr_destroy(attr.as_mut_ptr());
            let low = addr as usize;
            (found && size > 0).then(|| (low, low.saturating_add(size)))
        }
    }

    /// Follows the saved frame pointers from this function's frame outwards. `None` when this thread's
    /// stack is unknown or the code runs elsewhere (a signal stack, a coroutine's stack).
    #[inline(never)]
    pub(super) fn walk(frames: &mut [usize]) -> Option<usize> {
        let (low, high) = stack_bounds()?;
        let mut fp: usize;
        // SAFETY: copies the frame-pointer register into a variable; touches no memory and no flags.
        unsafe { std::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags)) };
        // The address of a local of this frame: at or above the stack pointer, so every frame the walk
        // may read lies between it and `high`. (A local of its own, so that `fp` can stay in a register.)
        let marker = 0u8;
        let here = ptr::addr_of!(marker) as usize;
        if !(low..high).contains(&here) {
            return None;
        }
        let mut n = 0;
        while n < frames.len() && fp >= here && fp.is_multiple_of(8) && fp <= high - 16 {
            // SAFETY: the two words at `fp` lie on this thread's stack, between this frame and the stack's
            // top: mapped, readable memory that stays put while this thread runs here. They are read as
            // plain integers (a saved frame pointer and a return address); nothing is dereferenced
            // without the same check.
            let (next, ip) = unsafe {
                (
                    ptr::read_volatile(fp as *const usize),
                    ptr::read_volatile((fp + 8) as *const usize),
                )
            };
            if ip == 0 {
                break;
            }
            frames[n] = ip;
            n += 1;
            // Frames grow downwards: each caller's frame is above its callee's. Anything else is the end of
            // the chain (the thread's first frame saves 0) or a frame built without a frame pointer.
            if next <= fp {
                break;
            }
            fp = next;
        }
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recurses `depth` times, then captures the stack both ways from the same frame.
    #[inline(never)]
    fn both(depth: usize, fast: &mut [usize], slow: &mut [usize]) -> (usize, usize) {
        if depth == 0 {
            (capture(fast), dwarf(slow))
        } else {
            let counts = both(depth - 1, fast, slow);
            std::hint::black_box(counts)
        }
    }

    #[test]
    fn both_ways_see_the_same_callers() {
        let (mut fast, mut slow) = ([0; 32], [0; 32]);
        let (n, m) = both(8, &mut fast, &mut slow);
        let (fast, slow) = (&fast[..n], &slow[..m]);
        // The innermost frames differ (each way's own functions, and the two calls in the innermost `both`);
        // from the first return address both saw, the callers must be the same: eight recursive calls of
        // `both`, this test, and the harness that called it.
        let i = fast.iter().position(|ip| slow.contains(ip));
        let i = i.unwrap_or_else(|| panic!("no common frame:\n{fast:x?}\n{slow:x?}"));
        let j = slow.iter().position(|&ip| ip == fast[i]).expect("found above");
        let k = (n - i).min(m - j);
        assert!(k >= 9, "only {k} common frames:\n{fast:x?}\n{slow:x?}");
        assert_eq!(fast[i..i + k], slow[j..j + k]);
    }
}
