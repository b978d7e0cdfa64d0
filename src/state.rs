//! The runner's state: one small JSON file with each exercise's last status and how many hints were shown.
//! Written atomically (a temporary file renamed over the old one), so a crash never leaves half a file.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bump when the layout changes; older files are rebuilt, not misread.
pub const STATE_VERSION: u32 = 1;

/// The file name, at the workspace root.
pub const STATE_FILE: &str = ".leaklab-state.json";

/// What the runner remembers about one exercise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// `pending`, `passed`, `leaking`, `failing`, `crashed`, `hung` or `build-error`.
    pub status: String,
    /// How many times it was run.
    pub attempts: u32,
    /// Seconds since the Unix epoch of the last run.
    pub last_run: Option<u64>,
    /// How many hint tiers were shown.
    pub hints_shown: usize,
    /// The size of the last leak verdict (`"2 blocks, 133 bytes"`), for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_leak: Option<String>,
}

/// The whole state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Always [`STATE_VERSION`] when written by this version.
    pub version: u32,
    /// Progress by exercise id (`NN-slug`).
    pub exercises: BTreeMap<String, Progress>,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: STATE_VERSION,
            exercises: BTreeMap::new(),
        }
    }
}

/// Loads the state at `root`; a missing file is a fresh start, and a corrupt or older one is replaced
/// by a fresh state with a note explaining what happened (returned as the second value).
pub fn load(root: &Path) -> (State, Option<String>) {
    let path = root.join(STATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (State::default(), None),
        Err(e) => {
            return (
                State::default(),
                Some(format!("could not read {}: {e}; starting fresh", path.display())),
            );
        }
    };
    match serde_json::from_str::<State>(&text) {
        Ok(state) if state.version == STATE_VERSION => (state, None),
        Ok(state) => (
            State::default(),
            Some(format!(
                "{} was written by another version (version {}); progress is rebuilt as exercises are run",
                path.display(),
                state.version
            )),
        ),
        Err(e) => (
            State::default(),
            Some(format!(
                "{} is damaged ({e}); progress is rebuilt as exercises are run",
                path.display()
            )),
        ),
    }
}

/// Writes the state atomically.
pub fn save(root: &Path, state: &State) -> std::io::Result<PathBuf> {
    let path = root.join(STATE_FILE);
    let mut tmp = tempfile::NamedTempFile::new_in(root)?;
    tmp.write_all(
        serde_json::to_string_pretty(state)
            .map_err(std::io::Error::other)?
            .as_bytes(),
    )?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::default();
        state.exercises.insert(
            "01-x".into(),
            Progress {
                status: "passed".into(),
                attempts: 2,
                ..Progress::default()
            },
        );
        save(dir.path(), &state).unwrap();
        assert_eq!(load(dir.path()), (state, None));
    }

    #[test]
    fn a_damaged_file_is_rebuilt_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), "{\"version\": 1, \"exerc").unwrap();
        let (state, note) = load(dir.path());
        assert_eq!(state, State::default());
        assert!(note.unwrap().contains("damaged"));
    }

    #[test]
    fn an_older_version_is_rebuilt_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), r#"{"version": 0, "exercises": {}}"#).unwrap();
        assert!(load(dir.path()).1.unwrap().contains("another version"));
    }

    #[test]
    fn a_missing_file_is_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), (State::default(), None));
    }
}
