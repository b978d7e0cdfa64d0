//! The maintainers' self-check: every starter fails by a leak verdict (or, for compile-fail exercises,
//! fails), and every solution passes. Shared by `cargo run -- verify` and the root test suite.

use crate::catalogue::{Exercise, Grading};
use crate::grade::{self, GradeError, Outcome, Run};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// What is wrong with an exercise given its starter's and solution's runs, or `None` when both are right.
pub fn judge(exercise: &Exercise, starter: &Run, solution: &Run) -> Option<String> {
    let id = exercise.id();
    match exercise.meta.grading {
        Grading::Spec if !matches!(starter.outcome, Outcome::Leaking { .. }) => {
            return Some(format!(
                "{id}: the starter should fail with a leak verdict but was {}\n{}",
                starter.outcome, starter.output
            ));
        }
        // The starter's API lets misuse compile, so its compile-fail cases fail.
        Grading::CompileFail if starter.outcome != Outcome::Failing => {
            return Some(format!(
                "{id}: the starter's compile-fail cases should fail but it was {}\n{}",
                starter.outcome, starter.output
            ));
        }
        _ => {}
    }
    if solution.outcome != Outcome::Passed {
        return Some(format!(
            "{id}: the solution should pass but was {}\n{}",
            solution.outcome, solution.output
        ));
    }
    None
}

/// The runs of every starter and solution, by package name.
pub struct Runs {
    /// Package name → run.
    pub runs: BTreeMap<String, Run>,
}

impl Runs {
    /// The starter's and the solution's run of `exercise`.
    pub fn of(&self, exercise: &Exercise) -> (&Run, &Run) {
        (&self.runs[exercise.package()], &self.runs[&exercise.solution_package()])
    }
}

/// Builds every starter and solution in one cargo call, then runs their specs two at a time, calling
/// `progress(done, total, package, run)` after each.
pub fn run_all(
    root: &Path,
    exercises: &[Exercise],
    timeout: Duration,
    progress: impl Fn(usize, usize, &str, &Run) + Sync,
) -> Result<Runs, GradeError> {
    let solutions: Vec<String> = exercises.iter().map(Exercise::solution_package).collect();
    let packages: Vec<&str> = exercises
        .iter()
        .map(Exercise::package)
        .chain(solutions.iter().map(String::as_str))
        .collect();
    let binaries = grade::build_specs(root, &packages)?;
    let queue = Mutex::new(packages.clone());
    let runs = Mutex::new(BTreeMap::new());
    let failure = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(package) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop() else {
                        break;
                    };
                    match grade::run_spec(&binaries[package], timeout) {
                        Ok(run) => {
                            let mut runs = runs.lock().unwrap_or_else(|p| p.into_inner());
                            progress(runs.len() + 1, packages.len(), package, &run);
                            runs.insert(package.to_owned(), run);
                        }
                        Err(e) => *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e),
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(Runs {
        runs: runs.into_inner().unwrap_or_else(|p| p.into_inner()),
    })
}
