//! The page's requests to a [`Workspace`], one dispatch for the worker and the in-page
//! fallback alike.

use prep::PrepError;
use serde::{Deserialize, Serialize};

use crate::Workspace;

/// One request to a [`Workspace`] from the page, which may live in a Web Worker: the page
/// sends these as JSON (a file's bytes travel beside it), so the worker and the in-page
/// fallback run the same dispatch ([`Workspace::handle`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Add (or replace) a file; its bytes come with the request.
    Add {
        /// Name (a `/`-separated relative path for files from a folder).
        name: String,
    },
    /// Remove a file.
    Remove {
        /// Its name.
        name: String,
    },
    /// Name the groups field ([`Workspace::set_groups_field_label`]).
    GroupsField {
        /// The label.
        label: String,
    },
    /// State the account's time zone ([`Workspace::set_time_zone`]).
    TimeZone {
        /// The IANA name.
        zone: String,
    },
    /// [`Workspace::analyse`].
    Analyse {
        /// Mapping JSON (the customer's edits).
        mapping: String,
    },
    /// [`Workspace::confirm`].
    Confirm {
        /// Mapping JSON (the whole confirmed mapping).
        mapping: String,
        /// Who confirms.
        confirmed_by: String,
        /// When (RFC 3339).
        confirmed_at: String,
    },
    /// Replace the corrections ([`Workspace::set_corrections`]).
    Corrections {
        /// JSON of the whole corrections.
        corrections: String,
    },
    /// [`Workspace::preview`].
    Preview {
        /// Mapping JSON.
        mapping: String,
        /// What to search for.
        query: String,
        /// The contact to show (a key from an earlier answer), else the first match.
        #[serde(default)]
        key: Option<String>,
    },
    /// [`Workspace::corrections_from_queue`].
    QueueCorrections {
        /// Mapping JSON.
        mapping: String,
        /// The edited queue's CSV text.
        csv: String,
    },
    /// [`Workspace::review_csv`].
    Queue {
        /// Mapping JSON.
        mapping: String,
        /// The queue (`orphan_note`, …).
        reason: String,
    },
}

/// What a [`Request`] returns: text (an [`Analysis`] as JSON, a report, a CSV) and bytes
/// (a bundle), either possibly empty.
#[derive(Debug, Default, PartialEq)]
pub struct Answer {
    /// JSON of an [`Analysis`], the scope report, or a queue's CSV.
    pub text: Option<String>,
    /// The bundle.
    pub bytes: Option<Vec<u8>>,
}

impl Workspace {
    /// Runs one request (`bytes`: the file of an [`Request::Add`]).
    pub fn handle(
        &mut self,
        request: Request,
        bytes: Option<Vec<u8>>,
    ) -> Result<Answer, PrepError> {
        let text = |t: String| Answer {
            text: Some(t),
            bytes: None,
        };
        Ok(match request {
            Request::Add { name } => {
                self.add_export_file(&name, bytes.unwrap_or_default())?;
                Answer::default()
            }
            Request::Remove { name } => {
                self.remove_file(&name);
                Answer::default()
            }
            Request::GroupsField { label } => {
                self.set_groups_field_label(&label);
                Answer::default()
            }
            Request::TimeZone { zone } => {
                self.set_time_zone(&zone);
                Answer::default()
            }
            Request::Analyse { mapping } => {
                let analysis = self.analyse(Some(&mapping))?;
                text(
                    serde_json::to_string(&analysis)
                        .map_err(|e| PrepError::Mapping(e.to_string()))?,
                )
            }
            Request::Confirm {
                mapping,
                confirmed_by,
                confirmed_at,
            } => {
                let c = self.confirm(Some(&mapping), &confirmed_by, &confirmed_at)?;
                Answer {
                    text: Some(c.report),
                    bytes: Some(c.bundle),
                }
            }
            Request::Queue { mapping, reason } => text(self.review_csv(Some(&mapping), &reason)?),
            Request::Corrections { corrections } => {
                self.set_corrections(&corrections)?;
                Answer::default()
            }
            Request::Preview {
                mapping,
                query,
                key,
            } => {
                let p = self.preview(Some(&mapping), &query, key.as_deref())?;
                text(serde_json::to_string(&p).map_err(|e| PrepError::Mapping(e.to_string()))?)
            }
            Request::QueueCorrections { mapping, csv } => {
                let c = self.corrections_from_queue(Some(&mapping), &csv)?;
                text(serde_json::to_string(&c).map_err(|e| PrepError::Mapping(e.to_string()))?)
            }
        })
    }
}
