//! Spec for exercise 05, tree-parent: parent and child links behave like a simple model, and dropping a
//! tree frees every node.
//!
//! Compiled into both `exercises/05-tree-parent` and `solutions/05-tree-parent` through their
//! `tests/spec.rs`, which names the crate under test `subject`.

use proptest::prelude::*;
use std::fmt;
use subject::{Node, Tree};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One step a client of the tree takes. `node k` is the k-th node added (the root is node 0), counted
/// modulo the number of nodes so far.
#[derive(Clone)]
enum Op {
    /// Add a child holding this value to node k.
    AddChild(usize, i32),
    /// Ask for node k's parent.
    Parent(usize),
    /// Ask for node k's children.
    Children(usize),
    /// Ask for the values from node k up to the root.
    PathToRoot(usize),
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::AddChild(k, value) => write!(f, "add_child(node {k}, {value})"),
            Op::Parent(k) => write!(f, "parent(node {k})"),
            Op::Children(k) => write!(f, "children(node {k})"),
            Op::PathToRoot(k) => write!(f, "path_to_root(node {k})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let node = 0..12usize;
    prop_oneof![
        3 => (node.clone(), 1..100i32).prop_map(|(k, value)| Op::AddChild(k, value)),
        1 => node.clone().prop_map(Op::Parent),
        1 => node.clone().prop_map(Op::Children),
        1 => node.prop_map(Op::PathToRoot),
    ]
}

/// The model: node k's value, parent and children, as plain indices.
struct Model {
    values: Vec<i32>,
    parents: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
}

impl Model {
    /// The indices from node `k` up to the root, both included.
    fn path_to_root(&self, k: usize) -> Vec<usize> {
        std::iter::successors(Some(k), |&i| self.parents[i]).collect()
    }

    /// Finds node `k` by walking down from the root, the way the model says: the spec keeps no handles, so
    /// the tree itself must keep its nodes alive.
    fn find(&self, tree: &Tree<i32>, k: usize) -> Result<Node<i32>, String> {
        let mut node = tree.root();
        let mut path = self.path_to_root(k);
        path.reverse();
        for pair in path.windows(2) {
            let (parent, child) = (pair[0], pair[1]);
            let position = self.children[parent].iter().position(|&c| c == child).unwrap();
            let children = tree.children(&node);
            node = children.get(position).cloned().ok_or_else(|| {
                format!(
                    "node {parent} has {} children, expected {}",
                    children.len(),
                    self.children[parent].len()
                )
            })?;
        }
        if *node.value() != self.values[k] {
            return Err(format!("node {k} holds {}, expected {}", node.value(), self.values[k]));
        }
        Ok(node)
    }
}

/// Runs `ops` against a fresh tree and a model of it; the first difference is returned as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    let mut tree = Tree::new(0);
    let mut model = Model {
        values: vec![0],
        parents: vec![None],
        children: vec![Vec::new()],
    };
    for (step, op) in ops.iter().enumerate() {
        let count = model.values.len();
        let (Op::AddChild(raw, _) | Op::Parent(raw) | Op::Children(raw) | Op::PathToRoot(raw)) = *op;
        let k = raw % count;
        let fail = |what: String| {
            if raw == k {
                format!("step {step}, {op:?}: {what}")
            } else {
                format!("step {step}, {op:?}, that is node {k} of {count}: {what}")
            }
        };
        match *op {
            Op::AddChild(_, value) => {
                let parent = model.find(&tree, k).map_err(fail)?;
                let child = tree.add_child(&parent, value);
                if *child.value() != value {
                    return Err(fail(format!("the new node holds {}, expected {value}", child.value())));
                }
                model.values.push(value);
                model.parents.push(Some(k));
                model.children.push(Vec::new());
                model.children[k].push(count);
            }
            Op::Parent(_) => {
                let node = model.find(&tree, k).map_err(fail)?;
                let want = match model.parents[k] {
                    Some(p) => Some(model.find(&tree, p).map_err(fail)?),
                    None => None,
                };
                let got = tree.parent(&node);
                if got != want {
                    return Err(fail(format!(
                        "returned {got:?}, expected {}",
                        match model.parents[k] {
                            Some(p) => format!("node {p}, Node({})", model.values[p]),
                            None => "None (node 0 is the root)".to_owned(),
                        }
                    )));
                }
            }
            Op::Children(_) => {
                let node = model.find(&tree, k).map_err(fail)?;
                let got: Vec<i32> = tree.children(&node).iter().map(|c| *c.value()).collect();
                let want: Vec<i32> = model.children[k].iter().map(|&c| model.values[c]).collect();
                if got != want {
                    return Err(fail(format!("children hold {got:?}, expected {want:?}")));
                }
            }
            Op::PathToRoot(_) => {
                let node = model.find(&tree, k).map_err(fail)?;
                let got = tree.path_to_root(&node);
                let want: Vec<i32> = model.path_to_root(k).iter().map(|&i| model.values[i]).collect();
                if got != want {
                    return Err(fail(format!("returned {got:?}, expected {want:?}")));
                }
            }
        }
        if tree.node_count() != model.values.len() {
            return Err(fail(format!(
                "node_count() is {}, expected {}",
                tree.node_count(),
                model.values.len()
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The tree matches the model, and dropping it frees everything it allocated.
    #[test]
    fn trees_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// The tree owns its nodes: a node whose handle was dropped is still there, and still knows its parent.
#[test]
fn the_tree_keeps_nodes_whose_handles_were_dropped() {
    let mut tree = Tree::new("root");
    let root = tree.root();
    drop(tree.add_child(&root, "docs"));
    let docs = tree.children(&root).pop().expect("the root has a child");
    let book = tree.add_child(&docs, "book");
    drop((root, docs));
    assert_eq!(tree.path_to_root(&book), ["book", "docs", "root"]);
    assert_eq!(tree.parent(&book).map(|p| *p.value()), Some("docs"));
    assert_eq!(tree.parent(&tree.root()), None);
    assert_eq!(tree.node_count(), 3);
}
