//! A folder of documents, each saved atomically.
//!
//! [`Store::save`] lets a `render` function write the new version into a temporary file next to the
//! document, flushes it to disk, and only then renames it over the document. A reader never sees half a
//! document, and a save that fails (or panics) leaves the previous version in place.
//!
//! This is the fixed version: the temporary file is a `tempfile::NamedTempFile`, which deletes itself when
//! dropped, so every way out of `save` before the rename (`?`, a panic) removes it.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A directory of documents, by name.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store kept in `dir`, which must exist.
    pub fn new(dir: &Path) -> Store {
        Store { dir: dir.to_owned() }
    }

    // ANCHOR: fix
    /// Replaces document `name` with what `render` writes. When `render` fails or panics, or the file
    /// cannot be written, the document keeps its previous version (or stays missing).
    ///
    /// # Errors
    /// `render`'s error, or the file system's.
    pub fn save(&self, name: &str, render: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
        // `name.<random>.tmp`, deleted when `tmp` is dropped unless `persist` has renamed it first: on `?`, and
        // while a panic in `render` unwinds through this function, the drop removes it.
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!("{name}."))
            .suffix(".tmp")
            .tempfile_in(&self.dir)?;
        render(&mut tmp)?;
        // On disk before it gets the document's name, so a crash cannot leave a half-written document.
        tmp.as_file().sync_all()?;
        // If the rename fails, the error hands the temporary file back, and dropping it removes it.
        tmp.persist(self.dir.join(name)).map_err(|e| e.error)?;
        Ok(())
    }
    // ANCHOR_END: fix

    /// The current version of document `name`, or `None` if there is none.
    pub fn load(&self, name: &str) -> io::Result<Option<String>> {
        match fs::read_to_string(self.dir.join(name)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes document `name`; true if it existed.
    pub fn remove(&self, name: &str) -> io::Result<bool> {
        match fs::remove_file(self.dir.join(name)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The names of the documents, sorted. Files being written (ending in `.tmp`) are not documents yet.
    pub fn names(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".tmp") {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}
