//! "Smart pointers and Weak": a team owns its members; a member finds its team through a `Weak`.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

// ANCHOR: team
/// A team owns its members.
pub struct Team {
    /// The team's name.
    pub name: String,
    members: RefCell<Vec<Rc<Member>>>,
}

/// A member can find their team, but does not keep it alive.
pub struct Member {
    /// The member's name.
    pub name: String,
    team: Weak<Team>,
}

impl Team {
    /// A team with no members yet.
    pub fn new(name: &str) -> Rc<Team> {
        Rc::new(Team {
            name: name.into(),
            members: RefCell::new(Vec::new()),
        })
    }

    /// Adds a member who can look the team up.
    pub fn join(team: &Rc<Team>, name: &str) -> Rc<Member> {
        let member = Rc::new(Member {
            name: name.into(),
            team: Rc::downgrade(team),
        });
        team.members.borrow_mut().push(Rc::clone(&member));
        member
    }
}

impl Member {
    /// The member's team, while it still exists.
    pub fn team(&self) -> Option<Rc<Team>> {
        self.team.upgrade()
    }
}
// ANCHOR_END: team
