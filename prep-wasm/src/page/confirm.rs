//! Confirming: the customer's name and tick, the bundle and report downloads, and the
//! withdrawal of a confirmation when anything changes.

use super::*;

// Confirming

/// Now in UTC, RFC 3339 with whole seconds (`2026-11-25T10:00:00Z`), the form
/// `loader prepare --confirmed-at` takes.
pub(super) fn now_rfc3339() -> String {
    let iso = String::from(js_sys::Date::new_0().to_iso_string());
    format!("{}Z", iso.get(..19).unwrap_or(&iso))
}

pub(super) async fn confirm() {
    let name = by_id::<HtmlInputElement>("confirm-name")
        .map(|i| i.value())
        .unwrap_or_default();
    let checked = by_id::<HtmlInputElement>("confirm-check").is_some_and(|c| c.checked());
    if name.trim().is_empty() {
        notify("confirm", "Type your name to confirm.", true);
        if let Some(i) = by_id::<HtmlElement>("confirm-name") {
            let _ = i.focus();
        }
        return;
    }
    if !checked {
        notify(
            "confirm",
            "Tick the box to confirm that you checked the mapping.",
            true,
        );
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
        notify("confirm", "Add your export files first.", true);
        return;
    };
    notify("confirm", "Writing the bundle…", false);
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
                notify("confirm", "Could not make the downloads.", true);
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
            if let Some(body) = doc().body() {
                set_attr(&body, "data-state", "confirmed");
            }
            notify(
                "confirm",
                &format!(
                    "Confirmed by {} at {at}. Download the bundle and the scope report below.",
                    name.trim()
                ),
                false,
            );
            if let Some(link) = by_id::<HtmlElement>("download-bundle") {
                let _ = link.focus();
            }
        }
        Ok(_) => notify("confirm", "The preparer returned no bundle.", true),
        Err(e) => notify("confirm", &e, true),
    }
}

/// A confirmation covers exactly what was shown: any change withdraws it.
pub(super) fn unconfirm() {
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
    notify(
        "confirm",
        "The confirmation was withdrawn because something changed: confirm again.",
        false,
    );
}
