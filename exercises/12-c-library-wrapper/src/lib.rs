//! A Rust wrapper around a small C library that reads archives (`c/archive.h`), the shape of tar or zip.
//!
//! [`Archive::open`] hands the bytes to the C library, which copies them into a handle that owns C buffers;
//! [`Archive::next_entry`] reads the entries one by one; [`Archive::close`] gives the handle back. [`list`]
//! and [`extract`] are the everyday functions built on them.
//!
//! `build.rs` compiles the C code in `c/` with the `cc` crate, so building this crate needs a C compiler (gcc or
//! clang).
//!
//! The tests say archives leak. Find out why and fix it, without changing what the functions return.

use std::ffi::{CStr, c_int};
use std::ptr::{self, NonNull};

pub mod ffi;

/// One file stored in an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name.
    pub name: String,
    /// Its contents.
    pub data: Vec<u8>,
}

/// Why an archive could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The bytes are not an archive.
    BadMagic,
    /// The bytes end in the middle of an entry.
    Truncated,
    /// [`extract`] found no entry with that name.
    NotFound,
}

// ANCHOR: fix
/// An open archive: a handle of the C library, which owns the C library's buffers.
pub struct Archive {
    raw: NonNull<ffi::RawArchive>,
}

impl Archive {
    /// Opens the archive in `bytes`. Call [`close`](Self::close) when you are done with it.
    pub fn open(bytes: &[u8]) -> Result<Archive, Error> {
        let mut status = ffi::ARCHIVE_OK;
        // SAFETY: `bytes` is `len` readable bytes, which the C library copies; `status` is valid for writes.
        let raw = unsafe { ffi::archive_open(bytes.as_ptr(), bytes.len(), &mut status) };
        NonNull::new(raw).map(|raw| Archive { raw }).ok_or(Error::BadMagic)
    }

    /// Gives the handle and its buffers back to the C library.
    pub fn close(self) {
        // SAFETY: `raw` came from `archive_open` and is closed once: `close` takes `self` by value.
        unsafe { ffi::archive_close(self.raw.as_ptr()) }
    }
}
// ANCHOR_END: fix

impl Archive {
    /// The next entry, or `None` after the last one.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, Error> {
        let (mut name, mut data, mut len): (*const std::ffi::c_char, *const u8, usize) = (ptr::null(), ptr::null(), 0);
        // SAFETY: `raw` is an open handle; the three out-pointers are valid for writes.
        let status: c_int = unsafe { ffi::archive_next(self.raw.as_ptr(), &mut name, &mut data, &mut len) };
        match status {
            ffi::ARCHIVE_OK => Ok(Some(Entry {
                // SAFETY: on ARCHIVE_OK, `name` is a C string and `data` holds `len` bytes, both owned by the
                // handle and valid until the next call; we copy them now.
                name: unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned(),
                // SAFETY: as above.
                data: unsafe { std::slice::from_raw_parts(data, len) }.to_vec(),
            })),
            ffi::ARCHIVE_END => Ok(None),
            _ => Err(Error::Truncated),
        }
    }
}

/// The names of the entries in the archive `bytes`, in order.
pub fn list(bytes: &[u8]) -> Result<Vec<String>, Error> {
    let mut archive = Archive::open(bytes)?;
    let mut names = Vec::new();
    while let Some(entry) = archive.next_entry()? {
        names.push(entry.name);
    }
    archive.close();
    Ok(names)
}

/// The contents of the first entry called `name` in the archive `bytes`.
pub fn extract(bytes: &[u8], name: &str) -> Result<Vec<u8>, Error> {
    let mut archive = Archive::open(bytes)?;
    while let Some(entry) = archive.next_entry()? {
        if entry.name == name {
            return Ok(entry.data);
        }
    }
    archive.close();
    Err(Error::NotFound)
}
