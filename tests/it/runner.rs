//! The runner driven as a learner drives it, on a temporary git copy of a one-exercise workshop: screens,
//! reset, watch, the results schema, and how runs that hang, crash or fail are classified.

use leaklab_workshop::grade::{self, Outcome};
use leaklab_workshop::results::{RESULTS_SCHEMA, Results};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const EXERCISE: &str = "01-forgotten-guard";
const STARTER_FILE: &str = "exercises/01-forgotten-guard/src/lib.rs";

fn real_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == "snapshots" || name.to_string_lossy().contains(".leaklab-backup") {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// A git checkout with leaklab and exercise 01 (starter, solution, spec), sharing this build's target dir.
struct Workshop {
    dir: tempfile::TempDir,
}

impl Workshop {
    fn new() -> Workshop {
        let dir = tempfile::tempdir().unwrap();
        let root = real_root();
        let manifest: toml::Table = toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
        let mut workspace = manifest["workspace"].as_table().unwrap().clone();
        workspace.insert(
            "members".into(),
            toml::Value::Array(vec!["leaklab".into(), "exercises/*".into(), "solutions/*".into()]),
        );
        workspace.remove("default-members");
        let mut out = toml::Table::new();
        out.insert("workspace".into(), toml::Value::Table(workspace));
        if let Some(profile) = manifest.get("profile") {
            out.insert("profile".into(), profile.clone());
        }
        std::fs::write(dir.path().join("Cargo.toml"), toml::to_string(&out).unwrap()).unwrap();
        for part in [
            "leaklab",
            "exercises/01-forgotten-guard",
            "solutions/01-forgotten-guard",
            ".cargo",
        ] {
            copy_dir(&root.join(part), &dir.path().join(part));
        }
        std::fs::create_dir_all(dir.path().join("tests")).unwrap();
        std::fs::copy(
            root.join("tests/01_forgotten_guard.rs"),
            dir.path().join("tests/01_forgotten_guard.rs"),
        )
        .unwrap();
        if let Ok(lock) = std::fs::read(root.join("Cargo.lock")) {
            std::fs::write(dir.path().join("Cargo.lock"), lock).unwrap();
        }
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .current_dir(dir.path())
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@t",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args)
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?} failed");
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-qm", "workshop"]);
        Workshop { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn runner(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_leaklab-workshop"));
        cmd.args(args)
            .env("LEAKLAB_WORKSHOP_ROOT", self.dir.path())
            .env("CARGO_TARGET_DIR", real_root().join("target/runner-tests"))
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE");
        cmd
    }

    /// Runs the runner to completion and returns its stdout (asserting success).
    fn run(&self, args: &[&str]) -> String {
        let out = self.runner(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

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
        s.add_filter(r"\d+ block\(s\), \d+ byte\(s\)", "[N] block(s), [M] byte(s)");
        s
    };
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

#[test]
fn watch_notices_a_save_and_moves_on_after_a_pass() {
    let w = Workshop::new();
    let mut child = w
        .runner(&["watch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str, limit: Duration| -> Result<Instant, String> {
        let deadline = Instant::now() + limit;
        let mut seen = String::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Ok(Instant::now()),
                Ok(line) => seen.push_str(&format!("{line}\n")),
                Err(_) => break,
            }
        }
        Err(format!("`{needle}` did not appear within {limit:?}; output:\n{seen}"))
    };
    let result = (|| {
        wait_for("verdict: leaking", Duration::from_secs(240))?;
        wait_for("watching", Duration::from_secs(10))?;
        // Save the fixed file the way editors do: write a temporary file, then rename it over the original.
        let fixed = std::fs::read_to_string(w.path("solutions/01-forgotten-guard/src/lib.rs")).unwrap();
        let tmp = w.path("exercises/01-forgotten-guard/src/.lib.rs.swp");
        std::fs::write(&tmp, fixed).unwrap();
        let saved = Instant::now();
        std::fs::rename(&tmp, w.path(STARTER_FILE)).unwrap();
        let passed = wait_for("verdict: passed", Duration::from_secs(240))?;
        eprintln!(
            "watch: save -> verdict on screen in {:.2?} (includes compiling the edited crate)",
            passed - saved
        );
        wait_for("All exercises pass", Duration::from_secs(30))
    })();
    if result.is_err() {
        let _ = child.kill();
    }
    let _ = child.stdin.take().map(|mut s| s.write_all(b"q\n"));
    let _ = child.wait();
    result.unwrap();
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
