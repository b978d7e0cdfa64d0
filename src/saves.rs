//! Which file-system events mean "the learner saved a file", for `watch`. Reading a file (the compiler,
//! an editor opening it) is not a save, and neither are editors' swap, lock and backup files; a save by
//! rename (write `.lib.rs.swp`, rename it over `lib.rs`) is, through the name it is renamed to.

use notify::{Event, EventKind};
use std::path::Path;

/// Whether `event` is a change to a file the learner edits.
pub fn is_save(event: &Event) -> bool {
    let changes = matches!(
        event.kind,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any
    );
    changes && event.paths.iter().any(|p| is_source(p))
}

/// Not an editor's or the runner's by-product: hidden files (`.lib.rs.swp`, `.#lib.rs`), `lib.rs~`,
/// JetBrains' `lib.rs___jb_tmp___`, and reset's `*.leaklab-backup.*`.
fn is_source(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !(name.starts_with('.') || name.ends_with('~') || name.contains("___jb_") || name.contains(".leaklab-backup"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, DataChange, ModifyKind, RenameMode};

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        paths.iter().fold(Event::new(kind), |e, p| e.add_path(p.into()))
    }

    #[test]
    fn writes_creates_and_renames_are_saves() {
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        assert!(is_save(&event(write, &["/w/src/lib.rs"])));
        assert!(is_save(&event(EventKind::Create(CreateKind::File), &["/w/src/lib.rs"])));
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        assert!(is_save(&event(rename, &["/w/src/.lib.rs.swp", "/w/src/lib.rs"])));
    }

    #[test]
    fn reads_and_editor_by_products_are_not() {
        let open = EventKind::Access(AccessKind::Open(notify::event::AccessMode::Any));
        assert!(
            !is_save(&event(open, &["/w/src/lib.rs"])),
            "the compiler reading the file"
        );
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        for by_product in [
            "/w/src/.lib.rs.swp",
            "/w/src/.#lib.rs",
            "/w/src/lib.rs~",
            "/w/src/lib.rs___jb_tmp___",
            "/w/src/lib.rs.leaklab-backup.1700000000",
        ] {
            assert!(!is_save(&event(write, &[by_product])), "{by_product}");
        }
    }
}
