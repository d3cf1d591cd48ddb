//! The customer flow in real headless Chromium, driven over WebDriver: upload the sample
//! export, change one mapping, confirm, download; then check the bundle against the native
//! CLI byte for byte, that hostile text renders inert, and that the page fetched nothing but
//! its own assets. Skips (with a message) when chromium, chromedriver or `dist/` is missing.

use std::path::{Path, PathBuf};

use browser_tests::{
    Result, StaticServer, WAIT, confirm_and_download, js, open_page, root, same_as_cli, session,
    until, wait_for_download, wait_for_mapping,
};
use fantoccini::{Client, Locator};
use serde_json::json;

/// The page's own assets: the only paths the static server may see.
const ASSETS: [&str; 8] = [
    "/",
    "/index.html",
    "/boot.js",
    "/prep-wasm.js",
    "/prep-wasm_bg.wasm",
    "/style.css",
    "/favicon.svg",
    "/worker.js",
];

#[tokio::test]
async fn customer_flow_matches_the_cli_and_stays_offline() -> Result {
    session(
        "customer_flow_matches_the_cli_and_stays_offline",
        "failure.png",
        |c, server, downloads, tmp| async move {
            let r = flow(&c, &server, &downloads, &tmp).await;
            (c, server, r)
        },
    )
    .await
}

/// The `file-input` path (several files picked at once, the template by its file name)
/// gives the bundle `loader prepare` gives for the same files named one by one; this run
/// confirms and downloads with the keyboard only.
#[tokio::test]
async fn picked_files_match_the_cli_file_by_file() -> Result {
    session(
        "picked_files_match_the_cli_file_by_file",
        "failure-picked.png",
        |c, server, downloads, tmp| async move {
            let r = picked_flow(&c, &server, &downloads, &tmp).await;
            (c, server, r)
        },
    )
    .await
}

/// Files dropped on the page are read like picked ones (a scripted drop: WebDriver cannot
/// drag from the desktop, so this covers the page's side of a drop, not the browser's).
#[tokio::test]
async fn dropped_files_are_prepared() -> Result {
    session(
        "dropped_files_are_prepared",
        "failure-dropped.png",
        |c, server, _downloads, _tmp| async move {
            let r = async {
                open_page(&c, &server).await?;
                js(
                    &c,
                    "const dt = new DataTransfer(); \
                     dt.items.add(new File(['Email,First Name\\r\\nada@example.com,Ada\\r\\n'], 'Contacts.csv')); \
                     dt.items.add(new File(['Email,Note\\r\\nada@example.com,hello\\r\\n'], 'Notes.csv')); \
                     document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); \
                     return true",
                )
                .await?;
                until(
                    &c,
                    "return document.querySelectorAll('[data-testid=mapping-table] select').length === 4 \
                     && document.getElementById('status').textContent.startsWith('Prepared')",
                    "the dropped files",
                )
                .await?;
                let files = js(
                    &c,
                    "return [...document.querySelectorAll('#files-table tbody th')].map(e => e.textContent)",
                )
                .await?;
                assert_eq!(files, json!(["Contacts.csv", "Notes.csv"]));
                Ok(())
            }
            .await;
            (c, server, r)
        },
    )
    .await
}

async fn picked_flow(c: &Client, server: &StaticServer, downloads: &Path, tmp: &Path) -> Result {
    open_page(c, server).await?;
    let sample = root().join("sample/allclients-export").canonicalize()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sample)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.push(sample.join("templates/Welcome.html"));
    files.sort();
    let keys: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    // WebDriver takes several files for one input as newline-separated paths.
    c.find(Locator::Css("[data-testid=file-input]"))
        .await?
        .send_keys(&keys.join("\n"))
        .await?;
    wait_for_mapping(c).await?;
    let got = confirm_and_download(c, downloads, "Sam Picker", true).await?;
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let manifest = same_as_cli(&got, &inputs, &[], "Sam Picker", tmp)?;
    assert!(manifest.inputs.iter().any(|i| i.file == "Welcome.html"));

    // Loading the saved mapping applies it whole (every column is now the customer's) and
    // withdraws the confirmation, since what is shown changed.
    c.find(Locator::Id("load-mapping"))
        .await?
        .send_keys(&tmp.join("page.mapping.json").to_string_lossy())
        .await?;
    until(
        c,
        "return document.getElementById('status').textContent.startsWith('Prepared') \
         && [...document.querySelectorAll('[data-testid=mapping-table] tbody tr')] \
              .every(tr => tr.textContent.includes('Your choice'))",
        "the loaded mapping",
    )
    .await?;
    assert_ne!(
        js(c, "return document.body.dataset.state ?? null").await?,
        json!("confirmed")
    );
    Ok(())
}

async fn flow(c: &Client, server: &StaticServer, downloads: &Path, tmp: &Path) -> Result {
    open_page(c, server).await?;

    // 1. Upload the whole sample export as a folder (named like `loader prepare --input DIR`).
    let sample = root().join("sample/allclients-export").canonicalize()?;
    let folder = c.find(Locator::Id("folder-input")).await?;
    folder.send_keys(&sample.to_string_lossy()).await?;
    wait_for_mapping(c).await?;
    let files = js(
        c,
        "return [...document.querySelectorAll('#files-table tbody th')].map(e => e.textContent)",
    )
    .await?;
    assert!(
        files
            .as_array()
            .is_some_and(|f| f.contains(&json!("templates/Welcome.html"))),
        "files shown: {files}"
    );

    let artifacts = root().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts)?;
    std::fs::write(artifacts.join("files.png"), c.screenshot().await?)?;

    // 2. Change one mapping: the Birthday column is not migrated (its section opened first,
    // as a customer would).
    js(
        c,
        "const d = document.getElementById('mapping-contacts'); d.open = true; return true",
    )
    .await?;
    let birthday = c
        .find(Locator::Css(
            "[data-testid=mapping-table] select[data-kind=contacts][data-source=Birthday]",
        ))
        .await?;
    birthday.select_by_value("ignore").await?;
    until(
        c,
        "const s = document.querySelector('select[data-kind=contacts][data-source=Birthday]'); \
         return !!s && s.value === 'ignore' && document.getElementById('status').textContent.startsWith('Prepared');",
        "the edited mapping to be prepared",
    )
    .await?;
    assert!(
        js(c, "return document.querySelector('select[data-source=Birthday]').closest('tr').textContent").await?
            .as_str()
            .is_some_and(|t| t.contains("Your choice")),
        "an edited column shows the customer's choice"
    );

    // The mapping screen, for people to look at.
    js(
        c,
        "document.getElementById('step-mapping').scrollIntoView(); return true",
    )
    .await?;
    std::fs::write(artifacts.join("mapping.png"), c.screenshot().await?)?;

    // 3. Save the mapping, confirm, download; (a) byte-identical to the native CLI.
    let got = confirm_and_download(c, downloads, "Pat Owner", false).await?;
    let manifest = same_as_cli(&got, &[sample.as_path()], &[], "Pat Owner", tmp)?;

    // The other screens, for people to look at.
    for (section, png) in [
        ("step-review", "review.png"),
        ("step-confirm", "confirm.png"),
    ] {
        js(
            c,
            &format!("document.getElementById('{section}').scrollIntoView(); return true"),
        )
        .await?;
        std::fs::write(artifacts.join(png), c.screenshot().await?)?;
    }

    // A review queue downloads as the CLI's spreadsheet-safe CSV of the same queue.
    c.find(Locator::Css("button[data-reason=orphan_note]"))
        .await?
        .click()
        .await?;
    let queue = wait_for_download(downloads, "review-orphan_note.csv", WAIT)?;
    let cli_queue = std::fs::read(tmp.join("cli/sample.bundle.review/orphan_note.csv"))?;
    assert!(
        queue == cli_queue,
        "the orphan-note queue differs from the CLI's"
    );
    assert!(
        !manifest.custom_fields.iter().any(|d| d.label == "Birthday"),
        "the edit is in the bundle"
    );

    // (b) Hostile text renders inert. The sample's XSS note loads as a note (not shown on
    // the page), so an orphan note and a column header carrying the same payloads are added:
    // both are drawn (review queue, mapping table).
    let hostile = tmp.join("0-hostile-notes.csv");
    std::fs::write(
        &hostile,
        "Email,Date,Note,<img src=x onerror=alert('header')>\r\n\
         nobody@xss.invalid,1/2/2020,\"<img src=x onerror=alert('xss')><script>window.__xss=1</script> pasted\",<b>bold</b>\r\n",
    )?;
    c.find(Locator::Css("[data-testid=file-input]"))
        .await?
        .send_keys(&hostile.to_string_lossy())
        .await?;
    until(
        c,
        "return document.querySelector('[data-testid=review-queues]').textContent.includes('<script>window.__xss=1</script>')",
        "the hostile note in the review queue",
    )
    .await?;
    assert_ne!(
        js(c, "return document.body.dataset.state ?? null").await?,
        json!("confirmed"),
        "a change withdraws the confirmation"
    );
    let dom = js(
        c,
        "return {imgs: document.querySelectorAll('img').length, \
                 bolds: document.querySelectorAll('main b').length, \
                 scripts: [...document.scripts].map(s => s.getAttribute('src')), \
                 xss: window.__xss ?? null, \
                 header: document.getElementById('mapping-table').textContent.includes(\"<img src=x onerror=alert('header')>\")}",
    )
    .await?;
    assert_eq!(
        dom,
        json!({"imgs": 0, "bolds": 0, "scripts": ["./boot.js"], "xss": null, "header": true}),
        "hostile text is shown as text and nothing ran"
    );
    match c.get_alert_text().await {
        Err(e) if e.is_no_such_alert() => {}
        other => panic!("an alert is open or the check failed: {other:?}"),
    }

    // (c) Nothing but the page's own assets was requested, and the page cannot connect
    // anywhere any more (connect-src 'none' after start-up).
    let blocked = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/probe').then(() => done('fetched'), e => done('blocked: ' + e));",
            vec![],
        )
        .await?;
    assert!(
        blocked.as_str().is_some_and(|s| s.starts_with("blocked")),
        "fetch after start-up: {blocked}"
    );
    let origin = &server.origin;
    let entries = js(
        c,
        "return performance.getEntriesByType('resource').map(e => e.name)",
    )
    .await?;
    for name in entries.as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        assert!(name.starts_with(origin.as_str()), "the page loaded {name}");
    }
    let requests = server.requests();
    assert!(
        requests.iter().all(|p| ASSETS.contains(&p.as_str())),
        "requests beyond the page's assets: {requests:?}"
    );
    assert!(requests.iter().any(|p| p == "/prep-wasm_bg.wasm"));
    println!("requests: {requests:?}");
    Ok(())
}
