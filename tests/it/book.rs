//! The book (`book/`): every exercise and every track has a page listed in `SUMMARY.md`, no page is left
//! out of it, no internal link, image, `{{#include}}` or ANCHOR is broken, the answer to an exercise only
//! appears after its "After you pass" heading, and the book's Rust code is only ever included from compiled
//! files. The JSON schema pages list every field the code writes. When mdbook and Chromium are installed,
//! the rendered book is also opened in a headless browser and its DOM checked.

use crate::programs;
use leaklab_workshop::catalogue::{self, Exercise, Track};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn book_src() -> PathBuf {
    root().join("book/src")
}

fn exercises() -> Vec<Exercise> {
    catalogue::load(root()).unwrap_or_else(|e| panic!("{e}"))
}

/// `a/b/../c` → `a/c`, without touching the file system (included files may be outside `book/src`).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The book's source files, read from disk unless replaced in `overrides` (keys relative to `src`).
struct Sources<'a> {
    src: &'a Path,
    overrides: &'a BTreeMap<PathBuf, String>,
}

impl Sources<'_> {
    fn read(&self, path: &Path) -> Option<String> {
        if let Ok(rel) = path.strip_prefix(self.src)
            && let Some(text) = self.overrides.get(rel)
        {
            return Some(text.clone());
        }
        std::fs::read_to_string(path).ok()
    }

    fn exists(&self, path: &Path) -> bool {
        path.strip_prefix(self.src)
            .is_ok_and(|rel| self.overrides.contains_key(rel))
            || path.exists()
    }

    /// Every `.md` file under `src`, relative to it.
    fn pages(&self) -> BTreeSet<PathBuf> {
        fn walk(dir: &Path, src: &Path, out: &mut BTreeSet<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, src, out);
                } else if path.extension().is_some_and(|e| e == "md") {
                    out.insert(path.strip_prefix(src).expect("walked from src").to_owned());
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(self.src, self.src, &mut out);
        out.extend(
            self.overrides
                .keys()
                .filter(|p| p.extension().is_some_and(|e| e == "md"))
                .cloned(),
        );
        out
    }
}

fn markdown(text: &str) -> Parser<'_> {
    Parser::new_ext(
        text,
        Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_HEADING_ATTRIBUTES,
    )
}

/// mdBook's id for a heading: lower case, spaces to `-`, only letters, digits, `-` and `_` kept.
fn heading_id(text: &str) -> String {
    text.trim()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

/// What one page contains that can break.
#[derive(Default)]
struct Page {
    /// Headings in order: (level, text).
    headings: Vec<(u32, String)>,
    /// Link and image targets.
    links: Vec<String>,
    /// Fenced code blocks: (info string, content).
    code: Vec<(String, String)>,
}

fn parse(text: &str) -> Page {
    let mut page = Page::default();
    let mut heading: Option<(u32, String)> = None;
    let mut code: Option<(String, String)> = None;
    for event in markdown(text) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level as u32, String::new())),
            Event::End(TagEnd::Heading(_)) => page.headings.extend(heading.take()),
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                page.links.push(dest_url.into_string())
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.into_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((info, String::new()));
            }
            Event::End(TagEnd::CodeBlock) => page.code.extend(code.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, h)) = heading.as_mut() {
                    h.push_str(&t);
                } else if let Some((_, c)) = code.as_mut() {
                    c.push_str(&t);
                }
            }
            _ => {}
        }
    }
    page
}

/// Every `{{#include …}}` and `{{#rustdoc_include …}}` in `text`: the argument (path and optional range or
/// anchor).
fn includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(start) = rest.find(directive) {
            rest = &rest[start + directive.len()..];
            let end = rest.find("}}").unwrap_or(rest.len());
            out.push(rest[..end].trim().to_owned());
            rest = &rest[end..];
        }
    }
    out
}

/// Checks an `{{#include}}` argument written in `page_dir`; `None` when it resolves.
fn check_include(sources: &Sources<'_>, page_dir: &Path, arg: &str) -> Option<String> {
    let (file, selector) = match arg.split_once(':') {
        Some((f, s)) => (f, Some(s)),
        None => (arg, None),
    };
    let path = normalise(&page_dir.join(file));
    let Some(text) = sources.read(&path) else {
        return Some(format!("`{{{{#include {arg}}}}}`: {} does not exist", path.display()));
    };
    let selector = selector?;
    let first = selector.split(':').next().unwrap_or("");
    if first.is_empty() || first.chars().all(|c| c.is_ascii_digit()) {
        let start: usize = first.parse().unwrap_or(1);
        let lines = text.lines().count();
        return (start > lines).then(|| {
            format!(
                "`{{{{#include {arg}}}}}`: starts at line {start} but {} has {lines} lines",
                path.display()
            )
        });
    }
    let has = |marker: &str| {
        text.lines().any(|l| {
            l.split_once(marker)
                .is_some_and(|(_, name)| name.trim() == first || name.trim().trim_end_matches("*/").trim() == first)
        })
    };
    (!has("ANCHOR:") || !has("ANCHOR_END:")).then(|| {
        format!(
            "`{{{{#include {arg}}}}}`: {} has no `ANCHOR: {first}` … `ANCHOR_END: {first}` region",
            path.display()
        )
    })
}

/// Every problem in the book at `src` for these exercises, with `overrides` replacing some files' text.
fn check_book(src: &Path, exercises: &[Exercise], overrides: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let sources = Sources { src, overrides };
    let mut problems = Vec::new();
    let Some(summary) = sources.read(&src.join("SUMMARY.md")) else {
        return vec![format!("{} is missing", src.join("SUMMARY.md").display())];
    };

    // SUMMARY.md: what is listed, and does it exist.
    let mut listed = BTreeSet::new();
    for link in parse(&summary).links {
        let path = normalise(Path::new(&link));
        if !sources.exists(&src.join(&path)) {
            problems.push(format!("SUMMARY.md lists {link}, which does not exist"));
        }
        listed.insert(path);
    }
    for track in Track::ALL {
        let intro = PathBuf::from(track.id()).join("intro.md");
        if !listed.contains(&intro) {
            problems.push(format!(
                "the {} track has no intro page: add `- [{}]({})` to SUMMARY.md",
                track.title(),
                track.title(),
                intro.display()
            ));
        }
    }
    for e in exercises {
        let page = PathBuf::from(e.meta.track.id()).join(format!("{}.md", e.id()));
        if !listed.contains(&page) {
            problems.push(format!(
                "exercise {} has no page in the book: write book/src/{} and add `  - [{}]({})` to SUMMARY.md under its track",
                e.id(),
                page.display(),
                e.meta.title,
                page.display()
            ));
            continue;
        }
        let Some(text) = sources.read(&src.join(&page)) else {
            continue;
        };
        let parsed = parse(&text);
        // The heading's text has no backquotes: `# The `Rc` that…` renders its code span as plain text.
        match parsed.headings.first() {
            Some((1, title)) if *title == e.meta.title.replace('`', "") => {}
            other => problems.push(format!(
                "{}: the page's title should be `# {}` (the title in exercise.toml), found {other:?}",
                page.display(),
                e.meta.title
            )),
        }
        // The answer stays behind "After you pass": nothing from the solution is included before it.
        let after = text.find("\n## After you pass");
        let solution_dir = format!("solutions/{}/", e.id());
        let first_solution = includes(&text)
            .iter()
            .filter(|arg| arg.contains(&solution_dir))
            .filter_map(|arg| text.find(arg.as_str()))
            .min();
        match (after, first_solution) {
            (None, _) => problems.push(format!("{}: no `## After you pass` section", page.display())),
            (Some(a), Some(s)) if s < a => problems.push(format!(
                "{}: the solution is included before `## After you pass`; keep the answer behind it",
                page.display()
            )),
            _ => {}
        }
    }

    // Every page: listed, links, includes, Rust code.
    for rel in sources.pages() {
        if rel == Path::new("SUMMARY.md") {
            continue;
        }
        if !listed.contains(&rel) {
            problems.push(format!(
                "book/src/{} is not listed in SUMMARY.md, so mdbook does not render it",
                rel.display()
            ));
        }
        let page_path = src.join(&rel);
        let page_dir = page_path.parent().expect("a page is in a directory").to_owned();
        let Some(text) = sources.read(&page_path) else { continue };
        let page = parse(&text);
        for link in &page.links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = match link.split_once('#') {
                Some((f, frag)) => (f, Some(frag)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                page_path.clone()
            } else {
                normalise(&page_dir.join(file))
            };
            if !target.starts_with(src) {
                problems.push(format!(
                    "{}: link {link} leaves book/src, so it is broken in the rendered book",
                    rel.display()
                ));
                continue;
            }
            let Some(target_text) = sources
                .read(&target)
                .or_else(|| sources.exists(&target).then(String::new))
            else {
                problems.push(format!(
                    "{}: link {link}: {} does not exist",
                    rel.display(),
                    target.display()
                ));
                continue;
            };
            if let Some(fragment) = fragment
                && target.extension().is_some_and(|e| e == "md")
                && !parse(&target_text)
                    .headings
                    .iter()
                    .any(|(_, h)| heading_id(h) == fragment)
            {
                problems.push(format!(
                    "{}: link {link}: {} has no heading with the id `{fragment}`",
                    rel.display(),
                    target.display()
                ));
            }
        }
        for arg in includes(&text) {
            problems.extend(check_include(&sources, &page_dir, &arg).map(|p| format!("{}: {p}", rel.display())));
        }
        for (info, code) in &page.code {
            let lang = info.split([',', ' ']).next().unwrap_or("");
            let inline = code
                .lines()
                .map(str::trim)
                .any(|l| !(l.is_empty() || l.starts_with("{{#include ") || l.starts_with("{{#rustdoc_include ")));
            if lang == "rust" && inline {
                problems.push(format!(
                    "{}: a ```rust block with code written in the page; include it from a compiled file \
                     (`{{{{#include path:anchor}}}}`, e.g. from book/code) so it cannot drift",
                    rel.display()
                ));
            }
        }
    }
    problems
}

#[test]
fn every_exercise_has_a_page_and_nothing_in_the_book_is_broken() {
    let exercises = exercises();
    assert!(!exercises.is_empty());
    let problems = check_book(&book_src(), &exercises, &BTreeMap::new());
    assert!(
        problems.is_empty(),
        "the book has problems:\n- {}",
        problems.join("\n- ")
    );
}

/// The check of the check: the same book with one of each problem planted must be caught, each time.
#[test]
fn a_broken_book_is_caught() {
    let src = book_src();
    let exercises = exercises();
    let first = &exercises[0];
    let first_page = PathBuf::from(first.meta.track.id()).join(format!("{}.md", first.id()));
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let page = std::fs::read_to_string(src.join(&first_page)).unwrap();
    let intro = std::fs::read_to_string(src.join("introduction.md")).unwrap();
    let cases: Vec<(&str, PathBuf, String)> = vec![
        (
            "has no page in the book",
            "SUMMARY.md".into(),
            summary
                .lines()
                .filter(|l| !l.contains(&format!("({})", first_page.display())))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "does not exist",
            "introduction.md".into(),
            intro.clone() + "\n[gone](why/nothing-here.md)\n",
        ),
        (
            "has no heading with the id",
            "introduction.md".into(),
            intro.clone() + "\n[x](why/cwe-401.md#no-such-part)\n",
        ),
        (
            "has no `ANCHOR: no_such_anchor`",
            first_page.clone(),
            page.replace(":fix}}", ":no_such_anchor}}"),
        ),
        (
            "does not exist",
            first_page.clone(),
            page.replace("/src/lib.rs:fix}}", "/src/nope.rs:fix}}"),
        ),
        (
            "included before `## After you pass`",
            first_page.clone(),
            page.replacen(
                "## What to look for",
                &format!(
                    "{{{{#include ../../../solutions/{}/src/lib.rs:fix}}}}\n\n## What to look for",
                    first.id()
                ),
                1,
            ),
        ),
        (
            "code written in the page",
            "introduction.md".into(),
            intro.clone() + "\n```rust\nfn main() {}\n```\n",
        ),
        (
            "is not listed in SUMMARY.md",
            "why/orphan.md".into(),
            "# Orphan\n".into(),
        ),
        (
            "the page's title should be",
            first_page.clone(),
            page.replacen(&first.meta.title, "Another title", 1),
        ),
        (
            "leaves book/src",
            "introduction.md".into(),
            intro + "\n[contributing](../../CONTRIBUTING.md)\n",
        ),
    ];
    for (expected, file, text) in cases {
        let overrides = BTreeMap::from([(file.clone(), text)]);
        let problems = check_book(&src, &exercises, &overrides);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "a book with a planted problem in {} was not caught (expected a problem containing {expected:?}); found: {problems:#?}",
            file.display()
        );
    }
}

/// Every key path in a JSON value: `a`, `a.b`, `a[].c`.
fn json_paths(value: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                json_paths(v, &path, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                json_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The fields of `json` missing from the page `page` (written there as `` `field` ``).
fn undocumented(json: &str, page: &str) -> Vec<String> {
    let text = std::fs::read_to_string(book_src().join(page)).unwrap();
    let mut paths = BTreeSet::new();
    json_paths(&serde_json::from_str(json).unwrap(), "", &mut paths);
    paths
        .into_iter()
        .filter(|p| !text.contains(&format!("`{p}`")))
        .collect()
}

#[test]
fn the_report_schema_page_lists_every_field() {
    use leaklab::{
        CycleMember, GrowthSummary, LeakCycle, LeakGroup, LeakKind, LeakedFd, LeakedFile, LeakedThread, Site,
    };
    let site = Some(Site {
        file: "src/lib.rs".into(),
        line: 1,
        function: "f".into(),
    });
    // Every optional field filled in, so that every key is written.
    let report = leaklab::Report {
        schema: leaklab::REPORT_SCHEMA.into(),
        label: "l".into(),
        verdict: leaklab::Verdict::Leak,
        leaked_blocks: 1,
        leaked_bytes: 1,
        c_blocks: 0,
        c_bytes: 0,
        fds: vec![LeakedFd {
            fd: 3,
            path: "/p".into(),
        }],
        threads: vec![LeakedThread {
            tid: 1,
            name: "t".into(),
        }],
        files: vec![LeakedFile {
            path: "/d/f".into(),
            dir: false,
            bytes: 1,
            entries: 0,
        }],
        groups: vec![LeakGroup {
            kind: LeakKind::Cycle,
            site: site.clone(),
            blocks: 1,
            bytes: 1,
            rc: true,
        }],
        cycles: vec![LeakCycle {
            members: vec![CycleMember {
                site,
                bytes: 1,
                rc: true,
            }],
            others: 0,
        }],
        growth: Some(GrowthSummary {
            iterations: 1,
            warmup: 1,
            bytes_per_iteration: 0.0,
            blocks_per_iteration: 0.0,
        }),
        notes: vec!["n".into()],
        unavailable: Some("u".into()),
        valgrind: Some(leaklab::HeapDelta { blocks: 1, bytes: 1 }),
    };
    let missing = undocumented(&report.to_json(), "reference/report-schema.md");
    assert!(
        missing.is_empty(),
        "reference/report-schema.md does not document {missing:?}"
    );
}

#[test]
fn the_results_schema_page_lists_every_field() {
    use leaklab_workshop::results::{ExerciseResult, RESULTS_SCHEMA, Results};
    let results = Results {
        schema: RESULTS_SCHEMA.into(),
        learner: "ada".into(),
        generated: 1,
        exercises: vec![ExerciseResult {
            id: "01-x".into(),
            title: "t".into(),
            track: "foundations".into(),
            leak_class: "c".into(),
            status: "passed".into(),
            attempts: 1,
            hints_used: 0,
            last_run: Some(1),
            last_leak: Some("1 block, 1 byte".into()),
        }],
    };
    let missing = undocumented(&results.to_json(), "reference/results-schema.md");
    assert!(
        missing.is_empty(),
        "reference/results-schema.md does not document {missing:?}"
    );
}

#[test]
fn the_rendered_book_shows_every_exercise_in_a_browser() {
    let Some(mdbook) = programs::find(&["mdbook"]) else {
        eprintln!("skipped: mdbook is not installed (.ci/run installs it)");
        return;
    };
    let Some(chromium) = programs::chromium() else {
        eprintln!("skipped: Chromium is not installed (apt-get install chromium)");
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let mut build = Command::new(&mdbook);
    build
        .arg("build")
        .arg(root().join("book"))
        .arg("--dest-dir")
        .arg(out.path());
    programs::run_with_timeout(build, Duration::from_secs(120)).unwrap_or_else(|e| panic!("{e}"));

    let exercises = exercises();
    let e = exercises
        .iter()
        .find(|e| e.id() == "05-tree-parent")
        .unwrap_or(&exercises[0]);
    let html = out.path().join(e.meta.track.id()).join(format!("{}.html", e.id()));
    let dom = programs::dump_dom(&chromium, &html);

    assert!(dom.contains("<h1 id="), "no heading in the rendered page:\n{dom}");
    assert!(
        dom.contains(&e.meta.title),
        "the page's title {:?} is not in the DOM",
        e.meta.title
    );
    assert!(!dom.contains("{{#include"), "an include was not expanded");
    // The failure report was included from the file the script wrote.
    let report = std::fs::read_to_string(
        book_src()
            .join(e.meta.track.id())
            .join("output")
            .join(format!("{}.txt", e.id())),
    )
    .unwrap();
    let first_line = report.lines().next().unwrap();
    let escaped = first_line
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(
        dom.contains(&escaped),
        "the included report line {first_line:?} is not in the DOM"
    );
    // The fix is rendered after "After you pass", as highlighted Rust.
    let after = dom.find("After you pass").expect("an After you pass heading");
    assert!(
        dom[after..].contains("language-rust"),
        "no Rust code after `After you pass`"
    );
    // The table of contents, built by the page's scripts, links every exercise.
    for e in &exercises {
        let href = format!("{}/{}.html", e.meta.track.id(), e.id());
        assert!(
            dom.contains(&href),
            "the rendered table of contents has no link to {href}"
        );
    }

    // The soak-testing chapter shows the growth plot the script drew.
    let soak = programs::dump_dom(&chromium, &out.path().join("defences/soak-testing.html"));
    assert!(
        soak.contains("src=\"output/unbounded-cache.svg\""),
        "no growth plot on the soak-testing page"
    );
    assert!(out.path().join("defences/output/unbounded-cache.svg").is_file());
}
