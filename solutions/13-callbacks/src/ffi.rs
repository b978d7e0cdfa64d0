//! The C functions of `c/bus.h`, declared for Rust as they are written there. Each is `unsafe` to call: the
//! comments in `c/bus.h` say what each needs and who owns what.

use std::ffi::{c_int, c_void};

// The C library calls `leaklab_malloc` and `leaklab_free`. Naming leaklab here makes it a dependency of this
// crate, so the linker always meets leaklab after the C code that needs it.
use leaklab as _;

/// The C library's event bus; Rust only ever holds a pointer to one.
#[repr(C)]
pub struct RawBus {
    _private: [u8; 0],
}

/// What the bus calls: the subscription's userdata and the emitted value.
pub type BusCallback = unsafe extern "C" fn(userdata: *mut c_void, value: i64);

unsafe extern "C" {
    /// A new bus with no subscriptions.
    pub fn bus_new() -> *mut RawBus;
    /// Subscribes `callback` with `userdata` to `event`; returns the subscription's id (> 0, never reused).
    pub fn bus_subscribe(b: *mut RawBus, event: c_int, callback: BusCallback, userdata: *mut c_void) -> c_int;
    /// Ends subscription `id`; returns its userdata, now the caller's to free, or null for an unknown id.
    pub fn bus_unsubscribe(b: *mut RawBus, id: c_int) -> *mut c_void;
    /// Calls every callback subscribed to `event`, in order, with `value`; returns how many.
    pub fn bus_emit(b: *mut RawBus, event: c_int, value: i64) -> c_int;
    /// Frees the bus and its subscriptions, calling `release` (when not null) on each remaining userdata.
    pub fn bus_free(b: *mut RawBus, release: Option<unsafe extern "C" fn(userdata: *mut c_void)>);
}
