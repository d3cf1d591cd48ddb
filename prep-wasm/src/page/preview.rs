//! "See a contact as it will look in Freshsales": a search by name or email, the matches,
//! and the chosen contact with its fields, notes, to-dos, appointments and review items.

use prep::preview::{Preview, RecordPreview};

use super::*;

pub(super) async fn search(key: Option<String>) {
    let query = by_id::<HtmlInputElement>("record-search")
        .map(|i| i.value())
        .unwrap_or_default();
    if query.trim().is_empty() && key.is_none() {
        notify("preview", "Type a name or an email first.", true);
        return;
    }
    let mapping =
        with_app(|a| serde_json::to_string(&a.overrides).unwrap_or_default()).unwrap_or_default();
    notify("preview", "Looking…", false);
    let answer = call(
        Request::Preview {
            mapping,
            query: query.clone(),
            key,
        },
        None,
    )
    .await;
    match answer.and_then(|a| {
        serde_json::from_str::<Preview>(&a.text.unwrap_or_default()).map_err(|e| e.to_string())
    }) {
        Ok(p) => {
            let msg = match p.total {
                0 => format!("No contact matches “{}”.", query.trim()),
                1 => "1 contact matches.".to_string(),
                n if n > p.matches.len() => {
                    format!(
                        "{n} contacts match; the first {} are listed.",
                        p.matches.len()
                    )
                }
                n => format!("{n} contacts match."),
            };
            notify("preview", &msg, false);
            draw_preview(&p);
        }
        Err(e) => notify("preview", &e, true),
    }
}

fn draw_preview(p: &Preview) {
    if let Some(list) = by_id::<Element>("record-matches") {
        clear(&list);
        if p.matches.len() > 1 {
            let ul = el("ul");
            set_attr(&ul, "class", "matches");
            for (i, m) in p.matches.iter().enumerate() {
                let li = el("li");
                let label = match &m.email {
                    Some(e) if e != &m.name => format!("{} ({e})", m.name),
                    _ => m.name.clone(),
                };
                let b = text_el("button", &label);
                set_attr(&b, "type", "button");
                set_attr(&b, "class", "secondary");
                set_attr(&b, "id", &format!("record-match-{i}"));
                set_attr(&b, "data-key", &m.key);
                append(&li, &b);
                append(&ul, &li);
            }
            append(&list, &ul);
        }
    }
    let Some(root) = by_id::<Element>("record-preview") else {
        return;
    };
    clear(&root);
    if let Some(r) = &p.record {
        draw_record(&root, r);
    }
    mark_scrollers();
}

fn draw_record(root: &Element, r: &RecordPreview) {
    append(root, &text_el("h3", &prep::preview::name_of(&r.contact)));
    let from = r
        .contact
        .sources
        .iter()
        .map(|s| format!("{} row {}", s.file, s.row))
        .collect::<Vec<_>>()
        .join(", ");
    append(root, &text_el("p", &format!("From {from}.")));
    let table = el("table");
    append(&table, &text_el("caption", "Contact fields in Freshsales"));
    append(&table, &header_row(&["Field", "Value"]));
    let body = el("tbody");
    for (label, value) in &r.fields {
        let th = text_el("th", label);
        set_attr(&th, "scope", "row");
        let v = td(value);
        set_attr(&v, "data-field", label);
        append(&body, &row(&[th, v]));
    }
    append(&table, &body);
    let wrap = el("div");
    set_attr(&wrap, "class", "scroll");
    append(&wrap, &table);
    append(root, &wrap);

    let section = |title: String, items: Vec<String>| {
        append(root, &text_el("h4", &title));
        if items.is_empty() {
            append(root, &text_el("p", "None."));
            return;
        }
        let ul = el("ul");
        set_attr(&ul, "class", "attached");
        for i in items {
            append(&ul, &text_el("li", &i));
        }
        append(root, &ul);
    };
    section(
        format!("Notes ({})", r.notes.len()),
        r.notes
            .iter()
            .map(|n| match &n.date {
                Some(d) => format!("{d}: {}", n.text),
                None => n.text.clone(),
            })
            .collect(),
    );
    section(
        format!("To-dos ({})", r.tasks.len()),
        r.tasks
            .iter()
            .map(|t| {
                format!(
                    "{} (due {}, {})",
                    t.title,
                    t.due_date.as_deref().unwrap_or("the confirmation day"),
                    format!("{:?}", t.status).to_lowercase()
                )
            })
            .collect(),
    );
    section(
        format!("Appointments ({})", r.appointments.len()),
        r.appointments
            .iter()
            .map(|a| {
                format!(
                    "{} ({}{})",
                    a.title,
                    a.start.as_deref().unwrap_or("no start"),
                    a.end
                        .as_deref()
                        .map(|e| format!(" to {e}"))
                        .unwrap_or_default()
                )
            })
            .collect(),
    );
    section(
        format!("Needs your attention ({})", r.review.len()),
        r.review
            .iter()
            .map(|i| format!("{}: {}", i.reason.label(), i.message))
            .collect(),
    );
}
