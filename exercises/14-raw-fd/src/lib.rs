//! A log file that rotates, like the log of a long-running daemon.
//!
//! [`RotatingLog::open`] appends to `dir/name`. [`RotatingLog::rotate`] renames the file to `name.1` (and
//! `name.1` to `name.2`, and so on, keeping `keep` old files) and starts a fresh one; [`RotatingLog::reopen`]
//! opens the path again, for when another program has moved the file away. The log keeps its file as a raw
//! descriptor, as code that shares descriptors with C libraries or child processes often does.
//!
//! The tests say this log leaks file descriptors. Find out why and fix it, without changing what the log
//! does.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::path::{Path, PathBuf};

// ANCHOR: fix
/// A log file, rotated on demand.
#[derive(Debug)]
pub struct RotatingLog {
    path: PathBuf,
    keep: usize,
    /// The open log file, as its raw descriptor number.
    fd: RawFd,
}

/// Opens `path` for appending, creating it if needed, and hands over its descriptor.
fn open_append(path: &Path) -> io::Result<RawFd> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(file.into_raw_fd())
}

impl RotatingLog {
    /// Opens (or creates) the log `dir/name`, which will keep `keep` old files (at least one) when rotated.
    pub fn open(dir: &Path, name: &str, keep: usize) -> io::Result<RotatingLog> {
        let path = dir.join(name);
        let fd = open_append(&path)?;
        Ok(RotatingLog {
            path,
            keep: keep.max(1),
            fd,
        })
    }

    /// Appends one line to the current file.
    pub fn write_line(&mut self, line: &str) -> io::Result<()> {
        // SAFETY: `self.fd` is open and belongs to this log; `ManuallyDrop` stops this `File` from closing it.
        let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(self.fd) });
        file.write_all(format!("{line}\n").as_bytes())
    }

    /// Moves the current file to `name.1` (shifting older ones up and deleting the one past `keep`), and
    /// carries on in a fresh, empty file.
    pub fn rotate(&mut self) -> io::Result<()> {
        remove_if_present(&self.old(self.keep))?;
        for n in (1..self.keep).rev() {
            rename_if_present(&self.old(n), &self.old(n + 1))?;
        }
        rename_if_present(&self.path, &self.old(1))?;
        self.fd = open_append(&self.path)?;
        Ok(())
    }

    /// Opens the log's path again: after another program renamed the file, new lines go to a new file.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.fd = open_append(&self.path)?;
        Ok(())
    }
}

impl Drop for RotatingLog {
    fn drop(&mut self) {
        // SAFETY: the log owns `fd` and never uses it again; the `File` closes it.
        drop(unsafe { File::from_raw_fd(self.fd) });
    }
}
// ANCHOR_END: fix

impl RotatingLog {
    /// Old file number `n`: `name.1` is the newest.
    fn old(&self, n: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }
}

fn rename_if_present(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        done => done,
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        done => done,
    }
}
