//! Reports: what a region left behind, as text for people and as versioned JSON for tools.

use crate::alloc::{self, Counts};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

/// The `schema` value of every JSON report this version writes. Readers must check it.
pub const REPORT_SCHEMA: &str = "leaklab.report/1";

/// Environment variable naming a directory where every report is also written as JSON.
pub const REPORT_DIR_ENV: &str = "LEAKLAB_REPORT_DIR";

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
    /// Why the region could not be checked, when the verdict is [`Verdict::Unavailable`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

fn non_negative(n: isize) -> usize {
    n.max(0) as usize
}

impl Report {
    pub(crate) fn from_counts(label: String, c: Counts) -> Report {
        let leaked_blocks = non_negative(c.blocks) + non_negative(c.c_blocks);
        Report {
            schema: REPORT_SCHEMA.to_owned(),
            label,
            verdict: if leaked_blocks == 0 {
                Verdict::Clean
            } else {
                Verdict::Leak
            },
            leaked_blocks,
            leaked_bytes: non_negative(c.bytes) + non_negative(c.c_bytes),
            c_blocks: non_negative(c.c_blocks),
            c_bytes: non_negative(c.c_bytes),
            unavailable: None,
        }
    }

    pub(crate) fn unavailable(label: String, why: &str) -> Report {
        Report {
            verdict: Verdict::Unavailable,
            unavailable: Some(why.to_owned()),
            ..Report::from_counts(label, Counts::default())
        }
    }

    /// True when nothing allocated in the region is still allocated.
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
    pub fn into_result(self) -> Result<(), Report> {
        match self.verdict {
            Verdict::Leak => Err(self),
            Verdict::Clean | Verdict::Unavailable => Ok(()),
        }
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
            Verdict::Leak => {
                writeln!(
                    f,
                    "leaklab: `{}` leaked {} ({}).",
                    self.label,
                    plural(self.leaked_blocks, "block", "blocks"),
                    plural(self.leaked_bytes, "byte", "bytes"),
                )?;
                let rust_blocks = self.leaked_blocks - self.c_blocks;
                if rust_blocks > 0 {
                    writeln!(
                        f,
                        "  allocated by Rust: {}, {}",
                        plural(rust_blocks, "block", "blocks"),
                        plural(self.leaked_bytes - self.c_bytes, "byte", "bytes")
                    )?;
                }
                if self.c_blocks > 0 {
                    writeln!(
                        f,
                        "  allocated by C (leaklab_malloc): {}, {}",
                        plural(self.c_blocks, "block", "blocks"),
                        plural(self.c_bytes, "byte", "bytes")
                    )?;
                }
                write!(
                    f,
                    "  They were allocated while the checked code ran and are still allocated after it returned.\n  \
                     Usual causes: `mem::forget`, `Box::leak`, an `Rc` cycle, `into_raw` without `from_raw`, C memory never freed"
                )
            }
        }
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
