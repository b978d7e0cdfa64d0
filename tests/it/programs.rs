//! The outside programs the tests drive, found on `PATH`: mdbook, and headless Chromium to render a page
//! and read its DOM. Tests that need one skip, with a message, when it is not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Headless Chromium, under any of its usual names.
pub fn chromium() -> Option<PathBuf> {
    find(&["chromium", "chromium-browser", "google-chrome"])
}

/// The first program on `PATH` with one of these names.
pub fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs `cmd` to completion, killing it after `limit`; returns its stdout.
pub fn run_with_timeout(mut cmd: Command, limit: Duration) -> Result<String, String> {
    let out = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let mut child = cmd
        .stdout(out.reopen().map_err(|e| e.to_string())?)
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let text = std::fs::read_to_string(out.path()).map_err(|e| e.to_string())?;
            return if status.success() {
                Ok(text)
            } else {
                Err(format!("{cmd:?} failed: {status}"))
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{cmd:?} did not finish in {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The DOM of `page` after its scripts ran, from headless Chromium.
pub fn dump_dom(chromium: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg("--dump-dom")
    .arg(format!("file://{}", page.display()));
    run_with_timeout(cmd, Duration::from_secs(90)).unwrap_or_else(|e| panic!("{e}"))
}
