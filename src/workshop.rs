//! The workshop as the runner sees it: the exercises, the learner's progress, and looking exercises up.

use crate::catalogue::{self, Exercise};
use crate::grade::Outcome;
use crate::state::{self, Progress, State};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Environment variable that points the runner at another checkout (the tests use temporary copies).
pub const ROOT_ENV: &str = "LEAKLAB_WORKSHOP_ROOT";

/// The exercises and the learner's progress through them.
pub struct Workshop {
    /// The workspace root.
    pub root: PathBuf,
    /// Every exercise, in order.
    pub exercises: Vec<Exercise>,
    /// The learner's progress.
    pub state: State,
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Workshop {
    /// Loads the catalogue and the state at `root`. The second value is a note for the learner when the
    /// state file had to be rebuilt.
    pub fn load(root: &Path) -> Result<(Workshop, Option<String>), String> {
        let exercises = catalogue::load(root).map_err(|e| e.to_string())?;
        let (state, note) = state::load(root);
        Ok((
            Workshop {
                root: root.to_owned(),
                exercises,
                state,
            },
            note,
        ))
    }

    /// The status word of an exercise: `pending` until it has been run.
    pub fn status(&self, e: &Exercise) -> &str {
        self.state
            .exercises
            .get(&e.id())
            .map_or("pending", |p| p.status.as_str())
    }

    /// Whether the learner's file was saved after the exercise's last run, so its status may be out of date.
    pub fn edited_since_last_run(&self, e: &Exercise) -> bool {
        let Some(last_run) = self.state.exercises.get(&e.id()).and_then(|p| p.last_run) else {
            return false;
        };
        std::fs::metadata(e.edit_path())
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .is_some_and(|t| t.as_secs() > last_run)
    }

    /// How many exercises have passed.
    pub fn passed(&self) -> usize {
        self.exercises.iter().filter(|e| self.status(e) == "passed").count()
    }

    /// The first exercise not passed yet, if any.
    pub fn current(&self) -> Option<usize> {
        self.exercises.iter().position(|e| self.status(e) != "passed")
    }

    /// Finds an exercise by number, slug or `NN-slug` (default: the current one), with a "did you mean".
    pub fn pick(&self, name: Option<&str>) -> Result<usize, String> {
        let Some(name) = name.map(str::trim) else {
            return Ok(self.current().unwrap_or(0));
        };
        if let Some(i) = self
            .exercises
            .iter()
            .position(|e| e.id() == name || e.slug == name || name.parse::<u32>().is_ok_and(|n| n == e.number))
        {
            return Ok(i);
        }
        let closest = self.exercises.iter().min_by_key(|e| edit_distance(&e.slug, name));
        Err(match closest {
            Some(e) => format!(
                "no exercise is called `{name}`. Did you mean `{}`? (`cargo run -- list` shows all)",
                e.slug
            ),
            None => format!("no exercise is called `{name}`"),
        })
    }

    /// Records a run's outcome for exercise `i` and saves the state.
    pub fn record(&mut self, i: usize, status: &str, outcome: Option<&Outcome>) -> Result<(), String> {
        let id = self.exercises[i].id();
        let progress = self.state.exercises.entry(id).or_default();
        progress.status = status.to_owned();
        progress.attempts += 1;
        progress.last_run = Some(now());
        if let Some(Outcome::Leaking { last }) = outcome {
            progress.last_leak = Some(last.summary());
        }
        self.save()
    }

    /// The progress entry of exercise `i`, created if missing.
    pub fn progress_mut(&mut self, i: usize) -> &mut Progress {
        let id = self.exercises[i].id();
        self.state.exercises.entry(id).or_insert_with(|| Progress {
            status: "pending".into(),
            ..Progress::default()
        })
    }

    /// Saves the state atomically.
    pub fn save(&self) -> Result<(), String> {
        state::save(&self.root, &self.state)
            .map(drop)
            .map_err(|e| format!("could not save progress: {e}"))
    }

    /// `path` relative to the workspace root, for display.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("forgotten-guard", "forgoten-guard"), 1);
        assert_eq!(edit_distance("graph", "graph"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
