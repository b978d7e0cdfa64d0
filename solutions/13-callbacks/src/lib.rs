//! A Rust wrapper around a C event bus (`c/bus.h`): subscribe Rust closures to events, emit events, and
//! unsubscribe.
//!
//! C callbacks take a `void *userdata` instead of a closure. The wrapper boxes each closure, hands the bus
//! a raw pointer to it as userdata, and registers one `extern "C"` function, `call`, that turns the
//! userdata back into the closure and calls it.
//!
//! `build.rs` compiles the C code in `c/` with the `cc` crate, so building this crate needs a C compiler (gcc or
//! clang).
//!
//! This is the fixed version: the closure behind each userdata is taken back with `Box::from_raw` when its
//! subscription ends, by `unsubscribe`, or by `bus_free` through the `release` function `Drop` gives it.

use std::ffi::c_void;
use std::ptr::NonNull;

pub mod ffi;

/// A subscribed closure, as the bus's userdata points to it. `Box<dyn FnMut>` is a fat pointer (data and
/// vtable), too wide for a `void *`, so userdata points to this `Box`, which is boxed once more.
type Callback = Box<dyn FnMut(i64)>;

/// Names one subscription, to end it with [`Bus::unsubscribe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubscriptionId(i32);

/// An event bus: closures subscribed to event numbers, called when those events are emitted.
pub struct Bus {
    raw: NonNull<ffi::RawBus>,
}

/// The one function the bus calls for every Rust subscription: it calls the closure behind `userdata`.
///
/// # Safety
/// `userdata` is the `*mut Callback` given to `bus_subscribe`, not yet freed. A panic in the closure cannot
/// unwind through C: it aborts the process.
unsafe extern "C" fn call(userdata: *mut c_void, value: i64) {
    // SAFETY: the bus passes back the userdata we subscribed with: a live, unaliased `*mut Callback`.
    let callback = unsafe { &mut *userdata.cast::<Callback>() };
    callback(value);
}

impl Bus {
    /// A bus with no subscriptions.
    pub fn new() -> Self {
        // SAFETY: `bus_new` has no preconditions; it aborts rather than return null.
        let raw = NonNull::new(unsafe { ffi::bus_new() }).expect("bus_new never returns null");
        Bus { raw }
    }

    /// Subscribes `callback` to `event`: it is called with the value of every later [`emit`](Self::emit)
    /// of that event, until it is unsubscribed.
    pub fn subscribe(&mut self, event: i32, callback: impl FnMut(i64) + 'static) -> SubscriptionId {
        let callback: Callback = Box::new(callback);
        let userdata = Box::into_raw(Box::new(callback));
        // SAFETY: `raw` is live; `call` expects exactly this userdata, a `*mut Callback`.
        SubscriptionId(unsafe { ffi::bus_subscribe(self.raw.as_ptr(), event, call, userdata.cast()) })
    }

    /// Calls the callbacks subscribed to `event`, in the order they subscribed, with `value`. Returns how many
    /// it called.
    pub fn emit(&mut self, event: i32, value: i64) -> usize {
        // SAFETY: `raw` is live, and `&mut self` keeps the callbacks from reaching the bus while they run.
        let called = unsafe { ffi::bus_emit(self.raw.as_ptr(), event, value) };
        called.try_into().expect("bus_emit counts from zero")
    }

    // ANCHOR: fix
    /// Ends a subscription. Returns false when it had already ended.
    pub fn unsubscribe(&mut self, id: SubscriptionId) -> bool {
        // SAFETY: `raw` is live; the bus removes the subscription and gives its userdata back to us.
        let userdata = unsafe { ffi::bus_unsubscribe(self.raw.as_ptr(), id.0) };
        if userdata.is_null() {
            return false;
        }
        // SAFETY: the userdata came from `subscribe`, and the bus will never pass it to `call` again.
        unsafe { release(userdata) };
        true
    }
}

/// Frees the closure of a subscription that has ended.
///
/// # Safety
/// `userdata` is the `*mut Callback` that [`Bus::subscribe`] made with `Box::into_raw`, and nothing uses it
/// any more.
unsafe extern "C" fn release(userdata: *mut c_void) {
    // SAFETY: the caller passes a pointer from `Box::into_raw` that nothing else uses. It is taken back as the
    // type it was boxed as, `Callback`, so the right `Drop` runs: the closure's, then both boxes'.
    drop(unsafe { Box::from_raw(userdata.cast::<Callback>()) });
}

impl Drop for Bus {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and never used again; `release` frees each closure still subscribed.
        unsafe { ffi::bus_free(self.raw.as_ptr(), Some(release)) }
    }
}
// ANCHOR_END: fix

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}
