//! Drawing the review queues (counts, first rows, CSV downloads) and the scope summary.

use super::*;

pub(super) fn draw_queues(an: &Analysis) {
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
pub(super) fn record_text(record: &[(String, String)]) -> String {
    record
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(h, v)| format!("{h}: {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(super) fn draw_scope(an: &Analysis) {
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
