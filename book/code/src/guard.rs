//! "Cleanup on every path: scopeguard": undo a half-done registration when a later step fails or panics.

use scopeguard::ScopeGuard;
use std::cell::RefCell;
use std::collections::HashMap;

/// Sessions by id.
pub type Registry = RefCell<HashMap<u32, String>>;

// ANCHOR: undo
/// Registers session `id` for `user`, then runs `authorise`. If it fails (or panics), the session is
/// removed again: a failed login must not leave an entry behind.
pub fn login(
    registry: &Registry,
    id: u32,
    user: &str,
    authorise: impl FnOnce(&str) -> Result<(), String>,
) -> Result<(), String> {
    registry.borrow_mut().insert(id, user.to_owned());
    let undo = scopeguard::guard(id, |id| {
        registry.borrow_mut().remove(&id);
    });
    authorise(user)?; // an error or a panic here drops `undo`, which removes the entry
    ScopeGuard::into_inner(undo); // success: disarm the guard and keep the session
    Ok(())
}
// ANCHOR_END: undo

// ANCHOR: no_undo
/// The same login without the guard: a failed `authorise` leaves the session registered.
pub fn login_leaky(
    registry: &Registry,
    id: u32,
    user: &str,
    authorise: impl FnOnce(&str) -> Result<(), String>,
) -> Result<(), String> {
    registry.borrow_mut().insert(id, user.to_owned());
    authorise(user)?; // returns early with the entry still in the map
    Ok(())
}
// ANCHOR_END: no_undo
