//! The page as an importer a non-technical customer can finish: real values next to each
//! column, a contact previewed as it will land (and equal to the bundle's record), problems
//! fixed in place and recorded as corrections (the CLI gives the same bytes with them), a
//! wrong mapping blocking Confirm, the whole flow by keyboard, spreadsheets and zips, and
//! every step at 1366 px and 390 px checked by axe-core with no sideways scroll.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use browser_tests::{
    ARROW_DOWN, ARROW_UP, ENTER, Result, TAB, WAIT, confirm_and_download, js, open_page, press,
    root, same_as_cli, session, until, wait_for_download, wait_for_mapping,
};
use fantoccini::{Client, Locator};
use prep::bundle::{Reader, Record};
use serde_json::{Value, json};

fn sample() -> PathBuf {
    root()
        .join("sample/allclients-export")
        .canonicalize()
        .expect("the sample export")
}

fn artifacts() -> PathBuf {
    let dir = root().join("target/browser-artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

async fn pick(c: &Client, paths: &[PathBuf]) -> Result {
    let keys: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    c.find(Locator::Css("[data-testid=file-input]"))
        .await?
        .send_keys(&keys.join("\n"))
        .await?;
    Ok(())
}

async fn pick_sample_folder(c: &Client) -> Result {
    c.find(Locator::Id("folder-input"))
        .await?
        .send_keys(&sample().to_string_lossy())
        .await?;
    wait_for_mapping(c).await
}

/// Searches the record preview for `query` (the search box emptied first), as a customer
/// types it and presses Enter.
async fn search_record(c: &Client, query: &str) -> Result {
    let search = c.find(Locator::Css("[data-testid=record-search]")).await?;
    search.clear().await?;
    search.send_keys(query).await?;
    search.send_keys(ENTER).await?;
    Ok(())
}

/// Waits until the page has prepared again after an edit (status says Prepared and the
/// predicate holds).
async fn prepared_and(c: &Client, predicate: &str, what: &str) -> Result {
    until(
        c,
        &format!(
            "return document.getElementById('status').textContent.startsWith('Prepared') && ({predicate})"
        ),
        what,
    )
    .await
}

#[tokio::test]
async fn values_preview_and_fixes_reach_the_bundle_like_the_cli() -> Result {
    session(
        "values_preview_and_fixes_reach_the_bundle_like_the_cli",
        "failure-importer.png",
        |c, server, downloads, tmp| async move {
            let r = async {
                open_page(&c, &server).await?;
                pick_sample_folder(&c).await?;

                // The summary says what moves and what does not.
                let summary = js(&c, "return document.querySelector('[data-testid=summary]').innerText").await?;
                let summary = summary.as_str().unwrap_or_default();
                assert!(summary.contains("contacts") && summary.contains("Needs you"), "{summary}");
                let not = js(&c, "return document.querySelector('[data-testid=not-migrated]').innerText").await?;
                assert!(not.as_str().is_some_and(|t| t.contains("Workflows") && t.contains("Email history")), "{not}");

                // Sample values: one list per mapping row; the Email column shows emails.
                let counts = js(
                    &c,
                    "return [document.querySelectorAll('[data-testid=mapping-table] tbody tr').length, \
                             document.querySelectorAll('[data-testid=column-samples]').length]",
                )
                .await?;
                assert_eq!(counts[0], counts[1], "one samples list per mapping row: {counts}");
                let email = js(
                    &c,
                    "return document.querySelector('select[data-kind=contacts][data-source=Email]').closest('tr') \
                     .querySelector('[data-testid=column-samples]').innerText",
                )
                .await?;
                assert!(email.as_str().is_some_and(|t| t.matches('@').count() >= 3), "{email}");

                // Preview a contact that has notes: find it in the prepared sample natively.
                let native = prep::prepare(
                    &load_dir(&sample()),
                    &prep::Options::default(),
                )?;
                let target = native
                    .contacts
                    .iter()
                    .find(|c| {
                        c.email.is_some()
                            && !c.custom_fields.is_empty()
                            && native.notes.iter().filter(|n| n.contact == c.key).count() >= 2
                    })
                    .ok_or("a contact with notes")?
                    .clone();
                let email = target.email.clone().unwrap_or_default();
                search_record(&c, &email).await?;
                until(
                    &c,
                    "return document.querySelectorAll('[data-testid=record-preview] td[data-field]').length > 3",
                    "the record preview",
                )
                .await?;
                let shown = js(
                    &c,
                    "return Object.fromEntries([...document.querySelectorAll('[data-testid=record-preview] td[data-field]')] \
                     .map(td => [td.dataset.field, td.textContent]))",
                )
                .await?;
                let notes_heading = js(
                    &c,
                    "return [...document.querySelectorAll('[data-testid=record-preview] h4')].map(h => h.textContent)",
                )
                .await?;
                std::fs::write(artifacts().join("preview-1366.png"), c.screenshot().await?)?;

                // Fix the first invalid email in place.
                let fix = c
                    .find(Locator::Css("[data-queue=invalid_email] [data-testid=fix-input]"))
                    .await?;
                let (file, row) = (
                    fix.attr("data-file").await?.unwrap_or_default(),
                    fix.attr("data-row").await?.unwrap_or_default(),
                );
                fix.clear().await?;
                fix.send_keys("fixed.in.page@example.com").await?;
                c.find(Locator::Css("[data-queue=invalid_email] [data-testid=fix-apply]"))
                    .await?
                    .click()
                    .await?;
                prepared_and(
                    &c,
                    "document.getElementById('corrections').textContent.includes('fixed.in.page@example.com')",
                    "the fixed email",
                )
                .await?;
                // Map the unknown owner to a user (Enter submits the fix).
                let owner = c
                    .find(Locator::Css("[data-queue=unknown_owner] [data-testid=fix-input]"))
                    .await?;
                owner.send_keys("pat@agency.example").await?;
                owner.send_keys(ENTER).await?;
                prepared_and(
                    &c,
                    "!document.querySelector('[data-queue=unknown_owner]')",
                    "the owner assigned",
                )
                .await?;
                // Leave one orphan note's row behind: a correction too, undoable.
                let leave = c
                    .find(Locator::Css("[data-queue=orphan_note] button[data-leave-row]"))
                    .await?;
                let left_row = leave.attr("data-leave-row").await?.unwrap_or_default();
                leave.click().await?;
                prepared_and(
                    &c,
                    "!!document.querySelector('[data-queue=left_behind]')",
                    "the row left behind",
                )
                .await?;
                // A cell, an owner and a row left behind: three corrections, each listed.
                let heading = c
                    .find(Locator::Css("#corrections h3"))
                    .await?
                    .text()
                    .await?;
                assert_eq!(heading, "Your corrections (3)");
                std::fs::write(artifacts().join("fixed-1366.png"), c.screenshot().await?)?;

                c.find(Locator::Css("[data-testid=corrections-download]"))
                    .await?
                    .click()
                    .await?;
                let corrections = wait_for_download(&downloads, "allclients.corrections.json", WAIT)?;
                let got = confirm_and_download(&c, &downloads, "Pat Owner", false).await?;
                let fixes = tmp.join("page.corrections.json");
                std::fs::write(&fixes, &corrections)?;
                let manifest = same_as_cli(
                    &got,
                    &[sample().as_path()],
                    &[OsStr::new("--corrections"), fixes.as_os_str()],
                    "Pat Owner",
                    &tmp,
                )?;
                assert_eq!(manifest.corrections.cells.len(), 1);
                assert_eq!(manifest.corrections.cells[0].file, file);
                assert_eq!(manifest.corrections.cells[0].row.to_string(), row);
                let jordan = manifest
                    .owners
                    .iter()
                    .find(|o| o.source == "Jordan Unknown")
                    .ok_or("Jordan Unknown")?;
                assert_eq!(jordan.email.as_deref(), Some("pat@agency.example"));
                assert_eq!(manifest.corrections.rows_left.len(), 1);
                assert_eq!(manifest.corrections.rows_left[0].row.to_string(), left_row);
                assert_eq!(manifest.review.get("left_behind"), Some(&1));

                // The fixed row is a contact of the bundle, and the previewed contact is the
                // bundle's record field for field.
                let mut fixed = false;
                let mut record = None;
                let mut reader = Reader::open(&got.bundle[..])?;
                while let Some(r) = reader.next_record()? {
                    if let Record::Contact(c) = r {
                        fixed |= c.email.as_deref() == Some("fixed.in.page@example.com");
                        if c.key == target.key {
                            record = Some(c);
                        }
                    }
                }
                assert!(fixed, "the fixed row loads as a contact");
                let record = record.ok_or("the previewed contact is in the bundle")?;
                let field = |label: &str| shown.get(label).and_then(Value::as_str);
                assert_eq!(field("Email"), record.email.as_deref());
                assert_eq!(field("First name"), record.first_name.as_deref());
                assert_eq!(field("Last name"), record.last_name.as_deref());
                if !record.tags.is_empty() {
                    assert_eq!(field("Tags"), Some(record.tags.join(", ").as_str()));
                }
                for (label, value) in &record.custom_fields {
                    assert_eq!(
                        field(label),
                        Some(prep::preview::shown(value).as_str()),
                        "custom field {label}"
                    );
                }
                let notes = native.notes.iter().filter(|n| n.contact == target.key).count();
                assert!(
                    notes_heading.as_array().into_iter().flatten().any(|h| h == &json!(format!("Notes ({notes})"))),
                    "{notes_heading}"
                );
                Ok(())
            }
            .await;
            (c, server, r)
        },
    )
    .await
}

fn load_dir(dir: &Path) -> Vec<prep::InputFile> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                let name = rel.to_string_lossy().replace('\\', "/");
                if prep::archive::is_export_path(&name) {
                    out.push(prep::InputFile {
                        name,
                        bytes: std::fs::read(&p).unwrap_or_default(),
                    });
                }
            }
        }
    }
    out
}

/// Presses Tab until the focused element matches `css`; returns how many presses it took.
async fn tab_to(c: &Client, css: &str, limit: usize) -> Result<usize> {
    for n in 1..=limit {
        press(c, TAB).await?;
        if js(
            c,
            &format!("return document.activeElement.matches({css:?})"),
        )
        .await?
            == json!(true)
        {
            return Ok(n);
        }
    }
    Err(format!("{css} not reached in {limit} Tabs").into())
}

async fn focused_id(c: &Client) -> Result<String> {
    Ok(js(c, "return document.activeElement.id")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string())
}

#[tokio::test]
async fn a_wrong_mapping_blocks_confirm_and_the_flow_works_by_keyboard_alone() -> Result {
    session(
        "a_wrong_mapping_blocks_confirm_and_the_flow_works_by_keyboard_alone",
        "failure-keyboard.png",
        |c, server, downloads, tmp| async move {
            let r = async {
                open_page(&c, &server).await?;
                let contacts = tmp.join("Contacts.csv");
                std::fs::write(
                    &contacts,
                    "First Name,Email,Company,Phone 1,Phone 2\r\n\
                     Ada,ada@example.com,Acme,555-0100,555-0101\r\n\
                     Bo,bo@example.com,Globex,555-0200,\r\n",
                )?;
                pick(&c, std::slice::from_ref(&contacts)).await?;
                prepared_and(&c, "!!document.querySelector('select[data-source=Company]')", "the mapping").await?;
                // Start where a keyboard user starts: the top of the page.
                js(&c, "document.querySelector('.skip').focus(); return true").await?;

                // Tab to the contacts section, open it with Enter, Tab to the Company list; an
                // arrow key alone changes nothing yet.
                let mut tabs = tab_to(&c, "#mapping-contacts > summary", 40).await?;
                if js(&c, "return document.getElementById('mapping-contacts').open").await? != json!(true) {
                    press(&c, ENTER).await?;
                }
                let company = "select[data-source=Company]";
                tabs += tab_to(&c, company, 20).await?;
                println!("Tabs from the top to the Company list: {tabs}");
                let id = focused_id(&c).await?;
                let (from, to) = {
                    let v = js(
                        &c,
                        "const s = document.activeElement; \
                         return [s.selectedIndex, [...s.options].findIndex(o => o.value === 'email')]",
                    )
                    .await?;
                    (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0))
                };
                press(&c, ARROW_DOWN).await?;
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                let row = js(&c, "return document.querySelector('select[data-source=Company]').closest('tr').textContent").await?;
                assert!(
                    !row.as_str().unwrap_or_default().contains("Your choice"),
                    "an arrow key alone must not apply: {row}"
                );
                assert_eq!(focused_id(&c).await?, id, "focus stays on the list");
                // Walk to Email and press Enter: applied, flagged, Confirm blocked, focus kept.
                let now = from + 1;
                let (key, steps) = if to >= now { (ARROW_DOWN, to - now) } else { (ARROW_UP, now - to) };
                for _ in 0..steps {
                    press(&c, key).await?;
                }
                press(&c, ENTER).await?;
                prepared_and(
                    &c,
                    "document.querySelector('select[data-source=Company]').value === 'email' \
                     && document.querySelector('select[data-source=Company]').closest('tr').classList.contains('blocking')",
                    "Company → Email flagged",
                )
                .await?;
                assert_eq!(focused_id(&c).await?, id, "focus stays on the list after the redraw");
                let state = js(
                    &c,
                    "return {disabled: document.querySelector('[data-testid=confirm-button]').disabled, \
                             blockers: document.getElementById('confirm-blockers').innerText}",
                )
                .await?;
                assert_eq!(state["disabled"], json!(true), "{state}");
                assert!(state["blockers"].as_str().is_some_and(|t| t.contains("“Company” → Email: 0 of 2 values are email addresses")), "{state}");
                std::fs::write(artifacts().join("blocked-1366.png"), c.screenshot().await?)?;

                // Back to the suggestion with the keyboard: Confirm comes back.
                tab_to(&c, "button[data-revert-source=Company]", 5).await?;
                press(&c, ENTER).await?;
                prepared_and(
                    &c,
                    "!document.querySelector('[data-testid=confirm-button]').disabled",
                    "the suggestion restored",
                )
                .await?;

                // Name, tick, confirm, download: Tab, type, Space, Enter only.
                let to_name = tab_to(&c, "[data-testid=confirm-name]", 80).await?;
                println!("Tabs from the mapping to the name: {to_name}");
                press(&c, "Kim Keys").await?;
                tab_to(&c, "[data-testid=confirm-check]", 2).await?;
                press(&c, " ").await?;
                tab_to(&c, "[data-testid=confirm-button]", 2).await?;
                press(&c, ENTER).await?;
                until(&c, "return document.body.dataset.state === 'confirmed'", "the confirmation").await?;
                assert_eq!(focused_id(&c).await?, "download-bundle", "focus moves to the download");
                press(&c, ENTER).await?;
                let bundle = wait_for_download(&downloads, "allclients.bundle.jsonl.gz", WAIT)?;
                let (manifest, _) = prep::bundle::verify(&bundle[..])?;
                assert_eq!(manifest.objects.contacts.loaded, 2);
                Ok(())
            }
            .await;
            (c, server, r)
        },
    )
    .await
}

fn zip_folder(dir: &Path, out: &Path) -> Result {
    let mut w = zip::ZipWriter::new(std::fs::File::create(out)?);
    let base = dir
        .file_name()
        .ok_or("a folder name")?
        .to_string_lossy()
        .into_owned();
    for f in load_dir(dir) {
        w.start_file(
            format!("{base}/{}", f.name),
            zip::write::SimpleFileOptions::default(),
        )?;
        w.write_all(&f.bytes)?;
    }
    w.finish()?;
    Ok(())
}

#[tokio::test]
async fn a_zip_and_a_spreadsheet_export_are_accepted() -> Result {
    session(
        "a_zip_and_a_spreadsheet_export_are_accepted",
        "failure-archives.png",
        |c, server, downloads, tmp| async move {
            let r = async {
                open_page(&c, &server).await?;
                let zip = tmp.join("allclients-export.zip");
                zip_folder(&sample(), &zip)?;
                pick(&c, std::slice::from_ref(&zip)).await?;
                wait_for_mapping(&c).await?;
                let got = confirm_and_download(&c, &downloads, "Zed Zip", false).await?;
                let manifest = same_as_cli(&got, &[zip.as_path()], &[], "Zed Zip", &tmp)?;
                assert!(manifest.inputs.iter().any(|i| i.file == "Contacts.csv"), "zip entries named like the folder's");
                assert!(manifest.inputs.iter().any(|i| i.file == "templates/Welcome.html"));

                // A contacts spreadsheet saved from Excel, and an image that is not an export.
                c.goto(&format!("{}/index.html", server.origin)).await?;
                open_page(&c, &server).await?;
                let xlsx = tmp.join("Contacts.xlsx");
                let mut book = rust_xlsxwriter::Workbook::new();
                let sheet = book.add_worksheet();
                for (i, h) in ["First Name", "Last Name", "Email", "Phone 1"].iter().enumerate() {
                    sheet.write_string(0, i as u16, *h)?;
                }
                for (r, (f, l, e)) in [("Ada", "Lovelace", "ada@example.com"), ("Bo", "Diddley", "bo@example.com")]
                    .iter()
                    .enumerate()
                {
                    let r = r as u32 + 1;
                    sheet.write_string(r, 0, *f)?;
                    sheet.write_string(r, 1, *l)?;
                    sheet.write_string(r, 2, *e)?;
                    sheet.write_number(r, 3, 5550100.0 + f64::from(r))?;
                }
                book.save(&xlsx)?;
                let png = tmp.join("photo.png");
                let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
                bytes.extend((0..4000u32).map(|i| (i % 11) as u8));
                std::fs::write(&png, bytes)?;
                pick(&c, &[xlsx.clone(), png]).await?;
                prepared_and(&c, "!!document.querySelector('select[data-source=Email]')", "the spreadsheet").await?;
                let state = js(
                    &c,
                    "return {files: [...document.querySelectorAll('#files-table tbody th')].map(e => e.textContent), \
                             message: document.getElementById('msg-files').textContent, \
                             samples: document.querySelector('select[data-source=\"Phone 1\"]').closest('tr').querySelector('[data-testid=column-samples]').textContent}",
                )
                .await?;
                assert_eq!(state["files"], json!(["Contacts.xlsx"]), "{state}");
                assert!(state["message"].as_str().is_some_and(|m| m.starts_with("photo.png: not added")), "{state}");
                assert!(state["samples"].as_str().is_some_and(|s| s.contains("5550101")), "{state}");
                Ok(())
            }
            .await;
            (c, server, r)
        },
    )
    .await
}

/// The worker keeps a file's tables, not its bytes: choosing another encoding reads the file
/// again from the browser (FileReaderSync in the worker), and choosing the first one back
/// gives the first values back.
#[tokio::test]
async fn a_new_encoding_reads_the_file_again_from_the_browser() -> Result {
    session(
        "a_new_encoding_reads_the_file_again_from_the_browser",
        "failure-encoding.png",
        |c, server, _downloads, _tmp| async move {
            let r = async {
                open_page(&c, &server).await?;
                pick_sample_folder(&c).await?;
                // A contact whose name is not ASCII (the sample's Contacts.csv is Windows-1252).
                let native = prep::prepare(&load_dir(&sample()), &prep::Options::default())?;
                let contact = native
                    .contacts
                    .iter()
                    .find(|c| c.email.is_some() && c.first_name.as_deref().is_some_and(|n| n.contains('ñ')))
                    .ok_or("a contact with an ñ")?;
                let (email, name) = (
                    contact.email.clone().unwrap_or_default(),
                    contact.first_name.clone().unwrap_or_default(),
                );
                let preview = async |wanted: &str, what: &str| -> Result {
                    search_record(&c, &email).await?;
                    until(
                        &c,
                        &format!(
                            "return [...document.querySelectorAll('[data-testid=record-preview] td[data-field]')] \
                             .map(td => td.textContent).join('|').includes({})",
                            json!(wanted)
                        ),
                        what,
                    )
                    .await
                };
                preview(&name, "the name as exported").await?;
                let encoding = "select[data-file='Contacts.csv'][data-field=encoding]";
                for (choice, wanted, what) in [
                    ("UTF-8", name.replace('ñ', "\u{fffd}"), "the name read as UTF-8"),
                    ("windows-1252", name.to_string(), "the name read as Windows-1252 again"),
                ] {
                    c.find(Locator::Css(encoding)).await?.select_by_value(choice).await?;
                    prepared_and(
                        &c,
                        &format!("document.querySelector({}).value === {}", json!(encoding), json!(choice)),
                        what,
                    )
                    .await?;
                    preview(&wanted, what).await?;
                }
                Ok(())
            }
            .await;
            (c, server, r)
        },
    )
    .await
}

/// Runs axe-core (installed from npm by `scripts/browser-tests.sh`) on the page; returns the
/// serious and critical violations as `id: help (n nodes)`.
async fn axe(c: &Client) -> Result<Vec<String>> {
    let path = root().join("target/browser-tools/node_modules/axe-core/axe.min.js");
    let source = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (scripts/browser-tests.sh installs axe-core)",
            path.display()
        )
    })?;
    c.execute(&format!("{source}; return true"), vec![]).await?;
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations \
               .filter(v => v.impact === 'serious' || v.impact === 'critical') \
               .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes: ' + \
                    v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ') + ')')), \
               e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await?;
    Ok(result
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect())
}

#[tokio::test]
async fn every_step_at_1366_and_390_passes_axe_without_sideways_scroll() -> Result {
    session(
        "every_step_at_1366_and_390_passes_axe_without_sideways_scroll",
        "failure-widths.png",
        |c, server, _downloads, _tmp| async move {
            let r = async {
                open_page(&c, &server).await?;
                pick_sample_folder(&c).await?;
                search_record(&c, "a").await?;
                until(&c, "return document.querySelectorAll('[data-testid=record-preview] td').length > 3", "a preview").await?;
                let mut problems = Vec::new();
                for width in [1366u32, 390] {
                    c.set_window_size(width, 900).await?;
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    let sideways = js(
                        &c,
                        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                    )
                    .await?;
                    if sideways.as_i64().unwrap_or(0) > 0 {
                        let wide = js(
                            &c,
                            "const w = document.documentElement.clientWidth; \
                             return [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > w + 1) \
                               .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)",
                        )
                        .await?;
                        problems.push(format!("{width} px: the page scrolls sideways by {sideways} px ({wide})"));
                    }
                    for v in axe(&c).await? {
                        problems.push(format!("{width} px: {v}"));
                    }
                    for section in [
                        "summary",
                        "step-files",
                        "step-mapping",
                        "step-preview",
                        "step-review",
                        "step-scope",
                        "step-confirm",
                    ] {
                        js(&c, &format!("document.getElementById('{section}').scrollIntoView(); return true")).await?;
                        std::fs::write(
                            artifacts().join(format!("{section}-{width}.png")),
                            c.screenshot().await?,
                        )?;
                    }
                }
                assert!(problems.is_empty(), "{}", problems.join("\n"));
                Ok(())
            }
            .await;
            (c, server, r)
        },
    )
    .await
}
