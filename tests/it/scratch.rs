//! A scratch copy of the workshop for driving the runner as a learner would: a git checkout holding
//! leaklab and exercise 01 (starter, solution, spec). Shared by the runner's tests and the save-to-verdict
//! benchmark (`benches/save_to_verdict.rs` includes this file).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The one exercise in the copy.
pub const EXERCISE: &str = "01-forgotten-guard";
/// Its starter file, relative to the copy's root.
pub const STARTER_FILE: &str = "exercises/01-forgotten-guard/src/lib.rs";

/// The real checkout this copy is made from.
pub fn real_root() -> &'static Path {
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
pub struct Workshop {
    dir: tempfile::TempDir,
    /// Copies share one target dir, and cargo names a workspace's artifacts relative to its root, so two
    /// copies would build over each other's spec binaries: one copy at a time.
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

static ONE_COPY_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Workshop {
    /// Makes the copy (and waits for any other copy of this process to be dropped).
    pub fn new() -> Workshop {
        let one_at_a_time = ONE_COPY_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
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
        Workshop {
            dir,
            _one_at_a_time: one_at_a_time,
        }
    }

    /// A path inside the copy.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The runner, pointed at the copy, building into the shared target dir, without colours.
    pub fn runner(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_leaklab-workshop"));
        cmd.args(args)
            .env("LEAKLAB_WORKSHOP_ROOT", self.dir.path())
            .env("CARGO_TARGET_DIR", real_root().join("target/runner-tests"))
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            // The same random cases on every run, so the shrunk input on the screens is the same too.
            .env("PROPTEST_RNG_SEED", "7");
        cmd
    }

    /// Runs the runner to completion and returns its stdout (asserting success).
    pub fn run(&self, args: &[&str]) -> String {
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

/// What the runner prints, line by line as it comes (from a pipe or a pseudo-terminal), to wait for.
pub struct Screen {
    lines: mpsc::Receiver<String>,
}

impl Screen {
    /// Reads `output` on a thread of its own until it ends.
    pub fn new(output: impl Read + Send + 'static) -> Screen {
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                // A terminal ends lines with "\r\n".
                if tx.send(line.trim_end_matches('\r').to_owned()).is_err() {
                    break;
                }
            }
        });
        Screen { lines }
    }

    /// Waits for a line containing `needle` and returns when it came, or what was printed meanwhile.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + limit;
        let mut seen = String::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Ok(Instant::now()),
                Ok(line) => seen.push_str(&format!("{line}\n")),
                Err(_) => break,
            }
        }
        Err(format!("`{needle}` did not appear within {limit:?}; output:\n{seen}"))
    }
}
