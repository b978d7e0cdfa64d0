//! `class`: a folder of good and bad results files becomes one page; bad files are skipped with a reason.

use crate::programs;
use leaklab_workshop::class;
use leaklab_workshop::results::{ExerciseResult, RESULTS_SCHEMA, Results};
use std::path::Path;
use std::process::Command;

fn results(learner: &str, statuses: &[&str]) -> Results {
    Results {
        schema: RESULTS_SCHEMA.into(),
        learner: learner.into(),
        generated: 1_700_000_000,
        exercises: statuses
            .iter()
            .enumerate()
            .map(|(i, s)| ExerciseResult {
                id: format!("{:02}-ex", i + 1),
                title: format!("Exercise {}", i + 1),
                track: "foundations".into(),
                leak_class: if i == 0 {
                    "mem::forget skips Drop".into()
                } else {
                    "Rc cycle".into()
                },
                status: (*s).into(),
                attempts: 2,
                hints_used: 1,
                last_run: None,
                last_leak: None,
            })
            .collect(),
    }
}

/// Two good learners (one named like an attack) and five bad files.
fn class_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    put("ada.json", &results("ada", &["passed", "leaking"]).to_json());
    put(
        "mallory.json",
        &results("<script>alert('x')</script>", &["leaking", "pending"]).to_json(),
    );
    put("broken.json", "{ this is not json");
    put("truncated.json", &results("tru", &["passed"]).to_json()[..60]);
    put(
        "old.json",
        &results("old", &["passed"])
            .to_json()
            .replace(RESULTS_SCHEMA, "leaklab.results/0"),
    );
    put("other.json", r#"{"name": "not a results file"}"#);
    std::fs::write(
        dir.path().join("huge.json"),
        vec![b' '; (class::MAX_FILE_BYTES + 1) as usize],
    )
    .unwrap();
    put("notes.txt", "ignored: not a .json file");
    dir
}

#[test]
fn bad_files_are_skipped_with_a_reason_naming_them() {
    let dir = class_folder();
    let class = class::load(dir.path()).unwrap();
    assert_eq!(class.learners.len(), 2);
    let reasons: Vec<(String, String)> = class
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().into_owned(),
                s.reason.clone(),
            )
        })
        .collect();
    let reason = |file: &str| {
        reasons
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reason("broken.json").contains("not valid JSON"), "{reasons:?}");
    assert!(reason("truncated.json").contains("truncated"), "{reasons:?}");
    assert!(reason("old.json").contains("another version") && reason("old.json").contains("leaklab.results/0"));
    assert!(
        reason("other.json").contains("not a leaklab results file"),
        "{reasons:?}"
    );
    assert!(reason("huge.json").contains("more than"), "{reasons:?}");
}

#[test]
fn the_command_writes_the_page_and_the_exports_and_names_skipped_files() {
    let dir = class_folder();
    let out = Command::new(env!("CARGO_BIN_EXE_leaklab-workshop"))
        .args(["class", &dir.path().to_string_lossy()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("truncated.json: it is truncated"), "{stderr}");
    let page = std::fs::read_to_string(dir.path().join("class.html")).unwrap();
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(
        !page.contains("<script"),
        "no script element, not even the learner's name"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("class.csv"))
            .unwrap()
            .starts_with("exercise,title,")
    );
    assert!(
        std::fs::read_to_string(dir.path().join("class.md"))
            .unwrap()
            .contains("| 01-ex Exercise 1 |")
    );
    check_in_chromium(&dir.path().join("class.html"));
}

/// Renders the page in headless Chromium and reads its DOM: the attacker's name is text, the tables are
/// there. Skipped, with a message, when Chromium is not installed.
fn check_in_chromium(page: &Path) {
    let Some(chromium) = programs::chromium() else {
        eprintln!("skipped the browser check: Chromium is not installed (apt-get install chromium)");
        return;
    };
    let dom = programs::dump_dom(&chromium, page);
    assert!(
        dom.contains("<table id=\"learners\">"),
        "the browser rendered the page:\n{dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
        "the name is text in the DOM:\n{dom}"
    );
    assert!(!dom.contains("<script>alert"), "no script element was created:\n{dom}");
    assert_eq!(
        dom.matches("<tr><td>").count(),
        2 + 2 + 2,
        "2 learners, 2 exercises, 2 leak classes:\n{dom}"
    );
}
