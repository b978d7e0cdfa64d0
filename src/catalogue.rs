//! The exercise catalogue: finds `exercises/NN-slug`, reads each `exercise.toml`, and checks that every
//! exercise has its solution and shared spec.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The tracks of the workshop, in teaching order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Track {
    /// `mem::forget`, `Box::leak`, `ManuallyDrop`, cleanup on panic paths.
    Foundations,
    /// Reference cycles between `Rc`s.
    RcCycles,
    /// Memory and objects crossing the boundary with C.
    CFfi,
    /// File descriptors, files and other operating-system handles.
    OsHandles,
    /// Leaks that grow with traffic in long-running services.
    Services,
}

impl Track {
    /// Every track, in order.
    pub const ALL: [Track; 5] = [
        Track::Foundations,
        Track::RcCycles,
        Track::CFfi,
        Track::OsHandles,
        Track::Services,
    ];

    /// The track's title for people.
    pub fn title(self) -> &'static str {
        match self {
            Track::Foundations => "Foundations",
            Track::RcCycles => "Rc cycles",
            Track::CFfi => "C FFI",
            Track::OsHandles => "OS handles",
            Track::Services => "Long-running services",
        }
    }

    /// The track's identifier as written in `exercise.toml`.
    pub fn id(self) -> &'static str {
        match self {
            Track::Foundations => "foundations",
            Track::RcCycles => "rc-cycles",
            Track::CFfi => "c-ffi",
            Track::OsHandles => "os-handles",
            Track::Services => "services",
        }
    }
}

/// How an exercise is graded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grading {
    /// The shared spec runs; the starter fails with a leak verdict.
    #[default]
    Spec,
    /// The starter's API allows a leak or misuse; the spec contains compile-fail cases (trybuild).
    CompileFail,
}

/// The contents of one `exercise.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Shown in lists and as the book page's title.
    pub title: String,
    /// Which track the exercise belongs to.
    pub track: Track,
    /// The kind of leak, in a few words ("mem::forget skips Drop").
    pub leak_class: String,
    /// What this leak looks like in production, in one sentence.
    pub analogue: String,
    /// The file the learner edits, relative to the exercise directory.
    #[serde(default = "default_edit")]
    pub edit: PathBuf,
    /// Exactly three hints: a nudge, where to look, how to fix.
    pub hints: Vec<String>,
    /// Shown after the exercise passes.
    pub explanation: String,
    /// How the exercise is graded.
    #[serde(default)]
    pub grading: Grading,
}

fn default_edit() -> PathBuf {
    PathBuf::from("src/lib.rs")
}

/// One exercise, located and validated.
#[derive(Clone, Debug)]
pub struct Exercise {
    /// The `NN` of `NN-slug`.
    pub number: u32,
    /// The `slug` of `NN-slug`; also the starter's package name.
    pub slug: String,
    /// `exercises/NN-slug`, absolute.
    pub dir: PathBuf,
    /// `solutions/NN-slug`, absolute.
    pub solution_dir: PathBuf,
    /// `tests/NN_slug.rs`, absolute.
    pub spec: PathBuf,
    /// The metadata.
    pub meta: Meta,
}

impl Exercise {
    /// `NN-slug`.
    pub fn id(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    /// The starter's cargo package name.
    pub fn package(&self) -> &str {
        &self.slug
    }

    /// The solution's cargo package name.
    pub fn solution_package(&self) -> String {
        format!("{}-solution", self.slug)
    }

    /// The file the learner edits, absolute.
    pub fn edit_path(&self) -> PathBuf {
        self.dir.join(&self.meta.edit)
    }

    /// The fixed version of [`edit_path`](Self::edit_path).
    pub fn solution_edit_path(&self) -> PathBuf {
        self.solution_dir.join(&self.meta.edit)
    }
}

/// Why the catalogue could not be loaded. The message names the file and what to change.
#[derive(Debug, PartialEq, Eq)]
pub struct CatalogueError {
    /// The file or directory at fault.
    pub path: PathBuf,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "while reading {}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for CatalogueError {}

fn error(path: &Path, problem: impl Into<String>) -> CatalogueError {
    CatalogueError {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// Parses and validates one `exercise.toml`'s text; `path` is only used in messages.
pub fn parse_meta(path: &Path, text: &str) -> Result<Meta, CatalogueError> {
    let meta: Meta = toml::from_str(text).map_err(|e| error(path, e.to_string().trim_end().to_owned()))?;
    for (field, value) in [
        ("title", &meta.title),
        ("leak_class", &meta.leak_class),
        ("analogue", &meta.analogue),
        ("explanation", &meta.explanation),
    ] {
        if value.trim().is_empty() {
            return Err(error(
                path,
                format!("field `{field}` is empty; write it for a learner (see CONTRIBUTING.md)"),
            ));
        }
    }
    if meta.hints.len() != 3 {
        return Err(error(
            path,
            format!(
                "field `hints` has {} entries; it needs exactly 3: a nudge, where to look, how to fix",
                meta.hints.len()
            ),
        ));
    }
    if let Some(i) = meta.hints.iter().position(|h| h.trim().is_empty()) {
        return Err(error(path, format!("hint {} of `hints` is empty", i + 1)));
    }
    Ok(meta)
}

/// Splits `NN-slug` into its number and slug.
fn split_dir_name(name: &str) -> Option<(u32, &str)> {
    let (number, slug) = name.split_once('-')?;
    let valid_slug = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (number.len() == 2 && valid_slug).then_some((number.parse().ok()?, slug))
}

/// Checks that a crate's `tests/spec.rs` compiles the shared spec (by `#[path]`), not a copy of it.
fn check_shim(shim: &Path, spec: &Path) -> Result<(), CatalogueError> {
    let text = std::fs::read_to_string(shim).map_err(|e| error(shim, e.to_string()))?;
    let name = spec.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let includes = text.lines().any(|line| {
        let line = line.trim();
        line.starts_with("#[path") && line.contains(&format!("/tests/{name}\""))
    });
    if includes {
        Ok(())
    } else {
        Err(error(
            shim,
            format!(
                "does not include the shared spec: it should hold `#[path = \"../../../tests/{name}\"] mod spec;` \
                 (see CONTRIBUTING.md), so the starter and the solution are checked by the same tests"
            ),
        ))
    }
}

/// Loads every exercise under `root/exercises`, in order, checking each has a solution and a spec.
pub fn load(root: &Path) -> Result<Vec<Exercise>, CatalogueError> {
    let exercises_dir = root.join("exercises");
    let entries = std::fs::read_dir(&exercises_dir).map_err(|e| {
        error(
            &exercises_dir,
            format!("{e}; run the workshop from the leaklab checkout"),
        )
    })?;
    let mut exercises = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| error(&exercises_dir, e.to_string()))?;
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((number, slug)) = split_dir_name(&name) else {
            return Err(error(
                &entry.path(),
                "exercise directories are named NN-slug, like 01-forgotten-guard",
            ));
        };
        let dir = entry.path();
        let meta_path = dir.join("exercise.toml");
        let text = std::fs::read_to_string(&meta_path).map_err(|e| error(&meta_path, e.to_string()))?;
        let meta = parse_meta(&meta_path, &text)?;
        let exercise = Exercise {
            number,
            slug: slug.to_owned(),
            solution_dir: root.join("solutions").join(&name),
            spec: root.join("tests").join(format!("{}.rs", name.replace('-', "_"))),
            dir,
            meta,
        };
        for needed in [
            exercise.edit_path(),
            exercise.solution_edit_path(),
            exercise.spec.clone(),
        ] {
            if !needed.is_file() {
                return Err(error(
                    &needed,
                    "is missing; every exercise has a starter, a solution and a shared spec",
                ));
            }
        }
        for crate_dir in [&exercise.dir, &exercise.solution_dir] {
            check_shim(&crate_dir.join("tests/spec.rs"), &exercise.spec)?;
        }
        exercises.push(exercise);
    }
    exercises.sort_by_key(|e| e.number);
    if let Some(pair) = exercises.windows(2).find(|w| w[0].number == w[1].number) {
        return Err(error(&pair[1].dir, format!("has the same number as {}", pair[0].id())));
    }
    Ok(exercises)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "T"
track = "rc-cycles"
leak_class = "cycle"
analogue = "a"
hints = ["1", "2", "3"]
explanation = "e"
"#;

    fn problem(text: &str) -> String {
        parse_meta(Path::new("exercises/99-x/exercise.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_complete_file_parses() {
        let meta = parse_meta(Path::new("x"), GOOD).unwrap();
        assert_eq!(meta.track, Track::RcCycles);
        assert_eq!(meta.edit, PathBuf::from("src/lib.rs"));
        assert_eq!(meta.grading, Grading::Spec);
    }

    #[test]
    fn a_missing_field_is_named_with_the_file() {
        let msg = problem(&GOOD.replace("explanation = \"e\"", ""));
        assert!(msg.starts_with("while reading exercises/99-x/exercise.toml:"), "{msg}");
        assert!(msg.contains("explanation"), "{msg}");
    }

    #[test]
    fn an_unknown_track_lists_the_known_ones() {
        let msg = problem(&GOOD.replace("rc-cycles", "cycles"));
        assert!(msg.contains("cycles") && msg.contains("rc-cycles"), "{msg}");
    }

    #[test]
    fn a_misspelt_field_is_rejected() {
        let msg = problem(&GOOD.replace("analogue", "analog"));
        assert!(msg.contains("analog"), "{msg}");
    }

    #[test]
    fn hints_must_be_three() {
        assert!(problem(&GOOD.replace(r#"["1", "2", "3"]"#, r#"["1", "2"]"#)).contains("exactly 3"));
        assert!(problem(&GOOD.replace(r#""2""#, r#""  ""#)).contains("hint 2"));
    }

    #[test]
    fn empty_text_fields_are_rejected() {
        assert!(problem(&GOOD.replace("title = \"T\"", "title = \" \"")).contains("`title` is empty"));
    }

    #[test]
    fn malformed_toml_reports_the_line() {
        let msg = problem("title = \n");
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn a_shim_must_include_the_shared_spec() {
        let dir = tempfile::tempdir().unwrap();
        let shim = dir.path().join("spec.rs");
        let spec = Path::new("/w/tests/03_x.rs");
        std::fs::write(
            &shim,
            "extern crate x as subject;\n#[path = \"../../../tests/03_x.rs\"]\nmod spec;\n",
        )
        .unwrap();
        assert_eq!(check_shim(&shim, spec), Ok(()));
        std::fs::write(&shim, "extern crate x as subject;\nmod spec { /* a copy */ }\n").unwrap();
        let msg = check_shim(&shim, spec).unwrap_err().to_string();
        assert!(msg.contains("does not include the shared spec"), "{msg}");
        std::fs::write(&shim, "#[path = \"../../../tests/04_y.rs\"]\nmod spec;\n").unwrap();
        assert!(check_shim(&shim, spec).is_err(), "another exercise's spec");
    }

    #[test]
    fn directory_names_are_nn_slug() {
        assert_eq!(split_dir_name("01-forgotten-guard"), Some((1, "forgotten-guard")));
        assert_eq!(split_dir_name("1-x"), None);
        assert_eq!(split_dir_name("01-Bad"), None);
        assert_eq!(split_dir_name("01-"), None);
    }
}
