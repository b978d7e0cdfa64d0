//! A second opinion from valgrind: when the process runs under valgrind's memcheck, leaklab asks it for the
//! whole heap's block and byte counts as a region begins and ends, and the report carries the difference
//! ([`HeapDelta`]) next to leaklab's own count. `scripts/oracle.sh` compares the two.
//!
//! The question goes through valgrind's client-request mechanism (documented in `valgrind.h`): a sequence of
//! instructions that does nothing on a real CPU and that valgrind's JIT recognises. Natively each request is
//! a handful of register operations and answers its default, so this costs nothing outside valgrind.
//! Only x86-64 Linux is implemented; elsewhere [`heap`] always answers `None`.

use serde::{Deserialize, Serialize};

/// What valgrind saw change on the whole heap while a region ran: blocks and bytes allocated and not
/// freed, by any thread, in blocks leaklab allocated before the region too. Bytes are the sizes leaklab
/// asked the system for, so they include leaklab's 16-byte headers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapDelta {
    /// Change in the number of heap blocks.
    pub blocks: i64,
    /// Change in heap bytes.
    pub bytes: i64,
}

/// The heap's blocks and bytes at one moment, as counted by memcheck.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Heap {
    blocks: u64,
    bytes: u64,
}

impl std::ops::Sub for Heap {
    type Output = HeapDelta;
    fn sub(self, before: Heap) -> HeapDelta {
        HeapDelta {
            blocks: self.blocks as i64 - before.blocks as i64,
            bytes: self.bytes as i64 - before.bytes as i64,
        }
    }
}

/// `VG_USERREQ__RUNNING_ON_VALGRIND`.
const RUNNING_ON_VALGRIND: usize = 0x1001;
/// Memcheck's requests start at `('M' << 24) | ('C' << 16)`.
const MEMCHECK: usize = (b'M' as usize) << 24 | (b'C' as usize) << 16;
const DO_LEAK_CHECK: usize = MEMCHECK + 6;
const COUNT_LEAKS: usize = MEMCHECK + 7;
const COUNT_LEAK_BLOCKS: usize = MEMCHECK + 12;

/// Sends a client request to valgrind and returns its answer, or `default` on a real CPU.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn request(default: usize, args: [usize; 6]) -> usize {
    let answer;
    // SAFETY: the amd64 client-request sequence: four rotations of rdi that add up to 128 bits (so rdi is
    // unchanged) and `xchg rbx, rbx` (a no-op); rax points at the six words of `args`, which live across the
    // asm. On a real CPU only rdx changes, to `default`. Under valgrind, the requests used here write only
    // through the pointers in `args` (to this function's caller's locals), hence no `nomem`.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") default => answer,
            in("rax") args.as_ptr(),
            inout("rdi") 0usize => _,
            options(nostack),
        );
    }
    answer
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn request(default: usize, _args: [usize; 6]) -> usize {
    default
}

/// Whether this process runs under valgrind.
pub(crate) fn running() -> bool {
    request(0, [RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0]) != 0
}

/// The whole heap as memcheck counts it right now (a summary leak check, which valgrind logs), or `None`
/// when not running under valgrind.
pub(crate) fn heap() -> Option<Heap> {
    if !running() {
        return None;
    }
    // Like VALGRIND_DO_QUICK_LEAK_CHECK: a summary-only search.
    request(0, [DO_LEAK_CHECK, 1, 0, 0, 0, 0]);
    let total = |code: usize| {
        // Definitely and indirectly lost, possibly lost, still reachable, suppressed.
        let mut counts = [0usize; 4];
        let first = counts.as_mut_ptr();
        let at = |i: usize| first.wrapping_add(i).expose_provenance();
        let args = [code, at(0), at(1), at(2), at(3), 0];
        request(0, args);
        counts.iter().sum::<usize>() as u64
    };
    Some(Heap {
        bytes: total(COUNT_LEAKS),
        blocks: total(COUNT_LEAK_BLOCKS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natively_the_requests_answer_their_default() {
        // Under valgrind itself (`valgrind cargo test`) this would differ, which is the point of it.
        if running() {
            return;
        }
        assert_eq!(request(42, [RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0]), 42);
        assert_eq!(heap(), None);
    }
}
