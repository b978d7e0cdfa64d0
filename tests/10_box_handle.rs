//! Spec for exercise 10, box-handle: the parser's C API behaves like a simple model, and every parser is
//! freed whichever way the C program ends it.
//!
//! Compiled into both `exercises/10-box-handle` and `solutions/10-box-handle` through their `tests/spec.rs`,
//! which names the crate under test `subject`. The spec plays the C program: it calls the `extern "C"`
//! functions exactly as C would, and never uses a parser after finishing or freeing it.

use proptest::prelude::*;
use std::collections::BTreeSet;
use std::fmt;
use subject::{Parser, Summary, parser_feed, parser_finish, parser_free, parser_new};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// One call the C program makes. `p<k>` is the k-th parser it made; calls naming a parser that does not
/// exist (yet) or has ended are skipped, as a correct C program would never make them.
#[derive(Clone)]
enum Op {
    /// `parser_new()`.
    New,
    /// `parser_feed(p<k>, chunk)`.
    Feed(usize, String),
    /// `parser_finish(p<k>, &summary)`.
    Finish(usize),
    /// `parser_free(p<k>)`.
    Free(usize),
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::New => write!(f, "new"),
            Op::Feed(k, chunk) => write!(f, "feed(p{k}, {chunk:?})"),
            Op::Finish(k) => write!(f, "finish(p{k})"),
            Op::Free(k) => write!(f, "free(p{k})"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    // Pieces of config text: records (a key may repeat), lines cut in two, a comment, an empty line, and now
    // and then a malformed line.
    let piece = prop_oneof![
        4 => prop::sample::select(&["port=80\n", "host=a\n", "port=8", "0\n"][..]),
        1 => prop::sample::select(&["#x\n", "\n", "oops\n", "=1"][..]),
    ];
    let chunk = prop::collection::vec(piece, 1..4).prop_map(|pieces| pieces.concat());
    prop_oneof![
        2 => Just(Op::New),
        4 => (0..2usize, chunk).prop_map(|(k, chunk)| Op::Feed(k, chunk)),
        2 => (0..2usize).prop_map(Op::Finish),
        1 => (0..2usize).prop_map(Op::Free),
    ]
}

/// The model: parses the whole input at once. Returns the summary, or the number of the first malformed line.
/// With `complete_lines_only`, a last line without its newline is left out (it may still grow).
fn model(input: &str, complete_lines_only: bool) -> Result<Summary, u64> {
    let mut lines: Vec<&str> = input.split('\n').collect();
    let last = lines.pop().unwrap_or("");
    if !complete_lines_only && !last.is_empty() {
        lines.push(last);
    }
    let mut keys = BTreeSet::new();
    let mut records = 0;
    for (number, line) in (1..).zip(lines) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((key, _)) if !key.is_empty() => {
                records += 1;
                keys.insert(key);
            }
            _ => return Err(number),
        }
    }
    Ok(Summary {
        records,
        distinct_keys: keys.len() as u64,
    })
}

/// Runs `ops` as a C program would, against a model of each parser (the input fed so far); the first
/// difference is returned as an error. Parsers still open at the end are freed with `parser_free`.
fn run(ops: &[Op]) -> Result<(), String> {
    // Parser k's pointer and input while it is open; `None` once it has ended.
    let mut parsers: Vec<Option<(*mut Parser, String)>> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        let fail = |what: String| format!("step {step}, {op:?}: {what}");
        match op {
            Op::New => {
                let parser = parser_new();
                if parser.is_null() {
                    return Err(fail("parser_new returned null".into()));
                }
                parsers.push(Some((parser, String::new())));
            }
            Op::Feed(k, chunk) => {
                let Some(Some((parser, input))) = parsers.get_mut(*k) else {
                    continue;
                };
                input.push_str(chunk);
                // SAFETY: `parser` is open (the spec never feeds an ended one); `chunk` is `len` readable bytes.
                let got = unsafe { parser_feed(*parser, chunk.as_ptr(), chunk.len()) };
                let want = model(input, true).map_or(-1, |summary| summary.records as i64);
                if got != want {
                    return Err(fail(format!(
                        "returned {got}, expected {want} after the input {input:?}"
                    )));
                }
            }
            Op::Finish(k) => {
                let Some((parser, input)) = parsers.get_mut(*k).and_then(Option::take) else {
                    continue;
                };
                let mut summary = Summary::default();
                // SAFETY: `parser` is open, and the spec forgets it here; `summary` is valid for writes.
                let status = unsafe { parser_finish(parser, &mut summary) };
                let got = if status == 0 { Ok(summary) } else { Err(status as u64) };
                let want = model(&input, false);
                if got != want {
                    return Err(fail(format!("gave {got:?}, expected {want:?} for the input {input:?}")));
                }
            }
            Op::Free(k) => {
                if let Some((parser, _)) = parsers.get_mut(*k).and_then(Option::take) {
                    // SAFETY: `parser` is open, and the spec forgets it here.
                    unsafe { parser_free(parser) };
                }
            }
        }
    }
    for (parser, _) in parsers.into_iter().flatten() {
        // SAFETY: every parser still in the list is open.
        unsafe { parser_free(parser) };
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The parsers match the model, and a whole C session frees every parser it made, finished or freed.
    #[test]
    fn parsers_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..16)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// A line split across two feeds is one line, and a last line without a newline still counts at the end.
#[test]
fn lines_may_arrive_in_pieces() {
    let parser = parser_new();
    let (first, second) = ("port=80\nho", "st=a\n# comment\nport=81");
    // SAFETY: the parser is open until `parser_finish`, and each chunk is `len` readable bytes.
    unsafe {
        assert_eq!(parser_feed(parser, first.as_ptr(), first.len()), 1);
        assert_eq!(parser_feed(parser, second.as_ptr(), second.len()), 2);
        let mut summary = Summary::default();
        assert_eq!(parser_finish(parser, &mut summary), 0);
        assert_eq!(
            summary,
            Summary {
                records: 3,
                distinct_keys: 2
            }
        );
    }
    // SAFETY: null is allowed.
    unsafe { parser_free(std::ptr::null_mut()) };
}

/// A malformed line is reported by its number, and the summary is left alone.
#[test]
fn a_malformed_line_is_reported_by_number() {
    let parser = parser_new();
    let input = "a=1\n\noops\nb=2\n";
    // SAFETY: the parser is open until `parser_finish`, and `input` is `len` readable bytes.
    unsafe {
        assert_eq!(parser_feed(parser, input.as_ptr(), input.len()), -1);
        let mut summary = Summary::default();
        assert_eq!(parser_finish(parser, &mut summary), 3);
        assert_eq!(summary, Summary::default());
    }
}
