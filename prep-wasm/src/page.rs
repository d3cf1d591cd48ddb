//! The customer's page: DOM glue over [`crate::Workspace`], nothing else. Every decision
//! (file kinds, the mapping proposal, review queues, the bundle) comes from `prep`; this file
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

/// Files are read in slices of this size, so a large export never sits in memory twice as a
/// JS string and the progress bar moves.
const CHUNK: u64 = 8 << 20;

/// Rows of each review queue shown on the page (the CSV download has them all).
const PREVIEW_ROWS: usize = 5;

/// File kinds the customer can force (`FileOverride::kind`).
const KINDS: [FileKind; 8] = [
    FileKind::Contacts,
    FileKind::Notes,
    FileKind::Tasks,
    FileKind::Appointments,
    FileKind::Users,
    FileKind::Lists,
    FileKind::Templates,
    FileKind::Unknown,
];

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
            urls: Vec::new(),
        })
    });
    wire(&doc);
    if let Some(input) = by_id::<HtmlInputElement>("groups-field") {
        input.set_value(&groups_label);
    }
    spawn_local(async {
        let mode = start_engine().await;
        show("loading", false);
        show("app", true);
        status(&format!(
            "Ready ({mode}). Add your AllClients export files: nothing leaves this computer."
        ));
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The engine: the workspace in a Web Worker, or in the page when no worker can start.

enum Engine {
    Worker {
        worker: web_sys::Worker,
        next: u32,
        /// `resolve` of each request's promise, by request id.
        pending: HashMap<u32, Function>,
    },
    Page(Box<Workspace>),
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// Starts the worker and waits for its `ready`; falls back to the page on any failure.
async fn start_engine() -> &'static str {
    match spawn_worker().await {
        Ok(worker) => {
            ENGINE.with(|e| {
                *e.borrow_mut() = Some(Engine::Worker {
                    worker,
                    next: 0,
                    pending: HashMap::new(),
                })
            });
            "preparing in a background worker"
        }
        Err(why) => {
            web_sys::console::warn_1(&format!("no worker ({why:?}); preparing in the page").into());
            let ws = Workspace::new(None).unwrap_or_default();
            ENGINE.with(|e| *e.borrow_mut() = Some(Engine::Page(Box::new(ws))));
            "preparing in this page"
        }
    }
}

async fn spawn_worker() -> Result<web_sys::Worker, JsValue> {
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options("./worker.js", &opts)?;
    // The first message is `ready`, or an error event if the module cannot load.
    let ready = Promise::new(&mut |resolve, reject| {
        worker.set_onmessage(Some(&resolve));
        worker.set_onerror(Some(&reject));
    });
    let timeout = Promise::new(&mut |_, reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, 20_000);
        }
    });
    if let Err(e) = JsFuture::from(Promise::race(&Array::of2(&ready, &timeout))).await {
        worker.terminate();
        return Err(e);
    }
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
            on_worker_message(e.data())
        });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Both handlers live as long as the page.
    on_message.forget();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| {
        let message = Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "the background worker failed".into());
        // A wasm trap here is almost always memory running out on a very large export.
        let lower = message.to_lowercase();
        let message = if lower.contains("unreachable") || lower.contains("memory") {
            format!(
                "The preparer ran out of memory in this tab ({message}). Reload the page, and \
                 for an export this large run `loader prepare` on this computer instead: same \
                 preparation, same bundle, nothing sent anywhere."
            )
        } else {
            message
        };
        fail_pending(&message);
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    Ok(worker)
}

fn on_worker_message(data: JsValue) {
    let get = |k: &str| Reflect::get(&data, &k.into()).ok();
    if get("progress").is_some_and(|p| p.is_truthy()) {
        let done = get("done").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let name = get("name").and_then(|v| v.as_string()).unwrap_or_default();
        reading(&name, done);
        return;
    }
    let Some(id) = get("id").and_then(|v| v.as_f64()) else {
        return;
    };
    let resolve = ENGINE.with(|e| match &mut *e.borrow_mut() {
        Some(Engine::Worker { pending, .. }) => pending.remove(&(id as u32)),
        _ => None,
    });
    if let Some(resolve) = resolve {
        let _ = resolve.call1(&JsValue::NULL, &data);
    }
}

/// A crashed worker answers nothing more: every waiting request fails with its message.
fn fail_pending(message: &str) {
    let pending = ENGINE.with(|e| match &mut *e.borrow_mut() {
        Some(Engine::Worker { pending, .. }) => std::mem::take(pending),
        _ => HashMap::new(),
    });
    for resolve in pending.into_values() {
        let reply = js_sys::Object::new();
        let _ = Reflect::set(&reply, &"ok".into(), &JsValue::FALSE);
        let _ = Reflect::set(&reply, &"error".into(), &JsValue::from_str(message));
        let _ = resolve.call1(&JsValue::NULL, &reply);
    }
}

/// Sends a request to the workspace and waits for its answer; errors are the core's
/// messages (they name the file, row and column).
async fn call(request: Request, file: Option<File>) -> Result<Answer, String> {
    call_for_file(request, file).await.map(|(a, _)| a)
}

/// [`call`], with the `Blob` the worker answers a confirmation with (the bundle, kept out
/// of both WASM memories); the in-page fallback answers with bytes instead.
async fn call_for_file(
    request: Request,
    file: Option<File>,
) -> Result<(Answer, Option<Blob>), String> {
    let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
    let promise = ENGINE.with(|e| -> Result<Option<Promise>, String> {
        let mut engine = e.borrow_mut();
        match engine.as_mut() {
            Some(Engine::Worker {
                worker,
                next,
                pending,
            }) => {
                *next += 1;
                let id = *next;
                let msg = js_sys::Object::new();
                let _ = Reflect::set(&msg, &"id".into(), &JsValue::from(id));
                let _ = Reflect::set(&msg, &"request".into(), &JsValue::from_str(&json));
                if let Some(f) = &file {
                    // A File is cloned by reference: the worker reads it, not this page.
                    let _ = Reflect::set(&msg, &"file".into(), f);
                }
                let mut resolver = None;
                let promise = Promise::new(&mut |resolve, _| resolver = Some(resolve));
                if let Some(r) = resolver {
                    pending.insert(id, r);
                }
                worker.post_message(&msg).map_err(|e| format!("{e:?}"))?;
                Ok(Some(promise))
            }
            Some(Engine::Page(_)) => Ok(None),
            None => Err("the preparer is still loading".into()),
        }
    })?;
    match promise {
        Some(p) => {
            let reply = JsFuture::from(p).await.map_err(|e| format!("{e:?}"))?;
            let get = |k: &str| Reflect::get(&reply, &k.into()).ok();
            if get("ok").is_some_and(|v| v.is_truthy()) {
                let answer = Answer {
                    text: get("text").and_then(|v| v.as_string()),
                    bytes: get("bytes")
                        .filter(|v| v.is_instance_of::<Uint8Array>())
                        .map(|v| Uint8Array::new(&v).to_vec()),
                };
                let blob = get("blob").and_then(|v| v.dyn_into::<Blob>().ok());
                Ok((answer, blob))
            } else {
                Err(get("error")
                    .and_then(|v| v.as_string())
                    .unwrap_or_else(|| "the preparation failed".into()))
            }
        }
        None => {
            // In the page: read the file here (in slices, async), then run the same dispatch.
            let bytes = match (&request, file) {
                (Request::Add { name }, Some(f)) => Some(read_in_page(name, f).await?),
                _ => None,
            };
            ENGINE.with(|e| match &mut *e.borrow_mut() {
                Some(Engine::Page(ws)) => ws
                    .handle(request, bytes)
                    .map(|a| (a, None))
                    .map_err(|e| e.to_string()),
                _ => Err("the preparer is not available".into()),
            })
        }
    }
}

/// From here on no `fetch`, XHR, WebSocket or beacon can leave the page: both policies apply,
/// and this one allows no connection at all. The WASM is already loaded, and no customer
/// file has been read yet.
fn lock_network(doc: &Document) -> Result<(), JsValue> {
    let meta = doc.create_element("meta")?;
    meta.set_attribute("http-equiv", "Content-Security-Policy")?;
    meta.set_attribute("content", "connect-src 'none'")?;
    if let Some(head) = doc.head() {
        head.append_child(&meta)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// DOM helpers

fn doc() -> Document {
    // `start` returned early when there is no document, so nothing else runs without one.
    web_sys::window()
        .and_then(|w| w.document())
        .expect("the page has a document")
}

fn by_id<T: JsCast>(id: &str) -> Option<T> {
    doc().get_element_by_id(id)?.dyn_into::<T>().ok()
}

fn el(tag: &str) -> Element {
    doc().create_element(tag).expect("a valid tag name")
}

/// An element holding `text` as text (never parsed as HTML).
fn text_el(tag: &str, text: &str) -> Element {
    let e = el(tag);
    e.set_text_content(Some(text));
    e
}

fn append(parent: &Element, child: &Element) {
    let _ = parent.append_child(child);
}

fn set_attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

fn clear(e: &Element) {
    e.set_text_content(None);
}

fn show(id: &str, visible: bool) {
    if let Some(e) = by_id::<HtmlElement>(id) {
        e.set_hidden(!visible);
    }
}

fn status(msg: &str) {
    if let Some(e) = by_id::<Element>("status") {
        e.set_text_content(Some(msg));
    }
}

fn error(msg: Option<&str>) {
    if let Some(e) = by_id::<HtmlElement>("error") {
        e.set_text_content(msg);
        e.set_hidden(msg.is_none());
    }
}

fn progress(done: f64, total: f64) {
    if let Some(p) = by_id::<HtmlProgressElement>("progress") {
        p.set_max(total.max(1.0));
        p.set_value(done);
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// A `<select>` with `options` as (value, text); `selected` is chosen.
fn select(id: &str, label: &str, options: &[(String, String)], selected: &str) -> Element {
    let s = el("select");
    set_attr(&s, "id", id);
    set_attr(&s, "aria-label", label);
    for (value, text) in options {
        let o = text_el("option", text);
        set_attr(&o, "value", value);
        if value == selected {
            set_attr(&o, "selected", "");
        }
        append(&s, &o);
    }
    s
}

fn row(cells: &[Element]) -> Element {
    let tr = el("tr");
    for c in cells {
        append(&tr, c);
    }
    tr
}

fn td(text: &str) -> Element {
    text_el("td", text)
}

fn td_with(child: &Element) -> Element {
    let cell = el("td");
    append(&cell, child);
    cell
}

fn header_row(names: &[&str]) -> Element {
    let tr = el("tr");
    for n in names {
        let th = text_el("th", n);
        set_attr(&th, "scope", "col");
        append(&tr, &th);
    }
    let thead = el("thead");
    append(&thead, &tr);
    thead
}

/// Lets the browser paint (status, progress) before a long synchronous step.
async fn yield_to_browser() {
    TimeoutFuture::new(0).await;
}

/// Saves bytes as a file through a temporary link (a `blob:` URL, so nothing is fetched).
fn save(bytes: &[u8], mime: &str, name: &str) {
    match object_url(bytes, mime) {
        Ok(url) => {
            let a: HtmlAnchorElement = el("a").unchecked_into();
            a.set_href(&url);
            a.set_download(name);
            a.set_hidden(true);
            if let Some(body) = doc().body() {
                let _ = body.append_child(&a);
                a.click();
                a.remove();
            }
            // The download has started by then; the URL only holds memory.
            gloo_timers::callback::Timeout::new(60_000, move || {
                let _ = Url::revoke_object_url(&url);
            })
            .forget();
        }
        Err(e) => error(Some(&format!("Could not save {name}: {e:?}"))),
    }
}

fn object_url(bytes: &[u8], mime: &str) -> Result<String, JsValue> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let opts = BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &opts)?;
    Url::create_object_url_with_blob(&blob)
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
    listen("files-table", "change", on_file_override);
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
    listen("mapping-table", "change", on_mapping_change);
    listen("custom-fields", "change", on_custom_field_change);
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

// ---------------------------------------------------------------------------------------
// Reading files

/// Files from a picker, named like the CLI names them: a picked file by its name, a file of
/// a picked folder by its path inside the folder (and filtered like `loader prepare`).
fn picked(input: &HtmlInputElement) -> Vec<(String, File)> {
    let mut out = Vec::new();
    let Some(list) = input.files() else {
        return out;
    };
    for i in 0..list.length() {
        let Some(file) = list.get(i) else { continue };
        let relative = Reflect::get(&file, &"webkitRelativePath".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let name = if relative.is_empty() {
            Some(file.name())
        } else {
            folder_entry_name(&relative)
        };
        if let Some(name) = name {
            out.push((name, file));
        }
    }
    out
}

fn dropped_entries(dt: &DataTransfer) -> Vec<FileSystemEntry> {
    let items = dt.items();
    (0..items.length())
        .filter_map(|i| items.get(i))
        .filter(|item| item.kind() == "file")
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect()
}

/// Dropped files and folders, walked. A top-level file keeps its name; files inside a dropped
/// folder are named and filtered like `loader prepare --input FOLDER` does.
async fn walk_entries(entries: Vec<FileSystemEntry>) -> Vec<(String, File)> {
    let mut out = Vec::new();
    let mut stack = entries;
    while let Some(entry) = stack.pop() {
        if entry.is_directory() {
            let reader = entry
                .unchecked_ref::<FileSystemDirectoryEntry>()
                .create_reader();
            // `readEntries` returns a batch at a time until it returns none.
            loop {
                let batch = Promise::new(&mut |resolve, reject| {
                    let _ = reader.read_entries_with_callback_and_callback(&resolve, &reject);
                });
                let Ok(batch) = JsFuture::from(batch).await else {
                    break;
                };
                let batch = Array::from(&batch);
                if batch.length() == 0 {
                    break;
                }
                stack.extend(batch.iter().map(|e| e.unchecked_into::<FileSystemEntry>()));
            }
        } else if entry.is_file() {
            let path = entry.full_path();
            let path = path.trim_start_matches('/');
            let name = if path.contains('/') {
                folder_entry_name(path)
            } else {
                Some(path.to_string())
            };
            let Some(name) = name else { continue };
            let file_entry: &FileSystemFileEntry = entry.unchecked_ref();
            let file = Promise::new(&mut |resolve: Function, reject: Function| {
                file_entry.file_with_callback_and_callback(&resolve, &reject);
            });
            match JsFuture::from(file).await {
                Ok(f) => out.push((name, f.unchecked_into::<File>())),
                Err(_) => error(Some(&format!("Could not read {name}."))),
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Progress of the files being read: bytes of the files already read, bytes of all of them,
/// and when reading began.
struct Reading {
    before: f64,
    total: f64,
    started: f64,
}

thread_local! {
    static READING: RefCell<Reading> = const {
        RefCell::new(Reading { before: 0.0, total: 0.0, started: 0.0 })
    };
}

/// `done` bytes of file `name` are read: moves the bar and says how fast.
fn reading(name: &str, done: f64) {
    let (all, total, started) = READING.with(|r| {
        let r = r.borrow();
        (r.before + done, r.total, r.started)
    });
    progress(all, total);
    let secs = ((now_ms() - started) / 1000.0).max(0.001);
    status(&format!(
        "Reading {name}: {:.1} of {:.1} MB ({:.1} MB/s)",
        all / 1e6,
        total / 1e6,
        all / 1e6 / secs
    ));
}

/// Reads a file in the page (the fallback without a worker), slice by slice.
async fn read_in_page(name: &str, file: File) -> Result<Vec<u8>, String> {
    let blob = gloo_file::Blob::from(web_sys::Blob::from(file));
    let size = blob.size();
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut offset = 0;
    while offset < size {
        let end = (offset + CHUNK).min(size);
        let chunk = gloo_file::futures::read_as_bytes(&blob.slice(offset, end))
            .await
            .map_err(|e| format!("Could not read {name}: {e}"))?;
        bytes.extend_from_slice(&chunk);
        offset = end;
        reading(name, offset as f64);
    }
    Ok(bytes)
}

async fn add_files(files: Vec<(String, File)>) {
    if files.is_empty() {
        status("No export files there (.csv, .tsv, .txt, .html).");
        return;
    }
    error(None);
    unconfirm();
    let total: f64 = files.iter().map(|(_, f)| f.size()).sum();
    READING.with(|r| {
        *r.borrow_mut() = Reading {
            before: 0.0,
            total,
            started: now_ms(),
        }
    });
    show("progress-area", true);
    for (name, file) in files {
        let size = file.size();
        if let Err(e) = call(Request::Add { name: name.clone() }, Some(file)).await {
            error(Some(&e));
            return;
        }
        with_app(|a| a.files.insert(name, size as u64));
        READING.with(|r| r.borrow_mut().before += size);
    }
    reanalyse().await;
}

async fn load_mapping(file: File) {
    let blob = gloo_file::Blob::from(web_sys::Blob::from(file));
    match gloo_file::futures::read_as_text(&blob).await {
        Ok(text) => match Mapping::from_json(&text) {
            Ok(m) => {
                with_app(|a| a.overrides = m);
                status("Saved mapping loaded.");
                reanalyse().await;
            }
            Err(e) => error(Some(&format!("That mapping file cannot be used: {e}"))),
        },
        Err(e) => error(Some(&format!("Could not read the mapping file: {e}"))),
    }
}

// ---------------------------------------------------------------------------------------
// Preparing and drawing

/// Re-runs the preparation with the customer's edits and redraws everything.
async fn reanalyse() {
    unconfirm();
    status("Preparing…");
    yield_to_browser().await;
    if let Some(p) = by_id::<Element>("progress") {
        // No value: an indeterminate bar, animated while the worker prepares.
        let _ = p.remove_attribute("value");
    }
    let started = now_ms();
    let Some((mapping, bytes, any)) = with_app(|a| {
        (
            serde_json::to_string(&a.overrides).unwrap_or_default(),
            a.files.values().sum::<u64>(),
            !a.files.is_empty(),
        )
    }) else {
        return;
    };
    let result = if any {
        let answer = call(Request::Analyse { mapping }, None).await;
        Some(answer.and_then(|a| {
            serde_json::from_str::<Analysis>(&a.text.unwrap_or_default()).map_err(|e| e.to_string())
        }))
    } else {
        None
    };
    progress(1.0, 1.0);
    let secs = ((now_ms() - started) / 1000.0).max(0.001);
    match result {
        None => {
            with_app(|a| a.analysis = None);
            status("No files. Add your AllClients export files.");
            error(None);
        }
        Some(Ok(analysis)) => {
            let rows: u64 = analysis.summary.inputs.iter().map(|i| i.rows).sum();
            status(&format!(
                "Prepared {rows} rows from {} files in {secs:.2} s ({:.0} rows/s, {:.1} MB/s).",
                analysis.summary.inputs.len(),
                rows as f64 / secs,
                bytes as f64 / 1e6 / secs
            ));
            error(None);
            with_app(|a| a.analysis = Some(analysis));
        }
        Some(Err(e)) => {
            // The core's message names the file, row and column.
            error(Some(&e));
            status("The files could not be prepared yet: see the message above.");
            with_app(|a| a.analysis = None);
        }
    }
    draw();
}

fn draw() {
    with_app(|a| {
        draw_files(a);
        let has = a.analysis.is_some();
        for id in ["step-mapping", "step-review", "step-scope", "step-confirm"] {
            show(id, has);
        }
        if let Some(an) = &a.analysis {
            draw_mapping(an);
            draw_custom_fields(an);
            draw_queues(an);
            draw_scope(an);
        }
    });
}

fn draw_files(a: &App) {
    let Some(table) = by_id::<Element>("files-table") else {
        return;
    };
    clear(&table);
    let names: Vec<String> = a.files.keys().cloned().collect();
    show("files-table", !names.is_empty());
    if names.is_empty() {
        return;
    }
    append(&table, &text_el("caption", "Your files"));
    append(
        &table,
        &header_row(&["File", "Kind", "Encoding", "Delimiter", "Rows", ""]),
    );
    let body = el("tbody");
    for (i, name) in names.iter().enumerate() {
        let input = a
            .analysis
            .as_ref()
            .and_then(|an| an.summary.inputs.iter().find(|r| &r.file == name));
        let over = a.overrides.files.get(name).cloned().unwrap_or_default();
        let th = text_el("th", name);
        set_attr(&th, "scope", "row");
        let cells: Vec<Element> = match input {
            Some(input) => {
                let kinds: Vec<(String, String)> = KINDS
                    .iter()
                    .map(|k| (k.as_str().to_string(), k.as_str().to_string()))
                    .collect();
                let kind = select(
                    &format!("file-kind-{i}"),
                    &format!("Kind of {name}"),
                    &kinds,
                    &input.kind,
                );
                set_attr(&kind, "data-file", name);
                set_attr(&kind, "data-field", "kind");
                let mut encodings: Vec<(String, String)> = Vec::new();
                if !ENCODINGS
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&input.encoding))
                {
                    encodings.push((input.encoding.clone(), input.encoding.clone()));
                }
                encodings.extend(ENCODINGS.iter().map(|e| (e.to_string(), e.to_string())));
                let current = ENCODINGS
                    .iter()
                    .find(|e| e.eq_ignore_ascii_case(&input.encoding))
                    .map_or(input.encoding.clone(), |e| e.to_string());
                let encoding = select(
                    &format!("file-encoding-{i}"),
                    &format!("Encoding of {name}"),
                    &encodings,
                    over.encoding.as_deref().unwrap_or(&current),
                );
                set_attr(&encoding, "data-file", name);
                set_attr(&encoding, "data-field", "encoding");
                let delimiter = if input.delimiter.is_empty() {
                    td("—")
                } else {
                    let options: Vec<(String, String)> = DELIMITERS
                        .iter()
                        .map(|(v, t)| (v.to_string(), t.to_string()))
                        .collect();
                    let s = select(
                        &format!("file-delimiter-{i}"),
                        &format!("Delimiter of {name}"),
                        &options,
                        &input.delimiter,
                    );
                    set_attr(&s, "data-file", name);
                    set_attr(&s, "data-field", "delimiter");
                    td_with(&s)
                };
                vec![
                    th,
                    td_with(&kind),
                    td_with(&encoding),
                    delimiter,
                    td(&input.rows.to_string()),
                ]
            }
            None => vec![th, td("—"), td("—"), td("—"), td("—")],
        };
        let tr = row(&cells);
        let remove = text_el("button", "Remove");
        set_attr(&remove, "type", "button");
        set_attr(&remove, "data-remove", name);
        set_attr(&remove, "aria-label", &format!("Remove {name}"));
        append(&tr, &td_with(&remove));
        append(&body, &tr);
    }
    append(&table, &body);
}

fn target_label(t: &str) -> String {
    if let Some(label) = t.strip_prefix("custom:") {
        format!("custom field “{label}”")
    } else if let Some(tag) = t.strip_prefix("tag_if_true:") {
        format!("tag “{tag}” when set")
    } else {
        t.replace('_', " ")
    }
}

fn date_orders() -> Vec<(String, String)> {
    vec![
        (String::new(), "as detected".into()),
        ("mdy".into(), "month/day (US)".into()),
        ("dmy".into(), "day/month".into()),
    ]
}

fn order_word(o: Option<DateOrder>) -> &'static str {
    match o {
        Some(DateOrder::Mdy) => "mdy",
        Some(DateOrder::Dmy) => "dmy",
        None => "",
    }
}

fn draw_mapping(an: &Analysis) {
    let Some(table) = by_id::<Element>("mapping-table") else {
        return;
    };
    clear(&table);
    append(
        &table,
        &text_el(
            "caption",
            "Where each column of your export goes in Freshsales",
        ),
    );
    append(
        &table,
        &header_row(&[
            "File kind",
            "Your column",
            "Freshsales field",
            "Date order",
            "Confidence",
            "Why",
        ]),
    );
    let body = el("tbody");
    let custom_labels: Vec<&str> = an
        .mapping
        .custom_fields
        .iter()
        .map(|d| d.label.as_str())
        .collect();
    let mut n = 0;
    for (kind, columns) in &an.mapping.columns {
        for col in columns {
            n += 1;
            let current = col.target.to_string();
            let mut values: Vec<String> = Vec::new();
            if !targets(*kind).contains(&current) {
                values.push(current.clone());
            }
            values.extend(targets(*kind));
            if *kind == FileKind::Contacts {
                for l in &custom_labels {
                    values.push(format!("custom:{l}"));
                }
                values.push(format!("custom:{}", col.source));
            }
            let mut seen = std::collections::BTreeSet::new();
            values.retain(|v| seen.insert(v.clone()));
            let options: Vec<(String, String)> = values
                .iter()
                .map(|v| (v.clone(), target_label(v)))
                .collect();
            let label = format!(
                "Freshsales field for the {} column {}",
                kind.as_str(),
                col.source
            );
            let s = select(&format!("map-{n}"), &label, &options, &current);
            set_attr(&s, "data-kind", kind.as_str());
            set_attr(&s, "data-source", &col.source);
            set_attr(&s, "data-field", "target");
            let order = match &col.target {
                Target::Field(f) if f.is_date() => {
                    let o = select(
                        &format!("map-order-{n}"),
                        &format!("Date order of the {} column {}", kind.as_str(), col.source),
                        &date_orders(),
                        order_word(col.date_order),
                    );
                    set_attr(&o, "data-kind", kind.as_str());
                    set_attr(&o, "data-source", &col.source);
                    set_attr(&o, "data-field", "date_order");
                    td_with(&o)
                }
                _ => td(""),
            };
            let kind_cell = td(kind.as_str());
            let source = text_el("th", &col.source);
            set_attr(&source, "scope", "row");
            let tr = row(&[
                kind_cell,
                source,
                td_with(&s),
                order,
                td(&format!("{:.0} %", col.confidence * 100.0)),
                td(&col.reason),
            ]);
            if col.confidence < 0.6 {
                set_attr(&tr, "class", "unsure");
            }
            append(&body, &tr);
        }
    }
    append(&table, &body);
}

fn draw_custom_fields(an: &Analysis) {
    let Some(table) = by_id::<Element>("custom-fields") else {
        return;
    };
    clear(&table);
    show("custom-fields", !an.mapping.custom_fields.is_empty());
    append(
        &table,
        &text_el("caption", "Custom fields to create in Freshsales"),
    );
    append(
        &table,
        &header_row(&["Label", "Type", "Choices (one per line)", "Date order"]),
    );
    let body = el("tbody");
    for (i, def) in an.mapping.custom_fields.iter().enumerate() {
        let types: Vec<(String, String)> = FIELD_TYPES
            .iter()
            .map(|t| (t.as_str().to_string(), t.as_str().replace('_', " ")))
            .collect();
        let ty = select(
            &format!("cf-type-{i}"),
            &format!("Type of the custom field {}", def.label),
            &types,
            def.field_type.as_str(),
        );
        set_attr(&ty, "data-label", &def.label);
        set_attr(&ty, "data-field", "type");
        let choices = match def.field_type {
            FieldType::Dropdown | FieldType::MultiSelect => {
                let t: HtmlTextAreaElement = el("textarea").unchecked_into();
                t.set_id(&format!("cf-choices-{i}"));
                t.set_value(&def.choices.join("\n"));
                t.set_rows(def.choices.len().clamp(2, 8) as u32);
                let t: Element = t.into();
                set_attr(
                    &t,
                    "aria-label",
                    &format!("Choices of the custom field {}, one per line", def.label),
                );
                set_attr(&t, "data-label", &def.label);
                set_attr(&t, "data-field", "choices");
                td_with(&t)
            }
            _ => td(""),
        };
        let order = if def.field_type == FieldType::Date {
            let o = select(
                &format!("cf-order-{i}"),
                &format!("Date order of the custom field {}", def.label),
                &date_orders(),
                order_word(def.date_order),
            );
            set_attr(&o, "data-label", &def.label);
            set_attr(&o, "data-field", "date_order");
            td_with(&o)
        } else {
            td("")
        };
        let label = text_el("th", &def.label);
        set_attr(&label, "scope", "row");
        append(&body, &row(&[label, td_with(&ty), choices, order]));
    }
    append(&table, &body);
}

fn draw_queues(an: &Analysis) {
    let Some(root) = by_id::<Element>("queues") else {
        return;
    };
    clear(&root);
    let mut any = false;
    for reason in Reason::ALL {
        let count = an.summary.review.get(reason.as_str()).copied().unwrap_or(0);
        if count == 0 {
            continue;
        }
        any = true;
        let section = el("section");
        set_attr(&section, "class", "queue");
        set_attr(&section, "data-queue", reason.as_str());
        append(
            &section,
            &text_el(
                "h3",
                &format!("{} ({count})", reason.as_str().replace('_', " ")),
            ),
        );
        append(&section, &text_el("p", reason.explain()));
        let items: Vec<_> = an
            .review
            .iter()
            .filter(|i| i.reason == reason)
            .take(PREVIEW_ROWS)
            .collect();
        let table = el("table");
        append(
            &table,
            &text_el("caption", &format!("First {} of {count}", items.len())),
        );
        append(
            &table,
            &header_row(&[
                "File",
                "Row",
                "Column",
                "Value",
                "What happened",
                "Row content",
            ]),
        );
        let body = el("tbody");
        for item in items {
            append(
                &body,
                &row(&[
                    td(&item.file),
                    td(&item.row.map(|r| r.to_string()).unwrap_or_default()),
                    td(item.column.as_deref().unwrap_or("")),
                    td(item.value.as_deref().unwrap_or("")),
                    td(&item.message),
                    td(&record_text(&item.record)),
                ]),
            );
        }
        append(&table, &body);
        let wrap = el("div");
        set_attr(&wrap, "class", "scroll");
        append(&wrap, &table);
        append(&section, &wrap);
        let button = text_el("button", &format!("Download all {count} as CSV"));
        set_attr(&button, "type", "button");
        set_attr(&button, "data-reason", reason.as_str());
        append(&section, &button);
        append(&root, &section);
    }
    if !any {
        append(&root, &text_el("p", "Nothing to review."));
    }
}

/// A held or merged row as `Header: cell` pairs (empty cells left out), shown as text.
fn record_text(record: &[(String, String)]) -> String {
    record
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(h, v)| format!("{h}: {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn draw_scope(an: &Analysis) {
    let Some(root) = by_id::<Element>("scope") else {
        return;
    };
    clear(&root);
    let s = &an.summary;
    let table = el("table");
    append(&table, &text_el("caption", "Records per object"));
    append(
        &table,
        &header_row(&["Object", "Rows in", "Loaded", "Merged", "Held for review"]),
    );
    let body = el("tbody");
    let o = &s.objects;
    for (name, c) in [
        ("contacts", &o.contacts),
        ("notes", &o.notes),
        ("tasks", &o.tasks),
        ("appointments", &o.appointments),
        ("templates", &o.templates),
    ] {
        let th = text_el("th", name);
        set_attr(&th, "scope", "row");
        append(
            &body,
            &row(&[
                th,
                td(&c.rows_in.to_string()),
                td(&c.loaded.to_string()),
                td(&c.merged.to_string()),
                td(&c.held.to_string()),
            ]),
        );
    }
    let th = text_el("th", "accounts (companies)");
    set_attr(&th, "scope", "row");
    append(
        &body,
        &row(&[
            th,
            td(""),
            td(&o.accounts.loaded.to_string()),
            td(""),
            td(""),
        ]),
    );
    append(&table, &body);
    append(&root, &table);

    append(&root, &text_el("h3", &format!("Tags ({})", s.tags.len())));
    append(
        &root,
        &text_el(
            "p",
            &if s.tags.is_empty() {
                "None.".to_string()
            } else {
                s.tags.join(", ")
            },
        ),
    );

    append(
        &root,
        &text_el("h3", &format!("Owners ({})", s.owners.len())),
    );
    let table = el("table");
    append(
        &table,
        &header_row(&["As exported", "Email", "Name", "Status", "Records"]),
    );
    let body = el("tbody");
    for owner in &s.owners {
        let status = serde_json::to_value(owner.status)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_default();
        append(
            &body,
            &row(&[
                td(&owner.source),
                td(owner.email.as_deref().unwrap_or("")),
                td(owner.name.as_deref().unwrap_or("")),
                td(&status),
                td(&owner.references.to_string()),
            ]),
        );
    }
    append(&table, &body);
    append(&root, &table);

    append(
        &root,
        &text_el("h3", &format!("Custom fields ({})", s.custom_fields.len())),
    );
    let list = el("ul");
    for d in &s.custom_fields {
        let choices = if d.choices.is_empty() {
            String::new()
        } else {
            format!(": {}", d.choices.join(", "))
        };
        append(
            &list,
            &text_el(
                "li",
                &format!(
                    "{} ({}){choices}",
                    d.label,
                    d.field_type.as_str().replace('_', " ")
                ),
            ),
        );
    }
    append(&root, &list);

    if !s.warnings.is_empty() {
        append(&root, &text_el("h3", "Notices"));
        let list = el("ul");
        for w in &s.warnings {
            append(&list, &text_el("li", w));
        }
        append(&root, &list);
    }
}

// ---------------------------------------------------------------------------------------
// Edits: each one changes `overrides` and re-runs the preparation.

fn control_value(e: &web_sys::Event) -> Option<(Element, String)> {
    let target = e.target()?;
    let value = if let Some(s) = target.dyn_ref::<HtmlSelectElement>() {
        s.value()
    } else if let Some(t) = target.dyn_ref::<HtmlTextAreaElement>() {
        t.value()
    } else {
        return None;
    };
    Some((target.dyn_into::<Element>().ok()?, value))
}

fn on_file_override(e: &web_sys::Event) {
    let Some((control, value)) = control_value(e) else {
        return;
    };
    let (Some(file), Some(field)) = (
        control.get_attribute("data-file"),
        control.get_attribute("data-field"),
    ) else {
        return;
    };
    with_app(|a| {
        let over = a.overrides.files.entry(file).or_default();
        match field.as_str() {
            "kind" => {
                over.kind = serde_json::from_value(serde_json::Value::String(value)).ok();
            }
            "encoding" => over.encoding = Some(value),
            "delimiter" => over.delimiter = Some(value),
            _ => {}
        }
    });
    spawn_local(reanalyse());
}

fn on_mapping_change(e: &web_sys::Event) {
    let Some((control, value)) = control_value(e) else {
        return;
    };
    let (Some(kind), Some(source), Some(field)) = (
        control.get_attribute("data-kind"),
        control.get_attribute("data-source"),
        control.get_attribute("data-field"),
    ) else {
        return;
    };
    let Ok(kind) = serde_json::from_value::<FileKind>(serde_json::Value::String(kind)) else {
        return;
    };
    with_app(|a| {
        let Some(current) = a
            .analysis
            .as_ref()
            .and_then(|an| an.mapping.column(kind, &source).cloned())
        else {
            return;
        };
        let cols = a.overrides.columns.entry(kind).or_default();
        let pos = match cols.iter().position(|c| c.source == source) {
            Some(p) => p,
            None => {
                cols.push(ColumnMapping {
                    source: source.clone(),
                    target: current.target.clone(),
                    confidence: 1.0,
                    reason: String::new(),
                    date_order: None,
                });
                cols.len() - 1
            }
        };
        match field.as_str() {
            "target" => match value.parse::<Target>() {
                Ok(t) => cols[pos].target = t,
                Err(e) => error(Some(&format!("{source}: {e}"))),
            },
            "date_order" => cols[pos].date_order = parse_order(&value),
            _ => {}
        }
    });
    status(&format!("Changed the mapping of {source}."));
    spawn_local(reanalyse());
}

fn parse_order(value: &str) -> Option<DateOrder> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}

fn on_custom_field_change(e: &web_sys::Event) {
    let Some((control, value)) = control_value(e) else {
        return;
    };
    let (Some(label), Some(field)) = (
        control.get_attribute("data-label"),
        control.get_attribute("data-field"),
    ) else {
        return;
    };
    with_app(|a| {
        let Some(current) = a
            .analysis
            .as_ref()
            .and_then(|an| an.mapping.custom_field(&label).cloned())
        else {
            return;
        };
        let defs = &mut a.overrides.custom_fields;
        if !defs.iter().any(|d| d.label == label) {
            defs.push(current);
        }
        let Some(def): Option<&mut CustomFieldDef> = defs.iter_mut().find(|d| d.label == label)
        else {
            return;
        };
        match field.as_str() {
            "type" => {
                if let Ok(t) = serde_json::from_value(serde_json::Value::String(value)) {
                    def.field_type = t;
                }
            }
            "choices" => {
                def.choices = value
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            "date_order" => def.date_order = parse_order(&value),
            _ => {}
        }
    });
    spawn_local(reanalyse());
}

/// The groups field's name is a setting of the preparation (`--groups-field`); edits that
/// already name the old field follow it.
fn rename_groups_field(new: &str) {
    if new.is_empty() {
        return;
    }
    with_app(|a| {
        let old = std::mem::replace(&mut a.groups_label, new.to_string());
        for cols in a.overrides.columns.values_mut() {
            for c in cols {
                if c.target == Target::Custom(old.clone()) {
                    c.target = Target::Custom(new.to_string());
                }
            }
        }
        for d in &mut a.overrides.custom_fields {
            if d.label == old {
                d.label = new.to_string();
            }
        }
    });
}

async fn download_queue(reason: String) {
    let mapping =
        with_app(|a| serde_json::to_string(&a.overrides).unwrap_or_default()).unwrap_or_default();
    let file = format!("review-{reason}.csv");
    match call(Request::Queue { mapping, reason }, None).await {
        Ok(a) => save(
            a.text.unwrap_or_default().as_bytes(),
            "text/csv;charset=utf-8",
            &file,
        ),
        Err(e) => error(Some(&e)),
    }
}

// ---------------------------------------------------------------------------------------
// Confirming

/// Now in UTC, RFC 3339 with whole seconds (`2026-11-25T10:00:00Z`), the form
/// `loader prepare --confirmed-at` takes.
fn now_rfc3339() -> String {
    let iso = String::from(js_sys::Date::new_0().to_iso_string());
    format!("{}Z", iso.get(..19).unwrap_or(&iso))
}

async fn confirm() {
    let name = by_id::<HtmlInputElement>("confirm-name")
        .map(|i| i.value())
        .unwrap_or_default();
    let checked = by_id::<HtmlInputElement>("confirm-check").is_some_and(|c| c.checked());
    if name.trim().is_empty() {
        error(Some("Type your name to confirm."));
        if let Some(i) = by_id::<HtmlElement>("confirm-name") {
            let _ = i.focus();
        }
        return;
    }
    if !checked {
        error(Some(
            "Tick the box to confirm that you reviewed the mapping.",
        ));
        if let Some(i) = by_id::<HtmlElement>("confirm-check") {
            let _ = i.focus();
        }
        return;
    }
    let at = now_rfc3339();
    // The whole effective mapping is what the customer confirms; it is also what "Save the
    // mapping" writes, so `loader prepare --mapping` on that file gives these very bytes.
    let mapping = with_app(|a| {
        a.analysis
            .as_ref()
            .and_then(|an| serde_json::to_string(&an.mapping).ok())
    })
    .flatten();
    let Some(mapping) = mapping else {
        error(Some("Add your export files first."));
        return;
    };
    status("Writing the bundle…");
    let request = Request::Confirm {
        mapping,
        confirmed_by: name.clone(),
        confirmed_at: at.clone(),
    };
    let reply = call_for_file(request, None).await.map(|(a, blob)| {
        let bundle = match (blob, a.bytes) {
            (Some(blob), _) => Some(Url::create_object_url_with_blob(&blob)),
            (None, Some(bytes)) => Some(object_url(&bytes, "application/gzip")),
            (None, None) => None,
        };
        (a.text, bundle)
    });
    match reply {
        Ok((Some(report), Some(bundle))) => {
            let report = object_url(report.as_bytes(), "text/markdown;charset=utf-8");
            let (Ok(bundle), Ok(report)) = (bundle, report) else {
                error(Some("Could not make the downloads."));
                return;
            };
            for (id, url, file) in [
                ("download-bundle", &bundle, "allclients.bundle.jsonl.gz"),
                ("download-report", &report, "allclients.bundle.scope.md"),
            ] {
                if let Some(a) = by_id::<HtmlAnchorElement>(id) {
                    a.set_href(url);
                    a.set_download(file);
                }
            }
            with_app(|a| a.urls = vec![bundle, report]);
            show("downloads", true);
            error(None);
            if let Some(body) = doc().body() {
                set_attr(&body, "data-state", "confirmed");
            }
            status(&format!(
                "Confirmed by {} at {at}. Download the bundle and the scope report below.",
                name.trim()
            ));
            if let Some(link) = by_id::<HtmlElement>("download-bundle") {
                let _ = link.focus();
            }
        }
        Ok(_) => error(Some("The preparer returned no bundle.")),
        Err(e) => error(Some(&e)),
    }
}

/// A confirmation covers exactly what was shown: any change withdraws it.
fn unconfirm() {
    let urls = with_app(|a| std::mem::take(&mut a.urls)).unwrap_or_default();
    if urls.is_empty() {
        return;
    }
    for url in urls {
        let _ = Url::revoke_object_url(&url);
    }
    for id in ["download-bundle", "download-report"] {
        if let Some(a) = by_id::<Element>(id) {
            let _ = a.remove_attribute("href");
        }
    }
    show("downloads", false);
    if let Some(c) = by_id::<HtmlInputElement>("confirm-check") {
        c.set_checked(false);
    }
    if let Some(body) = doc().body() {
        let _ = body.remove_attribute("data-state");
    }
    status("The confirmation was withdrawn because something changed: confirm again.");
}
