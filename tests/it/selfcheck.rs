//! The self-check: every starter fails *by a leak verdict* (read from leaklab's JSON reports) and every
//! solution passes. Builds all exercises in one cargo call, then runs the specs two at a time.

use leaklab_workshop::catalogue::{self, Exercise, Grading};
use leaklab_workshop::grade::{self, Outcome, Run};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(120);

/// What is wrong with an exercise given its starter's and solution's runs, or `None` when both are right.
fn judge(exercise: &Exercise, starter: &Run, solution: &Run) -> Option<String> {
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

#[test]
fn every_starter_leaks_and_every_solution_passes() {
    let started = Instant::now();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exercises = catalogue::load(root).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !exercises.is_empty(),
        "no exercises found under {}",
        root.join("exercises").display()
    );
    let solutions: Vec<String> = exercises.iter().map(Exercise::solution_package).collect();
    let packages: Vec<&str> = exercises
        .iter()
        .map(Exercise::package)
        .chain(solutions.iter().map(String::as_str))
        .collect();
    let binaries = grade::build_specs(root, &packages).unwrap_or_else(|e| panic!("{e}"));
    let built = started.elapsed();

    // Run the specs two at a time (the machines this runs on have two cores).
    let queue = Mutex::new(packages.clone());
    let runs = Mutex::new(std::collections::BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some(package) = queue.lock().unwrap().pop() {
                    let run = grade::run_spec(&binaries[package], TIMEOUT).unwrap_or_else(|e| panic!("{package}: {e}"));
                    runs.lock().unwrap().insert(package.to_owned(), run);
                }
            });
        }
    });
    let runs = runs.into_inner().unwrap();

    let mut problems = Vec::new();
    for (exercise, solution) in exercises.iter().zip(&solutions) {
        let (starter_run, solution_run) = (&runs[exercise.package()], &runs[solution]);
        problems.extend(judge(exercise, starter_run, solution_run));
        // The check of the check: graded with the starter in the solution's place (a leaking "solution"),
        // the self-check must object.
        {
            assert!(
                judge(exercise, starter_run, starter_run).is_some(),
                "{}: a leaking solution was not caught by the self-check",
                exercise.id()
            );
        }
    }
    eprintln!(
        "self-check: {} exercises, built in {:.1?}, checked in {:.1?} in all",
        exercises.len(),
        built,
        started.elapsed()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
