//! "Leaks in safe Rust": four ways to leak without writing `unsafe`.

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::fd::{IntoRawFd, RawFd};
use std::path::Path;
use std::rc::Rc;

// ANCHOR: forget
/// Forgets a buffer: its destructor never runs, so its 1 KiB are never freed.
pub fn forget_a_buffer() {
    let buffer = vec![0u8; 1024];
    std::mem::forget(buffer); // allowed in safe code: only the freeing is skipped
}
// ANCHOR_END: forget

// ANCHOR: leak
/// Builds a greeting and leaks it on purpose, to hand out a `&'static str`.
pub fn greeting(name: &str) -> &'static str {
    Box::leak(format!("hello, {name}").into_boxed_str())
}
// ANCHOR_END: leak

// ANCHOR: cycle
/// A person who may have a friend.
pub struct Person {
    /// The person's name.
    pub name: String,
    /// Their friend, if any: an owning (strong) reference.
    pub friend: RefCell<Option<Rc<Person>>>,
}

/// Makes two people each other's friend, then lets go of both.
pub fn befriend() {
    let ada = Rc::new(Person {
        name: "Ada".into(),
        friend: RefCell::new(None),
    });
    let bob = Rc::new(Person {
        name: "Bob".into(),
        friend: RefCell::new(None),
    });
    *ada.friend.borrow_mut() = Some(Rc::clone(&bob));
    *bob.friend.borrow_mut() = Some(Rc::clone(&ada));
} // `ada` and `bob` are dropped here, but each `Rc` still has a strong count of 1: its friend
// ANCHOR_END: cycle

// ANCHOR: handle
/// Opens a file and keeps only the number of its descriptor: nothing owns it, nothing will close it.
pub fn open_descriptor(path: &Path) -> io::Result<RawFd> {
    let file = File::open(path)?;
    Ok(file.into_raw_fd())
}
// ANCHOR_END: handle
