//! A tree whose nodes know their parent, like the elements of a web page or the folders of a disk.
//!
//! The [`Tree`] owns its nodes; a [`Node`] is a cheap handle to one of them, used to ask the tree about
//! it. Every node keeps links to its children and a link to its parent, so you can walk down from the
//! root or up from any node.
//!
//! This is the fixed version: a child links to its parent with a `Weak`, which does not keep the parent
//! alive, so parents and children no longer keep each other alive and dropping the tree frees every node.

use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};

/// A tree of values of type `T`. It always has a root.
pub struct Tree<T> {
    root: Node<T>,
    node_count: usize,
}

/// A handle to one node of a [`Tree`]. Cloning it is cheap; two handles are equal when they name the
/// same node.
pub struct Node<T>(Rc<NodeData<T>>);

// ANCHOR: fix
/// What a node holds: its value and its links to its parent and its children.
struct NodeData<T> {
    value: T,
    /// Weak: the parent owns its children, not the other way round.
    parent: Option<Weak<NodeData<T>>>,
    children: RefCell<Vec<Node<T>>>,
}

impl<T> Node<T> {
    /// A new node holding `value` that links up to `parent` (the parent does not list it yet).
    fn new(value: T, parent: Option<&Node<T>>) -> Self {
        Node(Rc::new(NodeData {
            value,
            parent: parent.map(|parent| Rc::downgrade(&parent.0)),
            children: RefCell::new(Vec::new()),
        }))
    }

    /// The node's parent, or `None` for the root.
    fn parent(&self) -> Option<Node<T>> {
        // The upgrade succeeds while the tree is alive: the tree owns the root, and each node its children.
        self.0.parent.as_ref().and_then(Weak::upgrade).map(Node)
    }
}
// ANCHOR_END: fix

impl<T> Node<T> {
    /// The value the node holds.
    pub fn value(&self) -> &T {
        &self.0.value
    }
}

impl<T> Clone for Node<T> {
    fn clone(&self) -> Self {
        Node(Rc::clone(&self.0))
    }
}

impl<T> PartialEq for Node<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Eq for Node<T> {}

impl<T: fmt::Debug> fmt::Debug for Node<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Node").field(self.value()).finish()
    }
}

impl<T> Tree<T> {
    /// A tree with one node, the root, holding `root_value`.
    pub fn new(root_value: T) -> Self {
        Tree {
            root: Node::new(root_value, None),
            node_count: 1,
        }
    }

    /// The root node.
    pub fn root(&self) -> Node<T> {
        self.root.clone()
    }

    /// How many nodes the tree has, the root included.
    pub fn node_count(&self) -> usize {
        self.node_count
    }

    /// Adds a node holding `value` as the last child of `parent`, and returns it.
    pub fn add_child(&mut self, parent: &Node<T>, value: T) -> Node<T> {
        let child = Node::new(value, Some(parent));
        parent.0.children.borrow_mut().push(child.clone());
        self.node_count += 1;
        child
    }

    /// The parent of `node`, or `None` when `node` is the root.
    pub fn parent(&self, node: &Node<T>) -> Option<Node<T>> {
        node.parent()
    }

    /// The children of `node`, in the order they were added.
    pub fn children(&self, node: &Node<T>) -> Vec<Node<T>> {
        node.0.children.borrow().clone()
    }

    /// The values on the way from `node` up to the root, both included.
    pub fn path_to_root(&self, node: &Node<T>) -> Vec<T>
    where
        T: Clone,
    {
        let mut path = vec![node.value().clone()];
        let mut current = node.parent();
        while let Some(ancestor) = current {
            path.push(ancestor.value().clone());
            current = ancestor.parent();
        }
        path
    }
}
