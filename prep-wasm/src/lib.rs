//! The browser page's entry point, in the style of ruff's `ruff_wasm`: one `Workspace`
//! holding the dropped files, with serde values in and out. All logic lives in `prep`; this
//! file only adapts it. The wasm-bindgen attributes come with the page (they wrap these
//! methods one to one), so everything here is also tested natively.

use prep::report::{Summary, queue_csv};
use prep::review::{Reason, ReviewItem};
use prep::{Confirmation, InputFile, Mapping, Options, PrepError, Prepared, Settings, bundle};
use serde::{Deserialize, Serialize};

/// What the page shows after every change: files, mapping, inventory and queues.
#[derive(Debug, Serialize, Deserialize)]
pub struct Analysis {
    /// Scope summary (counts, inputs, custom fields, tags, owners, review counts).
    pub summary: Summary,
    /// The effective mapping, with confidence and reason per column.
    pub mapping: Mapping,
    /// The first items of each review queue (the page shows these; the CSV has all).
    pub review: Vec<ReviewItem>,
}

/// The files the customer dropped and the settings they chose.
#[derive(Default)]
pub struct Workspace {
    files: Vec<InputFile>,
    settings: Settings,
}

/// How many items of each review queue an [`Analysis`] carries.
pub const REVIEW_PREVIEW: usize = 20;

impl Workspace {
    /// A workspace with the given settings (JSON of `prep::Settings`; `None` for defaults).
    pub fn new(settings_json: Option<&str>) -> Result<Workspace, PrepError> {
        let settings = match settings_json {
            Some(s) => {
                serde_json::from_str(s).map_err(|e| PrepError::Mapping(format!("settings: {e}")))?
            }
            None => Settings::default(),
        };
        Ok(Workspace {
            files: Vec::new(),
            settings,
        })
    }

    /// Adds (or replaces) a file.
    pub fn add_file(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.retain(|f| f.name != name);
        self.files.push(InputFile {
            name: name.to_string(),
            bytes,
        });
    }

    /// Removes a file.
    pub fn remove_file(&mut self, name: &str) {
        self.files.retain(|f| f.name != name);
    }

    fn run(
        &self,
        mapping: Option<&str>,
        confirmation: Option<Confirmation>,
    ) -> Result<Prepared, PrepError> {
        let mapping = mapping
            .map(Mapping::from_json)
            .transpose()
            .map_err(PrepError::Mapping)?;
        prep::prepare(
            &self.files,
            &Options {
                mapping,
                settings: self.settings.clone(),
                confirmation,
            },
        )
    }

    /// Prepares with the given mapping JSON (or the proposal) and returns what to show.
    pub fn analyse(&self, mapping: Option<&str>) -> Result<Analysis, PrepError> {
        let p = self.run(mapping, None)?;
        let mut review = Vec::new();
        for r in Reason::ALL {
            review.extend(
                p.review
                    .iter()
                    .filter(|i| i.reason == r)
                    .take(REVIEW_PREVIEW)
                    .cloned(),
            );
        }
        Ok(Analysis {
            summary: Summary::of(&bundle::manifest(&p)),
            mapping: p.mapping_file(),
            review,
        })
    }

    /// The confirmed bundle's bytes: identical to `loader prepare --mapping M --confirmed-by
    /// NAME --confirmed-at AT` on the same files.
    pub fn bundle(
        &self,
        mapping: Option<&str>,
        confirmed_by: &str,
        confirmed_at: &str,
    ) -> Result<Vec<u8>, PrepError> {
        if confirmed_by.trim().is_empty() {
            return Err(PrepError::Mapping(
                "a confirmation needs the confirming person's name".into(),
            ));
        }
        let confirmation = Confirmation {
            confirmed_by: confirmed_by.trim().to_string(),
            confirmed_at: confirmed_at.to_string(),
        };
        bundle::to_bytes(&self.run(mapping, Some(confirmation))?)
    }

    /// The scope report in Markdown.
    pub fn report_markdown(&self, mapping: Option<&str>) -> Result<String, PrepError> {
        let p = self.run(mapping, None)?;
        Ok(Summary::of(&bundle::manifest(&p)).markdown(&p.review))
    }

    /// One review queue as spreadsheet-safe CSV (`reason` is e.g. `orphan_note`).
    pub fn review_csv(&self, mapping: Option<&str>, reason: &str) -> Result<String, PrepError> {
        let reason: Reason = serde_json::from_value(serde_json::Value::String(reason.to_string()))
            .map_err(|_| PrepError::Mapping(format!("unknown review reason '{reason}'")))?;
        Ok(queue_csv(&self.run(mapping, None)?.review, reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyse_edit_and_bundle() {
        let mut ws = Workspace::new(None).unwrap();
        ws.add_file(
            "Contacts.csv",
            b"Email,First Name,Fax\r\nada@example.com,Ada,555\r\nbad@,Bo,\r\n".to_vec(),
        );
        ws.add_file(
            "Notes.csv",
            b"Email,Note\r\nada@example.com,<b>hi</b>\r\nzed@example.com,lost\r\n".to_vec(),
        );
        let a = ws.analyse(None).unwrap();
        assert_eq!(a.summary.objects.contacts.loaded, 1);
        assert_eq!(a.summary.review["orphan_note"], 1);
        let mut m = a.mapping.clone();
        for c in m.columns.get_mut(&prep::kind::FileKind::Contacts).unwrap() {
            if c.source == "Fax" {
                c.target = prep::mapping::Target::Ignore;
            }
        }
        let json = serde_json::to_string(&m).unwrap();
        let b = ws.analyse(Some(&json)).unwrap();
        assert!(b.summary.custom_fields.is_empty());
        let bytes = ws
            .bundle(Some(&json), "Ada", "2026-01-01T00:00:00Z")
            .unwrap();
        let (manifest, _) = bundle::verify(&bytes[..]).unwrap();
        assert_eq!(manifest.confirmation.unwrap().confirmed_by, "Ada");
        assert!(ws.bundle(None, " ", "x").is_err());
        assert!(
            ws.review_csv(None, "orphan_note")
                .unwrap()
                .contains("zed@example.com")
        );
        assert!(ws.review_csv(None, "nope").is_err());
        ws.remove_file("Contacts.csv");
        assert!(ws.analyse(None).is_err());
    }
}
