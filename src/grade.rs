//! Grading: build an exercise's spec, run it with a timeout, and read the verdict from leaklab's JSON
//! reports (never from the test's text output).

use leaklab::{Report, Verdict};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a run of an exercise's spec ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every test passed.
    Passed,
    /// A test failed and leaklab reported a leak.
    Leaking {
        /// The last leaking report written (see [`last_leak`]).
        last: Box<Report>,
    },
    /// A test failed for another reason (wrong behaviour, a panic).
    Failing,
    /// The test binary was killed by a signal.
    Crashed {
        /// The signal number.
        signal: i32,
    },
    /// The run took longer than the timeout and was killed.
    Hung,
}

impl Outcome {
    /// The status word used in lists and reports.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Leaking { .. } => "leaking",
            Outcome::Failing => "failing",
            Outcome::Crashed { .. } => "crashed",
            Outcome::Hung => "hung",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Passed => write!(f, "passed"),
            // A growth measurement's counts are where a long run ended, not a smallest case: its rate says more.
            Outcome::Leaking { last } if last.growth.is_some() => write!(f, "leaking ({})", last.summary()),
            // Blocks and bytes, and any descriptors, threads or files left: an fd-only leak is not "0 blocks".
            Outcome::Leaking { last } => write!(f, "leaking ({} in the smallest failing case)", last.summary()),
            Outcome::Failing => write!(f, "failing (a test failed, not because of a leak)"),
            Outcome::Crashed { signal } => write!(f, "crashed ({})", signal_name(*signal)),
            Outcome::Hung => write!(f, "hung (killed after the timeout)"),
        }
    }
}

fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGSEGV => "SIGSEGV: likely a use after free or a double free".into(),
        libc::SIGABRT => "SIGABRT: the program aborted; leaklab or the C allocator found a bad free".into(),
        libc::SIGBUS => "SIGBUS: a bad memory access".into(),
        libc::SIGKILL => "SIGKILL: killed, perhaps out of memory".into(),
        other => format!("signal {other}"),
    }
}

/// The result of one run: the outcome and what the tests printed.
#[derive(Clone, Debug)]
pub struct Run {
    /// How it ended.
    pub outcome: Outcome,
    /// The tests' stdout and stderr, interleaved as written.
    pub output: String,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// Why grading could not start. The message says what to do.
#[derive(Debug)]
pub enum GradeError {
    /// The code does not compile: cargo's messages, for the learner to act on.
    Compile(String),
    /// A tool the workshop needs is missing (cargo, a C compiler): not the learner's code.
    Tool(String),
    /// Anything else that stopped grading: a temporary directory, a test binary that would not start.
    Other(String),
}

impl fmt::Display for GradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradeError::Compile(m) | GradeError::Tool(m) | GradeError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for GradeError {}

/// A built spec: its test binary and the crate directory it runs in (as `cargo test` runs it).
#[derive(Clone, Debug)]
pub struct Spec {
    /// The test binary.
    pub binary: PathBuf,
    /// The crate's directory.
    pub dir: PathBuf,
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    target: Option<CargoTarget>,
    #[serde(default)]
    package_id: String,
}

#[derive(Deserialize)]
struct CargoTarget {
    name: String,
}

/// Builds the `spec` test of each package in one cargo call and returns each package's test binary.
///
/// When the build fails, the error holds cargo's messages so the learner sees the compiler's words.
pub fn build_specs(root: &Path, packages: &[&str]) -> Result<BTreeMap<String, Spec>, GradeError> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root).args([
        "test",
        "--no-run",
        "--message-format=json-render-diagnostics",
        "--test",
        "spec",
    ]);
    for p in packages {
        cmd.args(["-p", p]);
    }
    let out = cmd.stderr(Stdio::piped()).output().map_err(|e| {
        GradeError::Tool(format!(
            "could not run cargo ({e}); is the Rust toolchain installed? See the README"
        ))
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(missing_c_compiler(&stderr).map_or_else(
            || GradeError::Compile(format!("the code does not compile yet:\n{stderr}")),
            GradeError::Tool,
        ));
    }
    let mut binaries = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<CargoMessage>(line) else {
            continue;
        };
        if msg.reason != "compiler-artifact" || msg.target.as_ref().is_none_or(|t| t.name != "spec") {
            continue;
        }
        if let (Some(binary), Some(name)) = (msg.executable, package_name(&msg.package_id)) {
            let dir = msg
                .manifest_path
                .as_deref()
                .and_then(Path::parent)
                .unwrap_or(root)
                .to_owned();
            binaries.insert(name, Spec { binary, dir });
        }
    }
    for p in packages {
        if !binaries.contains_key(*p) {
            return Err(GradeError::Other(format!(
                "cargo built no `spec` test for package `{p}`; check its Cargo.toml"
            )));
        }
    }
    Ok(binaries)
}

/// When a build failed because there is no C compiler (the `cc` crate found none, or rustc found no
/// linker), one message saying so and what to install, instead of cargo's pages of build-script output.
fn missing_c_compiler(stderr: &str) -> Option<String> {
    let line = stderr
        .lines()
        .map(str::trim)
        .find(|l| l.contains("failed to find tool") || l.contains("linker `cc` not found"))?;
    Some(format!(
        "a C compiler is needed and none was found: install gcc (Debian/Ubuntu: sudo apt-get install gcc; \
         Fedora: sudo dnf install gcc; macOS: xcode-select --install), or point CC at one, then run the \
         workshop again. Your code is not the problem.\n  (cargo said: {line})"
    ))
}

/// The package name in a cargo package id (`path+file:///…/x#name@0.1.0` or `…#0.1.0` for a dir named x).
fn package_name(id: &str) -> Option<String> {
    let (path, fragment) = id.rsplit_once('#')?;
    match fragment.split_once('@') {
        Some((name, _)) => Some(name.to_owned()),
        None => path.rsplit('/').next().map(str::to_owned),
    }
}

/// Runs a spec with a fresh report directory, killing its whole process group after `timeout`.
pub fn run_spec(spec: &Spec, timeout: Duration) -> Result<Run, GradeError> {
    let binary = spec.binary.as_path();
    let scratch =
        tempfile::tempdir().map_err(|e| GradeError::Other(format!("could not create a temporary directory: {e}")))?;
    let reports = scratch.path().join("reports");
    let log_path = scratch.path().join("output.txt");
    let log =
        std::fs::File::create(&log_path).map_err(|e| GradeError::Other(format!("{}: {e}", log_path.display())))?;
    let start = Instant::now();
    let mut child = Command::new(binary)
        .current_dir(&spec.dir)
        // As `cargo test` sets it: tools inside a spec (trybuild) find the crate under test by it, and must
        // not see the runner's own value, inherited from whoever started the runner.
        .env("CARGO_MANIFEST_DIR", &spec.dir)
        .env(leaklab::REPORT_DIR_ENV, &reports)
        .env("RUST_BACKTRACE", "0")
        .stdout(log.try_clone().map_err(|e| GradeError::Other(e.to_string()))?)
        .stderr(log)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| GradeError::Other(format!("could not start {}: {e}", binary.display())))?;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| GradeError::Other(e.to_string()))? {
            break Some(status);
        }
        if start.elapsed() > timeout {
            // SAFETY: kill(2) on the child's process group (its pid, set by process_group(0)); no memory involved.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let outcome = match status {
        None => Outcome::Hung,
        Some(s) if s.success() => Outcome::Passed,
        Some(s) => match s.signal() {
            Some(signal) => Outcome::Crashed { signal },
            None => match last_leak(&reports) {
                Some(last) => Outcome::Leaking { last: Box::new(last) },
                None => Outcome::Failing,
            },
        },
    };
    Ok(Run {
        outcome,
        output,
        elapsed,
    })
}

/// The last leaking report among the JSON reports written to `dir` (one `leaklab-<pid>.jsonl` per test
/// process, lines in the order written): after proptest's shrinking, the minimal leaking case. Lines of
/// another schema version, or not JSON, are ignored.
pub fn last_leak(dir: &Path) -> Option<Report> {
    let mut last = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        last = text
            .lines()
            .rev()
            .filter_map(|line| serde_json::from_str::<Report>(line).ok())
            .find(|r| r.schema == leaklab::REPORT_SCHEMA && r.verdict == Verdict::Leak)
            .or(last);
    }
    last
}

/// What a learner needs from a failed spec's output: each failing test's message (leaklab's report and
/// proptest's minimal input, or the behaviour that differed) without the harness's noise: the panic line
/// pointing into the spec, proptest's case counters, the backtrace note. Falls back to the output's last
/// lines when it has no failing test sections (a crash, a hang).
pub fn failure_details(output: &str) -> String {
    let sections: Vec<String> = output
        .split("\n---- ")
        .skip(1)
        .map(|section| {
            let section = section.split("\nfailures:").next().unwrap_or(section);
            let mut lines = section.lines();
            let title = lines.next().unwrap_or_default();
            let body: Vec<&str> = lines
                .filter(|l| !is_harness_noise(l))
                .map(|l| l.strip_prefix("Test failed: ").unwrap_or(l))
                .collect();
            format!("---- {title}\n{}", body.join("\n").trim())
        })
        .collect();
    if sections.is_empty() {
        let lines: Vec<&str> = output.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    } else {
        sections.join("\n\n")
    }
}

/// Lines of a failing test's output that say nothing about the learner's code.
fn is_harness_noise(line: &str) -> bool {
    let panic_in_spec = line.starts_with("thread '") && line.contains(" panicked at ") && line.contains("/tests/");
    panic_in_spec
        || [
            "\tsuccesses:",
            "\tlocal rejects:",
            "\tglobal rejects:",
            "note: run with `RUST_BACKTRACE=1`",
        ]
        .iter()
        .any(|p| line.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_come_from_both_id_forms() {
        assert_eq!(
            package_name("path+file:///w/exercises/01-x#forgotten-guard@0.1.0").as_deref(),
            Some("forgotten-guard")
        );
        assert_eq!(package_name("path+file:///w/leaklab#0.1.0").as_deref(), Some("leaklab"));
    }

    #[test]
    fn a_growth_verdict_shows_its_rate_and_ledgers_their_counts() {
        let line = |growth: &str| {
            format!(
                r#"{{"schema":"{}","label":"t","verdict":"leak","leaked_blocks":430,"leaked_bytes":23000,"c_blocks":0,"c_bytes":0{growth}}}"#,
                leaklab::REPORT_SCHEMA
            )
        };
        let leaking = |text: &str| Outcome::Leaking {
            last: Box::new(serde_json::from_str(text).unwrap()),
        };
        assert_eq!(
            leaking(&line("")).to_string(),
            "leaking (430 blocks, 23000 bytes in the smallest failing case)"
        );
        let thread = r#","threads":[{"tid":7,"name":"worker-0"}]"#;
        assert_eq!(
            leaking(&line(thread)).to_string(),
            "leaking (430 blocks, 23000 bytes, 1 running thread in the smallest failing case)"
        );
        let growth =
            r#","growth":{"iterations":100,"warmup":20,"bytes_per_iteration":139.04,"blocks_per_iteration":2.16}"#;
        assert_eq!(
            leaking(&line(growth)).to_string(),
            "leaking (grows by 139.0 bytes and 2.16 blocks per iteration)"
        );
    }

    #[test]
    fn the_last_leak_is_found_and_other_lines_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let line = |verdict: &str, bytes: usize| {
            format!(
                r#"{{"schema":"{}","label":"t","verdict":"{verdict}","leaked_blocks":1,"leaked_bytes":{bytes},"c_blocks":0,"c_bytes":0}}"#,
                leaklab::REPORT_SCHEMA
            )
        };
        let text = [
            line("clean", 0),
            line("leak", 10),
            "not json".into(),
            line("leak", 99),
            line("leak", 5),
        ]
        .join("\n");
        std::fs::write(dir.path().join("leaklab-1.jsonl"), text).unwrap();
        assert_eq!(last_leak(dir.path()).unwrap().leaked_bytes(), 5);
        std::fs::write(dir.path().join("leaklab-1.jsonl"), line("clean", 0)).unwrap();
        assert_eq!(last_leak(dir.path()), None);
    }

    #[test]
    fn a_missing_c_compiler_is_one_clear_message_and_a_compile_error_is_not_one() {
        let cc = "error: failed to run custom build command for `c-library-wrapper v0.1.0`\n  --- stdout\n  CC = None\n  \
                  --- stderr\n  error occurred in cc-rs: failed to find tool \"cc\": No such file or directory (os error 2)\n";
        let message = missing_c_compiler(cc).expect("recognised");
        assert!(
            message.starts_with("a C compiler is needed and none was found: install gcc"),
            "{message}"
        );
        assert!(message.contains("failed to find tool \"cc\""), "{message}");
        assert!(
            !message.contains("CC = None"),
            "the build script's noise is left out: {message}"
        );
        let linker = "error: linker `cc` not found\n  |\n  = note: No such file or directory (os error 2)\n";
        assert!(missing_c_compiler(linker).is_some());
        let learner = "error[E0382]: borrow of moved value: `h`\n --> src/lib.rs:3:5\n";
        assert_eq!(missing_c_compiler(learner), None);
    }

    #[test]
    fn failure_details_keep_the_report_and_the_minimal_input_only() {
        let output = "running 2 tests\ntest spec::a ... FAILED\n\nfailures:\n\n---- spec::a stdout ----\n\n\
            thread 'spec::a' (77) panicked at exercises/01-x/tests/../../../tests/01_x.rs:89:1:\n\
            Test failed: leaklab: `spec::a` leaked 1 block (1 byte).\n  allocated by Rust: 1 block, 1 byte\n\
            minimal failing input: ops = [\n    Get(\"a\"),\n]\n\tsuccesses: 0\n\tlocal rejects: 0\n\tglobal rejects: 0\n\n\
            note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n\n\
            failures:\n    spec::a\n\ntest result: FAILED. 1 passed; 1 failed\n";
        assert_eq!(
            failure_details(output),
            "---- spec::a stdout ----\nleaklab: `spec::a` leaked 1 block (1 byte).\n  allocated by Rust: 1 block, 1 \
             byte\nminimal failing input: ops = [\n    Get(\"a\"),\n]"
        );
        let own_panic =
            "---- spec::b stdout ----\nthread 'spec::b' (5) panicked at src/lib.rs:3:9:\nindex out of bounds\n";
        assert!(
            failure_details(own_panic).contains("panicked at src/lib.rs:3:9"),
            "a panic in the learner's code keeps its place"
        );
    }
}
