//! Notes, tasks and appointments: the three kinds of record created under a contact. This
//! module says what differs between them (the body, what identifies one across exports,
//! where the account lists them); `children` drives all three the same way.

use std::collections::HashMap;

use prep::model::{Appointment, Note, Task, TaskStatus};
use serde_json::Value;

use super::{Ctx, text_fingerprint};
use crate::api::CallError;
use crate::journal::Phase;
use crate::payload;

/// A record created under a contact.
pub(super) enum Child {
    Note(Note),
    Task(Task),
    Appointment(Appointment),
}

impl Child {
    pub(super) fn phase(&self) -> Phase {
        match self {
            Child::Note(_) => Phase::Notes,
            Child::Task(_) => Phase::Tasks,
            Child::Appointment(_) => Phase::Appointments,
        }
    }

    /// The collection path and the JSON root of one record.
    pub(super) fn path_and_root(&self) -> (&'static str, &'static str) {
        match self {
            Child::Note(_) => ("/notes", "note"),
            Child::Task(_) => ("/tasks", "task"),
            Child::Appointment(_) => ("/appointments", "appointment"),
        }
    }

    pub(super) fn key(&self) -> &str {
        match self {
            Child::Note(n) => &n.key,
            Child::Task(t) => &t.key,
            Child::Appointment(a) => &a.key,
        }
    }

    /// The bundle key of its contact; `None` for an appointment that has none.
    pub(super) fn contact(&self) -> Option<&str> {
        match self {
            Child::Note(n) => Some(&n.contact),
            Child::Task(t) => Some(&t.contact),
            Child::Appointment(a) => a.contact.as_deref(),
        }
    }

    /// `file row N`, for the error report.
    pub(super) fn source(&self) -> String {
        let s = match self {
            Child::Note(n) => &n.source,
            Child::Task(t) => &t.source,
            Child::Appointment(a) => &a.source,
        };
        format!("{} row {}", s.file, s.row)
    }

    /// The record as the bundle has it, for the error report.
    pub(super) fn record_json(&self) -> Value {
        match self {
            Child::Note(n) => serde_json::to_value(n),
            Child::Task(t) => serde_json::to_value(t),
            Child::Appointment(a) => serde_json::to_value(a),
        }
        .unwrap_or_default()
    }

    /// What the record is, as exported: journalled with it, and compared by `--since` to
    /// tell an unchanged record from a changed one. For notes the text sent (a changed note
    /// has another key anyway); for tasks and appointments their exported content, stable
    /// across exports (unlike a fallback due date, which is the confirmation time).
    pub(super) fn identity(&self, ctx: &Ctx) -> String {
        match self {
            Child::Note(n) => text_fingerprint(&payload::note_description(n, &ctx.pre.zone)),
            Child::Task(t) => super::fingerprint(&(
                &t.contact,
                &t.title,
                &t.details,
                &t.due_date,
                &t.owner,
                t.priority,
                &t.task_type,
                &t.completed_date,
            )),
            Child::Appointment(a) => super::fingerprint(&(
                &a.contact, &a.title, &a.details, &a.start, &a.end, a.all_day, &a.owner,
            )),
        }
    }

    /// Whether a changed record the previous load created is updated in place (`--since`)
    /// rather than created again. A note's key changes with its text, so a changed note is a
    /// new note.
    pub(super) fn updates_in_place(&self) -> bool {
        !matches!(self, Child::Note(_))
    }

    /// The create body, or why the record cannot be sent.
    pub(super) fn body(&self, ctx: &Ctx, contact: Option<i64>) -> Result<Value, String> {
        let zone = &ctx.pre.zone;
        match self {
            Child::Note(n) => Ok(payload::note(n, contact.unwrap_or_default(), zone)),
            Child::Task(t) => {
                let owner = ctx.pre.targets.owner(t.owner.as_deref());
                Ok(payload::task(
                    t,
                    contact.unwrap_or_default(),
                    owner,
                    &ctx.fallback_due,
                    zone,
                ))
            }
            Child::Appointment(a) => {
                let owner = ctx.pre.targets.owner(a.owner.as_deref());
                payload::appointment(a, contact, owner, zone, &ctx.forms).ok_or_else(|| {
                    "its start is not a date and time the time zone can place".to_string()
                })
            }
        }
    }

    /// A closed task must be completed after it is created.
    pub(super) fn completes(&self) -> Option<&Task> {
        match self {
            Child::Task(t) if t.status == TaskStatus::Completed => Some(t),
            _ => None,
        }
    }
}

/// Records of one kind in the account, grouped by the contact they are under (`None`: under
/// none).
pub(super) type Index = HashMap<Option<i64>, Vec<Value>>;

/// Pages through `path` (with its query) collecting `root` records by target.
async fn pages(ctx: &Ctx, path: &str, root: &str, into: &mut Index) -> Result<(), CallError> {
    let mut page = 1u64;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let a = ctx
            .client
            .get(&format!("{path}{sep}page={page}&per_page=100"))
            .await?;
        for v in a.body[root].as_array().into_iter().flatten() {
            into.entry(v["targetable_id"].as_i64())
                .or_default()
                .push(v.clone());
        }
        if page >= a.body["meta"]["total_pages"].as_u64().unwrap_or(1) {
            return Ok(());
        }
        page += 1;
    }
}

/// Every record of the kind in the account, by contact. Tasks and appointments have no
/// confirmed per-contact list upstream, so the account's lists are paged (one call per 100).
pub(super) async fn account_index(ctx: &Ctx, phase: Phase) -> Result<Index, CallError> {
    let mut index = Index::new();
    let lists: &[&str] = match phase {
        Phase::Tasks => &[
            "/tasks?filter=open&include=targetable",
            "/tasks?filter=completed&include=targetable",
        ],
        Phase::Appointments => &["/appointments?filter=past", "/appointments?filter=upcoming"],
        _ => &[],
    };
    let root = if phase == Phase::Tasks {
        "tasks"
    } else {
        "appointments"
    };
    for path in lists {
        pages(ctx, path, root, &mut index).await?;
    }
    Ok(index)
}

/// The records of the kind under one contact, read now: a note's contact lists its notes;
/// an appointment's may list them (unconfirmed upstream: a 404 falls back to the account's
/// lists); a lost task is still open, so the open list is paged.
pub(super) async fn under(
    ctx: &Ctx,
    phase: Phase,
    contact: Option<i64>,
) -> Result<Vec<Value>, CallError> {
    let from = |mut index: Index| index.remove(&contact).unwrap_or_default();
    match (phase, contact) {
        (Phase::Notes, Some(id)) => {
            let a = ctx.client.get(&format!("/contacts/{id}/notes")).await?;
            Ok(a.body["notes"].as_array().cloned().unwrap_or_default())
        }
        (Phase::Tasks, _) => {
            let mut index = Index::new();
            pages(
                ctx,
                "/tasks?filter=open&include=targetable",
                "tasks",
                &mut index,
            )
            .await?;
            Ok(from(index))
        }
        (Phase::Appointments, Some(id)) => {
            match ctx
                .client
                .get(&format!("/contacts/{id}/appointments"))
                .await
            {
                Ok(a) => Ok(a.body["appointments"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()),
                // No such route here (a JSON or an HTML 404): page the account's lists.
                Err(CallError::Rejected { status: 404, .. })
                | Err(CallError::NotJson { status: 404, .. }) => {
                    Ok(from(account_index(ctx, phase).await?))
                }
                Err(e) => Err(e),
            }
        }
        (Phase::Appointments, None) => Ok(from(account_index(ctx, phase).await?)),
        _ => Ok(Vec::new()),
    }
}
