//! The C functions of `c/dict.h`, declared for Rust as they are written there. Each is `unsafe` to call:
//! the comments in `c/dict.h` say what each needs and who owns what it returns.

use std::ffi::c_char;

// The C library calls `leaklab_malloc` and `leaklab_free`. Naming leaklab here makes it a dependency of this
// crate, so the linker always meets leaklab after the C code that needs it.
use leaklab as _;

/// The C library's dictionary; Rust only ever holds a pointer to one.
#[repr(C)]
pub struct RawDict {
    _private: [u8; 0],
}

unsafe extern "C" {
    /// A new, empty dictionary.
    pub fn dict_new() -> *mut RawDict;
    /// Stores `value` under `key` (the dict copies `key` and keeps `value`); returns the old value, now the
    /// caller's, or null.
    pub fn dict_put(d: *mut RawDict, key: *const c_char, value: *mut c_char) -> *mut c_char;
    /// Removes `key`; returns its value, now the caller's, or null.
    pub fn dict_take(d: *mut RawDict, key: *const c_char) -> *mut c_char;
    /// The value under `key`, still the dict's, or null.
    pub fn dict_get(d: *const RawDict, key: *const c_char) -> *const c_char;
    /// How many keys.
    pub fn dict_len(d: *const RawDict) -> usize;
    /// A new C string of `key=value` lines, to be freed with [`dict_string_free`].
    pub fn dict_dump(d: *const RawDict) -> *mut c_char;
    /// Frees a string made by [`dict_dump`].
    pub fn dict_string_free(s: *mut c_char);
    /// Frees the dictionary and its keys, calling `free_value` on every value still in it.
    pub fn dict_free(d: *mut RawDict, free_value: unsafe extern "C" fn(*mut c_char));
}
