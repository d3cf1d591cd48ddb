//! DOM helpers: building elements, status and error lines, downloads through `blob:` URLs.
//! Customer text only ever goes in as text.

use super::*;

// DOM helpers

pub(super) fn doc() -> Document {
    // `start` returned early when there is no document, so nothing else runs without one.
    web_sys::window()
        .and_then(|w| w.document())
        .expect("the page has a document")
}

pub(super) fn by_id<T: JsCast>(id: &str) -> Option<T> {
    doc().get_element_by_id(id)?.dyn_into::<T>().ok()
}

pub(super) fn el(tag: &str) -> Element {
    doc().create_element(tag).expect("a valid tag name")
}

/// An element holding `text` as text (never parsed as HTML).
pub(super) fn text_el(tag: &str, text: &str) -> Element {
    let e = el(tag);
    e.set_text_content(Some(text));
    e
}

pub(super) fn append(parent: &Element, child: &Element) {
    let _ = parent.append_child(child);
}

pub(super) fn set_attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

pub(super) fn clear(e: &Element) {
    e.set_text_content(None);
}

pub(super) fn show(id: &str, visible: bool) {
    if let Some(e) = by_id::<HtmlElement>(id) {
        e.set_hidden(!visible);
    }
}

pub(super) fn status(msg: &str) {
    if let Some(e) = by_id::<Element>("status") {
        e.set_text_content(Some(msg));
    }
}

pub(super) fn error(msg: Option<&str>) {
    if let Some(e) = by_id::<HtmlElement>("error") {
        e.set_text_content(msg);
        e.set_hidden(msg.is_none());
    }
}

/// A message next to the action that caused it: `area` is the step (`files`, `mapping`,
/// `preview`, `review`, `confirm`), shown in that step's `msg-<area>` line.
pub(super) fn notify(area: &str, msg: &str, is_error: bool) {
    if let Some(e) = by_id::<HtmlElement>(&format!("msg-{area}")) {
        e.set_text_content(Some(msg));
        let _ = e.class_list().toggle_with_force("error", is_error);
        set_attr(&e, "role", if is_error { "alert" } else { "status" });
    }
}

/// `table` in a box that scrolls sideways on a narrow screen, so the page never does.
pub(super) fn scrolling(table: &Element) -> Element {
    let wrap = el("div");
    set_attr(&wrap, "class", "scroll");
    append(&wrap, table);
    wrap
}

/// A table box that scrolls sideways (a narrow screen) must be reachable by keyboard to be
/// scrolled: it gets a tab stop and a name; one that fits loses them (no useless tab stops).
pub(super) fn mark_scrollers() {
    let Ok(list) = doc().query_selector_all(".scroll") else {
        return;
    };
    for i in 0..list.length() {
        let Some(e) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        if e.scroll_width() > e.client_width() + 1 {
            let name = e
                .query_selector("caption")
                .ok()
                .flatten()
                .and_then(|c| c.text_content())
                .unwrap_or_else(|| "Table".into());
            set_attr(&e, "tabindex", "0");
            set_attr(&e, "role", "region");
            set_attr(&e, "aria-label", &format!("{name} (scrolls sideways)"));
        } else {
            for a in ["tabindex", "role", "aria-label"] {
                let _ = e.remove_attribute(a);
            }
        }
    }
}

pub(super) fn progress(done: f64, total: f64) {
    if let Some(p) = by_id::<HtmlProgressElement>("progress") {
        p.set_max(total.max(1.0));
        p.set_value(done);
    }
}

pub(super) fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// A `<select>` with `options` as (value, text); `selected` is chosen.
pub(super) fn select(
    id: &str,
    label: &str,
    options: &[(String, String)],
    selected: &str,
) -> Element {
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

pub(super) fn row(cells: &[Element]) -> Element {
    let tr = el("tr");
    for c in cells {
        append(&tr, c);
    }
    tr
}

/// Cells that carry their column's name (`data-label`), which a narrow screen shows beside
/// each value when the table's rows are stacked as cards.
pub(super) fn labelled<I: IntoIterator<Item = Element>>(cells: I, names: &[&str]) -> Vec<Element> {
    cells
        .into_iter()
        .zip(names)
        .map(|(c, n)| {
            set_attr(&c, "data-label", n);
            c
        })
        .collect()
}

pub(super) fn td(text: &str) -> Element {
    text_el("td", text)
}

pub(super) fn td_with(child: &Element) -> Element {
    let cell = el("td");
    append(&cell, child);
    cell
}

pub(super) fn header_row(names: &[&str]) -> Element {
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
pub(super) async fn yield_to_browser() {
    TimeoutFuture::new(0).await;
}

/// Saves bytes as a file through a temporary link (a `blob:` URL, so nothing is fetched).
pub(super) fn save(bytes: &[u8], mime: &str, name: &str) {
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

pub(super) fn object_url(bytes: &[u8], mime: &str) -> Result<String, JsValue> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let opts = BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &opts)?;
    Url::create_object_url_with_blob(&blob)
}
