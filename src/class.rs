//! The class dashboard: many learners' results (`report --format json` files) aggregated into one
//! self-contained HTML page, plus the same tables as Markdown and CSV.
//!
//! Bad input never stops the aggregate: a file that is not JSON, truncated, too large, or from another
//! schema version is skipped with a reason naming the file. Every piece of text from a file is escaped.

use crate::results::{ExerciseResult, RESULTS_SCHEMA, Results};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Files larger than this are skipped: one learner's results are a few kilobytes.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// A file that was not used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why, in words a person can act on.
    pub reason: String,
}

/// One learner as the dashboard sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learner {
    /// The learner's name.
    pub name: String,
    /// How many exercises passed.
    pub passed: usize,
    /// The first exercise not passed (`None` when all passed).
    pub current: Option<String>,
    /// Status of that exercise.
    pub current_status: Option<String>,
    /// Hints used in all.
    pub hints: usize,
}

/// One exercise across the class.
#[derive(Clone, Debug, PartialEq)]
pub struct ExerciseRow {
    /// `NN-slug`.
    pub id: String,
    /// Title.
    pub title: String,
    /// The kind of leak it teaches.
    pub leak_class: String,
    /// Learners who passed it.
    pub passed: usize,
    /// Learners in the class.
    pub learners: usize,
    /// Median attempts among learners who ran it at least once (`None` if nobody did).
    pub median_attempts: Option<f64>,
    /// Learners for whom this is the current (first unpassed) exercise.
    pub stuck_here: usize,
}

impl ExerciseRow {
    /// Pass rate in percent.
    pub fn pass_rate(&self) -> f64 {
        if self.learners == 0 {
            0.0
        } else {
            100.0 * self.passed as f64 / self.learners as f64
        }
    }
}

/// The aggregate of a class.
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    /// Learners, by name.
    pub learners: Vec<Learner>,
    /// Exercises, in catalogue order.
    pub exercises: Vec<ExerciseRow>,
    /// Leak classes with how many learners are currently leaking in one (most first).
    pub leak_classes: Vec<(String, usize)>,
    /// Files not used.
    pub skipped: Vec<Skipped>,
}

/// Reads and checks one learner's file.
pub fn read_results(path: &Path) -> Result<Results, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read it ({e})"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "it is {size} bytes, more than the {MAX_FILE_BYTES} a results file can be"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it as text ({e})"))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        if e.is_eof() {
            format!("it is truncated ({e}); ask the learner to run `cargo run -- report --format json` again")
        } else {
            format!("it is not valid JSON ({e})")
        }
    })?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(RESULTS_SCHEMA) => {}
        Some(other) => {
            return Err(format!(
                "it was written by another version of the workshop (schema `{other}`, expected `{RESULTS_SCHEMA}`)"
            ));
        }
        None => {
            return Err(format!(
                "it is not a leaklab results file (no `schema`; expected `{RESULTS_SCHEMA}`)"
            ));
        }
    }
    serde_json::from_value(value).map_err(|e| format!("it does not follow `{RESULTS_SCHEMA}` ({e})"))
}

/// Reads every `*.json` file in `dir` (sorted by name) and aggregates them.
pub fn load(dir: &Path) -> Result<Class, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the folder {} ({e})", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    let mut all = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        match read_results(&path) {
            Ok(results) => all.push(results),
            Err(reason) => skipped.push(Skipped { path, reason }),
        }
    }
    Ok(aggregate(&all, skipped))
}

fn median(mut v: Vec<u32>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        f64::from(v[m])
    } else {
        (f64::from(v[m - 1]) + f64::from(v[m])) / 2.0
    })
}

/// Aggregates learners' results (exercise order is the first learner's, then any new ids in order seen).
pub fn aggregate(all: &[Results], skipped: Vec<Skipped>) -> Class {
    let mut order: Vec<&ExerciseResult> = Vec::new();
    for r in all {
        for e in &r.exercises {
            if !order.iter().any(|o| o.id == e.id) {
                order.push(e);
            }
        }
    }
    let mut learners: Vec<Learner> = all
        .iter()
        .map(|r| {
            let current = r.exercises.iter().find(|e| e.status != "passed");
            Learner {
                name: r.learner.clone(),
                passed: r.exercises.iter().filter(|e| e.status == "passed").count(),
                current: current.map(|e| e.id.clone()),
                current_status: current.map(|e| e.status.clone()),
                hints: r.exercises.iter().map(|e| e.hints_used).sum(),
            }
        })
        .collect();
    learners.sort_by(|a, b| a.name.cmp(&b.name));
    let exercises = order
        .iter()
        .map(|o| {
            let entries: Vec<&ExerciseResult> = all
                .iter()
                .filter_map(|r| r.exercises.iter().find(|e| e.id == o.id))
                .collect();
            ExerciseRow {
                id: o.id.clone(),
                title: o.title.clone(),
                leak_class: o.leak_class.clone(),
                passed: entries.iter().filter(|e| e.status == "passed").count(),
                learners: all.len(),
                median_attempts: median(entries.iter().filter(|e| e.attempts > 0).map(|e| e.attempts).collect()),
                stuck_here: learners
                    .iter()
                    .filter(|l| l.current.as_deref() == Some(o.id.as_str()))
                    .count(),
            }
        })
        .collect();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    for r in all {
        for e in r.exercises.iter().filter(|e| e.status == "leaking") {
            *classes.entry(e.leak_class.clone()).or_default() += 1;
        }
    }
    let mut leak_classes: Vec<(String, usize)> = classes.into_iter().collect();
    leak_classes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Class {
        learners,
        exercises,
        leak_classes,
        skipped,
    }
}

/// Escapes text for HTML content and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A CSV field, quoted when needed (and defused against spreadsheet formulas).
fn csv(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

impl Class {
    /// The exercises where most learners are stuck, most first (only exercises someone is stuck on).
    pub fn stuck(&self) -> Vec<&ExerciseRow> {
        let mut rows: Vec<&ExerciseRow> = self.exercises.iter().filter(|e| e.stuck_here > 0).collect();
        rows.sort_by(|a, b| b.stuck_here.cmp(&a.stuck_here).then(a.id.cmp(&b.id)));
        rows
    }

    /// The per-exercise table as CSV.
    pub fn to_csv(&self) -> String {
        let mut out =
            String::from("exercise,title,leak_class,passed,learners,pass_rate_percent,median_attempts,stuck_here\n");
        for e in &self.exercises {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{:.0},{},{}",
                csv(&e.id),
                csv(&e.title),
                csv(&e.leak_class),
                e.passed,
                e.learners,
                e.pass_rate(),
                e.median_attempts.map_or(String::new(), |m| format!("{m}")),
                e.stuck_here
            );
        }
        out
    }

    /// The per-exercise table as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| exercise | leak class | pass rate | median attempts | stuck here |\n| --- | --- | --- | --- | --- |\n",
        );
        for e in &self.exercises {
            let _ = writeln!(
                out,
                "| {} {} | {} | {:.0}% ({}/{}) | {} | {} |",
                md(&e.id),
                md(&e.title),
                md(&e.leak_class),
                e.pass_rate(),
                e.passed,
                e.learners,
                e.median_attempts.map_or("–".to_owned(), |m| format!("{m}")),
                e.stuck_here
            );
        }
        out
    }

    /// The whole dashboard as one HTML page: no scripts, no network, styles inline.
    pub fn to_html(&self, title: &str) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
             <title>{t}</title><style>{CSS}</style></head><body>\n<h1>{t}</h1>\n",
            t = html(title)
        );
        let total = self.exercises.len();
        let _ = writeln!(
            h,
            "<p class=\"summary\">{} learners, {} exercises. Files: <a href=\"class.csv\">class.csv</a>, \
             <a href=\"class.md\">class.md</a>.</p>",
            self.learners.len(),
            total
        );
        if !self.skipped.is_empty() {
            h.push_str("<section class=\"skipped\"><h2>Files skipped</h2><ul>\n");
            for s in &self.skipped {
                let name = s
                    .path
                    .file_name()
                    .map_or_else(|| s.path.display().to_string(), |n| n.to_string_lossy().into_owned());
                let _ = writeln!(h, "<li><code>{}</code>: {}</li>", html(&name), html(&s.reason));
            }
            h.push_str("</ul></section>\n");
        }
        h.push_str("<section><h2>Where the class is stuck</h2>");
        let stuck = self.stuck();
        if stuck.is_empty() {
            h.push_str("<p>Nobody is stuck: every learner has passed every exercise.</p>");
        } else {
            h.push_str("<ol class=\"stuck\">");
            for e in stuck.iter().take(5) {
                let _ = write!(
                    h,
                    "<li><b>{}</b> {} — {} {}</li>",
                    html(&e.id),
                    html(&e.title),
                    e.stuck_here,
                    if e.stuck_here == 1 { "learner" } else { "learners" }
                );
            }
            h.push_str("</ol>");
        }
        h.push_str(
            "</section>\n<section><h2>Learners</h2><table id=\"learners\"><thead><tr><th>learner</th><th>progress</th>\
                    <th>passed</th><th>working on</th><th>hints</th></tr></thead><tbody>\n",
        );
        for l in &self.learners {
            let pct = (l.passed * 100).checked_div(total).unwrap_or(0);
            let current = match (&l.current, &l.current_status) {
                (Some(id), Some(status)) => {
                    format!("{} <span class=\"status {s}\">{s}</span>", html(id), s = html(status))
                }
                _ => "<span class=\"status passed\">all done</span>".to_owned(),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td><div class=\"bar\"><div style=\"width:{pct}%\"></div></div></td><td>{}/{total}</td>\
                 <td>{current}</td><td>{}</td></tr>",
                html(&l.name),
                l.passed,
                l.hints
            );
        }
        h.push_str("</tbody></table></section>\n<section><h2>Exercises</h2><table id=\"exercises\"><thead><tr><th>exercise</th>\
                    <th>leak class</th><th>pass rate</th><th>median attempts</th><th>stuck here</th></tr></thead><tbody>\n");
        for e in &self.exercises {
            let _ = writeln!(
                h,
                "<tr><td>{} {}</td><td>{}</td><td>{:.0}% ({}/{})</td><td>{}</td><td>{}</td></tr>",
                html(&e.id),
                html(&e.title),
                html(&e.leak_class),
                e.pass_rate(),
                e.passed,
                e.learners,
                e.median_attempts.map_or("–".to_owned(), |m| format!("{m}")),
                e.stuck_here
            );
        }
        h.push_str("</tbody></table></section>\n<section><h2>Most common leaks right now</h2>");
        if self.leak_classes.is_empty() {
            h.push_str("<p>No learner is looking at a leaking exercise.</p>");
        } else {
            h.push_str(
                "<table id=\"leaks\"><thead><tr><th>leak class</th><th>learners leaking</th></tr></thead><tbody>",
            );
            for (class, n) in &self.leak_classes {
                let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", html(class));
            }
            h.push_str("</tbody></table>");
        }
        h.push_str("</section>\n</body></html>\n");
        h
    }

    /// Writes `class.html`, `class.csv` and `class.md` into `out_dir`; returns the HTML's path.
    pub fn write(&self, out_dir: &Path, title: &str) -> Result<PathBuf, String> {
        std::fs::create_dir_all(out_dir).map_err(|e| format!("cannot create {} ({e})", out_dir.display()))?;
        for (name, text) in [
            ("class.csv", self.to_csv()),
            ("class.md", self.to_markdown()),
            ("class.html", self.to_html(title)),
        ] {
            let path = out_dir.join(name);
            let mut tmp =
                tempfile::NamedTempFile::new_in(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
            std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
            tmp.persist(&path)
                .map_err(|e| format!("{}: {}", path.display(), e.error))?;
        }
        Ok(out_dir.join("class.html"))
    }
}

const CSS: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:middle}th{background:#f4f4f4}\
.bar{background:#eee;border-radius:4px;height:.8em;width:10em}.bar div{background:#2e8b57;height:100%;border-radius:4px}\
.status{font-size:.85em;padding:.05em .4em;border-radius:3px;background:#eee}.status.leaking,.status.crashed,\
.status.hung,.status.failing,.status.build-error{background:#fde2e1;color:#8b1a1a}.status.passed{background:#dff3e4;\
color:#1d6b3a}.skipped{background:#fff8e1;padding:.2em 1em;border-radius:6px}.summary{color:#555}";

#[cfg(test)]
mod tests {
    use super::*;

    fn learner(name: &str, statuses: &[(&str, u32)]) -> Results {
        Results {
            schema: RESULTS_SCHEMA.into(),
            learner: name.into(),
            generated: 0,
            exercises: statuses
                .iter()
                .enumerate()
                .map(|(i, &(status, attempts))| ExerciseResult {
                    id: format!("{:02}-ex", i + 1),
                    title: format!("Exercise {}", i + 1),
                    track: "foundations".into(),
                    leak_class: format!("class {}", i + 1),
                    status: status.into(),
                    attempts,
                    hints_used: 1,
                    last_run: None,
                    last_leak: None,
                })
                .collect(),
        }
    }

    #[test]
    fn aggregates_pass_rates_medians_and_where_learners_are_stuck() {
        let class = aggregate(
            &[
                learner("ada", &[("passed", 1), ("passed", 3)]),
                learner("bob", &[("passed", 2), ("leaking", 4)]),
                learner("cy", &[("leaking", 5), ("pending", 0)]),
            ],
            Vec::new(),
        );
        assert_eq!(class.exercises[0].passed, 2);
        assert_eq!(class.exercises[0].median_attempts, Some(2.0));
        assert_eq!(
            class.exercises[1].median_attempts,
            Some(3.5),
            "pending (0 attempts) is not counted"
        );
        assert_eq!((class.exercises[0].stuck_here, class.exercises[1].stuck_here), (1, 1));
        assert_eq!(class.learners[0].current, None);
        assert_eq!(class.learners[1].current.as_deref(), Some("02-ex"));
        assert_eq!(
            class.leak_classes,
            vec![("class 1".to_owned(), 1), ("class 2".to_owned(), 1)]
        );
        assert!((class.exercises[1].pass_rate() - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn every_text_from_a_file_is_escaped() {
        let mut evil = learner("<script>alert(1)</script>", &[("leaking", 1)]);
        evil.exercises[0].title = "<img src=x onerror=alert(1)>".into();
        evil.exercises[0].leak_class = "\"'&".into();
        let page = aggregate(
            &[evil],
            vec![Skipped {
                path: "<b>.json".into(),
                reason: "<i>bad</i>".into(),
            }],
        )
        .to_html("t");
        assert!(
            !page.contains("<script>") && !page.contains("<img") && !page.contains("<b>.json") && !page.contains("<i>")
        );
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&quot;&#39;&amp;"));
    }

    #[test]
    fn csv_and_markdown_carry_the_same_table() {
        let mut r = learner("ada", &[("passed", 1)]);
        r.exercises[0].title = "a, \"quoted\" | title".into();
        r.exercises[0].leak_class = "=cmd".into();
        let class = aggregate(&[r], Vec::new());
        assert!(
            class
                .to_csv()
                .contains("01-ex,\"a, \"\"quoted\"\" | title\",'=cmd,1,1,100,1,0"),
            "{}",
            class.to_csv()
        );
        assert!(
            class
                .to_markdown()
                .contains("| 01-ex a, \"quoted\" \\| title | =cmd | 100% (1/1) | 1 | 0 |"),
            "{}",
            class.to_markdown()
        );
    }

    #[test]
    fn median_handles_odd_even_and_empty() {
        assert_eq!(median(vec![3, 1, 2]), Some(2.0));
        assert_eq!(median(vec![4, 1]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }
}
