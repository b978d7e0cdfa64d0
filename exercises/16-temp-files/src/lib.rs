//! A folder of documents, each saved atomically.
//!
//! [`Store::save`] lets a `render` function write the new version into a temporary file next to the
//! document, flushes it to disk, and only then renames it over the document. A reader never sees half a
//! document, and a save that fails (or panics) leaves the previous version in place.
//!
//! The tests say this store leaves files behind. Find out when and fix it, without changing what the store
//! does.

use std::fs::{self, File};
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
        let tmp = self.dir.join(format!("{name}.tmp"));
        let mut file = File::create(&tmp)?;
        render(&mut file)?;
        // On disk before it gets the document's name, so a crash cannot leave a half-written document.
        file.sync_all()?;
        fs::rename(&tmp, self.dir.join(name))
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
