//! The crash-safe journal: an append-only JSON Lines file next to the bundle, fsync'd after
//! every entry. An intent is written before every write to Freshsales and an outcome after,
//! so a run killed at any point can be resumed without duplicating or losing anything.
//! It never holds the API key.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The load phases, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Sales accounts, upserted by name.
    Accounts,
    /// Contacts, upserted by email (created when they have none).
    Contacts,
    /// Notes on contacts.
    Notes,
    /// Tasks on contacts (created, then completed when closed).
    Tasks,
    /// Appointments, with their contact as target and attendee (or none).
    Appointments,
    /// Email templates and workflows: a manual-step pack, no API calls.
    Manual,
}

impl Phase {
    /// All phases in order.
    pub const ALL: [Phase; 6] = [
        Phase::Accounts,
        Phase::Contacts,
        Phase::Notes,
        Phase::Tasks,
        Phase::Appointments,
        Phase::Manual,
    ];

    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Accounts => "accounts",
            Phase::Contacts => "contacts",
            Phase::Notes => "notes",
            Phase::Tasks => "tasks",
            Phase::Appointments => "appointments",
            Phase::Manual => "manual",
        }
    }
}

/// What the record looked like in Freshsales before the load touched it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PreImage {
    /// Not there: the load creates it (rollback deletes it).
    Absent,
    /// There, with these fields (rollback restores them).
    Present {
        /// Freshsales id.
        id: i64,
        /// The record as read.
        record: Value,
    },
    /// Not looked up (notes and tasks are always created).
    NotApplicable,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// A run started.
    Start {
        /// The bundle's content hash: a journal belongs to one bundle.
        bundle_sha256: String,
        /// Where it pushes (the base URL; never the key).
        target: String,
        /// RFC 3339.
        at: String,
    },
    /// About to write a record.
    Intent {
        #[allow(missing_docs)]
        phase: Phase,
        /// The record's bundle key.
        key: String,
        /// What the record was before (for upserts).
        pre_image: PreImage,
    },
    /// The write landed.
    Done {
        #[allow(missing_docs)]
        phase: Phase,
        #[allow(missing_docs)]
        key: String,
        /// Freshsales id.
        id: i64,
        /// Whether the load created it (rollback deletes) or updated it (rollback restores).
        created: bool,
        /// Fingerprint of the bundle record, for delta loads.
        fingerprint: String,
        /// The record's `updated_at` right after the write, to spot later edits by people.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        updated_at: Option<String>,
    },
    /// A closed task was marked completed.
    Completed {
        #[allow(missing_docs)]
        key: String,
    },
    /// Freshsales refused the record: it goes to the error file.
    Failed {
        #[allow(missing_docs)]
        phase: Phase,
        #[allow(missing_docs)]
        key: String,
        /// HTTP status, when there was an answer.
        status: Option<u16>,
        /// The API's message.
        error: String,
    },
    /// Not sent, with the reason.
    Skipped {
        #[allow(missing_docs)]
        phase: Phase,
        #[allow(missing_docs)]
        key: String,
        #[allow(missing_docs)]
        reason: String,
    },
    /// A phase ended.
    PhaseDone {
        #[allow(missing_docs)]
        phase: Phase,
    },
    /// `loader plan --probe` learnt which request forms the account accepts; a push uses
    /// them unless told otherwise (the last probe wins).
    Probe {
        /// Where it probed (the base URL; never the key).
        target: String,
        /// RFC 3339.
        at: String,
        /// The forms accepted.
        forms: crate::payload::Forms,
    },
    /// Rollback undid a record (deleted, restored, or kept because someone edited it).
    RolledBack {
        #[allow(missing_docs)]
        key: String,
        /// `deleted`, `restored`, `kept_edited`, `already_gone`.
        action: String,
    },
}

/// An open journal file.
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` for appending.
    ///
    /// The journal is locked for as long as the returned value lives, so a second `push` or
    /// `rollback` of the same load refuses to start instead of interleaving its writes. The
    /// lock is the operating system's (`flock`), so a crashed or killed run cannot leave it
    /// stuck.
    pub fn open(path: &Path) -> Result<Journal> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open journal {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "{} is in use by another loader (a push or rollback of this load is still \
                 running): wait for it to finish, or stop it, then run this again",
                path.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock journal {}", path.display()));
            }
        }
        // Only with the lock held: a running load may be in the middle of a line.
        cut_torn_tail(path)?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one entry and forces it to disk before returning.
    pub fn append(&mut self, entry: &Entry) -> Result<()> {
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .with_context(|| format!("cannot write journal {}", self.path.display()))?;
        self.file
            .sync_data()
            .with_context(|| format!("cannot sync journal {}", self.path.display()))?;
        Ok(())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Cuts a torn last line (the process died mid-write) off the journal, so the next entry
/// starts on a line of its own instead of gluing onto the fragment.
fn cut_torn_tail(path: &Path) -> Result<()> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(()); // not there yet
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot repair journal {}", path.display()))?;
    file.set_len(keep as u64)?;
    file.sync_all()?;
    Ok(())
}

/// Reads every complete entry of a journal. A torn last line (the process died mid-write)
/// is ignored: its write was never acknowledged to anyone.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let file =
        File::open(path).with_context(|| format!("cannot read journal {}", path.display()))?;
    let mut out = Vec::new();
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read journal {}", path.display()))?;
        if n == 0 {
            break;
        }
        number += 1;
        if !line.ends_with(b"\n") {
            break;
        }
        let text = std::str::from_utf8(&line).map_err(|_| {
            anyhow::anyhow!(
                "{} line {number} is damaged: it holds bytes that are not text",
                path.display()
            )
        })?;
        let entry = serde_json::from_str(text.trim_end())
            .with_context(|| format!("{} line {number} is damaged", path.display()))?;
        out.push(entry);
    }
    Ok(out)
}

/// What a journal says about each record.
#[derive(Debug, Default)]
pub struct State {
    /// The bundle the journal belongs to.
    pub bundle_sha256: Option<String>,
    /// The account (API base URL) the journal's writes went to.
    pub target: Option<String>,
    /// The pre-image journalled before each record's first write: read before anything of
    /// this load landed, so it stays the truth however many attempts follow.
    pub first_pre_image: HashMap<String, PreImage>,
    /// Landed writes by key.
    pub done: HashMap<String, Entry>,
    /// Intents without an outcome (ambiguous: the write may or may not have landed).
    pub pending: HashMap<String, Entry>,
    /// Refused records by key.
    pub failed: HashMap<String, Entry>,
    /// Tasks already marked completed.
    pub completed: std::collections::HashSet<String>,
    /// Phases finished.
    pub phases_done: Vec<Phase>,
    /// Records rolled back.
    pub rolled_back: HashMap<String, String>,
    /// The forms the last probe found, and the target it probed.
    pub probed: Option<(String, crate::payload::Forms)>,
    /// Every Freshsales id a landed write answers for (kept as entries are applied, so
    /// "is this record already someone's?" costs nothing per record).
    pub claimed: std::collections::HashSet<i64>,
}

impl State {
    /// Replays entries in order.
    pub fn replay(entries: &[Entry]) -> State {
        let mut s = State::default();
        for e in entries {
            s.apply(e);
        }
        s
    }

    /// Takes one more entry into account.
    pub fn apply(&mut self, e: &Entry) {
        match e {
            Entry::Start {
                bundle_sha256,
                target,
                ..
            } => {
                self.bundle_sha256
                    .get_or_insert_with(|| bundle_sha256.clone());
                self.target.get_or_insert_with(|| target.clone());
            }
            Entry::Intent { key, pre_image, .. } => {
                self.first_pre_image
                    .entry(key.clone())
                    .or_insert_with(|| pre_image.clone());
                self.pending.insert(key.clone(), e.clone());
            }
            Entry::Done { key, id, .. } => {
                self.pending.remove(key);
                self.failed.remove(key);
                self.claimed.insert(*id);
                self.done.insert(key.clone(), e.clone());
            }
            Entry::Failed { key, .. } => {
                self.pending.remove(key);
                self.failed.insert(key.clone(), e.clone());
            }
            Entry::Skipped { key, .. } => {
                self.pending.remove(key);
            }
            Entry::Completed { key } => {
                self.completed.insert(key.clone());
            }
            Entry::PhaseDone { phase } => {
                if !self.phases_done.contains(phase) {
                    self.phases_done.push(*phase);
                }
            }
            Entry::RolledBack { key, action } => {
                self.rolled_back.insert(key.clone(), action.clone());
            }
            Entry::Probe { target, forms, .. } => {
                self.probed = Some((target.clone(), forms.clone()));
            }
        }
    }

    /// Whether an earlier attempt at `key` may have landed without the journal knowing:
    /// an intent without outcome, or a failure that was no clear refusal (lost answers,
    /// retries given up).
    pub fn in_doubt(&self, key: &str) -> bool {
        self.pending.contains_key(key)
            || matches!(
                self.failed.get(key),
                Some(Entry::Failed { status: None, .. })
            )
    }

    /// The Freshsales id of a landed record.
    pub fn id(&self, key: &str) -> Option<i64> {
        match self.done.get(key) {
            Some(Entry::Done { id, .. }) => Some(*id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_survives_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut j = Journal::open(&path).unwrap();
        j.append(&Entry::Start {
            bundle_sha256: "abc".into(),
            target: "http://x".into(),
            at: "now".into(),
        })
        .unwrap();
        j.append(&Entry::Intent {
            phase: Phase::Contacts,
            key: "email:a@b.co".into(),
            pre_image: PreImage::Absent,
        })
        .unwrap();
        j.append(&Entry::Done {
            phase: Phase::Contacts,
            key: "email:a@b.co".into(),
            id: 70000000001,
            created: true,
            fingerprint: "f".into(),
            updated_at: None,
        })
        .unwrap();
        j.append(&Entry::Intent {
            phase: Phase::Notes,
            key: "note:1".into(),
            pre_image: PreImage::NotApplicable,
        })
        .unwrap();
        drop(j);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"event\":\"done\",\"pha")
            .unwrap();
        let s = State::replay(&read(&path).unwrap());
        assert_eq!(s.bundle_sha256.as_deref(), Some("abc"));
        assert_eq!(s.target.as_deref(), Some("http://x"));
        assert_eq!(s.id("email:a@b.co"), Some(70000000001));
        assert!(s.pending.contains_key("note:1"));
        assert!(s.in_doubt("note:1"));
        assert!(!s.pending.contains_key("email:a@b.co"));
        // The resumed run appends after the last whole line, not onto the fragment.
        let mut j = Journal::open(&path).unwrap();
        j.append(&Entry::Failed {
            phase: Phase::Notes,
            key: "note:1".into(),
            status: None,
            error: "no reliable answer".into(),
        })
        .unwrap();
        drop(j);
        let s = State::replay(&read(&path).expect("no damaged line"));
        assert!(s.in_doubt("note:1"), "an ambiguous failure stays in doubt");
        assert_eq!(
            s.first_pre_image.get("note:1"),
            Some(&PreImage::NotApplicable)
        );
    }
}
