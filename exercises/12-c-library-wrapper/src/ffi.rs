//! The C functions of `c/archive.h`, declared for Rust as they are written there. Each is `unsafe` to call:
//! the comments in `c/archive.h` say what each needs and who owns what.

use std::ffi::{c_char, c_int};

// The C library calls `leaklab_malloc` and `leaklab_free`. Naming leaklab here makes it a dependency of this
// crate, so the linker always meets leaklab after the C code that needs it.
use leaklab as _;

/// The C library's archive handle; Rust only ever holds a pointer to one.
#[repr(C)]
pub struct RawArchive {
    _private: [u8; 0],
}

/// An entry was read.
pub const ARCHIVE_OK: c_int = 0;
/// No more entries.
pub const ARCHIVE_END: c_int = 1;
/// The bytes do not start with `LLA1`.
pub const ARCHIVE_BAD_MAGIC: c_int = -1;
/// The bytes end in the middle of an entry.
pub const ARCHIVE_TRUNCATED: c_int = -2;

unsafe extern "C" {
    /// Opens the archive in `len` bytes at `data` (copied). Null, with `*status` set to [`ARCHIVE_BAD_MAGIC`],
    /// when the bytes are not an archive; otherwise a handle that must be given to [`archive_close`] once.
    pub fn archive_open(data: *const u8, len: usize, status: *mut c_int) -> *mut RawArchive;
    /// Reads the next entry: [`ARCHIVE_OK`] (with `*name`, `*data`, `*len` valid until the next call or
    /// [`archive_close`]), [`ARCHIVE_END`] or [`ARCHIVE_TRUNCATED`].
    pub fn archive_next(a: *mut RawArchive, name: *mut *const c_char, data: *mut *const u8, len: *mut usize) -> c_int;
    /// Frees the handle and its buffers. Null is ignored.
    pub fn archive_close(a: *mut RawArchive);
}
