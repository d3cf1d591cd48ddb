//! Drawing the scope: records per object, tags, owners, custom fields and notices.

use super::*;

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
    append(&root, &scrolling(&table));

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
        &header_row(&[
            "Owner in AllClients",
            "Freshsales user",
            "Name",
            "Status",
            "Records",
        ]),
    );
    let body = el("tbody");
    for owner in &s.owners {
        let status = serde_json::to_value(owner.status)
            .ok()
            .and_then(|v| {
                v.as_str().map(|s| match s {
                    "in_users_file" => "found in your team members".to_string(),
                    "assigned" => "assigned by you".to_string(),
                    _ => "not found: choose a user in step 4".to_string(),
                })
            })
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
    append(&root, &scrolling(&table));

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
