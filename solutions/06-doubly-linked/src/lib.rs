//! A doubly linked list: each node links forward to the next node and back to the previous one, so the
//! list can be pushed, popped and walked from either end.
//!
//! This is the fixed version: a node links back to the previous node with a `Weak`, which does not keep
//! it alive, so neighbours no longer keep each other alive and dropping the list frees every node.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// A node shared by everything that points at it: the list's ends and the neighbouring nodes.
type Link<T> = Rc<RefCell<Node<T>>>;

/// A double-ended queue of `T`s, made of linked nodes.
pub struct List<T> {
    head: Option<Link<T>>,
    tail: Option<Link<T>>,
}

// ANCHOR: fix
/// One value, and the links to the nodes on either side of it.
struct Node<T> {
    value: T,
    next: Option<Link<T>>,
    /// Weak: a node is owned by the link before it (or the list's head), never by the node after it.
    prev: Option<Weak<RefCell<Node<T>>>>,
}

impl<T> Node<T> {
    /// A new node holding `value`, linked back to `prev` and forward to `next`.
    fn new(value: T, prev: Option<&Link<T>>, next: Option<Link<T>>) -> Link<T> {
        let prev = prev.map(Rc::downgrade);
        Rc::new(RefCell::new(Node { value, next, prev }))
    }

    /// The node before this one, if any.
    fn prev(&self) -> Option<Link<T>> {
        // While this node is in the list, so is the one before it, and the upgrade succeeds.
        self.prev.as_ref().and_then(Weak::upgrade)
    }

    /// Links this node back to `prev`, or to nothing.
    fn set_prev(&mut self, prev: Option<&Link<T>>) {
        self.prev = prev.map(Rc::downgrade);
    }
}
// ANCHOR_END: fix

impl<T> List<T> {
    /// An empty list.
    pub fn new() -> Self {
        List { head: None, tail: None }
    }

    /// Adds `value` at the front.
    pub fn push_front(&mut self, value: T) {
        let node = Node::new(value, None, self.head.clone());
        match self.head.replace(Rc::clone(&node)) {
            Some(old_head) => old_head.borrow_mut().set_prev(Some(&node)),
            None => self.tail = Some(node),
        }
    }

    /// Adds `value` at the back.
    pub fn push_back(&mut self, value: T) {
        let node = Node::new(value, self.tail.as_ref(), None);
        match self.tail.replace(Rc::clone(&node)) {
            Some(old_tail) => old_tail.borrow_mut().next = Some(node),
            None => self.head = Some(node),
        }
    }

    /// Removes the value at the front and returns it, or `None` if the list is empty.
    pub fn pop_front(&mut self) -> Option<T> {
        let old_head = self.head.take()?;
        let next = old_head.borrow_mut().next.take();
        match next {
            Some(next) => {
                next.borrow_mut().set_prev(None);
                self.head = Some(next);
            }
            None => self.tail = None,
        }
        // `old_head` is now the node's only owner, so its value can be moved out.
        Rc::try_unwrap(old_head).ok().map(|node| node.into_inner().value)
    }

    /// Removes the value at the back and returns it, or `None` if the list is empty.
    pub fn pop_back(&mut self) -> Option<T> {
        let old_tail = self.tail.take()?;
        let prev = old_tail.borrow().prev();
        match prev {
            Some(prev) => {
                prev.borrow_mut().next = None;
                self.tail = Some(prev);
            }
            None => self.head = None,
        }
        Rc::try_unwrap(old_tail).ok().map(|node| node.into_inner().value)
    }

    /// Copies of the values from front to back, following the links forward.
    pub fn iter(&self) -> impl Iterator<Item = T>
    where
        T: Clone,
    {
        std::iter::successors(self.head.clone(), |node| node.borrow().next.clone())
            .map(|node| node.borrow().value.clone())
    }

    /// Copies of the values from back to front, following the links back.
    pub fn iter_rev(&self) -> impl Iterator<Item = T>
    where
        T: Clone,
    {
        std::iter::successors(self.tail.clone(), |node| node.borrow().prev()).map(|node| node.borrow().value.clone())
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self::new()
    }
}
