//! An append-only journal file, the kind a database writes before it changes its tables.
//!
//! [`Journal::create`] starts a journal; [`Journal::append`] adds a record (buffered in memory);
//! [`Journal::close`] writes out the buffer, syncs the file to disk, closes it, and reports any error on the
//! way. Dropping a journal also writes and closes it, but `Drop` cannot return an error, so a full disk
//! would go unnoticed: programs that care call `close`.
//!
//! This journal leaks nothing, but its API lets a program append to a closed journal, or close it twice.
//! Both are caught only while the program runs, as an error. The tests want both to be compile errors:
//! redesign the API so that a closed journal cannot be used at all.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

// ANCHOR: fix
/// An open journal file.
#[derive(Debug)]
pub struct Journal {
    /// The buffered file, or `None` once the journal is closed.
    writer: Option<BufWriter<File>>,
    records: usize,
}

impl Journal {
    /// Creates (or empties) the journal file at `path`.
    pub fn create(path: &Path) -> io::Result<Journal> {
        Ok(Journal {
            writer: Some(BufWriter::new(File::create(path)?)),
            records: 0,
        })
    }

    /// Appends one record, a line of text.
    ///
    /// # Errors
    /// The journal is closed, or the file could not be written.
    pub fn append(&mut self, record: &str) -> io::Result<()> {
        let writer = self.writer.as_mut().ok_or_else(closed)?;
        writeln!(writer, "{record}")?;
        self.records += 1;
        Ok(())
    }

    /// How many records were appended.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Writes out the buffered records, syncs the file to disk and closes it.
    ///
    /// # Errors
    /// The journal was already closed, or writing or syncing failed (a full disk, say).
    pub fn close(&mut self) -> io::Result<()> {
        let writer = self.writer.take().ok_or_else(closed)?;
        let file = writer.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    }
}

/// The error for using a journal after `close`.
fn closed() -> io::Error {
    io::Error::other("the journal is closed")
}
// ANCHOR_END: fix
