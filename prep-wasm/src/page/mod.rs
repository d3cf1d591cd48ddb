//! The customer's page: DOM glue over [`crate::Workspace`], nothing else. Every decision
//! (file kinds, the mapping proposal, review queues, the bundle) comes from `prep`; this module
//! hands files to the workspace, keeps the customer's edits as a partial mapping, re-runs the
//! preparation and draws what it returns.
//!
//! The workspace lives in a Web Worker (`worker.rs`) so the page never freezes; if a worker
//! cannot start, the same [`crate::Workspace::handle`] runs in the page instead.
//!
//! Safety rules it keeps: customer text only ever goes in through `set_text_content`,
//! attribute setters and `<option>` text (never `innerHTML`); once the WASM has loaded, a
//! second Content-Security-Policy forbids every network connection, before any file is read.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use prep::Mapping;
use prep::dates::DateOrder;
use prep::fields::{CustomFieldDef, FieldType};
use prep::kind::FileKind;
use prep::mapping::{ColumnMapping, Target};
use prep::review::Reason;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    Blob, BlobPropertyBag, DataTransfer, Document, DragEvent, Element, File,
    FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry, HtmlAnchorElement, HtmlElement,
    HtmlInputElement, HtmlProgressElement, HtmlSelectElement, HtmlTextAreaElement, Url,
};

use crate::{Analysis, Answer, Request, Workspace, folder_entry_name, targets};

mod confirm;
mod dom;
mod draw;
mod edits;
mod engine;
mod files;
mod fixes;
mod keys;
mod mapping;
mod preview;
mod scope;
mod summary;

use confirm::*;
use dom::*;
use draw::*;
use edits::*;
use engine::*;
use files::*;
use fixes::*;
use keys::*;
use mapping::*;
use scope::*;
use summary::*;

/// Files are read in slices of this size, so a large export never sits in memory twice as a
/// JS string and the progress bar moves.
const CHUNK: u64 = 8 << 20;

/// Rows of each review queue shown on the page (the CSV download has them all).
const PREVIEW_ROWS: usize = 5;

/// Encodings offered besides the detected one (WHATWG labels `prep::decode` accepts).
const ENCODINGS: [&str; 6] = [
    "UTF-8",
    "UTF-16LE",
    "UTF-16BE",
    "windows-1252",
    "ISO-8859-15",
    "macintosh",
];

const DELIMITERS: [(&str, &str); 4] = [
    (",", "comma ,"),
    (";", "semicolon ;"),
    ("\t", "tab"),
    ("|", "pipe |"),
];

const FIELD_TYPES: [FieldType; 7] = [
    FieldType::Text,
    FieldType::Paragraph,
    FieldType::Number,
    FieldType::Date,
    FieldType::Checkbox,
    FieldType::Dropdown,
    FieldType::MultiSelect,
];

/// The page's state: the files, the customer's edits, and the last analysis drawn.
struct App {
    /// Names and sizes of the files handed to the workspace.
    files: BTreeMap<String, u64>,
    /// The groups field's name (the workspace's setting, mirrored for renaming edits).
    groups_label: String,
    /// Only what the customer changed (columns, custom fields, file overrides), so the table
    /// keeps showing the proposal's confidence and reason for everything else.
    overrides: Mapping,
    analysis: Option<Analysis>,
    /// The customer's corrections (values fixed, owners assigned), sent to the workspace
    /// whole after every change.
    corrections: prep::corrections::Corrections,
    /// The last corrections the export accepted (restored when a new one is refused).
    good_corrections: prep::corrections::Corrections,
    /// Object URLs of the confirmed downloads, revoked when the confirmation lapses.
    urls: Vec<String>,
}

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

fn with_app<R>(f: impl FnOnce(&mut App) -> R) -> Option<R> {
    APP.with(|a| a.borrow_mut().as_mut().map(f))
}

/// Entry point, run by `boot.js` once the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() -> Result<(), JsValue> {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return Ok(()); // not a window (a worker): there is no page to drive
    };
    lock_network(&doc)?;
    if doc.get_element_by_id("file-input").is_none() {
        return Ok(());
    }
    let groups_label = crate::Settings::default().groups_field_label;
    APP.with(|a| {
        *a.borrow_mut() = Some(App {
            files: BTreeMap::new(),
            groups_label: groups_label.clone(),
            overrides: Mapping::default(),
            analysis: None,
            corrections: Default::default(),
            good_corrections: Default::default(),
            urls: Vec::new(),
        })
    });
    wire(&doc);
    if let Some(input) = by_id::<HtmlInputElement>("groups-field") {
        input.set_value(&groups_label);
    }
    // The browser's zone is the best first guess of the account's: the customer's own.
    let zone = browser_time_zone();
    if let Some(input) = by_id::<HtmlInputElement>("time-zone") {
        input.set_value(&zone);
    }
    spawn_local(async move {
        let mode = start_engine().await;
        if let Err(e) = call(Request::TimeZone { zone }, None).await {
            error(Some(&e));
        }
        show("loading", false);
        show("app", true);
        status(&format!(
            "Ready ({mode}). Add your AllClients export files: nothing leaves this computer."
        ));
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Wiring: a few delegated listeners on static elements, set up once.

fn listen(id: &str, event: &'static str, f: impl FnMut(&web_sys::Event) + 'static) {
    if let Some(target) = by_id::<Element>(id) {
        EventListener::new(&target, event, f).forget();
    }
}

fn wire(doc: &Document) {
    listen("file-input", "change", |e| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        {
            let files = picked(&input);
            input.set_value(""); // picking the same file again fires `change` again
            spawn_local(add_files(files));
        }
    });
    listen("folder-input", "change", |e| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        {
            let files = picked(&input);
            input.set_value("");
            spawn_local(add_files(files));
        }
    });
    if let Some(zone) = doc.get_element_by_id("drop-zone") {
        // Listening on the whole document: a file dropped beside the zone would otherwise
        // make the browser open it in place of the page, losing the customer's work.
        let opts = EventListenerOptions::enable_prevent_default();
        for event in ["dragenter", "dragover"] {
            let z = zone.clone();
            EventListener::new_with_options(doc, event, opts, move |e| {
                e.prevent_default();
                let _ = z.class_list().add_1("dragging");
            })
            .forget();
        }
        let z = zone.clone();
        EventListener::new(doc, "dragleave", move |_| {
            let _ = z.class_list().remove_1("dragging");
        })
        .forget();
        EventListener::new_with_options(doc, "drop", opts, move |e| {
            e.prevent_default();
            let _ = zone.class_list().remove_1("dragging");
            if let Some(dt) = e.dyn_ref::<DragEvent>().and_then(DragEvent::data_transfer) {
                // Entries must be taken now: the DataTransfer empties after the event.
                let entries = dropped_entries(&dt);
                // Without entries (a browser without them, a scripted drop) the plain file
                // list still works, just without folders.
                let plain: Vec<(String, File)> = match dt.files() {
                    Some(list) if entries.is_empty() => (0..list.length())
                        .filter_map(|i| list.get(i))
                        .map(|f| (f.name(), f))
                        .collect(),
                    _ => Vec::new(),
                };
                spawn_local(async move {
                    let mut files = walk_entries(entries).await;
                    files.extend(plain);
                    add_files(files).await;
                });
            }
        })
        .forget();
    }
    listen("files-table", "change", guarded(on_file_override));
    listen("files-table", "click", |e| {
        if let Some(name) = data_of(e, "data-remove") {
            with_app(|a| {
                a.files.remove(&name);
                a.overrides.files.remove(&name);
            });
            spawn_local(async move {
                if let Err(e) = call(Request::Remove { name: name.clone() }, None).await {
                    error(Some(&e));
                }
                status(&format!("Removed {name}."));
                reanalyse().await;
            });
        }
    });
    listen("mapping-table", "change", guarded(on_mapping_change));
    listen("mapping-table", "click", |e| {
        if let (Some(kind), Some(source)) = (
            data_of(e, "data-revert-kind"),
            data_of(e, "data-revert-source"),
        ) {
            revert_column(&kind, &source);
        }
    });
    listen("custom-fields", "change", guarded(on_custom_field_change));
    listen(
        "queues",
        "change",
        guarded(|control, value| {
            if control.has_attribute("data-label") {
                on_custom_field_change(control, value)
            } else {
                on_mapping_change(control, value)
            }
        }),
    );
    listen("queues", "submit", |e| {
        e.prevent_default();
        if let Some(form) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) {
            on_fix(&form);
        }
    });
    listen("corrections-download", "click", |_| save_corrections());
    listen("corrections-load", "change", |e| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            && let Some(file) = input.files().and_then(|f| f.get(0))
        {
            input.set_value("");
            spawn_local(load_corrections(file));
        }
    });
    listen("record-form", "submit", |e| {
        e.prevent_default();
        spawn_local(preview::search(None));
    });
    listen("record-matches", "click", |e| {
        if let Some(key) = data_of(e, "data-key") {
            spawn_local(preview::search(Some(key)));
        }
    });
    wire_keys(doc);
    if let Some(w) = web_sys::window() {
        EventListener::new(&w, "resize", |_| mark_scrollers()).forget();
    }
    // Leaving or reloading the page loses the files and every edit: the browser asks first.
    if let Some(w) = web_sys::window() {
        EventListener::new(&w, "beforeunload", |e| {
            if with_app(|a| !a.files.is_empty()).unwrap_or(false) {
                e.prevent_default();
                let _ = Reflect::set(e, &"returnValue".into(), &"".into());
            }
        })
        .forget();
    }
    listen("time-zone", "change", |e| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        {
            let zone = input.value().trim().to_string();
            spawn_local(async move {
                if let Err(e) = call(Request::TimeZone { zone }, None).await {
                    error(Some(&e));
                }
                reanalyse().await;
            });
        }
    });
    listen("groups-field", "change", |e| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        {
            let label = input.value().trim().to_string();
            if label.is_empty() {
                return;
            }
            rename_groups_field(&label);
            spawn_local(async move {
                if let Err(e) = call(Request::GroupsField { label }, None).await {
                    error(Some(&e));
                }
                reanalyse().await;
            });
        }
    });
    listen("save-mapping", "click", |_| {
        let json = with_app(|a| {
            a.analysis
                .as_ref()
                .and_then(|an| serde_json::to_string_pretty(&an.mapping).ok())
        })
        .flatten();
        if let Some(json) = json {
            save(
                json.as_bytes(),
                "application/json",
                "allclients.mapping.json",
            );
            status("Mapping saved as allclients.mapping.json.");
        }
    });
    listen("load-mapping", "change", |e| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            && let Some(file) = input.files().and_then(|f| f.get(0))
        {
            input.set_value("");
            spawn_local(load_mapping(file));
        }
    });
    listen("step-review", "click", |e| {
        if let Some(reason) = data_of(e, "data-reason") {
            spawn_local(download_queue(reason));
        } else if !on_leave(e) {
            on_undo(e);
        }
    });
    listen("confirm-button", "click", |_| spawn_local(confirm()));
    // Any change to name or checkbox after confirming makes the customer confirm again.
    listen("confirm-name", "input", |_| unconfirm());
    listen("confirm-check", "change", |e| {
        let checked = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            .is_some_and(|i| i.checked());
        if !checked {
            unconfirm();
        }
    });
}

/// The value of attribute `name` on the event's target (a button or control we drew).
fn data_of(e: &web_sys::Event, name: &str) -> Option<String> {
    let target = e.target()?.dyn_into::<Element>().ok()?;
    let el = target.closest(&format!("[{name}]")).ok().flatten()?;
    el.get_attribute(name)
}

/// The browser's IANA time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`).
fn browser_time_zone() -> String {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}
