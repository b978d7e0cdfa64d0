//! Spec for exercise 12, c-library-wrapper: the archive wrapper reads archives like a model reader written in
//! Rust, and gives every handle back to the C library, whichever way the reading ends.
//!
//! Compiled into both `exercises/12-c-library-wrapper` and `solutions/12-c-library-wrapper` through their
//! `tests/spec.rs`, which names the crate under test `subject`.

use proptest::prelude::*;
use std::fmt;
use subject::{Archive, Entry, Error, extract, list};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// What is wrong with an archive's bytes.
#[derive(Clone, Copy, Debug)]
enum Damage {
    /// Nothing.
    None,
    /// The last n bytes are missing.
    Cut(usize),
    /// The first byte is wrong.
    BadMagic,
}

/// The bytes of an archive, described by its entries and its damage, so a failing case reads well.
#[derive(Clone)]
struct Bytes {
    entries: Vec<(&'static str, String)>,
    damage: Damage,
}

impl Bytes {
    /// The archive's bytes: `LLA1`, then each entry's name length, name, data length and data.
    fn encode(&self) -> Vec<u8> {
        let mut bytes = b"LLA1".to_vec();
        for (name, data) in &self.entries {
            bytes.push(name.len() as u8);
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(data.len() as u8);
            bytes.extend_from_slice(data.as_bytes());
        }
        match self.damage {
            Damage::None => {}
            Damage::Cut(n) => bytes.truncate(bytes.len().saturating_sub(n)),
            Damage::BadMagic => bytes[0] = b'X',
        }
        bytes
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .entries
            .iter()
            .map(|(name, data)| format!("{name}: {data:?}"))
            .collect();
        write!(f, "{{{}}}", entries.join(", "))?;
        match self.damage {
            Damage::None => Ok(()),
            Damage::Cut(n) => write!(f, " cut by {n}"),
            Damage::BadMagic => write!(f, " with a bad magic"),
        }
    }
}

/// One thing a user of the wrapper does, each with an archive of its own.
#[derive(Clone)]
enum Op {
    /// `extract(bytes, name)`.
    Extract(Bytes, &'static str),
    /// `list(bytes)`.
    List(Bytes),
    /// `Archive::open(bytes)`, then `next_entry` this many times (stopping at an error), then `close` or drop.
    Read { bytes: Bytes, entries: usize, close: bool },
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Extract(bytes, name) => write!(f, "extract({bytes:?}, {name:?})"),
            Op::List(bytes) => write!(f, "list({bytes:?})"),
            Op::Read { bytes, entries, close } => {
                let end = if *close { "close" } else { "drop" };
                write!(f, "read({bytes:?}, {entries} entries, then {end})")
            }
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let name = prop::sample::select(&["a", "b", "c"][..]);
    let entries = prop::collection::vec((name.clone(), "[a-z]{0,3}"), 0..4);
    let damage = prop_oneof![
        3 => Just(Damage::None),
        2 => (1..4usize).prop_map(Damage::Cut),
        1 => Just(Damage::BadMagic),
    ];
    let bytes = (entries, damage).prop_map(|(entries, damage)| Bytes { entries, damage });
    prop_oneof![
        (bytes.clone(), name).prop_map(|(bytes, name)| Op::Extract(bytes, name)),
        bytes.clone().prop_map(Op::List),
        (bytes, 0..5usize, any::<bool>()).prop_map(|(bytes, entries, close)| Op::Read { bytes, entries, close }),
    ]
}

/// The model: reads `bytes` in Rust. Returns the entries read before the archive ended, and the error it
/// ended with, if any.
fn model(bytes: &[u8]) -> (Vec<Entry>, Option<Error>) {
    let Some(mut rest) = bytes.strip_prefix(b"LLA1") else {
        return (Vec::new(), Some(Error::BadMagic));
    };
    // One length-prefixed field, or `None` when the bytes end first.
    fn field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
        let (&len, after) = rest.split_first()?;
        let (field, after) = after.split_at_checked(len.into())?;
        *rest = after;
        Some(field)
    }
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let (Some(name), Some(data)) = (field(&mut rest), field(&mut rest)) else {
            return (entries, Some(Error::Truncated));
        };
        entries.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            data: data.to_vec(),
        });
    }
    (entries, None)
}

/// Runs `ops` and compares every result with the model's; the first difference is returned as an error.
fn run(ops: &[Op]) -> Result<(), String> {
    for (step, op) in ops.iter().enumerate() {
        let fail = |got: &dyn fmt::Debug, want: &dyn fmt::Debug| {
            format!("step {step}: {op:?} returned {got:?}, expected {want:?}")
        };
        match op {
            Op::Extract(bytes, name) => {
                let (entries, error) = model(&bytes.encode());
                let want = match entries.into_iter().find(|entry| entry.name == *name) {
                    Some(entry) => Ok(entry.data),
                    None => Err(error.unwrap_or(Error::NotFound)),
                };
                let got = extract(&bytes.encode(), name);
                if got != want {
                    return Err(fail(&got, &want));
                }
            }
            Op::List(bytes) => {
                let (entries, error) = model(&bytes.encode());
                let want = match error {
                    Some(error) => Err(error),
                    None => Ok(entries.into_iter().map(|entry| entry.name).collect()),
                };
                let got = list(&bytes.encode());
                if got != want {
                    return Err(fail(&got, &want));
                }
            }
            Op::Read {
                bytes,
                entries: count,
                close,
            } => {
                let (entries, error) = model(&bytes.encode());
                let opens = error != Some(Error::BadMagic);
                let mut archive = match Archive::open(&bytes.encode()) {
                    Ok(archive) if opens => archive,
                    Err(Error::BadMagic) if !opens => continue,
                    got => {
                        let want = if opens {
                            Ok("an open archive")
                        } else {
                            Err(Error::BadMagic)
                        };
                        return Err(fail(&got.map(|_| "an open archive"), &want));
                    }
                };
                for i in 0..*count {
                    let got = archive.next_entry();
                    let want = match entries.get(i) {
                        Some(entry) => Ok(Some(entry.clone())),
                        None => error.map_or(Ok(None), Err),
                    };
                    if got != want {
                        return Err(format!(
                            "step {step}: {op:?}: next_entry number {i} returned {got:?}, expected {want:?}"
                        ));
                    }
                }
                if *close {
                    archive.close();
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The wrapper reads archives as the model does, and every archive it opens is closed, however the
    /// reading ends: at the last entry, early, on an error, or by dropping the archive.
    #[test]
    fn archives_match_the_model_and_leak_nothing(ops in prop::collection::vec(op(), 0..6)) {
        // Behaviour first, outside any region: a mismatch message is not a leak.
        run(&ops).map_err(TestCaseError::fail)?;
        leaklab::prop_assert_no_leaks!(|| run(&ops));
    }
}

/// The everyday functions on a small archive, and the errors a damaged one gives.
#[test]
fn list_and_extract_read_entries_in_order() {
    let archive = Bytes {
        entries: vec![("a", "one".into()), ("b", "".into()), ("a", "two".into())],
        damage: Damage::None,
    }
    .encode();
    assert_eq!(list(&archive), Ok(vec!["a".into(), "b".into(), "a".into()]));
    assert_eq!(extract(&archive, "a"), Ok(b"one".to_vec()));
    assert_eq!(extract(&archive, "b"), Ok(Vec::new()));
    assert_eq!(extract(&archive, "c"), Err(Error::NotFound));
    let cut = &archive[..archive.len() - 1];
    assert_eq!(list(cut), Err(Error::Truncated));
    assert_eq!(extract(cut, "b"), Ok(Vec::new()));
    assert_eq!(list(b"PK\x03\x04"), Err(Error::BadMagic));
    assert!(Archive::open(b"LLA").is_err());
}
