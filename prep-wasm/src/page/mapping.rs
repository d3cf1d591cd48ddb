//! Drawing the mapping: one section per file kind, each column with its Freshsales field,
//! three real values and what Freshsales receives for them, and its check (a problem, a
//! guess to look at, or "your choice" with a way back to the suggestion).

use super::*;

/// The mapping table's columns.
const HEADERS: [&str; 4] = [
    "Your column",
    "Freshsales field",
    "Real values → in Freshsales",
    "Check",
];

/// Proposals below this confidence are marked for the customer to look at.
const SURE: f64 = 0.8;

/// The targets offered for a column of `kind`, as (value, Freshsales label).
fn options(
    kind: FileKind,
    current: &str,
    custom_labels: &[&str],
    source: &str,
) -> Vec<(String, String)> {
    let mut values: Vec<String> = Vec::new();
    if !targets(kind).contains(&current.to_string()) {
        values.push(current.to_string());
    }
    values.extend(targets(kind));
    if kind == FileKind::Contacts {
        for l in custom_labels {
            values.push(format!("custom:{l}"));
        }
        values.push(format!("custom:{source}"));
    }
    let mut seen = std::collections::BTreeSet::new();
    values.retain(|v| seen.insert(v.clone()));
    values
        .into_iter()
        .map(|v| {
            let label = v
                .parse::<Target>()
                .map_or_else(|_| v.clone(), |t| prep::labels::target(&t));
            (v, label)
        })
        .collect()
}

pub(super) fn draw_mapping(an: &Analysis, overrides: &Mapping) {
    let Some(root) = by_id::<Element>("mapping-table") else {
        return;
    };
    clear(&root);
    let custom_labels: Vec<&str> = an
        .mapping
        .custom_fields
        .iter()
        .map(|d| d.label.as_str())
        .collect();
    let mut n = 0;
    for (kind, columns) in &an.mapping.columns {
        let problems: Vec<&prep::checks::Problem> =
            an.problems.iter().filter(|p| p.kind == *kind).collect();
        let unsure = columns
            .iter()
            .filter(|c| c.confidence < SURE && overrides.column(*kind, &c.source).is_none())
            .count();
        let details = el("details");
        set_attr(&details, "data-kind", kind.as_str());
        set_attr(&details, "id", &format!("mapping-{}", kind.as_str()));
        if !problems.is_empty() || unsure > 0 {
            set_attr(&details, "open", "");
        }
        let mut title = format!("{} · {} columns", prep::labels::kind(*kind), columns.len());
        let blocking = problems.iter().filter(|p| p.blocking).count();
        if blocking > 0 {
            title.push_str(&format!(" · {blocking} to fix"));
        }
        if unsure > 0 {
            title.push_str(&format!(" · {unsure} to check"));
        }
        append(&details, &text_el("summary", &title));
        let table = el("table");
        set_attr(&table, "class", "stack");
        append(&table, &header_row(&HEADERS));
        let body = el("tbody");
        for col in columns {
            n += 1;
            let current = col.target.to_string();
            let label = format!(
                "Freshsales field for the {} column {}",
                prep::labels::kind(*kind),
                col.source
            );
            let s = select(
                &format!("map-{n}"),
                &label,
                &options(*kind, &current, &custom_labels, &col.source),
                &current,
            );
            set_attr(&s, "data-kind", kind.as_str());
            set_attr(&s, "data-source", &col.source);
            set_attr(&s, "data-field", "target");
            let field_cell = td_with(&s);
            if let Target::Field(f) = &col.target
                && f.is_date()
            {
                let o = select(
                    &format!("map-order-{n}"),
                    &format!("Date order of the column {}", col.source),
                    &date_orders(),
                    order_word(col.date_order),
                );
                set_attr(&o, "data-kind", kind.as_str());
                set_attr(&o, "data-source", &col.source);
                set_attr(&o, "data-field", "date_order");
                append(&field_cell, &o);
            }
            let source = text_el("th", &col.source);
            set_attr(&source, "scope", "row");
            let samples = el("ul");
            set_attr(&samples, "class", "samples");
            set_attr(&samples, "data-testid", "column-samples");
            let found = an
                .samples
                .iter()
                .find(|s| s.kind == *kind && s.column == col.source);
            match found.map(|s| s.samples.as_slice()).unwrap_or_default() {
                [] => append(&samples, &text_el("li", "(no values)")),
                list => {
                    for sample in list {
                        let li = el("li");
                        append(&li, &text_el("span", &sample.value));
                        append(&li, &text_el("span", " → "));
                        let b = text_el("span", &sample.becomes);
                        set_attr(&b, "class", "becomes");
                        append(&li, &b);
                        append(&samples, &li);
                    }
                }
            }
            let check = el("td");
            let mine: Vec<&&prep::checks::Problem> = problems
                .iter()
                .filter(|p| p.column.as_deref() == Some(col.source.as_str()))
                .collect();
            for p in &mine {
                let m = text_el("p", &p.message);
                set_attr(
                    &m,
                    "class",
                    if p.blocking { "problem" } else { "notice-text" },
                );
                append(&check, &m);
            }
            let chosen = overrides.column(*kind, &col.source).is_some();
            if chosen {
                append(&check, &text_el("p", "Your choice."));
                let back = text_el("button", "Back to the suggestion");
                set_attr(&back, "type", "button");
                set_attr(&back, "class", "secondary");
                set_attr(&back, "id", &format!("map-back-{n}"));
                set_attr(&back, "data-revert-kind", kind.as_str());
                set_attr(&back, "data-revert-source", &col.source);
                set_attr(
                    &back,
                    "aria-label",
                    &format!("Back to the suggestion for {}", col.source),
                );
                append(&check, &back);
            } else {
                let sure = col.confidence >= SURE;
                let text = if sure {
                    format!("Suggested: {}.", col.reason)
                } else {
                    format!("Please check: suggested from {}.", col.reason)
                };
                append(&check, &text_el("p", &text));
            }
            let tr = row(&labelled(
                [source, field_cell, td_with(&samples), check],
                &HEADERS,
            ));
            if mine.iter().any(|p| p.blocking) {
                set_attr(&tr, "class", "blocking");
            } else if !chosen && col.confidence < SURE {
                set_attr(&tr, "class", "unsure");
            }
            append(&body, &tr);
        }
        append(&table, &body);
        let wrap = el("div");
        set_attr(&wrap, "class", "scroll");
        append(&wrap, &table);
        append(&details, &wrap);
        append(&root, &details);
    }
}
