//! Explaining leaks: where each leaked block was allocated (symbolised lazily, trimmed to the user's
//! frames), which leaked blocks keep each other alive (cycles), and what kind of leak each group is.

use crate::alloc::{Kind, SITE_FRAMES, SiteBlock};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a block was allocated: the first frame of the call stack that is the user's code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Site {
    /// Source file, relative to the crate being tested when it is inside it.
    pub file: String,
    /// Line in `file`.
    pub line: u32,
    /// The function, without its crate name and hash (`Tree::add_child`).
    pub function: String,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} in `{}`", self.file, self.line, self.function)
    }
}

/// Why a group of blocks is still allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeakKind {
    /// Part of a cycle: the blocks keep each other alive.
    Cycle,
    /// Not in a cycle, but held by a block that is.
    ReachableFromCycle,
    /// No other leaked block points to it: something forgot it (`mem::forget`, `Box::leak`, `into_raw`), or a
    /// value from before the region (a pool, a map, a global, a running thread) still holds it.
    Forgotten,
    /// Held by a forgotten block (freeing the forgotten one frees these).
    HeldByForgotten,
    /// Allocated by C through `leaklab_malloc` and never given back to `leaklab_free`.
    C,
    /// Allocated after a growth measurement's warm-up and still allocated at its end: what each call keeps.
    Growth,
}

impl LeakKind {
    /// The kind in a few words.
    pub fn label(self) -> &'static str {
        match self {
            LeakKind::Cycle => "part of a cycle",
            LeakKind::ReachableFromCycle => "kept alive by a cycle",
            LeakKind::Forgotten => "forgotten",
            LeakKind::HeldByForgotten => "held by a forgotten block",
            LeakKind::C => "C allocation never freed",
            LeakKind::Growth => "kept by the calls",
        }
    }

    /// One line of advice.
    pub fn advice(self) -> &'static str {
        match self {
            LeakKind::Cycle => {
                "two or more values own each other, so no count reaches zero: make one direction a `Weak` (or use indices)"
            }
            LeakKind::ReachableFromCycle => "these are freed once the cycle that holds them is broken",
            LeakKind::Forgotten => {
                "no other leaked block points to these: look for `mem::forget`, `Box::leak`, `into_raw` without \
                 `from_raw`, or a pool, map or thread from before the check that still holds them"
            }
            LeakKind::HeldByForgotten => "these are freed once the forgotten block that owns them is dropped",
            LeakKind::C => {
                "give C's buffers back with the matching free function (`leaklab_free` or the library's own)"
            }
            LeakKind::Growth => {
                "every call adds these and nothing removes them: find where they are kept (a map, a list, a \
                 cache) and let go of them on every path"
            }
        }
    }
}

/// Leaked blocks with the same kind and allocation site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakGroup {
    /// Why they are still allocated.
    pub kind: LeakKind,
    /// Where they were allocated (`None` when the stack had no user frame or no debug info).
    pub site: Option<Site>,
    /// How many blocks.
    pub blocks: usize,
    /// Their bytes.
    pub bytes: usize,
    /// Whether they look like `Rc`/`Arc` allocations (strong and weak counts at the start).
    pub rc: bool,
}

impl fmt::Display for LeakGroup {
    /// `3 blocks, 144 bytes (`Rc`): part of a cycle, allocated at src/lib.rs:42 in `Tree::add_child``
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, one: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {one}s")
            }
        };
        write!(
            f,
            "{}, {}{}: {}, allocated at {}",
            plural(self.blocks, "block"),
            plural(self.bytes, "byte"),
            if self.rc { " (`Rc`)" } else { "" },
            self.kind.label(),
            site_text(&self.site)
        )
    }
}

/// A site for people, or why there is none.
pub(crate) fn site_text(site: &Option<Site>) -> String {
    site.as_ref()
        .map_or("an unknown site (no debug info)".to_owned(), ToString::to_string)
}

/// One member of a cycle.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CycleMember {
    /// Where it was allocated.
    pub site: Option<Site>,
    /// Its bytes.
    pub bytes: usize,
    /// Whether it looks like an `Rc`/`Arc` allocation.
    pub rc: bool,
}

/// Blocks that keep each other alive, in the order they point to each other (the last points back to the
/// first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakCycle {
    /// The blocks on the cycle, starting from the one allocated earliest in the source.
    pub members: Vec<CycleMember>,
    /// Blocks in the same tangle that are not on this cycle.
    pub others: usize,
}

/// Groups and cycles for a region's leaked sited blocks.
pub(crate) fn explain(blocks: &[SiteBlock]) -> (Vec<LeakGroup>, Vec<LeakCycle>) {
    let n = blocks.len();
    let components = strongly_connected(blocks);
    let mut component_of = vec![0; n];
    for (c, members) in components.iter().enumerate() {
        for &m in members {
            component_of[m] = c;
        }
    }
    let in_cycle: Vec<bool> = (0..n)
        .map(|i| components[component_of[i]].len() > 1 || blocks[i].points_to.contains(&i))
        .collect();
    let pointed_to = {
        let mut p = vec![false; n];
        for (i, b) in blocks.iter().enumerate() {
            for &j in &b.points_to {
                if j != i {
                    p[j] = true;
                }
            }
        }
        p
    };
    let from_cycle = reachable(blocks, (0..n).filter(|&i| in_cycle[i]));
    let mut sites = Symbols::default();
    let kind_of = |i: usize| {
        if blocks[i].kind == Kind::C {
            LeakKind::C
        } else if in_cycle[i] {
            LeakKind::Cycle
        } else if from_cycle[i] {
            LeakKind::ReachableFromCycle
        } else if !pointed_to[i] {
            LeakKind::Forgotten
        } else {
            LeakKind::HeldByForgotten
        }
    };
    let groups = group(blocks, &mut sites, kind_of);
    let mut cycles: Vec<LeakCycle> = components
        .iter()
        .filter(|members| members.len() > 1 || blocks[members[0]].points_to.contains(&members[0]))
        .map(|members| {
            let mut member = |i: usize| CycleMember {
                site: sites.site(&blocks[i].frames),
                bytes: blocks[i].size,
                rc: looks_like_rc(&blocks[i], &mut sites),
            };
            let start = *members
                .iter()
                .min_by_key(|&&i| member(i))
                .expect("components are not empty");
            let path = cycle_through(blocks, start, members);
            LeakCycle {
                others: members.len() - path.len(),
                members: path.into_iter().map(member).collect(),
            }
        })
        .collect();
    cycles.sort_by(|a, b| a.members.cmp(&b.members));
    (groups, cycles)
}

/// Groups for the blocks a growth measurement allocated after its warm-up and still holds at its end: what
/// the calls keep, by allocation site, the most bytes first.
pub(crate) fn grown(blocks: &[SiteBlock]) -> Vec<LeakGroup> {
    let mut groups = group(blocks, &mut Symbols::default(), |_| LeakKind::Growth);
    groups.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.site.cmp(&b.site)));
    groups
}

/// Blocks grouped by kind and allocation site, in (kind, site) order.
fn group(blocks: &[SiteBlock], sites: &mut Symbols, kind_of: impl Fn(usize) -> LeakKind) -> Vec<LeakGroup> {
    let mut groups: BTreeMap<(LeakKind, Option<Site>), LeakGroup> = BTreeMap::new();
    for (i, b) in blocks.iter().enumerate() {
        let kind = kind_of(i);
        let site = sites.site(&b.frames);
        let g = groups.entry((kind, site.clone())).or_insert(LeakGroup {
            kind,
            site,
            blocks: 0,
            bytes: 0,
            rc: true,
        });
        g.blocks += 1;
        g.bytes += b.size;
        g.rc &= looks_like_rc(b, sites);
    }
    groups.into_values().collect()
}

/// An `Rc`/`Arc` allocation: made by `alloc::rc` or `alloc::sync` code, and starting with the strong and
/// weak counts (both small and at least 1). Either test alone is fooled: by a struct that starts with two
/// small numbers, or by the buffer of a `Vec` inside an `Rc`.
fn looks_like_rc(b: &SiteBlock, sites: &mut Symbols) -> bool {
    let plausible = |c: usize| (1..1 << 20).contains(&c);
    b.size >= 2 * std::mem::size_of::<usize>()
        && plausible(b.head[0])
        && plausible(b.head[1])
        && sites.allocated_by_rc(&b.frames)
}

/// Tarjan's algorithm, iterative: the strongly connected components of the points-to graph.
fn strongly_connected(blocks: &[SiteBlock]) -> Vec<Vec<usize>> {
    let n = blocks.len();
    let (mut index, mut low, mut on_stack) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
    let (mut stack, mut components, mut next) = (Vec::new(), Vec::new(), 0);
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0)];
        while let Some(&mut (v, ref mut edge)) = work.last_mut() {
            if *edge == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = blocks[v].points_to.get(*edge) {
                *edge += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                components.push(component);
            }
        }
    }
    components
}

/// Which blocks are reachable (in one or more steps) from `starts`.
fn reachable(blocks: &[SiteBlock], starts: impl Iterator<Item = usize>) -> Vec<bool> {
    let mut seen = vec![false; blocks.len()];
    let mut todo: Vec<usize> = starts.collect();
    while let Some(v) = todo.pop() {
        for &w in &blocks[v].points_to {
            if !seen[w] {
                seen[w] = true;
                todo.push(w);
            }
        }
    }
    seen
}

/// A simple cycle through `start` inside its component (one exists in every non-trivial component).
fn cycle_through(blocks: &[SiteBlock], start: usize, component: &[usize]) -> Vec<usize> {
    let inside = |i: usize| component.binary_search(&i).is_ok();
    let mut path = vec![start];
    let mut edges = vec![0usize];
    let mut on_path = vec![false; blocks.len()];
    on_path[start] = true;
    while let (Some(&v), Some(edge)) = (path.last(), edges.last_mut()) {
        match blocks[v].points_to.get(*edge) {
            Some(&w) => {
                *edge += 1;
                if w == start {
                    return path;
                }
                if inside(w) && !on_path[w] {
                    on_path[w] = true;
                    path.push(w);
                    edges.push(0);
                }
            }
            None => {
                path.pop();
                edges.pop();
            }
        }
    }
    vec![start]
}

/// Symbolises return addresses on demand, remembering what it resolved.
#[derive(Default)]
struct Symbols {
    resolved: BTreeMap<usize, Frame>,
}

/// What one return address resolved to (with the functions inlined there).
#[derive(Clone, Default)]
struct Frame {
    /// The user's function there, if one is.
    site: Option<Site>,
    /// Whether code of `alloc::rc` or `alloc::sync` (`Rc::new`, `Arc::from`, …) is there.
    in_rc: bool,
}

impl Symbols {
    /// The first user frame of `frames`.
    fn site(&mut self, frames: &[usize; SITE_FRAMES]) -> Option<Site> {
        frames
            .iter()
            .take_while(|&&ip| ip != 0)
            .find_map(|&ip| self.frame(ip).site)
    }

    /// Whether `Rc`/`Arc` code made the allocation: a frame of theirs between the allocator and the first
    /// user frame.
    fn allocated_by_rc(&mut self, frames: &[usize; SITE_FRAMES]) -> bool {
        for &ip in frames.iter().take_while(|&&ip| ip != 0) {
            let frame = self.frame(ip);
            if frame.in_rc {
                return true;
            }
            if frame.site.is_some() {
                return false;
            }
        }
        false
    }

    fn frame(&mut self, ip: usize) -> Frame {
        self.resolved
            .entry(ip)
            .or_insert_with(|| {
                let mut frame = Frame::default();
                // A return address points after the call; step back into it to get the call's line.
                backtrace::resolve((ip - 1) as *mut std::ffi::c_void, |symbol| {
                    let Some(name) = symbol.name() else {
                        return;
                    };
                    let function = format!("{name:#}");
                    let base = function.trim_start_matches('<');
                    frame.in_rc |= base.starts_with("alloc::rc::") || base.starts_with("alloc::sync::");
                    let (None, Some(file), Some(line)) = (&frame.site, symbol.filename(), symbol.lineno()) else {
                        return;
                    };
                    if is_user_frame(&function, &file.to_string_lossy()) {
                        frame.site = Some(Site {
                            file: display_path(file),
                            line,
                            function: short_name(&function),
                        });
                    }
                });
                frame
            })
            .clone()
    }
}

/// Frames of std, leaklab, the unwinder and the test harness are not the user's.
fn is_user_frame(function: &str, file: &str) -> bool {
    const NOT_USER: [&str; 9] = [
        "std::",
        "core::",
        "alloc::",
        "leaklab::",
        "backtrace::",
        "proptest::",
        "test::",
        "__rust",
        "rust_",
    ];
    let base = function.trim_start_matches('<');
    !NOT_USER.iter().any(|p| base.starts_with(p))
        && !file.starts_with("/rustc/")
        && !file.starts_with("/rust/deps/") // std's own dependencies (hashbrown behind `HashMap`)
        && !file.contains("/.cargo/registry/")
        && !file.contains("/leaklab/src/")
}

/// The path relative to the directory the test runs in (cargo runs tests in the crate's directory).
fn display_path(file: &std::path::Path) -> String {
    // `tests/../../../tests/05_x.rs` (a shared spec included by path) becomes `../../tests/05_x.rs`.
    let file = &lexically_normal(file);
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut base = cwd.as_path();
    let mut up = String::new();
    for _ in 0..3 {
        if let Ok(rest) = file.strip_prefix(base) {
            return format!("{up}{}", rest.display());
        }
        match base.parent() {
            Some(parent) => base = parent,
            None => break,
        }
        up.push_str("../");
    }
    file.display().to_string()
}

/// `path` with `.` and `dir/..` removed, without asking the file system.
fn lexically_normal(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `tree_parent::Tree<T>::add_child` → `Tree<T>::add_child`: the crate name differs between a starter
/// and its solution and says nothing to the learner.
fn short_name(function: &str) -> String {
    if function.starts_with('<') {
        return function.to_owned();
    }
    match function.split_once("::") {
        Some((_, rest)) if !rest.is_empty() => rest.to_owned(),
        _ => function.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(points_to: Vec<usize>) -> SiteBlock {
        SiteBlock {
            size: 16,
            kind: Kind::Rust,
            frames: [0; SITE_FRAMES],
            head: [1, 1],
            points_to,
        }
    }

    #[test]
    fn components_find_cycles_and_singletons() {
        // 0 <-> 1, 1 -> 2, 3 alone, 4 -> 4
        let blocks = vec![
            block(vec![1]),
            block(vec![0, 2]),
            block(vec![]),
            block(vec![]),
            block(vec![4]),
        ];
        let mut comps = strongly_connected(&blocks);
        comps.sort();
        assert_eq!(comps, vec![vec![0, 1], vec![2], vec![3], vec![4]]);
        assert_eq!(cycle_through(&blocks, 0, &[0, 1]), vec![0, 1]);
        assert_eq!(cycle_through(&blocks, 4, &[4]), vec![4]);
    }

    #[test]
    fn kinds_follow_the_graph() {
        // 0 <-> 1 is a cycle holding 2; 3 is forgotten and holds 4.
        let blocks = vec![
            block(vec![1]),
            block(vec![0, 2]),
            block(vec![]),
            block(vec![4]),
            block(vec![]),
        ];
        let (groups, cycles) = explain(&blocks);
        let count = |k: LeakKind| groups.iter().filter(|g| g.kind == k).map(|g| g.blocks).sum::<usize>();
        assert_eq!(count(LeakKind::Cycle), 2);
        assert_eq!(count(LeakKind::ReachableFromCycle), 1);
        assert_eq!(count(LeakKind::Forgotten), 1);
        assert_eq!(count(LeakKind::HeldByForgotten), 1);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].members.len(), 2);
    }

    #[test]
    fn paths_are_normalised_without_the_file_system() {
        let p = |s: &str| lexically_normal(std::path::Path::new(s)).display().to_string();
        assert_eq!(p("/w/exercises/21-x/tests/../../../tests/21_x.rs"), "/w/tests/21_x.rs");
        assert_eq!(p("../a/./b/../c.rs"), "../a/c.rs");
    }

    #[test]
    fn names_lose_their_crate() {
        assert_eq!(short_name("tree_parent::Tree<T>::add_child"), "Tree<T>::add_child");
        assert_eq!(
            short_name("<x::A as core::ops::Drop>::drop"),
            "<x::A as core::ops::Drop>::drop"
        );
    }

    #[test]
    fn std_and_leaklab_frames_are_not_the_users() {
        assert!(!is_user_frame(
            "alloc::boxed::Box<T>::new",
            "/rustc/abc/library/alloc/src/boxed.rs"
        ));
        assert!(!is_user_frame(
            "<leaklab::LeakLab as core::alloc::global::GlobalAlloc>::alloc",
            "/w/leaklab/src/alloc.rs"
        ));
        assert!(!is_user_frame(
            "hashbrown::raw::alloc::inner::do_alloc",
            "/rust/deps/hashbrown-0.16.1/src/raw/alloc.rs"
        ));
        assert!(is_user_frame(
            "tree_parent::Tree::add_child",
            "/w/exercises/05-tree-parent/src/lib.rs"
        ));
    }
}
