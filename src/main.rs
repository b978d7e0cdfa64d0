//! `cargo run`: the leaklab workshop runner. Shows progress, grades the next exercise, gives hints.

use clap::{Parser, Subcommand};
use leaklab_workshop::catalogue::{self, Exercise};
use leaklab_workshop::grade::{self, Outcome};
use leaklab_workshop::state::{self, Progress, State};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The leaklab workshop: fix the leaking exercises one by one.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Seconds before a hung exercise is killed.
    #[arg(long, default_value_t = 60, global = true)]
    timeout: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Show every exercise with its track and status.
    List,
    /// Grade one exercise (by default the first one not yet passed).
    Run {
        /// Exercise number, slug or `NN-slug`.
        exercise: Option<String>,
    },
    /// Show the next hint for an exercise (one tier at a time).
    Hint {
        /// Exercise number, slug or `NN-slug` (default: the current exercise).
        exercise: Option<String>,
    },
}

struct Workshop {
    root: PathBuf,
    exercises: Vec<Exercise>,
    state: State,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let exercises = catalogue::load(&root).map_err(|e| e.to_string())?;
    let (state, note) = state::load(&root);
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    let mut w = Workshop { root, exercises, state };
    let timeout = Duration::from_secs(cli.timeout);
    match cli.command {
        None => {
            print_progress(&w);
            match w.exercises.iter().position(|e| status(&w.state, e) != "passed") {
                Some(i) => grade_and_show(&mut w, i, timeout),
                None => {
                    println!("\nAll exercises pass. Well done! `cargo run -- list` shows them all.");
                    Ok(())
                }
            }
        }
        Some(Command::List) => {
            print_list(&w);
            Ok(())
        }
        Some(Command::Run { exercise }) => {
            let i = pick(&w, exercise.as_deref())?;
            grade_and_show(&mut w, i, timeout)
        }
        Some(Command::Hint { exercise }) => {
            let i = pick(&w, exercise.as_deref())?;
            show_hint(&mut w, i)
        }
    }
}

fn status<'a>(state: &'a State, e: &Exercise) -> &'a str {
    state.exercises.get(&e.id()).map_or("pending", |p| p.status.as_str())
}

/// Finds an exercise by number, slug or id, with a "did you mean" for near misses.
fn pick(w: &Workshop, name: Option<&str>) -> Result<usize, String> {
    let Some(name) = name else {
        return Ok(w
            .exercises
            .iter()
            .position(|e| status(&w.state, e) != "passed")
            .unwrap_or(0));
    };
    let name = name.trim();
    if let Some(i) = w
        .exercises
        .iter()
        .position(|e| e.id() == name || e.slug == name || name.parse::<u32>().is_ok_and(|n| n == e.number))
    {
        return Ok(i);
    }
    let closest = w
        .exercises
        .iter()
        .min_by_key(|e| edit_distance(&e.slug, name))
        .map(|e| e.slug.clone());
    Err(match closest {
        Some(slug) => format!("no exercise is called `{name}`. Did you mean `{slug}`? (`cargo run -- list` shows all)"),
        None => format!("no exercise is called `{name}`"),
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
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

fn print_progress(w: &Workshop) {
    let done = w.exercises.iter().filter(|e| status(&w.state, e) == "passed").count();
    let total = w.exercises.len();
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(0);
    println!(
        "leaklab workshop  [{}{}]  {done} of {total} passed",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
}

fn print_list(w: &Workshop) {
    println!("{:<24} {:<22} {:<12} last run", "exercise", "track", "status");
    for e in &w.exercises {
        let progress = w.state.exercises.get(&e.id());
        let last = progress.and_then(|p| p.last_run).map_or("never".to_owned(), ago);
        println!(
            "{:<24} {:<22} {:<12} {last}",
            e.id(),
            e.meta.track.title(),
            status(&w.state, e)
        );
    }
}

fn ago(then: u64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    match now.saturating_sub(then) {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

fn relative<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

fn grade_and_show(w: &mut Workshop, i: usize, timeout: Duration) -> Result<(), String> {
    let e = w.exercises[i].clone();
    println!("\n{}: {} ({})", e.id(), e.meta.title, e.meta.track.title());
    println!("  edit: {}", relative(&w.root, &e.edit_path()).display());
    println!("  grading with `cargo test -p {}` ...", e.package());
    let (status, body) = match grade::build_specs(&w.root, &[e.package()]) {
        Err(err) => ("build-error".to_owned(), err.to_string()),
        Ok(binaries) => {
            let run = grade::run_spec(&binaries[e.package()], timeout).map_err(|e| e.to_string())?;
            let body = match &run.outcome {
                Outcome::Passed => format!("Passed! What was going on:\n{}", e.meta.explanation.trim()),
                _ => failure_details(&run.output),
            };
            (
                run.outcome.status().to_owned(),
                format!("verdict: {}\n\n{body}", run.outcome),
            )
        }
    };
    println!("\n{body}\n");
    let progress = w.state.exercises.entry(e.id()).or_default();
    progress.status = status.clone();
    progress.attempts += 1;
    progress.last_run = SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs());
    state::save(&w.root, &w.state).map_err(|err| format!("could not save progress: {err}"))?;
    let next = match status.as_str() {
        "passed" => match w.exercises.get(i + 1) {
            Some(n) => format!("next: `cargo run` grades {}: {}", n.id(), n.meta.title),
            None => "That was the last exercise. Well done!".to_owned(),
        },
        "build-error" => format!(
            "next: fix the compile error above in {}, then `cargo run` again",
            e.meta.edit.display()
        ),
        _ => format!(
            "next: fix {} and run `cargo run` again. Stuck? `cargo run -- hint` gives one hint at a time.",
            relative(&w.root, &e.edit_path()).display()
        ),
    };
    println!("{next}");
    Ok(())
}

/// The failing tests' own sections of the test output (their panic messages and proptest's minimal input).
fn failure_details(output: &str) -> String {
    let sections: Vec<&str> = output
        .split("\n---- ")
        .skip(1)
        .map(|s| s.split("\nfailures:").next().unwrap_or(s).trim_end())
        .collect();
    if sections.is_empty() {
        output
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        sections
            .iter()
            .map(|s| format!("---- {s}"))
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

fn show_hint(w: &mut Workshop, i: usize) -> Result<(), String> {
    let e = &w.exercises[i];
    let progress = w.state.exercises.entry(e.id()).or_insert_with(|| Progress {
        status: "pending".into(),
        ..Progress::default()
    });
    let tiers = ["nudge", "where to look", "how to fix"];
    let tier = progress.hints_shown.min(e.meta.hints.len() - 1);
    println!(
        "{} hint {} of {} ({}):\n  {}",
        e.id(),
        tier + 1,
        e.meta.hints.len(),
        tiers[tier],
        e.meta.hints[tier]
    );
    if tier + 1 < e.meta.hints.len() {
        println!("Ask again for the next hint: `cargo run -- hint {}`", e.slug);
    }
    progress.hints_shown = tier + 1;
    state::save(&w.root, &w.state).map_err(|err| format!("could not save progress: {err}"))?;
    Ok(())
}
