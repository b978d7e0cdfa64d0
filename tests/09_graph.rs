//! Spec for exercise 09, graph: a graph behaves like adjacency sets in a map, and leaks nothing, cycles or not.
//!
//! Compiled into both `exercises/09-graph` and `solutions/09-graph` through their `tests/spec.rs`, which
//! names the crate under test `subject`.

use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use subject::{Graph, NodeId};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One change to the graph. Numbers pick the `i`-th node still in the graph, counting from 0 in the order
/// the nodes were added and wrapping around; `Edge` and `Remove` do nothing on an empty graph.
#[derive(Clone)]
enum Op {
    /// Add a node with this label.
    Add(&'static str),
    /// Add an edge from one node to another (or to itself).
    Edge(usize, usize),
    /// Remove a node.
    Remove(usize),
}

// One line per step, so proptest's minimal input reads like a short script.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Add(label) => write!(f, "Add({label:?})"),
            Op::Edge(from, to) => write!(f, "Edge({from}, {to})"),
            Op::Remove(i) => write!(f, "Remove({i})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        prop::sample::select(&["api", "auth", "db", "cache"][..]).prop_map(Op::Add),
        (0..6usize, 0..6usize).prop_map(|(from, to)| Op::Edge(from, to)),
        (0..6usize).prop_map(Op::Remove),
    ]
}

/// The nodes reachable from `start` in the model, `start` included.
fn model_reachable(edges: &BTreeMap<NodeId, BTreeSet<NodeId>>, start: NodeId) -> BTreeSet<NodeId> {
    let mut seen = BTreeSet::from([start]);
    let mut to_visit = vec![start];
    while let Some(id) = to_visit.pop() {
        to_visit.extend(edges[&id].iter().filter(|&&next| seen.insert(next)));
    }
    seen
}

/// Runs `ops` against a fresh graph and a model of it; the first difference is returned as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    let mut graph = Graph::new();
    let mut live: Vec<NodeId> = Vec::new();
    let mut ever: BTreeSet<NodeId> = BTreeSet::new();
    let mut labels: BTreeMap<NodeId, &str> = BTreeMap::new();
    let mut edges: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Add(label) => {
                let id = graph.add_node(label);
                if !ever.insert(id) {
                    return Err(format!(
                        "step {step}: add_node returned {id:?}, an id it had returned before"
                    ));
                }
                live.push(id);
                labels.insert(id, label);
                edges.insert(id, BTreeSet::new());
            }
            Op::Edge(..) | Op::Remove(_) if live.is_empty() => {}
            Op::Edge(from, to) => {
                let (from, to) = (live[from % live.len()], live[to % live.len()]);
                let (added, want) = (graph.add_edge(from, to), edges.get_mut(&from).unwrap().insert(to));
                if added != want {
                    return Err(format!(
                        "step {step}: add_edge({from:?}, {to:?}) returned {added}, expected {want}"
                    ));
                }
            }
            Op::Remove(i) => {
                let id = live.remove(i % live.len());
                labels.remove(&id);
                edges.remove(&id);
                edges.values_mut().for_each(|targets| {
                    targets.remove(&id);
                });
                for (attempt, want) in [("", true), (" again", false)] {
                    let removed = graph.remove_node(id);
                    if removed != want {
                        return Err(format!(
                            "step {step}: removing {id:?}{attempt} returned {removed}, expected {want}"
                        ));
                    }
                }
            }
        }
        if graph.node_count() != live.len() {
            return Err(format!(
                "step {step}: node_count is {}, expected {}",
                graph.node_count(),
                live.len()
            ));
        }
        for &id in &live {
            if graph.label(id) != labels[&id] {
                return Err(format!(
                    "step {step}: {id:?} is labelled {:?}, expected {:?}",
                    graph.label(id),
                    labels[&id]
                ));
            }
            if graph.neighbours(id) != edges[&id] {
                return Err(format!(
                    "step {step}: neighbours of {id:?} are {:?}, expected {:?}",
                    graph.neighbours(id),
                    edges[&id]
                ));
            }
            let want = model_reachable(&edges, id);
            if graph.reachable_from(id) != want {
                return Err(format!(
                    "step {step}: reachable from {id:?}: {:?}, expected {want:?}",
                    graph.reachable_from(id)
                ));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The graph matches the model, and dropping it frees everything, whatever cycles its edges form.
    #[test]
    fn the_graph_matches_the_model_and_leaks_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// Around a cycle, every node reaches every other; removing one node breaks the cycle for the rest.
#[test]
fn a_cycle_reaches_all_around_until_it_is_broken() {
    let mut graph = Graph::new();
    let [api, auth, db] = ["api", "auth", "db"].map(|label| graph.add_node(label));
    assert!(graph.add_edge(api, auth));
    assert!(graph.add_edge(auth, db));
    assert!(graph.add_edge(db, api));
    assert!(!graph.add_edge(db, api), "the edge db → api was already there");
    assert_eq!(graph.neighbours(db), BTreeSet::from([api]));
    assert_eq!(graph.reachable_from(auth), BTreeSet::from([api, auth, db]));

    assert!(graph.remove_node(db));
    assert_eq!(graph.node_count(), 2);
    assert_eq!(graph.neighbours(auth), BTreeSet::new());
    assert_eq!(graph.reachable_from(api), BTreeSet::from([api, auth]));
    assert_eq!(graph.label(api), "api");
    let cache = graph.add_node("cache");
    assert!(![api, auth, db].contains(&cache), "ids are never reused");
}
