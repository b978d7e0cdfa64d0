//! The observer pattern: a [`Subject`] publishes values, and every [`Observer`] subscribed to it is told.
//!
//! The subject keeps its subscribers in a list. Each observer keeps a link back to its subject: when it is
//! notified it reads the subject's latest value through that link, and it uses the same link to
//! unsubscribe itself.
//!
//! This is the fixed version: an observer links back to its subject with a `Weak`, which does not keep the
//! subject alive, so a subject and its observers no longer keep each other alive.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// Something worth watching: a value that changes, and the observers to tell when it does.
pub struct Subject {
    latest: Cell<Option<i32>>,
    observers: RefCell<Vec<Rc<Observer>>>,
}

impl Subject {
    /// A subject with no value yet and no observers.
    pub fn new() -> Rc<Subject> {
        Rc::new(Subject {
            latest: Cell::new(None),
            observers: RefCell::new(Vec::new()),
        })
    }

    /// Subscribes a new observer and returns it. It is told about every value published from now on.
    pub fn subscribe(self: &Rc<Self>) -> Rc<Observer> {
        let observer = Observer::new(self);
        self.observers.borrow_mut().push(Rc::clone(&observer));
        observer
    }

    /// Makes `value` the latest value and notifies every subscribed observer, oldest first.
    pub fn publish(&self, value: i32) {
        self.latest.set(Some(value));
        for observer in self.observers.borrow().iter() {
            observer.notify();
        }
    }

    /// The value published last, if any.
    pub fn latest(&self) -> Option<i32> {
        self.latest.get()
    }

    /// How many observers are subscribed.
    pub fn observer_count(&self) -> usize {
        self.observers.borrow().len()
    }
}

// ANCHOR: fix
/// A subscriber to a [`Subject`]: it remembers every value it was told about.
pub struct Observer {
    /// Weak: the subject owns its subscribers, not the other way round.
    subject: Weak<Subject>,
    seen: RefCell<Vec<i32>>,
}

impl Observer {
    /// A new observer of `subject` (the subject does not list it yet).
    fn new(subject: &Rc<Subject>) -> Rc<Observer> {
        Rc::new(Observer {
            subject: Rc::downgrade(subject),
            seen: RefCell::new(Vec::new()),
        })
    }

    /// Called by the subject after it publishes: reads the subject's latest value and remembers it.
    fn notify(&self) {
        // The subject is alive while it publishes, so the upgrade succeeds.
        let latest = self.subject.upgrade().and_then(|subject| subject.latest());
        if let Some(value) = latest {
            self.seen.borrow_mut().push(value);
        }
    }

    /// Stops being told about new values. Unsubscribing again does nothing.
    pub fn unsubscribe(&self) {
        // If the subject is gone, there is no list to leave.
        if let Some(subject) = self.subject.upgrade() {
            subject.observers.borrow_mut().retain(|o| !std::ptr::eq(&**o, self));
        }
    }

    /// Every value this observer was told about, oldest first.
    pub fn seen(&self) -> Vec<i32> {
        self.seen.borrow().clone()
    }
}
// ANCHOR_END: fix
