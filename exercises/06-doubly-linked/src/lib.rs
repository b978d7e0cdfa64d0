//! A doubly linked list: each node links forward to the next node and back to the previous one, so the
//! list can be pushed, popped and walked from either end.
//!
//! The tests say a list leaks as soon as it holds two values. Find out why and fix it, without changing
//! what the list does.

use std::cell::RefCell;
use std::rc::Rc;

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
    prev: Option<Link<T>>,
}

impl<T> Node<T> {
    /// A new node holding `value`, linked back to `prev` and forward to `next`.
    fn new(value: T, prev: Option<&Link<T>>, next: Option<Link<T>>) -> Link<T> {
        let prev = prev.cloned();
        Rc::new(RefCell::new(Node { value, next, prev }))
    }

    /// The node before this one, if any.
    fn prev(&self) -> Option<Link<T>> {
        self.prev.clone()
    }

    /// Links this node back to `prev`, or to nothing.
    fn set_prev(&mut self, prev: Option<&Link<T>>) {
        self.prev = prev.cloned();
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
