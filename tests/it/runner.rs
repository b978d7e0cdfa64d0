//! The runner driven as a learner drives it, on a temporary git copy of a one-exercise workshop: screens,
//! reset, watch, the results schema, and how runs that hang, crash or fail are classified.

use crate::scratch::{EXERCISE, STARTER_FILE, Screen, Workshop};
use leaklab_workshop::grade::{self, Outcome};
use leaklab_workshop::results::{RESULTS_SCHEMA, Results};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

#[test]
fn the_screens_a_learner_sees() {
    let w = Workshop::new();
    insta::assert_snapshot!("list_fresh", w.run(&["list"]));
    insta::assert_snapshot!("hint_first", w.run(&["hint"]));
    insta::assert_snapshot!("hint_second", w.run(&["hint", "forgotten-guard"]));
    let status = w.run(&[]);
    assert!(status.contains("0 of 1 passed"), "{status}");
    assert!(status.contains("verdict: leaking ("), "{status}");
    assert!(status.contains("minimal failing input: ops = ["), "{status}");
    assert!(
        status.contains("allocated at src/lib.rs:"),
        "the report shows allocation sites:\n{status}"
    );
    assert!(
        status.contains("next: fix exercises/01-forgotten-guard/src/lib.rs"),
        "{status}"
    );
    let settings = {
        let mut s = insta::Settings::clone_current();
        // Lines move when the starter is edited; the rest is fixed by the proptest seed.
        s.add_filter(r"src/lib\.rs:\d+", "src/lib.rs:[line]");
        s
    };
    settings.bind(|| insta::assert_snapshot!("status_leaking", status));
    settings.bind(|| {
        insta::assert_snapshot!(
            "report_markdown",
            w.run(&["report", "--format", "markdown", "--name", "ada"])
        )
    });
    let unknown = w.runner(&["hint", "forgoten-guard"]).output().unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("Did you mean `forgotten-guard`?"));
}

#[test]
fn report_json_follows_the_documented_schema() {
    let w = Workshop::new();
    w.run(&["hint"]);
    let json = w.run(&["report", "--format", "json", "--name", "<ada>"]);
    let results: Results = serde_json::from_str(&json).expect("the JSON matches the documented fields exactly");
    assert_eq!(results.schema, RESULTS_SCHEMA);
    assert_eq!(results.learner, "<ada>");
    assert_eq!(results.exercises.len(), 1);
    assert_eq!(
        (results.exercises[0].id.as_str(), results.exercises[0].hints_used),
        (EXERCISE, 1)
    );
}

#[test]
fn reset_backs_up_the_learners_file_and_never_loses_it() {
    let w = Workshop::new();
    let file = w.path(STARTER_FILE);
    let pristine = std::fs::read_to_string(&file).unwrap();
    let mine = format!("{pristine}\n// my attempt at a fix\n");
    std::fs::write(&file, &mine).unwrap();
    let out = w.run(&["reset", "forgotten-guard"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pristine);
    let backups: Vec<PathBuf> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".leaklab-backup."))
        .collect();
    assert_eq!(backups.len(), 1, "{out}");
    assert_eq!(
        std::fs::read_to_string(&backups[0]).unwrap(),
        mine,
        "the backup holds the learner's version"
    );
    assert!(out.contains("Your version is saved as"), "{out}");
    // Nothing to reset: no second backup, nothing overwritten.
    assert!(w.run(&["reset", "1"]).contains("nothing to reset"));
    assert_eq!(std::fs::read_dir(file.parent().unwrap()).unwrap().count(), 2);
}

/// A pseudo-terminal: the runner sees a real terminal on stdin, stdout and stderr.
struct Pty {
    master: std::fs::File,
    slave: std::fs::File,
}

impl Pty {
    fn open() -> Pty {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pseudo-terminal");
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap();
        Pty {
            master: master.into(),
            slave,
        }
    }

    fn stdio(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().unwrap())
    }

    /// Whether the terminal is in line mode (canonical input with echo), as a shell leaves it.
    fn in_line_mode(&self) -> bool {
        use rustix::termios::{LocalModes, tcgetattr};
        let modes = tcgetattr(&self.slave).unwrap().local_modes;
        modes.contains(LocalModes::ICANON | LocalModes::ECHO)
    }
}

#[test]
fn watch_in_a_terminal_takes_single_keys_and_notices_a_save() {
    let w = Workshop::new();
    let pty = Pty::open();
    assert!(pty.in_line_mode());
    let mut child = w
        .runner(&["watch"])
        .stdin(pty.stdio())
        .stdout(pty.stdio())
        .stderr(pty.stdio())
        .spawn()
        .unwrap();
    let screen = Screen::new(pty.master.try_clone().unwrap());
    let wait_for = |needle: &str, limit: Duration| screen.wait_for(needle, limit);
    let mut keyboard = pty.master.try_clone().unwrap();
    let result = (|| {
        wait_for("verdict: leaking", Duration::from_secs(240))?;
        wait_for("watching", Duration::from_secs(10))?;
        if pty.in_line_mode() {
            return Err("watch did not switch the terminal to single-key mode".to_owned());
        }
        // One key, no Enter: the hint appears at once.
        keyboard.write_all(b"h").unwrap();
        wait_for("hint 1 of 3 (nudge)", Duration::from_secs(10))?;
        // Save the fixed file the way editors do: write a temporary file, then rename it over the original.
        let fixed = std::fs::read_to_string(w.path("solutions/01-forgotten-guard/src/lib.rs")).unwrap();
        let tmp = w.path("exercises/01-forgotten-guard/src/.lib.rs.swp");
        std::fs::write(&tmp, fixed).unwrap();
        std::fs::rename(&tmp, w.path(STARTER_FILE)).unwrap();
        wait_for("verdict: passed", Duration::from_secs(240))?;
        wait_for("All exercises pass", Duration::from_secs(30))
    })();
    if result.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    result.unwrap();
    assert!(status.success(), "watch ends by itself once every exercise passes");
    assert!(
        pty.in_line_mode(),
        "watch puts the terminal back in line mode when it ends"
    );
}

#[test]
fn watch_takes_keys_from_piped_input_too() {
    let w = Workshop::new();
    let mut child = w
        .runner(&["watch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Keys typed ahead are read once the first verdict is shown: a hint, then quit.
    child.stdin.take().unwrap().write_all(b"h\nq\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("hint 1 of 3 (nudge)"), "{stdout}");
    assert!(!stdout.contains("verdict: passed"), "{stdout}");
}

/// A tiny executable shell script standing in for a spec binary.
fn script(dir: &Path, name: &str, body: &str) -> grade::Spec {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    grade::Spec {
        binary: path,
        dir: dir.to_owned(),
    }
}

#[test]
fn hung_crashed_and_failing_runs_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let hung = grade::run_spec(
        &script(dir.path(), "hang", "sleep 30 & sleep 30"),
        Duration::from_millis(300),
    )
    .unwrap();
    assert_eq!(hung.outcome, Outcome::Hung);
    assert!(
        hung.elapsed < Duration::from_secs(10),
        "the process group was killed at the timeout"
    );
    let crashed = grade::run_spec(&script(dir.path(), "crash", "kill -SEGV $$"), Duration::from_secs(10)).unwrap();
    assert_eq!(crashed.outcome, Outcome::Crashed { signal: 11 });
    assert!(
        crashed
            .outcome
            .to_string()
            .contains("SIGSEGV: likely a use after free or a double free")
    );
    let failing = grade::run_spec(
        &script(dir.path(), "fail", "echo boom; exit 101"),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(
        failing.outcome,
        Outcome::Failing,
        "a failure without a leak report is not a leak"
    );
    assert!(failing.output.contains("boom"));
    let passing = grade::run_spec(&script(dir.path(), "pass", "exit 0"), Duration::from_secs(10)).unwrap();
    assert_eq!(passing.outcome, Outcome::Passed);
}
