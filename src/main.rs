//! `cargo run`: the leaklab workshop runner. Shows progress, grades the next exercise, gives hints, and
//! exports results.

use anstream::println;
use anstyle::{AnsiColor, Style};
use clap::{Parser, Subcommand, ValueEnum};
use leaklab_workshop::catalogue::Exercise;
use leaklab_workshop::grade::{self, Outcome};
use leaklab_workshop::results::Results;
use leaklab_workshop::workshop::{ROOT_ENV, Workshop, now};
use leaklab_workshop::{saves, terminal, verify};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

/// The leaklab workshop: fix the leaking exercises one by one.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Seconds before a hung exercise is killed.
    #[arg(long, default_value_t = 60, global = true)]
    timeout: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Show every exercise with its track, status and last run.
    List,
    /// Grade one exercise (by default the first one not passed yet).
    Run {
        /// Exercise number, slug or `NN-slug`.
        exercise: Option<String>,
    },
    /// Re-grade the current exercise whenever one of its files is saved. Keys: h (hint), l (list), q (quit).
    Watch,
    /// Show the next hint for an exercise, one tier at a time.
    Hint {
        /// Exercise number, slug or `NN-slug` (default: the current exercise).
        exercise: Option<String>,
    },
    /// Show the fix: the difference between the starter and the solution (after you pass).
    Solution {
        /// Exercise number, slug or `NN-slug` (default: the current exercise).
        exercise: Option<String>,
        /// Show it even though the exercise has not passed yet.
        #[arg(long)]
        force: bool,
    },
    /// Put an exercise's starter back, after backing up your file.
    Reset {
        /// Exercise number, slug or `NN-slug`.
        exercise: String,
    },
    /// Maintainers: check that every starter leaks and every solution passes.
    Verify,
    /// Instructors: aggregate a folder of learners' `report --format json` files into one HTML page.
    Class {
        /// The folder of results files (one `NAME.json` per learner).
        dir: PathBuf,
        /// Where to write `class.html`, `class.csv` and `class.md` (default: the results folder).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The page's title.
        #[arg(long, default_value = "leaklab workshop: class progress")]
        title: String,
    },
    /// Print your results for a class or a CI system.
    Report {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
        /// Your name in the report (default: $USER).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Junit,
    Markdown,
}

const BOLD: Style = Style::new().bold();
const GOOD: Style = AnsiColor::Green.on_default().bold();
const BAD: Style = AnsiColor::Red.on_default().bold();
const DIM: Style = Style::new().dimmed();

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            anstream::eprintln!("{BAD}error{BAD:#}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    std::env::var_os(ROOT_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn run(cli: Cli) -> Result<(), String> {
    if let Some(Command::Class { dir, out, title }) = &cli.command {
        // Needs no workshop checkout: an instructor may run it anywhere.
        let class = leaklab_workshop::class::load(dir)?;
        for s in &class.skipped {
            anstream::eprintln!("skipped {}: {}", s.path.display(), s.reason);
        }
        let page = class.write(out.as_deref().unwrap_or(dir), title)?;
        println!("{} learners aggregated into {}", class.learners.len(), page.display());
        return Ok(());
    }
    let (mut w, note) = Workshop::load(&root())?;
    if let Some(note) = note {
        anstream::eprintln!("note: {note}");
    }
    let timeout = Duration::from_secs(cli.timeout);
    match cli.command {
        None => {
            print_progress(&w);
            match w.current() {
                Some(i) => grade_and_show(&mut w, i, timeout).map(drop),
                None => {
                    println!("\n{GOOD}All exercises pass. Well done!{GOOD:#} `cargo run -- list` shows them all.");
                    Ok(())
                }
            }
        }
        Some(Command::List) => {
            print_list(&w);
            Ok(())
        }
        Some(Command::Run { exercise }) => {
            let i = w.pick(exercise.as_deref())?;
            grade_and_show(&mut w, i, timeout).map(drop)
        }
        Some(Command::Watch) => watch(&mut w, timeout),
        Some(Command::Hint { exercise }) => {
            let i = w.pick(exercise.as_deref())?;
            show_hint(&mut w, i)
        }
        Some(Command::Solution { exercise, force }) => {
            let i = w.pick(exercise.as_deref())?;
            show_solution(&w, i, force)
        }
        Some(Command::Reset { exercise }) => {
            let i = w.pick(Some(&exercise))?;
            reset(&w, i)
        }
        Some(Command::Verify) => verify_all(&w, timeout),
        Some(Command::Class { .. }) => unreachable!("handled before the workshop is loaded"),
        Some(Command::Report { format, name }) => {
            let name = name
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "learner".into());
            let results = Results::of(&w, &name, now());
            let text = match format {
                Format::Json => results.to_json(),
                Format::Junit => results.to_junit(),
                Format::Markdown => results.to_markdown(),
            };
            std::print!("{text}");
            Ok(())
        }
    }
}

fn print_progress(w: &Workshop) {
    let (done, total) = (w.passed(), w.exercises.len());
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(0);
    println!(
        "{BOLD}leaklab workshop{BOLD:#}  [{GOOD}{}{GOOD:#}{}]  {done} of {total} passed",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
}

fn print_list(w: &Workshop) {
    println!(
        "{BOLD}{:<24} {:<22} {:<12} last run{BOLD:#}",
        "exercise", "track", "status"
    );
    let mut any_stale = false;
    for e in &w.exercises {
        let last = w
            .state
            .exercises
            .get(&e.id())
            .and_then(|p| p.last_run)
            .map_or("never".to_owned(), ago);
        let status = w.status(e);
        let style = match status {
            "passed" => GOOD,
            "pending" => DIM,
            _ => BAD,
        };
        let stale = w.edited_since_last_run(e);
        any_stale |= stale;
        let status = if stale { format!("{status}*") } else { status.to_owned() };
        println!(
            "{:<24} {:<22} {style}{status:<12}{style:#} {last}",
            e.id(),
            e.meta.track.title()
        );
    }
    if any_stale {
        println!("{DIM}* edited since its last run: `cargo run -- run <exercise>` grades it again{DIM:#}");
    }
}

fn ago(then: u64) -> String {
    match now().saturating_sub(then) {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

/// Grades exercise `i`, prints the verdict and the next step, records it; returns the status.
fn grade_and_show(w: &mut Workshop, i: usize, timeout: Duration) -> Result<String, String> {
    let e = w.exercises[i].clone();
    println!(
        "\n{BOLD}{}: {}{BOLD:#} ({})",
        e.id(),
        e.meta.title,
        e.meta.track.title()
    );
    println!("  edit: {}", w.relative(&e.edit_path()).display());
    println!("{DIM}  grading with `cargo test -p {}` ...{DIM:#}", e.package());
    let (status, outcome, body) = match grade::build_specs(&w.root, &[e.package()]) {
        Err(err @ grade::GradeError::Compile(_)) => ("build-error".to_owned(), None, err.to_string()),
        // A missing tool is not the learner's doing: say what to install, and record nothing.
        Err(err) => return Err(err.to_string()),
        Ok(binaries) => {
            let run = grade::run_spec(&binaries[e.package()], timeout).map_err(|e| e.to_string())?;
            let body = match &run.outcome {
                Outcome::Passed => format!("What was going on:\n{}", e.meta.explanation.trim()),
                _ => grade::failure_details(&run.output),
            };
            (run.outcome.status().to_owned(), Some(run.outcome), body)
        }
    };
    let style = if status == "passed" { GOOD } else { BAD };
    let verdict = outcome
        .as_ref()
        .map_or_else(|| "build error".to_owned(), ToString::to_string);
    println!("\n{style}verdict: {verdict}{style:#}\n\n{body}\n");
    w.record(i, &status, outcome.as_ref())?;
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
            w.relative(&e.edit_path()).display()
        ),
    };
    println!("{next}");
    Ok(status)
}

fn show_hint(w: &mut Workshop, i: usize) -> Result<(), String> {
    let e = w.exercises[i].clone();
    let progress = w.progress_mut(i);
    let tiers = ["nudge", "where to look", "how to fix"];
    let tier = progress.hints_shown.min(e.meta.hints.len() - 1);
    progress.hints_shown = tier + 1;
    println!(
        "{BOLD}{} hint {} of {} ({}):{BOLD:#}\n  {}",
        e.id(),
        tier + 1,
        e.meta.hints.len(),
        tiers[tier],
        e.meta.hints[tier]
    );
    if tier + 1 < e.meta.hints.len() {
        println!(
            "{DIM}Ask again for the next hint: `cargo run -- hint {}`{DIM:#}",
            e.slug
        );
    }
    w.save()
}

fn show_solution(w: &Workshop, i: usize, force: bool) -> Result<(), String> {
    let e = &w.exercises[i];
    if w.status(e) != "passed" && !force {
        return Err(format!(
            "{} has not passed yet, and the solution would give the fix away. Try `cargo run -- hint {}`, or \
             `cargo run -- solution {} --force` to see the fix now (it spoils this exercise only).",
            e.id(),
            e.slug,
            e.slug
        ));
    }
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|err| format!("while reading {}: {err}", p.display()));
    let (starter, solution) = (
        pristine_starter(w, e).or_else(|_| read(&e.edit_path()))?,
        read(&e.solution_edit_path())?,
    );
    let diff = similar::TextDiff::from_lines(&starter, &solution);
    println!("{BOLD}{}: the starter (-) and the solution (+){BOLD:#}\n", e.id());
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        println!("{DIM}{}{DIM:#}", hunk.header());
        for change in hunk.iter_changes() {
            let (sign, style) = match change.tag() {
                similar::ChangeTag::Delete => ("-", BAD),
                similar::ChangeTag::Insert => ("+", GOOD),
                similar::ChangeTag::Equal => (" ", Style::new()),
            };
            anstream::print!("{style}{sign}{}{style:#}", change.value());
            if change.missing_newline() {
                println!();
            }
        }
    }
    println!("\n{}", e.meta.explanation.trim());
    Ok(())
}

/// The starter as it is in the checkout's last commit, never the learner's working copy.
fn pristine_starter(w: &Workshop, e: &Exercise) -> Result<String, String> {
    let rel = w.relative(&e.edit_path()).to_string_lossy().replace('\\', "/");
    let out = std::process::Command::new("git")
        .current_dir(&w.root)
        .args(["show", &format!("HEAD:{rel}")])
        .output()
        .map_err(|err| format!("`reset` needs git to find the original starter ({err}); is git installed?"))?;
    if !out.status.success() {
        return Err(format!(
            "could not read the original {rel} from git: {}. `reset` works in the git checkout of the workshop.",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|err| format!("{rel} in git is not UTF-8: {err}"))
}

fn reset(w: &Workshop, i: usize) -> Result<(), String> {
    let e = &w.exercises[i];
    let path = e.edit_path();
    let pristine = pristine_starter(w, e)?;
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == pristine {
        println!(
            "{} is already the original starter; nothing to reset.",
            w.relative(&path).display()
        );
        return Ok(());
    }
    let backup = path.with_file_name(format!(
        "{}.leaklab-backup.{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        now()
    ));
    std::fs::copy(&path, &backup)
        .map_err(|err| format!("could not back up {} ({err}); nothing was changed", path.display()))?;
    let dir = path.parent().ok_or("the exercise file has no directory")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, pristine.as_bytes()).map_err(|err| err.to_string())?;
    tmp.persist(&path)
        .map_err(|err| format!("could not write {}: {}", path.display(), err.error))?;
    println!(
        "Reset {} to the starter. Your version is saved as {}.",
        w.relative(&path).display(),
        w.relative(&backup).display()
    );
    Ok(())
}

fn verify_all(w: &Workshop, timeout: Duration) -> Result<(), String> {
    println!("{BOLD}Building every starter and solution...{BOLD:#}");
    let runs = verify::run_all(&w.root, &w.exercises, timeout, |done, total, package, run| {
        let width = 20;
        let bar = "#".repeat(done * width / total.max(1));
        println!("[{bar:<width$}] {done:>2}/{total}  {package}: {}", run.outcome);
    })
    .map_err(|e| e.to_string())?;
    let problems: Vec<String> = w
        .exercises
        .iter()
        .filter_map(|e| {
            let (s, l) = runs.of(e);
            verify::judge(e, s, l)
        })
        .collect();
    if problems.is_empty() {
        println!(
            "\n{GOOD}All {} exercises are right:{GOOD:#} every starter leaks, every solution passes.",
            w.exercises.len()
        );
        Ok(())
    } else {
        Err(format!(
            "{} exercise(s) are wrong:\n\n{}",
            problems.len(),
            problems.join("\n\n")
        ))
    }
}

/// What woke the watch loop.
enum Event {
    Saved,
    Key(char),
}

fn watch(w: &mut Workshop, timeout: Duration) -> Result<(), String> {
    use notify_debouncer_full::{DebounceEventResult, new_debouncer, notify::RecursiveMode};
    let (tx, rx) = mpsc::channel();
    let saves = tx.clone();
    let mut debouncer = new_debouncer(Duration::from_millis(150), None, move |result: DebounceEventResult| {
        if result.is_ok_and(|events| events.iter().any(|e| saves::is_save(e))) {
            let _ = saves.send(Event::Saved);
        }
    })
    .map_err(|e| format!("could not start watching files: {e}"))?;
    let _keys = terminal::KeyMode::enable();
    std::thread::spawn(move || {
        for key in terminal::keys(std::io::stdin().lock()) {
            if tx.send(Event::Key(key)).is_err() {
                break;
            }
        }
    });
    // Keys that arrived while saves were being gathered into one grading, in the order typed.
    let mut keys = VecDeque::new();
    loop {
        let Some(i) = w.current() else {
            println!("{GOOD}All exercises pass. Well done!{GOOD:#}");
            return Ok(());
        };
        let dir = w.exercises[i].dir.clone();
        debouncer
            .watch(&dir, RecursiveMode::Recursive)
            .map_err(|e| format!("could not watch {}: {e}", dir.display()))?;
        print_progress(w);
        let shown = w.relative(&dir).display().to_string();
        let watching = || println!("{DIM}watching {shown} — save to re-grade; h = hint, l = list, q = quit{DIM:#}");
        let mut status = grade_and_show(w, i, timeout)?;
        watching();
        while status != "passed" {
            let Some(event) = keys.pop_front().or_else(|| rx.recv().ok()) else {
                return Ok(());
            };
            match event {
                Event::Saved => {
                    // Several saves in a row are one grading; saves during it trigger the next one.
                    while let Ok(next) = rx.try_recv() {
                        if let Event::Key(_) = next {
                            keys.push_back(next);
                        }
                    }
                    status = grade_and_show(w, i, timeout)?;
                    if status != "passed" {
                        watching();
                    }
                }
                Event::Key('q') => return Ok(()),
                Event::Key('h') => show_hint(w, i)?,
                Event::Key('l') => print_list(w),
                Event::Key(_) => println!("{DIM}keys: h = hint, l = list, q = quit{DIM:#}"),
            }
        }
        let _ = debouncer.unwatch(&dir);
    }
}
