//! Preparing and drawing: re-runs the preparation and draws files, mapping, custom fields,
//! review queues and the scope from what it returns.

use super::*;

// Preparing and drawing

/// Re-runs the preparation with the customer's edits and redraws everything.
pub(super) async fn reanalyse() {
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
            let files = analysis.summary.inputs.len();
            status(&format!(
                "Prepared: {rows} rows read from {files} {}. Check the summary below.",
                if files == 1 { "file" } else { "files" }
            ));
            // For whoever measures the page (the benchmarks read it); not for the customer.
            if let Some(s) = by_id::<Element>("status") {
                set_attr(&s, "data-seconds", &format!("{secs:.3}"));
                set_attr(&s, "data-bytes", &bytes.to_string());
            }
            error(None);
            with_app(|a| a.analysis = Some(analysis));
        }
        Some(Err(e)) => {
            // The core's message names the file, row and column; it shows by the files.
            error(None);
            notify("files", &e, true);
            status(
                "The files could not be prepared yet: see the message under “Add your export files”.",
            );
            with_app(|a| a.analysis = None);
        }
    }
    draw();
}

pub(super) fn draw() {
    // Redrawing replaces the controls: focus goes back to the one with the same id, so a
    // keyboard user stays where they were.
    let focused = doc()
        .active_element()
        .map(|e| e.id())
        .filter(|id| !id.is_empty());
    with_app(|a| {
        draw_files(a);
        let has = a.analysis.is_some();
        for id in [
            "summary",
            "step-mapping",
            "step-preview",
            "step-review",
            "step-scope",
            "step-confirm",
        ] {
            show(id, has);
        }
        if let Some(an) = &a.analysis {
            draw_summary(an);
            draw_mapping(an, &a.overrides);
            draw_custom_fields(an);
            draw_queues(an);
            draw_corrections(&a.corrections);
            draw_scope(an);
            draw_blockers(an);
        }
    });
    mark_scrollers();
    if let Some(el) = focused.and_then(|id| by_id::<HtmlElement>(&id)) {
        let _ = el.focus();
    }
}

/// Confirm stays off while a blocking problem remains, and says which.
pub(super) fn draw_blockers(an: &Analysis) {
    let blocking: Vec<&prep::checks::Problem> = an.problems.iter().filter(|p| p.blocking).collect();
    if let Some(b) = by_id::<web_sys::HtmlButtonElement>("confirm-button") {
        b.set_disabled(!blocking.is_empty());
    }
    let Some(root) = by_id::<HtmlElement>("confirm-blockers") else {
        return;
    };
    clear(&root);
    root.set_hidden(blocking.is_empty());
    if blocking.is_empty() {
        return;
    }
    append(
        &root,
        &text_el("p", "Confirm is off until these are fixed in step 2:"),
    );
    let ul = el("ul");
    for p in blocking {
        append(&ul, &text_el("li", &p.message));
    }
    append(&root, &ul);
}

pub(super) fn draw_files(a: &App) {
    let Some(table) = by_id::<Element>("files-table") else {
        return;
    };
    clear(&table);
    let names: Vec<String> = a.files.keys().cloned().collect();
    show("files-table", !names.is_empty());
    if names.is_empty() {
        return;
    }
    // On a narrow screen each file is a card, each choice under its column's name, instead
    // of a table cut at the screen's edge.
    set_attr(&table, "class", "stack");
    append(&table, &text_el("caption", "Your files"));
    let columns = ["What it is", "Text encoding", "Separator", "Rows"];
    append(
        &table,
        &header_row(&[&["File"], &columns[..], &[""]].concat()),
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
                // Any kind the customer can force, "not an export" last.
                let kinds: Vec<(String, String)> = FileKind::KNOWN
                    .into_iter()
                    .chain([FileKind::Unknown])
                    .map(|k| (k.as_str().to_string(), prep::labels::kind(k).to_string()))
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
                [th].into_iter()
                    .chain(labelled(
                        [
                            td_with(&kind),
                            td_with(&encoding),
                            delimiter,
                            td(&input.rows.to_string()),
                        ],
                        &columns,
                    ))
                    .collect()
            }
            None => [th]
                .into_iter()
                .chain(labelled([td("—"), td("—"), td("—"), td("—")], &columns))
                .collect(),
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

pub(super) fn date_orders() -> Vec<(String, String)> {
    vec![
        (String::new(), "as detected".into()),
        ("mdy".into(), "month/day (US)".into()),
        ("dmy".into(), "day/month".into()),
    ]
}

pub(super) fn order_word(o: Option<DateOrder>) -> &'static str {
    match o {
        Some(DateOrder::Mdy) => "mdy",
        Some(DateOrder::Dmy) => "dmy",
        None => "",
    }
}

pub(super) fn draw_custom_fields(an: &Analysis) {
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
