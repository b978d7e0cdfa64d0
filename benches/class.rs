//! `cargo bench --bench class`: how long `class` takes to aggregate 500 learners' results files.

use leaklab_workshop::class;
use leaklab_workshop::results::{ExerciseResult, RESULTS_SCHEMA, Results};
use std::time::Instant;

fn main() {
    let learners = 500;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let statuses = ["passed", "passed", "leaking", "failing", "pending"];
    for l in 0..learners {
        let results = Results {
            schema: RESULTS_SCHEMA.into(),
            learner: format!("learner {l:03}"),
            generated: 1_700_000_000,
            exercises: (0..21)
                .map(|i| ExerciseResult {
                    id: format!("{:02}-exercise", i + 1),
                    title: format!("Exercise {}", i + 1),
                    track: "foundations".into(),
                    leak_class: format!("class {}", i % 7),
                    status: statuses[(l * 7 + i * 3) % statuses.len()].into(),
                    attempts: ((l + i) % 9) as u32,
                    hints_used: (l + i) % 4,
                    last_run: Some(1_700_000_000),
                    last_leak: Some("2 blocks, 133 bytes".into()),
                })
                .collect(),
        };
        std::fs::write(dir.path().join(format!("learner{l:03}.json")), results.to_json()).expect("write");
    }
    let start = Instant::now();
    let class = class::load(dir.path()).expect("load");
    let page = class.write(dir.path(), "bench").expect("write");
    let elapsed = start.elapsed();
    assert_eq!(class.learners.len(), learners);
    let bytes = std::fs::metadata(page).map(|m| m.len()).unwrap_or(0);
    println!(
        "class: {learners} learners x 21 exercises aggregated and written ({bytes} bytes of HTML) in {elapsed:.2?} (target < 2 s)"
    );
}
