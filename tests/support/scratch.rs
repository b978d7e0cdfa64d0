//! A scratch directory for the OS-handle specs, shared by them (each includes this file by path).
//!
//! It is made and removed inside `leaklab::exclusive`, under the same lock as the regions that track
//! descriptors and directories, so a parallel test never sees its descriptors or its files come and go.

use std::path::Path;

/// A fresh, empty directory, made and removed under leaklab's lock.
pub struct Scratch(Option<tempfile::TempDir>);

impl Scratch {
    /// Makes the directory.
    pub fn new() -> Scratch {
        Scratch(Some(leaklab::exclusive(|| {
            tempfile::tempdir().expect("a temporary directory")
        })))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("present until dropped").path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let dir = self.0.take();
        leaklab::exclusive(|| drop(dir));
    }
}
