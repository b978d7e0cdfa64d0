//! Single-key input for `watch`: while it lives, a [`KeyMode`] puts the terminal in non-canonical mode
//! without echo, so `h`, `l` and `q` act at once instead of waiting for Enter. Output is untouched (unlike
//! raw mode, newlines still start a new line), and the terminal is restored on drop and on Ctrl-C.

use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};
use std::sync::Mutex;

/// The settings to restore, on drop or on Ctrl-C (whose handler runs on a thread of its own).
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

/// The terminal in single-key mode; restores the previous settings when dropped.
#[must_use = "the terminal goes back to line mode when the guard is dropped"]
pub struct KeyMode {
    _private: (),
}

impl KeyMode {
    /// Switches stdin to single-key mode if it is a terminal; `None` (and nothing changed) otherwise, for
    /// example when input is piped, where keys still arrive one line at a time.
    pub fn enable() -> Option<KeyMode> {
        let stdin = std::io::stdin();
        if !termios::isatty(&stdin) {
            return None;
        }
        let saved = termios::tcgetattr(&stdin).ok()?;
        let mut keys = saved.clone();
        keys.local_modes.remove(LocalModes::ICANON | LocalModes::ECHO);
        keys.special_codes[SpecialCodeIndex::VMIN] = 1;
        keys.special_codes[SpecialCodeIndex::VTIME] = 0;
        termios::tcsetattr(&stdin, OptionalActions::Now, &keys).ok()?;
        *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(saved);
        // Ctrl-C still interrupts (ISIG stays on); put the terminal back before the process ends. Setting
        // the handler fails only if one is already set, and then that one decides.
        let _ = ctrlc::set_handler(|| {
            restore_saved();
            std::process::exit(130);
        });
        Some(KeyMode { _private: () })
    }
}

fn restore_saved() {
    if let Some(saved) = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &saved);
    }
}

impl Drop for KeyMode {
    fn drop(&mut self) {
        restore_saved();
    }
}

/// The keys typed on stdin, one `char` per key, whitespace (the Enter of piped input) skipped.
pub fn keys(input: impl std::io::BufRead) -> impl Iterator<Item = char> {
    input
        .bytes()
        .map_while(Result::ok)
        .filter(|b| !b.is_ascii_whitespace())
        .map(char::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_arrive_one_by_one_and_enter_is_skipped() {
        let typed: String = keys(&b"h\nl q\r\n"[..]).collect();
        assert_eq!(typed, "hlq");
    }
}
