//! "Handles that close themselves: OwnedFd": a descriptor number handed over by someone else is wrapped
//! in an owning type at once.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

// ANCHOR: adopt
/// Takes ownership of a descriptor that arrived as a bare number (from C, a parent process, a socket
/// activation protocol…). From here on, dropping the `OwnedFd` closes it.
///
/// # Safety
/// `raw` must be an open descriptor that nothing else owns or will close.
pub unsafe fn adopt(raw: RawFd) -> OwnedFd {
    // SAFETY: the caller promises that `raw` is open and that we are its only owner.
    unsafe { OwnedFd::from_raw_fd(raw) }
}
// ANCHOR_END: adopt

// ANCHOR: borrow
/// Reads everything from a descriptor the caller keeps owning: a `BorrowedFd` cannot close it.
pub fn read_all(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    let mut file = File::from(fd.try_clone_to_owned()?); // our own duplicate, closed when `file` drops
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a file through an `OwnedFd`, lending it out as a `BorrowedFd`.
pub fn read_owned(owned: &OwnedFd) -> io::Result<Vec<u8>> {
    read_all(owned.as_fd())
}
// ANCHOR_END: borrow
