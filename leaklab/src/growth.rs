//! Growth over time: run an operation many times and measure what stays allocated per iteration, the
//! way a soak test shows a long-running service's per-request leak.

use crate::sites::LeakGroup;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// Bytes per iteration at or above which an operation is called growing.
pub const GROWING_BYTES_PER_ITERATION: f64 = 0.5;

/// Blocks per iteration at or above which an operation is called growing.
pub const GROWING_BLOCKS_PER_ITERATION: f64 = 0.005;

/// How many allocation sites a growth's `Display` lists (the JSON report has them all).
const MAX_SITES_SHOWN: usize = 5;

/// The measured growth of an operation run many times (see [`growth`](crate::growth)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    /// The region's label.
    pub label: String,
    /// Iterations discarded as warm-up (one-time initialisation happens there).
    pub warmup: usize,
    /// Outstanding bytes after each iteration, warm-up included.
    pub bytes: Vec<i64>,
    /// Outstanding blocks after each iteration, warm-up included.
    pub blocks: Vec<i64>,
    /// With allocation sites on (`LEAKLAB_SITES=1` or [`Region::sites`](crate::Region::sites)): the blocks
    /// allocated after the warm-up and still allocated at the end, by where they were allocated, the most
    /// bytes first. This is what the calls keep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<LeakGroup>,
}

/// The slope of the least-squares line through `(i, ys[i])`; 0 for fewer than two points.
fn slope(ys: &[i64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().map(|&y| y as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &y) in ys.iter().enumerate() {
        let dx = i as f64 - mean_x;
        num += dx * (y as f64 - mean_y);
        den += dx * dx;
    }
    num / den
}

impl Growth {
    /// How many iterations ran.
    pub fn iterations(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes left allocated per iteration after the warm-up (least-squares slope).
    pub fn bytes_per_iteration(&self) -> f64 {
        slope(&self.bytes[self.warmup.min(self.bytes.len())..])
    }

    /// Blocks left allocated per iteration after the warm-up (least-squares slope).
    pub fn blocks_per_iteration(&self) -> f64 {
        slope(&self.blocks[self.warmup.min(self.blocks.len())..])
    }

    /// True when memory grows with the number of iterations: a per-operation leak.
    pub fn is_growing(&self) -> bool {
        self.bytes_per_iteration() >= GROWING_BYTES_PER_ITERATION
            || self.blocks_per_iteration() >= GROWING_BLOCKS_PER_ITERATION
    }

    /// `Ok(())` when not growing, else the growth as the error (for `?` in tests and proptest bodies).
    pub fn into_result(self) -> Result<(), Box<Growth>> {
        if self.is_growing() { Err(Box::new(self)) } else { Ok(()) }
    }

    /// Outstanding bytes over the run as a one-line text sparkline of at most `width` characters.
    pub fn sparkline(&self, width: usize) -> String {
        const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        if self.bytes.is_empty() || width == 0 {
            return String::new();
        }
        let chunk = self.bytes.len().div_ceil(width);
        let points: Vec<i64> = self.bytes.chunks(chunk).map(|c| *c.last().unwrap_or(&0)).collect();
        let (lo, hi) = (
            points.iter().min().copied().unwrap_or(0),
            points.iter().max().copied().unwrap_or(0),
        );
        points
            .iter()
            .map(|&p| {
                if hi == lo {
                    BARS[0]
                } else {
                    BARS[((p - lo) * 7 / (hi - lo)) as usize]
                }
            })
            .collect()
    }

    /// Writes outstanding bytes per iteration as an SVG line plot to `path` (directories are created).
    pub fn write_svg(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        use plotters::prelude::*;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let root = SVGBackend::new(path, (640, 320)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = self.bytes.len().max(1);
        let (lo, hi) = (
            self.bytes.iter().copied().min().unwrap_or(0),
            self.bytes.iter().copied().max().unwrap_or(1),
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: {:.1} bytes/iteration", self.label, self.bytes_per_iteration()),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0..n, lo.min(0)..hi.max(lo + 1))?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc("outstanding bytes")
            .draw()?;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0, lo.min(0)), (self.warmup, hi.max(lo + 1))],
            RGBColor(235, 235, 235).filled(),
        )))?;
        chart.draw_series(LineSeries::new(
            self.bytes.iter().enumerate().map(|(i, &b)| (i, b)),
            &RED,
        ))?;
        root.present()?;
        Ok(())
    }

    /// Writes the SVG plot to `<target dir>/leaklab/growth/<name>.svg` (or under `$LEAKLAB_PLOT_DIR`) and
    /// returns the path. The target directory is found from the running test binary's location.
    pub fn save_svg(&self, name: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
        let dir = match std::env::var_os("LEAKLAB_PLOT_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => target_dir()
                .ok_or("cannot find the target directory; set LEAKLAB_PLOT_DIR")?
                .join("leaklab/growth"),
        };
        let path = dir.join(format!("{name}.svg"));
        self.write_svg(&path)?;
        Ok(path)
    }
}

/// `target/` of the running binary (`target/<profile>/deps/<binary>`), when it can be found.
fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map(Path::to_path_buf)
}

impl fmt::Display for Growth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_growing() { "grows" } else { "does not grow" };
        writeln!(
            f,
            "leaklab: `{}` {verdict}: {:.1} bytes and {:.2} blocks stay allocated per iteration ({} iterations, first {} \
             as warm-up).",
            self.label,
            self.bytes_per_iteration(),
            self.blocks_per_iteration(),
            self.iterations(),
            self.warmup,
        )?;
        write!(f, "  outstanding bytes over the run: {}", self.sparkline(48))?;
        if self.is_growing() && !self.sites.is_empty() {
            write!(f, "\n  kept since the warm-up, by where it was allocated:")?;
            for g in self.sites.iter().take(MAX_SITES_SHOWN) {
                write!(f, "\n    {g}")?;
            }
            if self.sites.len() > MAX_SITES_SHOWN {
                write!(f, "\n    ... and {} more sites", self.sites.len() - MAX_SITES_SHOWN)?;
            }
        }
        if self.is_growing() {
            write!(
                f,
                "\n  Each call leaves memory behind: in a long-running service this grows until it runs out. Look for\n  \
                 per-request state added to a map or list and not removed on every path."
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Growth {}

#[cfg(test)]
mod tests {
    use super::*;

    fn growth(bytes: Vec<i64>, warmup: usize) -> Growth {
        Growth {
            label: "t".into(),
            warmup,
            blocks: vec![0; bytes.len()],
            bytes,
            sites: Vec::new(),
        }
    }

    #[test]
    fn slope_of_a_line_is_exact() {
        assert_eq!(slope(&[0, 64, 128, 192]), 64.0);
        assert_eq!(slope(&[5, 5, 5]), 0.0);
        assert_eq!(slope(&[7]), 0.0);
    }

    #[test]
    fn warm_up_is_excluded_from_the_fit() {
        let g = growth(vec![1000, 1000, 1000, 1000], 1);
        assert_eq!(g.bytes_per_iteration(), 0.0);
        assert!(!g.is_growing());
        let g = growth(vec![0, 1000, 1000, 1000], 1);
        assert!(!g.is_growing(), "a one-time step inside the warm-up is not growth");
    }

    #[test]
    fn sparkline_rises_with_the_data() {
        let g = growth((0..16).map(|i| i * 10).collect(), 0);
        assert_eq!(g.sparkline(8), "▁▂▃▄▅▆▇█");
        assert_eq!(growth(vec![3; 4], 0).sparkline(8), "▁▁▁▁");
    }
}
