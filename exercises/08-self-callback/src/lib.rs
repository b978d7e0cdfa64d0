//! Buttons for a tiny GUI toolkit.
//!
//! Clicking a [`Button`] counts the click and runs the button's click handler. The toolkit has two kinds
//! of button whose handler updates the button itself: a [counter](Button::counter) shows how often it was
//! clicked (`Save (2)`), and a [toggle](Button::toggle) switches between `Sound: off` and `Sound: on`.
//!
//! The tests say every button leaks once it is dropped, even one that was never clicked. Find out why and
//! fix it, without changing what the buttons do.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// What a button does when it is clicked.
type Handler = Box<dyn Fn()>;

/// A button with a label and a click handler. Share it as an `Rc<Button>`, like a widget in a window.
pub struct Button {
    label: RefCell<String>,
    clicks: Cell<u32>,
    on_click: RefCell<Option<Handler>>,
}

impl Button {
    /// A button labelled `label`, without a click handler yet.
    fn with_label(label: String) -> Rc<Button> {
        Rc::new(Button {
            label: RefCell::new(label),
            clicks: Cell::new(0),
            on_click: RefCell::new(None),
        })
    }

    /// Installs `handler`, which runs on every click from now on.
    fn set_on_click(&self, handler: impl Fn() + 'static) {
        *self.on_click.borrow_mut() = Some(Box::new(handler));
    }

    // ANCHOR: fix
    /// A button whose label counts its clicks: `Save (0)`, then `Save (1)`, `Save (2)`, ...
    pub fn counter(name: &str) -> Rc<Button> {
        let button = Button::with_label(format!("{name} (0)"));
        let this = Rc::clone(&button);
        let name = name.to_owned();
        button.set_on_click(move || {
            this.label.replace(format!("{name} ({})", this.clicks.get()));
        });
        button
    }

    /// A button that starts as `Sound: off` and switches between `on` and `off` on every click.
    pub fn toggle(name: &str) -> Rc<Button> {
        let button = Button::with_label(format!("{name}: off"));
        let this = Rc::clone(&button);
        let name = name.to_owned();
        let on = Cell::new(false);
        button.set_on_click(move || {
            on.set(!on.get());
            let state = if on.get() { "on" } else { "off" };
            this.label.replace(format!("{name}: {state}"));
        });
        button
    }
    // ANCHOR_END: fix

    /// Clicks the button: counts the click, then runs the click handler.
    pub fn click(&self) {
        self.clicks.set(self.clicks.get() + 1);
        if let Some(handler) = &*self.on_click.borrow() {
            handler();
        }
    }

    /// The text on the button.
    pub fn label(&self) -> String {
        self.label.borrow().clone()
    }

    /// How often the button was clicked.
    pub fn clicks(&self) -> u32 {
        self.clicks.get()
    }
}
