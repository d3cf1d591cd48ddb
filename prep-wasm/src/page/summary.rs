//! The summary at the top: what will move, what needs the customer, and what will not move
//! (with what the manual-step pack holds instead).

use super::*;

/// What AllClients has that no export carries, so nothing here can move it.
const NOT_MIGRATED: [&str; 6] = [
    "Workflows and autoresponders: the manual-step pack lists them as a checklist to set up again in Freshsales.",
    "To-do plans: the to-dos they created move; the plans themselves are rebuilt by hand.",
    "Email campaigns and their statistics.",
    "Email history (sent and received emails): AllClients does not export it.",
    "Team members' logins: each owner needs a Freshsales user, which your migration engineer checks before loading.",
    "Files and images attached to contacts.",
];

fn count_line(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(super) fn draw_summary(an: &Analysis) {
    let Some(root) = by_id::<Element>("summary-body") else {
        return;
    };
    clear(&root);
    let o = &an.summary.objects;
    let moving = el("ul");
    for line in [
        count_line(o.contacts.loaded, "contact", "contacts"),
        count_line(
            o.accounts.loaded,
            "company (sales account)",
            "companies (sales accounts)",
        ),
        count_line(o.notes.loaded, "note", "notes"),
        count_line(o.tasks.loaded, "to-do (task)", "to-dos (tasks)"),
        count_line(o.appointments.loaded, "appointment", "appointments"),
        count_line(an.summary.tags.len() as u64, "tag", "tags"),
        count_line(
            an.summary.custom_fields.len() as u64,
            "custom field",
            "custom fields",
        ),
    ] {
        append(&moving, &text_el("li", &line));
    }
    let block = el("div");
    set_attr(&block, "class", "glance");
    let moves = el("div");
    append(&moves, &text_el("h3", "Will move to Freshsales"));
    append(&moves, &moving);
    append(&block, &moves);

    let needs = el("div");
    append(&needs, &text_el("h3", "Needs you"));
    let list = el("ul");
    let blocking: Vec<&prep::checks::Problem> = an.problems.iter().filter(|p| p.blocking).collect();
    if !blocking.is_empty() {
        let li = text_el(
            "li",
            &format!(
                "{} in the mapping (Confirm stays off until they are fixed)",
                count_line(blocking.len() as u64, "problem", "problems")
            ),
        );
        set_attr(&li, "class", "problem");
        append(&list, &li);
    }
    for r in Reason::ALL {
        let n = an.summary.review.get(r.as_str()).copied().unwrap_or(0);
        if n > 0 {
            append(&list, &text_el("li", &r.title(n)));
        }
    }
    for p in an.problems.iter().filter(|p| !p.blocking) {
        append(&list, &text_el("li", &p.message));
    }
    if list.child_element_count() == 0 {
        append(
            &list,
            &text_el("li", "Nothing: everything found its place."),
        );
    }
    append(&needs, &list);
    append(&block, &needs);
    append(&root, &block);
    append(
        &root,
        &text_el(
            "p",
            &format!(
                "Every value in your files has a place: {}.",
                an.summary.ledger_line()
            ),
        ),
    );

    if let Some(not) = by_id::<Element>("not-migrated") {
        clear(&not);
        append(&not, &text_el("h3", "Will not move automatically"));
        let list = el("ul");
        let templates = o.templates.loaded;
        if templates > 0 {
            append(
                &list,
                &text_el(
                    "li",
                    &format!(
                        "{}: they go into the manual-step pack, to rebuild in Freshsales.",
                        count_line(templates, "email template", "email templates")
                    ),
                ),
            );
        }
        for line in NOT_MIGRATED {
            append(&list, &text_el("li", line));
        }
        append(&not, &list);
    }
}
