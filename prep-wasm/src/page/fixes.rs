//! "Fix what needs you": the review queues in plain words, with a fix in place for each
//! fixable item (a value, an owner's user, a date order), the list of corrections made
//! (each undoable), and saving / loading corrections.

use prep::corrections::{CellFix, Corrections, fixable, leavable};
use prep::review::ReviewItem;

use super::*;

pub(super) fn draw_queues(an: &Analysis) {
    let Some(root) = by_id::<Element>("queues") else {
        return;
    };
    clear(&root);
    let mut any = false;
    let users: Vec<String> = an
        .team_members
        .iter()
        .filter_map(|m| m.email.clone())
        .collect();
    if !users.is_empty() {
        let list = el("datalist");
        set_attr(&list, "id", "team-emails");
        for u in &users {
            let o = el("option");
            set_attr(&o, "value", u);
            append(&list, &o);
        }
        append(&root, &list);
    }
    let mut n = 0;
    for reason in Reason::ALL {
        let count = an.summary.review.get(reason.as_str()).copied().unwrap_or(0);
        if count == 0 {
            continue;
        }
        any = true;
        let section = el("section");
        set_attr(&section, "class", "queue");
        set_attr(&section, "data-queue", reason.as_str());
        append(&section, &text_el("h3", &reason.title(count)));
        append(&section, &text_el("p", reason.explain()));
        let items: Vec<&ReviewItem> = an
            .review
            .iter()
            .filter(|i| i.reason == reason)
            .take(PREVIEW_ROWS)
            .collect();
        let table = el("table");
        set_attr(&table, "class", "stack");
        append(
            &table,
            &text_el("caption", &format!("The first {} of {count}", items.len())),
        );
        // Only the columns this queue uses: a Fix column where something can be fixed, the
        // row's cells where rows are carried.
        let can_fix = items.iter().any(|i| {
            fixable(i)
                || leavable(i)
                || matches!(i.reason, Reason::UnknownOwner | Reason::AmbiguousDate)
        });
        let has_row = items.iter().any(|i| !i.record.is_empty());
        let mut names = vec!["Where", "Value", "What happened"];
        if can_fix {
            names.push("Fix");
        }
        if has_row {
            names.push("The row");
        }
        append(&table, &header_row(&names));
        let body = el("tbody");
        for item in items {
            n += 1;
            let place = match item.row {
                Some(r) => format!("{} row {r}", item.file),
                None => item.file.clone(),
            };
            let place = match &item.column {
                Some(c) => format!("{place}, {c}"),
                None => place,
            };
            let mut cells = vec![
                td(&place),
                td(item.value.as_deref().unwrap_or("")),
                td(&item.message),
            ];
            if can_fix {
                cells.push(fix_cell(an, item, n));
            }
            if has_row {
                cells.push(td(&record_text(&item.record)));
            }
            append(&body, &row(&labelled(cells, &names)));
        }
        append(&table, &body);
        let wrap = el("div");
        set_attr(&wrap, "class", "scroll");
        append(&wrap, &table);
        append(&section, &wrap);
        let button = text_el(
            "button",
            &format!("Download all {count} as a spreadsheet (CSV)"),
        );
        set_attr(&button, "type", "button");
        set_attr(&button, "class", "secondary");
        set_attr(
            &button,
            "id",
            &format!("queue-download-{}", reason.as_str()),
        );
        set_attr(&button, "data-reason", reason.as_str());
        append(&section, &button);
        append(&root, &section);
    }
    if !any {
        append(&root, &text_el("p", "Nothing to fix."));
    }
}

/// The fix control of one item, or an empty cell; rows get a "leave behind" too.
fn fix_cell(an: &Analysis, item: &ReviewItem, n: usize) -> Element {
    let cell = fix_control(an, item, n);
    if leavable(item)
        && let Some(row) = item.row
    {
        let b = text_el("button", "Leave this row behind");
        set_attr(&b, "type", "button");
        set_attr(&b, "class", "secondary");
        set_attr(&b, "id", &format!("leave-{n}"));
        set_attr(&b, "data-leave-file", &item.file);
        set_attr(&b, "data-leave-row", &row.to_string());
        set_attr(
            &b,
            "aria-label",
            &format!("Leave {} row {row} behind: not migrated", item.file),
        );
        append(&cell, &b);
    }
    cell
}

fn fix_control(an: &Analysis, item: &ReviewItem, n: usize) -> Element {
    let cell = el("td");
    let form = |input: Element, what: &str| {
        let f = el("form");
        set_attr(&f, "class", "fix");
        set_attr(&f, "data-fix", &n.to_string());
        append(&f, &input);
        let b = text_el("button", "Apply");
        set_attr(&b, "type", "submit");
        set_attr(&b, "id", &format!("fix-apply-{n}"));
        set_attr(&b, "data-testid", "fix-apply");
        set_attr(&b, "aria-label", &format!("Apply the fix of {what}"));
        append(&f, &b);
        f
    };
    if fixable(item) {
        let (Some(row), Some(column), value) = (item.row, &item.column, &item.value) else {
            return cell;
        };
        let input: HtmlInputElement = el("input").unchecked_into();
        input.set_type("text");
        input.set_value(value.as_deref().unwrap_or(""));
        let input: Element = input.into();
        set_attr(&input, "id", &format!("fix-input-{n}"));
        set_attr(&input, "data-testid", "fix-input");
        set_attr(&input, "data-file", &item.file);
        set_attr(&input, "data-row", &row.to_string());
        set_attr(&input, "data-column", column);
        set_attr(&input, "data-original", value.as_deref().unwrap_or(""));
        let what = format!("{column} in {} row {row}", item.file);
        set_attr(&input, "aria-label", &format!("New value of {what}"));
        append(&cell, &form(input, &what));
    } else if item.reason == Reason::UnknownOwner
        && let Some(owner) = &item.value
    {
        let input: HtmlInputElement = el("input").unchecked_into();
        input.set_type("email");
        let input: Element = input.into();
        set_attr(&input, "id", &format!("fix-input-{n}"));
        set_attr(&input, "data-testid", "fix-input");
        set_attr(&input, "data-owner", owner);
        set_attr(&input, "list", "team-emails");
        set_attr(&input, "placeholder", "user@yourcompany.com");
        let what = format!("the owner {owner}");
        set_attr(
            &input,
            "aria-label",
            &format!("Email of the Freshsales user who takes over {owner}'s records"),
        );
        append(&cell, &form(input, &what));
        append(
            &cell,
            &text_el(
                "p",
                "Leave it empty and your migration engineer's default owner takes them.",
            ),
        );
    } else if item.reason == Reason::AmbiguousDate
        && let Some(column) = &item.column
    {
        let kind = an
            .summary
            .inputs
            .iter()
            .find(|i| i.file == item.file)
            .and_then(|i| {
                serde_json::from_value::<FileKind>(serde_json::Value::String(i.kind.clone())).ok()
            });
        if let Some(kind) = kind
            && let Some(col) = an.mapping.column(kind, column)
        {
            let current = match &col.target {
                Target::Custom(label) => an.mapping.custom_field(label).and_then(|d| d.date_order),
                _ => col.date_order,
            };
            let s = select(
                &format!("fix-order-{n}"),
                &format!("Date order of the column {column}"),
                &date_orders(),
                order_word(current),
            );
            set_attr(&s, "data-kind", kind.as_str());
            set_attr(&s, "data-source", column);
            match &col.target {
                Target::Custom(label) => {
                    set_attr(&s, "data-label", label);
                    set_attr(&s, "data-field", "date_order");
                }
                _ => {
                    set_attr(&s, "data-field", "date_order");
                }
            }
            append(&cell, &s);
        }
    }
    cell
}

/// A held or merged row as `Header: cell` pairs (empty cells left out), shown as text.
pub(super) fn record_text(record: &prep::review::Record) -> String {
    record
        .pairs()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(h, v)| format!("{h}: {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The corrections made, each with its Undo.
pub(super) fn draw_corrections(c: &Corrections) {
    let Some(root) = by_id::<Element>("corrections") else {
        return;
    };
    clear(&root);
    if c.is_empty() {
        return;
    }
    append(
        &root,
        &text_el("h3", &format!("Your corrections ({})", c.len())),
    );
    let ul = el("ul");
    for (i, fix) in c.cells.iter().enumerate() {
        undo_item(
            &ul,
            &format!(
                "{} row {}, {}: “{}” → “{}” ",
                fix.file, fix.row, fix.column, fix.original, fix.value
            ),
            "cell",
            i,
            &format!("Undo the fix of {} row {}", fix.file, fix.row),
        );
    }
    for (i, o) in c.owners.iter().enumerate() {
        undo_item(
            &ul,
            &format!("Owner {} → {} ", o.owner, o.email),
            "owner",
            i,
            &format!("Undo the owner {}", o.owner),
        );
    }
    for (i, r) in c.rows_left.iter().enumerate() {
        undo_item(
            &ul,
            &format!("{} row {} left behind ", r.file, r.row),
            "row",
            i,
            &format!("Load {} row {} after all", r.file, r.row),
        );
    }
    append(&root, &ul);
}

/// One correction in the list, with its Undo button (`undo-<kind>-<i>`, `data-undo-<kind>`).
fn undo_item(ul: &Element, text: &str, kind: &str, i: usize, label: &str) {
    let li = text_el("li", text);
    let b = text_el("button", "Undo");
    set_attr(&b, "type", "button");
    set_attr(&b, "class", "secondary");
    set_attr(&b, "id", &format!("undo-{kind}-{i}"));
    set_attr(&b, &format!("data-undo-{kind}"), &i.to_string());
    set_attr(&b, "aria-label", label);
    append(&li, &b);
    append(ul, &li);
}

/// "Leave this row behind": a correction, checked again at once.
pub(super) fn on_leave(e: &web_sys::Event) -> bool {
    let (Some(file), Some(row)) = (
        data_of(e, "data-leave-file"),
        data_of(e, "data-leave-row").and_then(|r| r.parse::<u64>().ok()),
    ) else {
        return false;
    };
    with_app(|a| a.corrections.leave_row(&file, row));
    notify(
        "review",
        &format!("{file} row {row} is left behind; undo it in the list of corrections."),
        false,
    );
    spawn_local(send_corrections());
    true
}

/// A fix form was submitted: record the correction and prepare again.
pub(super) fn on_fix(form: &Element) {
    let Some(input) = form
        .query_selector("input")
        .ok()
        .flatten()
        .and_then(|i| i.dyn_into::<HtmlInputElement>().ok())
    else {
        return;
    };
    let value = input.value();
    let ok = with_app(|a| {
        if let Some(owner) = input.get_attribute("data-owner") {
            if !value.trim().is_empty() && !prep::values::is_valid_email(value.trim()) {
                return Err(format!("“{value}” is not an email address."));
            }
            a.corrections.set_owner(&owner, &value);
            return Ok(if value.trim().is_empty() {
                format!("{owner}'s records go to the default owner.")
            } else {
                format!("{owner}'s records go to {}.", value.trim())
            });
        }
        let (Some(file), Some(row), Some(column), Some(original)) = (
            input.get_attribute("data-file"),
            input.get_attribute("data-row").and_then(|r| r.parse().ok()),
            input.get_attribute("data-column"),
            input.get_attribute("data-original"),
        ) else {
            return Err("This item cannot be fixed here.".into());
        };
        a.corrections.set_cell(CellFix {
            file: file.clone(),
            row,
            column: column.clone(),
            original,
            value: value.clone(),
        });
        Ok(format!(
            "{file} row {row}, {column} is now “{value}”. Checked again below."
        ))
    });
    match ok {
        Some(Ok(msg)) => {
            notify("review", &msg, false);
            spawn_local(send_corrections());
        }
        Some(Err(e)) => notify("review", &e, true),
        None => {}
    }
}

/// Undo buttons: take one correction back.
pub(super) fn on_undo(e: &web_sys::Event) -> bool {
    let cell = data_of(e, "data-undo-cell").and_then(|i| i.parse::<usize>().ok());
    let owner = data_of(e, "data-undo-owner").and_then(|i| i.parse::<usize>().ok());
    let row = data_of(e, "data-undo-row").and_then(|i| i.parse::<usize>().ok());
    if cell.is_none() && owner.is_none() && row.is_none() {
        return false;
    }
    with_app(|a| {
        if let Some(i) = cell
            && i < a.corrections.cells.len()
        {
            a.corrections.cells.remove(i);
        }
        if let Some(i) = owner
            && i < a.corrections.owners.len()
        {
            a.corrections.owners.remove(i);
        }
        if let Some(i) = row
            && i < a.corrections.rows_left.len()
        {
            a.corrections.rows_left.remove(i);
        }
    });
    notify("review", "Correction undone.", false);
    spawn_local(send_corrections());
    true
}

/// Hands the corrections to the workspace and prepares again. A correction the export
/// refuses (its file no longer holds the original) is taken back at once, so the page is
/// never left without a preparation to show.
pub(super) async fn send_corrections() {
    let json =
        with_app(|a| serde_json::to_string(&a.corrections).unwrap_or_default()).unwrap_or_default();
    if let Err(e) = call(Request::Corrections { corrections: json }, None).await {
        notify("review", &e, true);
        return;
    }
    reanalyse().await;
    let failed = with_app(|a| {
        if a.analysis.is_none() && a.corrections != a.good_corrections {
            a.corrections = a.good_corrections.clone();
            true
        } else {
            a.good_corrections = a.corrections.clone();
            false
        }
    })
    .unwrap_or(false);
    if failed {
        let why = by_id::<Element>("msg-files")
            .and_then(|e| e.text_content())
            .unwrap_or_default();
        let json = with_app(|a| serde_json::to_string(&a.corrections).unwrap_or_default())
            .unwrap_or_default();
        if call(Request::Corrections { corrections: json }, None)
            .await
            .is_ok()
        {
            reanalyse().await;
        }
        notify("files", "", false);
        notify(
            "review",
            &format!("That correction could not be applied, so it was undone: {why}"),
            true,
        );
    }
}

pub(super) fn save_corrections() {
    let json = with_app(|a| serde_json::to_string_pretty(&a.corrections).unwrap_or_default())
        .unwrap_or_default();
    save(
        json.as_bytes(),
        "application/json",
        "allclients.corrections.json",
    );
    notify(
        "review",
        "Corrections saved as allclients.corrections.json.",
        false,
    );
}

/// Loads a corrections file (replaces the corrections) or an edited review CSV (adds its
/// changes).
pub(super) async fn load_corrections(file: File) {
    let name = file.name().to_lowercase();
    let blob = gloo_file::Blob::from(web_sys::Blob::from(file));
    let text = match gloo_file::futures::read_as_text(&blob).await {
        Ok(t) => t,
        Err(e) => {
            notify("review", &format!("Could not read that file: {e}"), true);
            return;
        }
    };
    let found = if name.ends_with(".csv") {
        let mapping = with_app(|a| serde_json::to_string(&a.overrides).unwrap_or_default())
            .unwrap_or_default();
        call(Request::QueueCorrections { mapping, csv: text }, None)
            .await
            .and_then(|a| Corrections::from_json(&a.text.unwrap_or_default()))
            .map(|c| (c, false))
    } else {
        Corrections::from_json(&text).map(|c| (c, true))
    };
    match found {
        Ok((c, replace)) => {
            let n = c.len();
            with_app(|a| {
                if replace {
                    a.corrections = c;
                } else {
                    a.corrections.add_from_queue(c);
                }
            });
            notify("review", &format!("{n} corrections loaded."), false);
            send_corrections().await;
        }
        Err(e) => notify("review", &format!("That file cannot be used: {e}"), true),
    }
}
