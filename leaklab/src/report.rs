//! Reports: what a region left behind, as text for people and as versioned JSON for tools.

use crate::alloc::{self, Counts};
use crate::growth::Growth;
use crate::os::{LeakedFd, LeakedFile, LeakedThread};
use crate::sites::{LeakCycle, LeakGroup};
use crate::valgrind::HeapDelta;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

/// The `schema` value of every JSON report this version writes. Readers must check it.
pub const REPORT_SCHEMA: &str = "leaklab.report/1";

/// Environment variable naming a directory where every report is also written as JSON.
pub const REPORT_DIR_ENV: &str = "LEAKLAB_REPORT_DIR";

/// The per-iteration figures of a growth measurement, as carried in a JSON report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthSummary {
    /// Iterations run.
    pub iterations: usize,
    /// Iterations discarded as warm-up.
    pub warmup: usize,
    /// Bytes left allocated per iteration after warm-up.
    pub bytes_per_iteration: f64,
    /// Blocks left allocated per iteration after warm-up.
    pub blocks_per_iteration: f64,
}

// The rates are finite by construction (a least-squares slope over at least two points, or 0), so equality
// is reflexive and `Report` can stay `Eq`.
impl Eq for GrowthSummary {}

/// The verdict of a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Everything allocated in the region was freed.
    Clean,
    /// Blocks allocated in the region are still allocated.
    Leak,
    /// leaklab could not check the region (the reason is in the report).
    Unavailable,
}

/// What a region left behind. Print it with `{}` for a person, or read its fields.
///
/// Also an [`Error`](std::error::Error), so a leaking check can be returned with `?` from a test or a
/// `proptest!` body (see [`Report::into_result`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// The region's label: the test's name by default.
    pub label: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Blocks still allocated (Rust and C).
    pub leaked_blocks: usize,
    /// Bytes in those blocks, not counting leaklab's headers.
    pub leaked_bytes: usize,
    /// How many of the blocks were allocated by C code through `leaklab_malloc` and friends.
    pub c_blocks: usize,
    /// Bytes in the C blocks.
    pub c_bytes: usize,
    /// File descriptors opened in the region and still open (with [`Region::track_fds`](crate::Region::track_fds)).
    #[serde(default)]
    pub fds: Vec<LeakedFd>,
    /// Threads started in the region and still running (with [`Region::track_threads`](crate::Region::track_threads)).
    #[serde(default)]
    pub threads: Vec<LeakedThread>,
    /// Files and directories created under a tracked directory and still there (with
    /// [`Region::track_dir`](crate::Region::track_dir)). Absent from the JSON when empty, so reports of
    /// regions that track no directory read exactly as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<LeakedFile>,
    /// Leaked blocks grouped by kind and allocation site (with [`Region::sites`](crate::Region::sites)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<LeakGroup>,
    /// Leaked blocks that keep each other alive (with [`Region::sites`](crate::Region::sites)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cycles: Vec<LeakCycle>,
    /// For a [`growth`](crate::growth) measurement: the per-iteration figures (the verdict is `leak` when
    /// the operation grows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub growth: Option<GrowthSummary>,
    /// What was not checked, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the region could not be checked, when the verdict is [`Verdict::Unavailable`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// Only when the process runs under valgrind's memcheck: how valgrind saw the whole heap change while the
    /// region ran, to check leaklab's count against (see `scripts/oracle.sh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valgrind: Option<HeapDelta>,
}

fn non_negative(n: isize) -> usize {
    n.max(0) as usize
}

impl Report {
    pub(crate) fn new(
        label: String,
        c: Counts,
        fds: Vec<LeakedFd>,
        threads: Vec<LeakedThread>,
        files: Vec<LeakedFile>,
        notes: Vec<String>,
    ) -> Report {
        let leaked_blocks = non_negative(c.blocks) + non_negative(c.c_blocks);
        let clean = leaked_blocks == 0 && fds.is_empty() && threads.is_empty() && files.is_empty();
        Report {
            schema: REPORT_SCHEMA.to_owned(),
            label,
            verdict: if clean { Verdict::Clean } else { Verdict::Leak },
            leaked_blocks,
            leaked_bytes: non_negative(c.bytes) + non_negative(c.c_bytes),
            c_blocks: non_negative(c.c_blocks),
            c_bytes: non_negative(c.c_bytes),
            fds,
            threads,
            files,
            notes,
            groups: Vec::new(),
            cycles: Vec::new(),
            growth: None,
            unavailable: None,
            valgrind: None,
        }
    }

    pub(crate) fn from_growth(g: &Growth, valgrind: Option<HeapDelta>) -> Report {
        let last = |v: &[i64]| v.last().copied().unwrap_or(0) as isize;
        let counts = Counts {
            blocks: last(&g.blocks),
            bytes: last(&g.bytes),
            ..Counts::default()
        };
        let mut report = Report::new(g.label.clone(), counts, Vec::new(), Vec::new(), Vec::new(), Vec::new());
        report.verdict = if g.is_growing() { Verdict::Leak } else { Verdict::Clean };
        report.groups = g.sites.clone();
        report.growth = Some(GrowthSummary {
            iterations: g.iterations(),
            warmup: g.warmup,
            bytes_per_iteration: g.bytes_per_iteration(),
            blocks_per_iteration: g.blocks_per_iteration(),
        });
        report.valgrind = valgrind;
        report
    }

    pub(crate) fn unavailable(label: String, why: &str) -> Report {
        Report {
            verdict: Verdict::Unavailable,
            unavailable: Some(why.to_owned()),
            ..Report::new(label, Counts::default(), Vec::new(), Vec::new(), Vec::new(), Vec::new())
        }
    }

    /// True when nothing allocated in the region is still allocated (and no tracked fd, thread or file is
    /// left).
    pub fn is_clean(&self) -> bool {
        self.verdict == Verdict::Clean
    }

    /// Blocks allocated in the region and still allocated at its end.
    pub fn leaked_blocks(&self) -> usize {
        self.leaked_blocks
    }

    /// Bytes in [`leaked_blocks`](Self::leaked_blocks), excluding leaklab's own headers.
    pub fn leaked_bytes(&self) -> usize {
        self.leaked_bytes
    }

    /// `Ok(())` when clean, else the report as the error: use `?` in tests and `proptest!` bodies.
    ///
    /// ```
    /// # #[global_allocator]
    /// # static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();
    /// fn test_body() -> Result<(), leaklab::Report> {
    ///     leaklab::check(|| vec![1, 2, 3]).into_result()?;
    ///     Ok(())
    /// }
    /// test_body().unwrap();
    /// ```
    #[allow(
        clippy::result_large_err,
        reason = "only built when a leak was found; the report is the error"
    )]
    pub fn into_result(self) -> Result<(), Report> {
        match self.verdict {
            Verdict::Leak => Err(self),
            Verdict::Clean | Verdict::Unavailable => Ok(()),
        }
    }

    /// What leaked, in a few words: `"2 blocks, 33 bytes"`, `"1 open file descriptor"`,
    /// `"1 block, 8 bytes, 1 file left on disk"`, for a growth measurement `"grows by 139.0 bytes and 2.16
    /// blocks per iteration"`; `"nothing"` when clean.
    pub fn summary(&self) -> String {
        if let Some(g) = &self.growth {
            return format!(
                "grows by {:.1} bytes and {:.2} blocks per iteration",
                g.bytes_per_iteration, g.blocks_per_iteration
            );
        }
        let mut what = Vec::new();
        if self.leaked_blocks > 0 {
            what.push(plural(self.leaked_blocks, "block", "blocks"));
            what.push(plural(self.leaked_bytes, "byte", "bytes"));
        }
        what.extend(self.ledger_counts());
        if what.is_empty() {
            "nothing".to_owned()
        } else {
            what.join(", ")
        }
    }

    /// The descriptors, threads and files left, counted in words.
    fn ledger_counts(&self) -> Vec<String> {
        [
            (self.fds.len(), "open file descriptor", "open file descriptors"),
            (self.threads.len(), "running thread", "running threads"),
            (self.files.len(), "file left on disk", "files left on disk"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| plural(n, one, many))
        .collect()
    }

    /// The report as one line of JSON (the format written to `LEAKLAB_REPORT_DIR`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.verdict {
            Verdict::Clean => write!(
                f,
                "leaklab: `{}` is clean: everything it allocated was freed.",
                self.label
            ),
            Verdict::Unavailable => write!(
                f,
                "leaklab: `{}` was not checked: {}.",
                self.label,
                self.unavailable.as_deref().unwrap_or("unknown reason")
            ),
            Verdict::Leak if self.growth.is_some() => {
                let g = self.growth.as_ref().expect("checked by the match guard");
                write!(
                    f,
                    "leaklab: `{}` grows by {:.1} bytes ({:.2} blocks) per iteration over {} iterations (after {} \
                     of warm-up).\n  Each call leaves memory behind: in a long-running service this grows until it \
                     runs out.",
                    self.label, g.bytes_per_iteration, g.blocks_per_iteration, g.iterations, g.warmup
                )?;
                self.fmt_groups(f)
            }
            Verdict::Leak => {
                let mut what = Vec::new();
                if self.leaked_blocks > 0 {
                    what.push(format!(
                        "{} ({})",
                        plural(self.leaked_blocks, "block", "blocks"),
                        plural(self.leaked_bytes, "byte", "bytes")
                    ));
                }
                what.extend(self.ledger_counts());
                write!(f, "leaklab: `{}` leaked {}.", self.label, what.join(" and "))?;
                let rust_blocks = self.leaked_blocks - self.c_blocks;
                if rust_blocks > 0 {
                    let bytes = plural(self.leaked_bytes - self.c_bytes, "byte", "bytes");
                    write!(
                        f,
                        "\n  allocated by Rust: {}, {bytes}",
                        plural(rust_blocks, "block", "blocks")
                    )?;
                }
                if self.c_blocks > 0 {
                    let bytes = plural(self.c_bytes, "byte", "bytes");
                    write!(
                        f,
                        "\n  allocated by C (leaklab_malloc): {}, {bytes}",
                        plural(self.c_blocks, "block", "blocks")
                    )?;
                }
                self.fmt_groups(f)?;
                for fd in &self.fds {
                    write!(f, "\n  still open: fd {} -> {}", fd.fd, fd.path)?;
                }
                for t in &self.threads {
                    let name = if t.name.is_empty() { "(unnamed)" } else { &t.name };
                    write!(f, "\n  still running: thread {name} (tid {})", t.tid)?;
                }
                for file in &self.files {
                    if file.dir {
                        let inside = plural(file.entries, "entry", "entries");
                        let bytes = plural(file.bytes as usize, "byte", "bytes");
                        write!(f, "\n  still on disk: {}/ (a directory: {inside}, {bytes})", file.path)?;
                    } else {
                        let bytes = plural(file.bytes as usize, "byte", "bytes");
                        write!(f, "\n  still on disk: {} ({bytes})", file.path)?;
                    }
                }
                for note in &self.notes {
                    write!(f, "\n  note: {note}")?;
                }
                if self.leaked_blocks > 0 && self.groups.is_empty() {
                    write!(
                        f,
                        "\n  Memory: allocated while the checked code ran and still allocated after it returned. Usual\n  \
                         causes: `mem::forget`, `Box::leak`, an `Rc` cycle, `into_raw` without `from_raw`, C memory never freed"
                    )?;
                }
                if !self.fds.is_empty() {
                    write!(
                        f,
                        "\n  Descriptors: keep each one in an owning type (`File`, `OwnedFd`) so dropping it closes it"
                    )?;
                }
                if !self.threads.is_empty() {
                    write!(
                        f,
                        "\n  Threads: `join` every thread you start, and close the channels its loop waits on"
                    )?;
                }
                if !self.files.is_empty() {
                    write!(
                        f,
                        "\n  Files: created while the checked code ran and still on disk after it returned. Remove a \
                         temporary file\n  on every way out, `?` and panics included: give it an owner that deletes it \
                         when dropped\n  (`tempfile::NamedTempFile`, a guard)"
                    )?;
                }
                Ok(())
            }
        }
    }
}

impl Report {
    /// The allocation-site groups, the cycles, and one line of advice per kind of leak found.
    fn fmt_groups(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let site = crate::sites::site_text;
        for g in &self.groups {
            write!(f, "\n  {g}")?;
        }
        for c in &self.cycles {
            let what = if c.members.iter().all(|m| m.rc) {
                "`Rc` allocations"
            } else {
                "blocks"
            };
            if c.members.len() == 1 {
                write!(f, "\n  cycle: 1 {} points to itself:", what.trim_end_matches('s'))?;
            } else {
                write!(f, "\n  cycle: {} {what} keep each other alive:", c.members.len())?;
            }
            for (i, m) in c.members.iter().enumerate() {
                let arrow = if i == 0 { "  " } else { "->" };
                let rc = if m.rc { "Rc, " } else { "" };
                write!(
                    f,
                    "\n    {arrow} {rc}{}, allocated at {}",
                    plural(m.bytes, "byte", "bytes"),
                    site(&m.site)
                )?;
            }
            write!(f, "\n    -> back to the first")?;
            if c.others > 0 {
                write!(
                    f,
                    " (and {} more in the same tangle)",
                    plural(c.others, "block", "blocks")
                )?;
            }
        }
        let mut kinds: Vec<_> = self.groups.iter().map(|g| g.kind).collect();
        kinds.dedup();
        for kind in kinds {
            write!(f, "\n  {}: {}", kind.label(), kind.advice())?;
        }
        Ok(())
    }
}

impl std::error::Error for Report {}

/// Writes `report` to `$LEAKLAB_REPORT_DIR/leaklab-<pid>.jsonl` when that variable is set: one JSON object
/// per line, appended, so parallel tests and processes never overwrite each other.
pub(crate) fn publish(report: &Report) {
    let Some(dir) = std::env::var_os(REPORT_DIR_ENV) else {
        return;
    };
    alloc::untracked(|| {
        let path = PathBuf::from(dir).join(format!("leaklab-{}.jsonl", std::process::id()));
        let mut line = report.to_json();
        line.push('\n');
        let written = std::fs::create_dir_all(path.parent().unwrap_or(&path))
            .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(&path))
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "leaklab: could not write the JSON report to {}: {e} (check {REPORT_DIR_ENV})",
                path.display()
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaking_file() -> Report {
        let file = LeakedFile {
            path: "/tmp/x/a.tmp".to_owned(),
            dir: false,
            bytes: 12,
            entries: 0,
        };
        Report::new(
            "t".into(),
            Counts::default(),
            Vec::new(),
            Vec::new(),
            vec![file],
            Vec::new(),
        )
    }

    #[test]
    fn a_file_left_on_disk_is_a_leak_and_round_trips_through_json() {
        let report = leaking_file();
        assert_eq!(report.verdict, Verdict::Leak);
        assert_eq!(report.summary(), "1 file left on disk");
        let json = report.to_json();
        assert!(
            json.contains(r#""files":[{"path":"/tmp/x/a.tmp","dir":false,"bytes":12,"entries":0}]"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
        let text = report.to_string();
        assert!(text.starts_with("leaklab: `t` leaked 1 file left on disk."), "{text}");
        assert!(text.contains("\n  still on disk: /tmp/x/a.tmp (12 bytes)"), "{text}");
    }

    #[test]
    fn the_files_field_is_optional_in_both_directions() {
        // A line written before the directory ledger existed still reads, with no files.
        let old = format!(
            r#"{{"schema":"{REPORT_SCHEMA}","label":"t","verdict":"clean","leaked_blocks":0,"leaked_bytes":0,"c_blocks":0,"c_bytes":0,"fds":[],"threads":[]}}"#
        );
        let report: Report = serde_json::from_str(&old).unwrap();
        assert!(report.files.is_empty() && report.is_clean());
        // And a report without files is written exactly as before: no `files` key.
        assert_eq!(report.to_json(), old);
    }

    #[test]
    fn summary_names_every_kind_of_leak() {
        let mut report = leaking_file();
        report.leaked_blocks = 2;
        report.leaked_bytes = 33;
        report.fds.push(LeakedFd {
            fd: 7,
            path: "/tmp/x/log".into(),
        });
        assert_eq!(
            report.summary(),
            "2 blocks, 33 bytes, 1 open file descriptor, 1 file left on disk"
        );
        let clean = Report::new("t".into(), Counts::default(), vec![], vec![], vec![], vec![]);
        assert_eq!(clean.summary(), "nothing");
    }
}
