//! The self-check: every starter fails *by a leak verdict* (read from leaklab's JSON reports) and every
//! solution passes. Builds all exercises in one cargo call, then runs the specs two at a time.

use leaklab_workshop::catalogue;
use leaklab_workshop::verify;
use std::path::Path;
use std::time::{Duration, Instant};

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
    let runs =
        verify::run_all(root, &exercises, Duration::from_secs(120), |_, _, _, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    for exercise in &exercises {
        let (starter, solution) = runs.of(exercise);
        problems.extend(verify::judge(exercise, starter, solution));
        // The check of the check: graded with the starter in the solution's place (a leaking "solution"),
        // the self-check must object.
        assert!(
            verify::judge(exercise, starter, starter).is_some(),
            "{}: a leaking solution was not caught by the self-check",
            exercise.id()
        );
    }
    eprintln!(
        "self-check: {} exercises checked in {:.1?}",
        exercises.len(),
        started.elapsed()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
