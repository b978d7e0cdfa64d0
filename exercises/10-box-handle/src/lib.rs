//! A streaming parser of `key=value` config lines, written in Rust, with a C API for a C program that feeds
//! it a config file as the bytes arrive.
//!
//! C sees a parser only as an opaque pointer. [`parser_new`] makes one, [`parser_feed`] gives it bytes, and
//! the C program ends with either [`parser_finish`] (the input is complete: write the summary) or
//! [`parser_free`] (give up). Either call ends the parser's life: C never uses that pointer again.
//!
//! The tests play the C program. They say parsers leak. Find out why and fix it, without changing what the
//! C API does.

use std::collections::BTreeSet;
use std::ffi::c_int;

/// What a finished parser found, written by [`parser_finish`] into a struct the C program owns.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// How many `key=value` lines.
    pub records: u64,
    /// How many different keys.
    pub distinct_keys: u64,
}

/// The parser's state between calls. Lines are `key=value` (the key not empty); empty lines and lines
/// starting with `#` are skipped; anything else makes the input malformed.
#[derive(Default)]
pub struct Parser {
    line: Vec<u8>,
    lines_seen: u64,
    keys: BTreeSet<String>,
    records: u64,
    malformed_at: Option<u64>,
}

impl Parser {
    fn end_line(&mut self) {
        self.lines_seen += 1;
        let line = std::mem::take(&mut self.line);
        if self.malformed_at.is_some() || line.is_empty() || line[0] == b'#' {
            return;
        }
        match line.iter().position(|&b| b == b'=') {
            Some(eq) if eq > 0 => {
                self.records += 1;
                self.keys.insert(String::from_utf8_lossy(&line[..eq]).into_owned());
            }
            _ => self.malformed_at = Some(self.lines_seen),
        }
    }

    fn finish(&mut self) -> Result<Summary, u64> {
        if !self.line.is_empty() {
            self.end_line();
        }
        match self.malformed_at {
            Some(line) => Err(line),
            None => Ok(Summary {
                records: self.records,
                distinct_keys: self.keys.len() as u64,
            }),
        }
    }
}

/// Makes a parser. Give it bytes with [`parser_feed`]; end it with [`parser_finish`] or [`parser_free`].
#[unsafe(no_mangle)]
pub extern "C" fn parser_new() -> *mut Parser {
    Box::into_raw(Box::new(Parser::default()))
}

/// Gives the parser the next `len` bytes of the input. Returns how many records the complete lines so far
/// hold, or -1 once a malformed line has been seen.
///
/// # Safety
/// `parser` comes from [`parser_new`] and was not finished or freed; `data` points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn parser_feed(parser: *mut Parser, data: *const u8, len: usize) -> i64 {
    // SAFETY: the caller passes a live parser and `len` readable bytes at `data`.
    let (parser, data) = unsafe { (&mut *parser, std::slice::from_raw_parts(data, len)) };
    for &byte in data {
        match byte {
            b'\n' => parser.end_line(),
            _ => parser.line.push(byte),
        }
    }
    parser.malformed_at.map_or(parser.records as i64, |_| -1)
}

// ANCHOR: fix
/// Ends the input and the parser: writes the summary to `*out` and returns 0, or returns the number (from 1)
/// of the first malformed line and leaves `*out` alone. The parser is gone after this call.
///
/// # Safety
/// `parser` comes from [`parser_new`] and was not finished or freed; `out` is valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn parser_finish(parser: *mut Parser, out: *mut Summary) -> c_int {
    // SAFETY: the caller passes a live parser.
    let parser = unsafe { &mut *parser };
    match parser.finish() {
        Ok(summary) => {
            // SAFETY: the caller passes an `out` valid for writes.
            unsafe { out.write(summary) };
            0
        }
        Err(line) => line.try_into().unwrap_or(c_int::MAX),
    }
}
// ANCHOR_END: fix

/// Ends the parser without a summary. Null is ignored.
///
/// # Safety
/// `parser` is null, or comes from [`parser_new`] and was not finished or freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn parser_free(parser: *mut Parser) {
    if !parser.is_null() {
        // SAFETY: the parser came from `Box::into_raw` in `parser_new`, and the C program never uses it again.
        drop(unsafe { Box::from_raw(parser) });
    }
}
