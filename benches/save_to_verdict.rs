//! `cargo bench --bench save_to_verdict`: how long `watch` takes from a save to the verdict on screen, warm
//! (the exercise's dependencies already built), for exercise 01 on a scratch copy of the workshop.
//!
//! The file is saved the way editors do (write a temporary file, rename it over the original), alternating
//! between two versions of the starter so every save changes the code and needs a rebuild. Target: under
//! 1.5 s on a 2-core machine.

#[path = "../tests/it/scratch.rs"]
#[allow(dead_code, reason = "shared with the runner's tests, which use all of it")]
mod scratch;

use scratch::{STARTER_FILE, Screen, Workshop};
use std::process::Stdio;
use std::time::{Duration, Instant};

const SAVES: usize = 6;

fn main() {
    let w = Workshop::new();
    let mut child = w
        .runner(&["watch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the runner starts");
    let screen = Screen::new(child.stdout.take().expect("piped stdout"));
    let wait_for = |needle: &str| {
        screen
            .wait_for(needle, Duration::from_secs(300))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    // Warm-up: the first grading builds leaklab, proptest and the spec.
    wait_for("watching");
    // Two versions of the starter, both leaking (a passing save would end `watch`), saved in turn.
    let starter = std::fs::read_to_string(w.path(STARTER_FILE)).expect("the starter");
    let edited = format!("{starter}\n// an edit that does not fix it\n");
    let mut times = Vec::new();
    for i in 0..SAVES {
        let text = if i % 2 == 0 { &edited } else { &starter };
        let tmp = w.path("exercises/01-forgotten-guard/src/.lib.rs.tmp");
        std::fs::write(&tmp, text).expect("write the temporary file");
        let saved = Instant::now();
        std::fs::rename(&tmp, w.path(STARTER_FILE)).expect("rename over the starter");
        wait_for("verdict:");
        times.push(saved.elapsed());
        wait_for("watching");
    }
    let _ = child.kill();
    let _ = child.wait();
    times.sort();
    println!(
        "watch: save -> verdict on screen, {SAVES} saves (each a rebuild of the exercise and its spec): median {:.2?}, \
         fastest {:.2?}, slowest {:.2?} (target < 1.5 s)",
        times[SAVES / 2],
        times[0],
        times[SAVES - 1]
    );
}
