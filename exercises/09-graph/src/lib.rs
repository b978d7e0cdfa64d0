//! A directed graph, for questions like "which services does this one depend on, directly or not?".
//!
//! Each node has a label and edges to other nodes. Edges may form cycles (`api → auth → api`), and a node
//! may have an edge to itself. You name nodes with the [`NodeId`]s that [`Graph::add_node`] hands out.
//!
//! The tests say a graph leaks when it is dropped, but only some graphs do. Find out which ones and why, and
//! fix it, without changing what the graph does.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Names a node of one [`Graph`]. Ids are never reused, not even after a node is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(usize);

// ANCHOR: fix
/// One node: its label and its outgoing edges.
struct Node {
    id: NodeId,
    label: String,
    edges: Vec<Rc<RefCell<Node>>>,
}

impl Node {
    /// Adds an edge from this node to `to`. False if there already was one.
    fn link(&mut self, to: &Rc<RefCell<Node>>) -> bool {
        if self.edges.iter().any(|n| Rc::ptr_eq(n, to)) {
            return false;
        }
        self.edges.push(Rc::clone(to));
        true
    }

    /// Removes the edge from this node to `to`, if there is one.
    fn unlink(&mut self, to: &Rc<RefCell<Node>>) {
        self.edges.retain(|n| !Rc::ptr_eq(n, to));
    }

    /// The nodes this node has edges to.
    fn targets(&self) -> Vec<Rc<RefCell<Node>>> {
        self.edges.clone()
    }
}
// ANCHOR_END: fix

/// A directed graph whose edges may form cycles.
///
/// Every method that takes a [`NodeId`] panics if that node was removed, except [`Graph::remove_node`].
#[derive(Default)]
pub struct Graph {
    /// Slot `i` holds the node with id `i`, or `None` once that node was removed.
    nodes: Vec<Option<Rc<RefCell<Node>>>>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// The node named `id`.
    fn node(&self, id: NodeId) -> &Rc<RefCell<Node>> {
        self.nodes[id.0].as_ref().expect("that node was removed from the graph")
    }

    /// Adds a node labelled `label`, without edges, and returns its id.
    pub fn add_node(&mut self, label: &str) -> NodeId {
        let id = NodeId(self.nodes.len());
        let node = Node {
            id,
            label: label.to_owned(),
            edges: Vec::new(),
        };
        self.nodes.push(Some(Rc::new(RefCell::new(node))));
        id
    }

    /// Adds an edge from `from` to `to` (they may be the same node). False if there already was one.
    pub fn add_edge(&mut self, from: NodeId, to: NodeId) -> bool {
        let to = self.node(to);
        self.node(from).borrow_mut().link(to)
    }

    /// Removes the node `id` and every edge to or from it. False if it was already removed.
    pub fn remove_node(&mut self, id: NodeId) -> bool {
        let Some(removed) = self.nodes.get_mut(id.0).and_then(Option::take) else {
            return false;
        };
        for node in self.nodes.iter().flatten() {
            node.borrow_mut().unlink(&removed);
        }
        true
    }

    /// How many nodes the graph has.
    pub fn node_count(&self) -> usize {
        self.nodes.iter().flatten().count()
    }

    /// The label of node `id`.
    pub fn label(&self, id: NodeId) -> String {
        self.node(id).borrow().label.clone()
    }

    /// The nodes that `id` has an edge to.
    pub fn neighbours(&self, id: NodeId) -> BTreeSet<NodeId> {
        let targets = self.node(id).borrow().targets();
        targets.iter().map(|n| n.borrow().id).collect()
    }

    /// Every node reachable from `id` by following edges, including `id` itself.
    pub fn reachable_from(&self, id: NodeId) -> BTreeSet<NodeId> {
        let mut seen = BTreeSet::from([id]);
        let mut to_visit = vec![Rc::clone(self.node(id))];
        while let Some(node) = to_visit.pop() {
            for target in node.borrow().targets() {
                if seen.insert(target.borrow().id) {
                    to_visit.push(target);
                }
            }
        }
        seen
    }
}
