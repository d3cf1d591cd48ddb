//! Keyboard-safe lists. Chromium fires `change` on every arrow key in a closed `<select>`,
//! so applying each change at once redrew the table under the customer's fingers (the first
//! arrow on "Phone 2" silently picked "phone label"). A change made with the keyboard waits:
//! Enter or leaving the list applies it. A change made with the pointer applies at once.

use std::collections::HashMap;

use super::*;

/// What applies a control's value (the mapping, a custom field, a file's reading).
pub(super) type Apply = fn(&Element, String);

thread_local! {
    /// The id of the list the last navigation key went to.
    static KEYED: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Lists changed with the keyboard, not yet applied, by id.
    static PENDING: RefCell<HashMap<String, Apply>> = RefCell::new(HashMap::new());
}

const NAVIGATION: [&str; 8] = [
    "ArrowUp",
    "ArrowDown",
    "ArrowLeft",
    "ArrowRight",
    "Home",
    "End",
    "PageUp",
    "PageDown",
];

/// A `change` listener that applies with `apply` now, or, for a keyboard change of a list,
/// on Enter or when the list loses focus.
pub(super) fn guarded(apply: Apply) -> impl FnMut(&web_sys::Event) {
    move |e| {
        let Some(control) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let Some(value) = control_value(&control) else {
            return;
        };
        let id = control.id();
        let keyed = KEYED.with(|k| k.borrow().as_deref() == Some(id.as_str()));
        if keyed && control.tag_name().eq_ignore_ascii_case("select") && !id.is_empty() {
            PENDING.with(|p| p.borrow_mut().insert(id, apply));
            let _ = control.class_list().add_1("pending");
            set_attr(&control, "aria-description", "Press Enter to apply");
            return;
        }
        apply(&control, value);
    }
}

fn commit(control: &Element) {
    let Some(apply) = PENDING.with(|p| p.borrow_mut().remove(&control.id())) else {
        return;
    };
    let _ = control.class_list().remove_1("pending");
    if let Some(value) = control_value(control) {
        apply(control, value);
    }
}

pub(super) fn wire_keys(doc: &Document) {
    EventListener::new(doc, "keydown", |e| {
        let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        if !target.tag_name().eq_ignore_ascii_case("select") {
            return;
        }
        let key = Reflect::get(e, &"key".into())
            .ok()
            .and_then(|k| k.as_string())
            .unwrap_or_default();
        if key == "Enter" {
            if PENDING.with(|p| p.borrow().contains_key(&target.id())) {
                e.prevent_default();
                commit(&target);
            }
        } else if NAVIGATION.contains(&key.as_str()) || key.chars().count() == 1 {
            KEYED.with(|k| *k.borrow_mut() = Some(target.id()));
        }
    })
    .forget();
    EventListener::new(doc, "pointerdown", |_| {
        KEYED.with(|k| *k.borrow_mut() = None);
    })
    .forget();
    EventListener::new(doc, "focusout", |e| {
        if let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) {
            commit(&target);
        }
    })
    .forget();
}
