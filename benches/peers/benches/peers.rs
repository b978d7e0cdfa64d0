//! `cargo bench -p leaklab-peers`: leaklab, dhat-rs and stats_alloc against `System` on the same workloads,
//! their peak memory, and how long leaklab and valgrind take to call an exercise's starter leaking.
//!
//! Every allocator runs in a child process of its own (`src/bin/peer-*.rs`) where it is the
//! `#[global_allocator]`, as its users install it, checking each unit of work for leaks as its users do (see
//! the crate docs). Each round runs every child once, so drift in machine load reaches all of them alike; the
//! tables show the median over the rounds. `--quick` (or `--test`, as `cargo test --benches` passes) runs
//! small sizes, one round and no valgrind.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One allocator configuration: a child binary, its extra arguments, and how much smaller its `n` is (the
/// slow ones run fewer operations; results are per operation).
struct Variant {
    name: &'static str,
    exe: &'static str,
    args: &'static [&'static str],
    divisor: usize,
}

const VARIANTS: [Variant; 6] = [
    Variant {
        name: "System",
        exe: env!("CARGO_BIN_EXE_peer-system"),
        args: &[],
        divisor: 1,
    },
    Variant {
        name: "leaklab",
        exe: env!("CARGO_BIN_EXE_peer-leaklab"),
        args: &[],
        divisor: 1,
    },
    Variant {
        name: "stats_alloc",
        exe: env!("CARGO_BIN_EXE_peer-stats-alloc"),
        args: &[],
        divisor: 1,
    },
    Variant {
        name: "dhat-rs",
        exe: env!("CARGO_BIN_EXE_peer-dhat"),
        args: &[],
        divisor: 100,
    },
    Variant {
        name: "leaklab+sites",
        exe: env!("CARGO_BIN_EXE_peer-leaklab"),
        args: &["--sites"],
        divisor: 10,
    },
    Variant {
        name: "header only (ref)",
        exe: env!("CARGO_BIN_EXE_peer-header"),
        args: &[],
        divisor: 1,
    },
];

/// The exercise whose verdict is timed, and its package.
const EXERCISE: (&str, &str) = ("05-tree-parent", "tree-parent");

fn output(cmd: &mut Command) -> String {
    match cmd.stderr(Stdio::inherit()).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!("{cmd:?} failed: {}", o.status),
        Err(e) => panic!("{cmd:?}: {e}"),
    }
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores, {cpu}");
    println!("toolchain: {}", first_line("rustc", &["-V"]));
    println!("date: {}", first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    println!("{}", sites_capture());
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ns(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} µs", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0} ns")
    } else {
        format!("{v:.1} ns")
    }
}

/// Runs every variant's `time` child `rounds` times, alternating; returns the median ns/op per
/// (variant, workload).
fn timings(n: usize, rounds: usize) -> BTreeMap<(&'static str, &'static str), f64> {
    let mut samples: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for _ in 0..rounds {
        for v in &VARIANTS {
            let out = output(
                Command::new(v.exe)
                    .args(v.args)
                    .args(["time", &(n / v.divisor).to_string()]),
            );
            for line in out.lines() {
                let Some((name, value)) = line.split_once(' ') else {
                    continue;
                };
                let Some(&(workload, _)) = leaklab_peers::WORKLOADS.iter().find(|(w, _)| *w == name) else {
                    continue;
                };
                let value: f64 = value.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
                samples.entry((v.name, workload)).or_default().push(value);
            }
        }
    }
    samples.into_iter().map(|(k, v)| (k, median(v))).collect()
}

fn print_timings(t: &BTreeMap<(&str, &str), f64>, n: usize, rounds: usize) {
    println!();
    println!(
        "time per operation (ratio to System); n = {n} ({}), median of {rounds} rounds",
        VARIANTS
            .iter()
            .filter(|v| v.divisor > 1)
            .map(|v| format!("{} for {}", n / v.divisor, v.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    print!("{:<38}", "workload");
    for v in &VARIANTS {
        print!(" {:>20}", v.name);
    }
    println!();
    for (w, description) in leaklab_peers::WORKLOADS {
        print!("{description:<38}");
        let system = t[&("System", w)];
        for v in &VARIANTS {
            let x = t[&(v.name, w)];
            if v.name == "System" {
                print!(" {:>20}", ns(x));
            } else {
                print!(" {:>20}", format!("{} {:>6}", ns(x), format!("{:.2}x", x / system)));
            }
        }
        println!();
    }
}

fn print_targets(t: &BTreeMap<(&str, &str), f64>, verdict: Option<f64>) {
    let r = |v: &str, w: &str| t[&(v, w)] / t[&("System", w)];
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    println!();
    println!("targets");
    let (churn, mixed) = (r("leaklab", "churn"), r("leaklab", "mixed"));
    println!(
        "  leaklab <= 1.15x System, 1 thread:        churn {churn:.2}x, mixed {mixed:.2}x  {}",
        mark(churn <= 1.15 && mixed <= 1.15)
    );
    let two = r("leaklab", "churn2");
    println!(
        "  leaklab <= 1.3x System, 2 threads:        {two:.2}x  {}",
        mark(two <= 1.3)
    );
    let faster: Vec<f64> = leaklab_peers::WORKLOADS
        .iter()
        .map(|(w, _)| t[&("dhat-rs", *w)] / t[&("leaklab", *w)])
        .collect();
    let least = faster.iter().copied().fold(f64::INFINITY, f64::min);
    let list: Vec<String> = faster.iter().map(|f| format!("{f:.0}x")).collect();
    println!(
        "  leaklab >= 50x faster than dhat-rs:       {}  {}",
        list.join(", "),
        mark(least >= 50.0)
    );
    let overhead: Vec<String> = leaklab_peers::WORKLOADS
        .iter()
        .map(|(w, _)| {
            let system = t[&("System", *w)];
            format!(
                "{:.0}x",
                (t[&("dhat-rs", *w)] - system) / (t[&("leaklab", *w)] - system)
            )
        })
        .collect();
    println!(
        "    (time each adds to System's: dhat-rs adds {} what leaklab adds)",
        overhead.join(", ")
    );
    let sites: Vec<String> = leaklab_peers::WORKLOADS
        .iter()
        .map(|(w, _)| format!("{:.1}x", t[&("dhat-rs", *w)] / t[&("leaklab+sites", *w)]))
        .collect();
    println!(
        "    (with sites on, leaklab is {} as fast as dhat-rs)",
        sites.join(", ")
    );
    let (system, header, leaklab) = (
        t[&("System", "churn")],
        t[&("header only (ref)", "churn")],
        t[&("leaklab", "churn")],
    );
    println!(
        "  where leaklab's time goes (churn): System {}, + header {:.1} ns, + per-region counting {:.1} ns",
        ns(system),
        header - system,
        leaklab - header
    );
    match verdict {
        Some(ratio) => println!(
            "  leak verdict >= 20x faster than valgrind: {ratio:.0}x as the workshop runs it  {}",
            mark(ratio >= 20.0)
        ),
        None => println!("  leak verdict >= 20x faster than valgrind: not measured"),
    }
}

/// Peak RSS of each variant's `rss` child (median of `rounds`), and the overhead per block against System.
fn memory(blocks: usize, rounds: usize) {
    println!();
    let requested = leaklab_peers::live_set_bytes(blocks);
    println!(
        "memory: {} header bytes per block; with sites a 224-byte site record more (leaklab's ARCHITECTURE.md)",
        leaklab::HEADER_BYTES
    );
    println!(
        "peak RSS with {blocks} blocks of 8..508 B live ({:.1} MiB requested), median of {rounds} runs per allocator",
        requested as f64 / 1048576.0
    );
    println!(
        "{:<16} {:>12} {:>12} {:>12} {:>14}",
        "allocator", "at start", "while live", "growth", "vs System/block"
    );
    let mut system_growth = None;
    for v in &VARIANTS {
        let mut runs: Vec<(u64, u64)> = (0..rounds)
            .map(|_| {
                let out = output(Command::new(v.exe).args(v.args).args(["rss", &blocks.to_string()]));
                let mut it = out.split_whitespace().map(|x| x.parse::<u64>().unwrap_or(0));
                (it.next().unwrap_or(0), it.next().unwrap_or(0))
            })
            .collect();
        runs.sort_by_key(|&(a, b)| b.saturating_sub(a));
        let (before, during) = runs[runs.len() / 2];
        let growth = during.saturating_sub(before);
        let system = *system_growth.get_or_insert(growth);
        let per_block = (growth as f64 - system as f64) * 1024.0 / blocks as f64;
        println!(
            "{:<16} {:>8.1} MiB {:>8.1} MiB {:>8.1} MiB {:>12.1} B",
            v.name,
            before as f64 / 1024.0,
            during as f64 / 1024.0,
            growth as f64 / 1024.0,
            per_block
        );
    }
}

/// Builds the exercise's spec test with cargo (the runner's build) and returns its executable and directory.
fn spec_binary(root: &Path) -> Option<(PathBuf, PathBuf)> {
    let dir = root.join("exercises").join(EXERCISE.0);
    if !dir.is_dir() {
        return None;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = output(Command::new(cargo).current_dir(root).args([
        "test",
        "--no-run",
        "--message-format=json",
        "--test",
        "spec",
        "-p",
        EXERCISE.1,
    ]));
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "spec")
        .and_then(|m| m["executable"].as_str().map(PathBuf::from))
        .map(|exe| (exe, dir))
}

/// How the spec binary is run for a verdict: leaklab's settings, and a wrapper command (valgrind) or none.
struct VerdictRun<'a> {
    sites: bool,
    /// `LEAKLAB_SETTLE_MS`, or leaklab's default.
    settle_ms: Option<u64>,
    wrapper: &'a [&'a str],
}

/// Runs the spec binary (under `wrapper`, if any) and returns the wall time and whether it called the
/// starter leaking: leaklab by a `"verdict":"leak"` report, valgrind by its error exit code.
fn verdict_run(exe: &Path, dir: &Path, how: &VerdictRun, scratch: &Path) -> (Duration, bool) {
    let wrapper = how.wrapper;
    let reports = scratch.join(format!("reports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&reports);
    let mut cmd = match wrapper.split_first() {
        Some((w, rest)) => {
            let mut c = Command::new(w);
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.current_dir(dir)
        .env("PROPTEST_CASES", "32")
        .env("PROPTEST_RNG_SEED", "1")
        .env("RUST_BACKTRACE", "0")
        .env("LEAKLAB_SITES", if how.sites { "1" } else { "0" })
        .env(leaklab::REPORT_DIR_ENV, &reports)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match how.settle_ms {
        Some(ms) => cmd.env("LEAKLAB_SETTLE_MS", ms.to_string()),
        None => cmd.env_remove("LEAKLAB_SETTLE_MS"),
    };
    let start = Instant::now();
    let status = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let elapsed = start.elapsed();
    let leak = if wrapper.is_empty() {
        std::fs::read_dir(&reports)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|s| s.contains("\"verdict\":\"leak\"")))
    } else {
        status.code() == Some(99)
    };
    let _ = std::fs::remove_dir_all(&reports);
    (elapsed, leak)
}

/// Times the leak verdict on one exercise's starter: leaklab (as the workshop runs it, and without the parts
/// that are not tracking) and valgrind, on the same binary. Returns valgrind's time ÷ leaklab's default time.
fn verdict(rounds: usize) -> Option<f64> {
    println!();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let Some((exe, dir)) = spec_binary(&root) else {
        println!("verdict time: skipped (exercises/{} not found)", EXERCISE.0);
        return None;
    };
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("verdict time: skipped (valgrind is not installed: apt-get install valgrind)");
        return None;
    }
    let scratch = std::env::temp_dir();
    let valgrind = [
        "valgrind",
        "-q",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite,indirect",
        "--error-exitcode=99",
    ];
    let measure = |how: VerdictRun| {
        let runs: Vec<(Duration, bool)> = (0..rounds).map(|_| verdict_run(&exe, &dir, &how, &scratch)).collect();
        let all_leak = runs.iter().all(|r| r.1);
        (median(runs.iter().map(|r| r.0.as_secs_f64()).collect()), all_leak)
    };
    let runs = [
        (
            "leaklab, sites on (the workshop's default)",
            measure(VerdictRun {
                sites: true,
                settle_ms: None,
                wrapper: &[],
            }),
        ),
        (
            "leaklab, sites off",
            measure(VerdictRun {
                sites: false,
                settle_ms: None,
                wrapper: &[],
            }),
        ),
        (
            "leaklab, sites off, LEAKLAB_SETTLE_MS=0",
            measure(VerdictRun {
                sites: false,
                settle_ms: Some(0),
                wrapper: &[],
            }),
        ),
        (
            "valgrind --leak-check=full, sites off",
            measure(VerdictRun {
                sites: false,
                settle_ms: None,
                wrapper: &valgrind,
            }),
        ),
    ];
    let startup = {
        let start = Instant::now();
        let _ = Command::new("valgrind")
            .arg("-q")
            .arg(&exe)
            .arg("--list")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        start.elapsed().as_secs_f64()
    };
    println!(
        "leak verdict on exercises/{} (starter): the same debug test binary, PROPTEST_CASES=32, median of {rounds} runs",
        EXERCISE.0
    );
    let valgrind_time = runs[3].1.0;
    for (name, (secs, leak)) in &runs {
        println!(
            "  {name:<44} {secs:>7.3} s  {:<8} valgrind takes {:.0}x as long",
            if *leak { "leak" } else { "NO LEAK" },
            valgrind_time / secs
        );
    }
    println!("  (valgrind's start-up alone, `valgrind <spec> --list`: {startup:.3} s)");
    Some(valgrind_time / runs[0].1.0)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test" || a == "--quick");
    let (n, rounds, blocks) = if quick {
        (50_000, 1, 10_000)
    } else {
        (2_000_000, 9, 200_000)
    };
    println!("leaklab against System, stats_alloc and dhat-rs (each in its own process, as users install it)");
    machine();
    let t = timings(n, rounds);
    print_timings(&t, n, rounds);
    memory(blocks, if quick { 1 } else { 3 });
    let v = if quick { None } else { verdict(5) };
    print_targets(&t, v);
}

/// How this build captures allocation sites, which decides what sites cost.
fn sites_capture() -> &'static str {
    if leaklab::sites_walk_frame_pointers() {
        "sites captured by walking frame pointers (-C force-frame-pointers=yes)"
    } else {
        "sites captured with the DWARF unwinder (no -C force-frame-pointers: a RUSTFLAGS variable replaces the workspace's flags)"
    }
}
