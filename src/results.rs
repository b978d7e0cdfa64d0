//! The learner's results for a class or a CI system: JSON (schema `leaklab.results/1`), JUnit XML and
//! Markdown, all made from the runner's state.
//!
//! JSON fields (readers must check `schema`):
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `schema` | string | `"leaklab.results/1"` |
//! | `learner` | string | the learner's name (`--name`, default `$USER`) |
//! | `generated` | integer | seconds since the Unix epoch |
//! | `exercises[]` | array | one entry per exercise, in order |
//! | `exercises[].id` | string | `NN-slug` |
//! | `exercises[].title`, `.track`, `.leak_class` | string | from the exercise's metadata |
//! | `exercises[].status` | string | `pending`, `passed`, `leaking`, `failing`, `crashed`, `hung`, `build-error` |
//! | `exercises[].attempts` | integer | how many times it was graded |
//! | `exercises[].hints_used` | integer | hint tiers shown (0–3) |
//! | `exercises[].last_run` | integer or null | seconds since the Unix epoch |
//! | `exercises[].last_leak` | string or null | size of the last leak verdict, e.g. `"2 blocks, 133 bytes"` |

use crate::workshop::Workshop;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// The `schema` value this version writes.
pub const RESULTS_SCHEMA: &str = "leaklab.results/1";

/// One learner's results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// Always [`RESULTS_SCHEMA`].
    pub schema: String,
    /// The learner's name.
    pub learner: String,
    /// When the results were made (seconds since the Unix epoch).
    pub generated: u64,
    /// One entry per exercise.
    pub exercises: Vec<ExerciseResult>,
}

/// One exercise's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseResult {
    /// `NN-slug`.
    pub id: String,
    /// The exercise's title.
    pub title: String,
    /// Its track's identifier.
    pub track: String,
    /// The kind of leak it teaches.
    pub leak_class: String,
    /// The last status.
    pub status: String,
    /// How many times it was graded.
    pub attempts: u32,
    /// Hint tiers shown.
    pub hints_used: usize,
    /// Last graded (seconds since the Unix epoch).
    pub last_run: Option<u64>,
    /// The size of the last leak verdict.
    pub last_leak: Option<String>,
}

impl Results {
    /// The results of the learner `learner` in workshop `w`, stamped `generated`.
    pub fn of(w: &Workshop, learner: &str, generated: u64) -> Results {
        let exercises = w
            .exercises
            .iter()
            .map(|e| {
                let p = w.state.exercises.get(&e.id()).cloned().unwrap_or_default();
                ExerciseResult {
                    id: e.id(),
                    title: e.meta.title.clone(),
                    track: e.meta.track.id().to_owned(),
                    leak_class: e.meta.leak_class.clone(),
                    status: w.status(e).to_owned(),
                    attempts: p.attempts,
                    hints_used: p.hints_shown,
                    last_run: p.last_run,
                    last_leak: p.last_leak,
                }
            })
            .collect();
        Results {
            schema: RESULTS_SCHEMA.to_owned(),
            learner: learner.to_owned(),
            generated,
            exercises,
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A Markdown table.
    pub fn to_markdown(&self) -> String {
        let passed = self.exercises.iter().filter(|e| e.status == "passed").count();
        let mut out = format!(
            "# leaklab results: {}\n\n{passed} of {} passed.\n\n",
            self.learner,
            self.exercises.len()
        );
        out.push_str(
            "| exercise | track | status | attempts | hints | last leak |\n| --- | --- | --- | --- | --- | --- |\n",
        );
        for e in &self.exercises {
            let cell = |s: &str| s.replace('|', "\\|");
            let _ = writeln!(
                out,
                "| {} {} | {} | {} | {} | {} | {} |",
                e.id,
                cell(&e.title),
                e.track,
                e.status,
                e.attempts,
                e.hints_used,
                cell(e.last_leak.as_deref().unwrap_or(""))
            );
        }
        out
    }

    /// JUnit XML: one test case per exercise; pending ones are skipped, others fail unless passed.
    pub fn to_junit(&self) -> String {
        let failures = self
            .exercises
            .iter()
            .filter(|e| e.status != "passed" && e.status != "pending")
            .count();
        let skipped = self.exercises.iter().filter(|e| e.status == "pending").count();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuite name=\"leaklab\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
            self.exercises.len()
        );
        let _ = writeln!(
            out,
            "  <properties><property name=\"learner\" value=\"{}\"/></properties>",
            xml(&self.learner)
        );
        for e in &self.exercises {
            let _ = write!(
                out,
                "  <testcase classname=\"leaklab.{}\" name=\"{}\"",
                xml(&e.track),
                xml(&e.id)
            );
            match e.status.as_str() {
                "passed" => out.push_str("/>\n"),
                "pending" => out.push_str("><skipped/></testcase>\n"),
                status => {
                    let detail = e.last_leak.as_deref().map(|l| format!(": {l}")).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "><failure message=\"{}\">{}</failure></testcase>",
                        xml(status),
                        xml(&format!("{status}{detail}"))
                    );
                }
            }
        }
        out.push_str("</testsuite>\n");
        out
    }
}

/// Escapes text for XML attributes and content.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Results {
        let entry = |id: &str, status: &str, leak: Option<&str>| ExerciseResult {
            id: id.into(),
            title: "A <title> & more".into(),
            track: "foundations".into(),
            leak_class: "c".into(),
            status: status.into(),
            attempts: 2,
            hints_used: 1,
            last_run: Some(1_700_000_000),
            last_leak: leak.map(Into::into),
        };
        Results {
            schema: RESULTS_SCHEMA.into(),
            learner: "ada \"<script>\"".into(),
            generated: 1_700_000_100,
            exercises: vec![
                entry("01-a", "passed", None),
                entry("02-b", "leaking", Some("2 blocks, 133 bytes")),
                entry("03-c", "pending", None),
            ],
        }
    }

    #[test]
    fn json_round_trips_through_the_documented_schema() {
        let r = sample();
        let back: Results = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(back, r);
        let extra = r.to_json().replacen("\"learner\"", "\"surprise\": 1, \"learner\"", 1);
        assert!(
            serde_json::from_str::<Results>(&extra).is_err(),
            "unknown fields are rejected"
        );
    }

    #[test]
    fn junit_escapes_and_counts() {
        let x = sample().to_junit();
        assert!(x.contains("tests=\"3\" failures=\"1\" skipped=\"1\""), "{x}");
        assert!(x.contains("ada &quot;&lt;script&gt;&quot;"), "{x}");
        assert!(!x.contains("<script>"), "{x}");
        assert!(
            x.contains("<failure message=\"leaking\">leaking: 2 blocks, 133 bytes</failure>"),
            "{x}"
        );
    }

    #[test]
    fn markdown_is_a_table() {
        let m = sample().to_markdown();
        assert!(m.contains("1 of 3 passed."), "{m}");
        assert!(
            m.contains("| 02-b A <title> & more | foundations | leaking | 2 | 1 | 2 blocks, 133 bytes |"),
            "{m}"
        );
    }
}
