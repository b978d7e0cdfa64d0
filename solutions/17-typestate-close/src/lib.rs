//! An append-only journal file, the kind a database writes before it changes its tables.
//!
//! [`Journal::create`] starts a journal; [`Journal::append`] adds a record (buffered in memory);
//! [`Journal::close`] writes out the buffer, syncs the file to disk, closes it, and reports any error on the
//! way. Dropping a journal also writes and closes it, but `Drop` cannot return an error, so a full disk
//! would go unnoticed: programs that care call `close`.
//!
//! This is the fixed version: `close` takes the journal by value, so after `close` there is no journal
//! left to append to or close again, and the compiler says so.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

// ANCHOR: fix
/// An open journal file. There is no closed journal: closing one consumes it.
#[derive(Debug)]
pub struct Journal {
    /// The buffered file.
    writer: BufWriter<File>,
    records: usize,
}

impl Journal {
    /// Creates (or empties) the journal file at `path`.
    pub fn create(path: &Path) -> io::Result<Journal> {
        Ok(Journal {
            writer: BufWriter::new(File::create(path)?),
            records: 0,
        })
    }

    /// Appends one record, a line of text.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn append(&mut self, record: &str) -> io::Result<()> {
        writeln!(self.writer, "{record}")?;
        self.records += 1;
        Ok(())
    }

    /// How many records were appended.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Writes out the buffered records, syncs the file to disk and closes it. Takes the journal by value:
    /// the caller's variable is moved here, so using it afterwards is a compile error.
    ///
    /// # Errors
    /// Writing or syncing failed (a full disk, say).
    pub fn close(self) -> io::Result<()> {
        let file = self.writer.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    }
}
// ANCHOR_END: fix
