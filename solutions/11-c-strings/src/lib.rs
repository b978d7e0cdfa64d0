//! A safe Rust wrapper around a small C dictionary of strings (`c/dict.h`), of the kind you find in
//! configuration and plugin libraries.
//!
//! Strings cross the boundary in both directions. Values go from Rust into the dictionary, which keeps the
//! very pointers it is given and hands them back when they come out. And `dict_dump` returns a string that
//! the C library allocated with its own allocator. Read `c/dict.h`: every function says who owns what.
//!
//! `build.rs` compiles the C code in `c/` with the `cc` crate, so building this crate needs a C compiler (gcc or
//! clang).
//!
//! This is the fixed version: values that come back from the dictionary return to `CString::from_raw`, which
//! frees them, and the dump goes back to the C library's `dict_string_free`.

use std::ffi::{CStr, CString, c_char};
use std::ptr::NonNull;

pub mod ffi;

/// A dictionary from string keys to string values, kept in key order by the C library.
pub struct Dict {
    raw: NonNull<ffi::RawDict>,
}

/// `s` as a C string. Panics on a NUL byte, which a C string cannot hold.
fn c_string(s: &str) -> CString {
    CString::new(s).expect("keys and values must not contain NUL bytes")
}

// ANCHOR: fix
/// A copy of the C string at `ptr`, or `None` for null. The string itself stays with its owner.
///
/// # Safety
/// `ptr` is null or points to a NUL-terminated string that stays valid during the call.
unsafe fn copy_string(ptr: *const c_char) -> Option<String> {
    // SAFETY: the caller passes null or a valid C string.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
}

/// Takes back a value this wrapper gave the dictionary, or `None` for null.
///
/// # Safety
/// `ptr` is null or a value made by `CString::into_raw` in [`Dict::insert`] that the dictionary gave back.
unsafe fn take_value(ptr: *mut c_char) -> Option<String> {
    // SAFETY: the caller passes null or a pointer from `CString::into_raw` that nothing else owns any more.
    (!ptr.is_null()).then(|| {
        unsafe { CString::from_raw(ptr) }
            .into_string()
            .expect("values are made from a `&str`")
    })
}

impl Dict {
    /// Stores `value` under `key`, and returns the value that was there before.
    pub fn insert(&mut self, key: &str, value: &str) -> Option<String> {
        let value = CString::new(value)
            .expect("values must not contain NUL bytes")
            .into_raw();
        // SAFETY: `raw` is live; the key is copied by the call; the dict takes ownership of `value`, and gives
        // back the old value, which `insert` made the same way.
        unsafe { take_value(ffi::dict_put(self.raw.as_ptr(), c_string(key).as_ptr(), value)) }
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        // SAFETY: `raw` is live; the returned pointer is null or a value `insert` put in, now ours again.
        unsafe { take_value(ffi::dict_take(self.raw.as_ptr(), c_string(key).as_ptr())) }
    }

    /// The whole dictionary as `key=value` lines, in key order.
    pub fn dump(&self) -> String {
        // SAFETY: `raw` is live; `dict_dump` returns a new C string, which we copy and then give back to the C
        // library, the only one that may free it.
        unsafe {
            let dumped = ffi::dict_dump(self.raw.as_ptr());
            let text = copy_string(dumped).expect("dict_dump never returns null");
            ffi::dict_string_free(dumped);
            text
        }
    }
}
// ANCHOR_END: fix

impl Dict {
    /// An empty dictionary.
    pub fn new() -> Self {
        // SAFETY: `dict_new` has no preconditions; it aborts rather than return null.
        let raw = NonNull::new(unsafe { ffi::dict_new() }).expect("dict_new never returns null");
        Dict { raw }
    }

    /// A copy of the value stored under `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        // SAFETY: `raw` is live; the dict keeps owning the value, which we copy before anything changes it.
        unsafe { copy_string(ffi::dict_get(self.raw.as_ptr(), c_string(key).as_ptr())) }
    }

    /// How many keys the dictionary holds.
    pub fn len(&self) -> usize {
        // SAFETY: `raw` is live.
        unsafe { ffi::dict_len(self.raw.as_ptr()) }
    }

    /// True when the dictionary holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for Dict {
    fn default() -> Self {
        Self::new()
    }
}

/// Given to `dict_free` to free the values still in the dictionary: they all came from `CString::into_raw`.
unsafe extern "C" fn free_value(value: *mut c_char) {
    // SAFETY: every value in the dict was made by `CString::into_raw` in `insert`, and the dict gives it up.
    drop(unsafe { CString::from_raw(value) });
}

impl Drop for Dict {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and never used again; `free_value` matches how the values were made.
        unsafe { ffi::dict_free(self.raw.as_ptr(), free_value) }
    }
}
