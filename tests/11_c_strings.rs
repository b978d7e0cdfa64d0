//! Spec for exercise 11, c-strings: the wrapped C dictionary behaves like a `BTreeMap`, and strings crossing
//! the boundary in either direction are freed by the side that allocated them.
//!
//! Compiled into both `exercises/11-c-strings` and `solutions/11-c-strings` through their `tests/spec.rs`,
//! which names the crate under test `subject`.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ffi::{CString, c_char};
use std::fmt;
use std::process::Command;
use subject::{Dict, ffi};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One call a user of the dictionary makes.
#[derive(Clone)]
enum Op {
    /// `insert(key, value)`.
    Insert(&'static str, String),
    /// `remove(key)`.
    Remove(&'static str),
    /// `get(key)`.
    Get(&'static str),
    /// `dump()`.
    Dump,
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Insert(key, value) => write!(f, "insert({key:?}, {value:?})"),
            Op::Remove(key) => write!(f, "remove({key:?})"),
            Op::Get(key) => write!(f, "get({key:?})"),
            Op::Dump => write!(f, "dump"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let key = prop::sample::select(&["b", "a", "ab"][..]);
    prop_oneof![
        3 => (key.clone(), "[a-z]{0,3}").prop_map(|(key, value)| Op::Insert(key, value)),
        2 => key.clone().prop_map(Op::Remove),
        1 => key.prop_map(Op::Get),
        1 => Just(Op::Dump),
    ]
}

/// Runs `ops` against a fresh dictionary and a model of it; the first difference is returned as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    let mut dict = Dict::new();
    let mut model: BTreeMap<&str, String> = BTreeMap::new();
    for (step, op) in ops.iter().enumerate() {
        let fail = |got: &dyn fmt::Debug, want: &dyn fmt::Debug| {
            format!("step {step}: {op:?} returned {got:?}, expected {want:?}")
        };
        match op {
            Op::Insert(key, value) => {
                let (got, want) = (dict.insert(key, value), model.insert(key, value.clone()));
                if got != want {
                    return Err(fail(&got, &want));
                }
            }
            Op::Remove(key) => {
                let (got, want) = (dict.remove(key), model.remove(key));
                if got != want {
                    return Err(fail(&got, &want));
                }
            }
            Op::Get(key) => {
                let (got, want) = (dict.get(key), model.get(key).cloned());
                if got != want {
                    return Err(fail(&got, &want));
                }
            }
            Op::Dump => {
                let got = dict.dump();
                let want: String = model.iter().map(|(key, value)| format!("{key}={value}\n")).collect();
                if got != want {
                    return Err(fail(&got, &want));
                }
            }
        }
        if dict.len() != model.len() || dict.is_empty() != model.is_empty() {
            return Err(format!(
                "step {step}: {op:?}: the dictionary holds {} keys, expected {}",
                dict.len(),
                model.len()
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The dictionary matches the model, and a whole session with it frees every string, whichever side of the
    /// boundary allocated it.
    #[test]
    fn dictionaries_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..12)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// Values keep their text through every trip into the dictionary and back, and the dump is in key order.
#[test]
fn values_come_back_unchanged() {
    let mut dict = Dict::new();
    assert_eq!(dict.insert("port", "80"), None);
    assert_eq!(dict.insert("host", "example.org"), None);
    assert_eq!(dict.insert("port", "8080"), Some("80".to_owned()));
    assert_eq!(dict.get("port").as_deref(), Some("8080"));
    assert_eq!(dict.dump(), "host=example.org\nport=8080\n");
    assert_eq!(dict.remove("host").as_deref(), Some("example.org"));
    assert_eq!(dict.remove("host"), None);
    assert_eq!(dict.len(), 1);
}

/// What `dict_free` calls on the values left in a dictionary made through `ffi` below.
unsafe extern "C" fn free_value(value: *mut c_char) {
    // SAFETY: the only value put in below was made by `CString::into_raw`.
    drop(unsafe { CString::from_raw(value) });
}

/// The C library itself, through its raw functions: a string it allocates and nobody frees is reported as a C
/// block, with its exact size. The leak is on purpose, so it runs in a child process without
/// `LEAKLAB_REPORT_DIR`: its report must not be mistaken for the verdict on the dictionary.
#[test]
fn a_c_string_never_freed_is_reported_as_a_c_block_of_its_size() {
    let child = "spec::child_leaks_a_c_string";
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", child, "--include-ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove(leaklab::REPORT_DIR_ENV)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success() && stdout.contains(&format!("test {child} ... ok")),
        "the child test failed or did not run:\n{stdout}\n{stderr}"
    );
}

/// Set in the child process of the test above.
const CHILD: &str = "LEAKLAB_SPEC_CHILD";

#[test]
#[ignore = "run by a_c_string_never_freed_is_reported_as_a_c_block_of_its_size in a child process"]
fn child_leaks_a_c_string() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let value = CString::new("80").unwrap().into_raw();
    let mut dumped: *mut c_char = std::ptr::null_mut();
    // SAFETY: the dictionary is used only here, with valid C strings; the value is handed over to it.
    let dict = unsafe {
        let dict = ffi::dict_new();
        assert!(ffi::dict_put(dict, c"port".as_ptr(), value).is_null());
        dict
    };
    // SAFETY: `dict` is live; the dump is kept (not freed) until after the check, on purpose.
    let report = leaklab::check(|| dumped = unsafe { ffi::dict_dump(dict) });
    let text = "port=80\n";
    assert_eq!(
        (report.leaked_blocks(), report.leaked_bytes()),
        (1, text.len() + 1),
        "one C string of {} bytes and its NUL should be outstanding:\n{report}",
        text.len()
    );
    assert_eq!((report.c_blocks, report.c_bytes), (1, text.len() + 1), "{report}");
    assert!(
        report
            .to_string()
            .contains("allocated by C (leaklab_malloc): 1 block, 9 bytes"),
        "{report}"
    );
    // SAFETY: the dump came from `dict_dump`, the dictionary from `dict_new`; both are freed once, here.
    unsafe {
        ffi::dict_string_free(dumped);
        ffi::dict_free(dict, free_value);
    }
}
