//! The browser page's entry point, in the style of ruff's `ruff_wasm`: one `Workspace`
//! holding the dropped files, with serde values in and out. All logic lives in `prep`; this
//! file only adapts it, in plain Rust so everything here is also tested natively.
//!
//! On wasm32, `wasm` wraps these methods one to one for JavaScript (`#[wasm_bindgen]`), and
//! with the `page` feature `page` is the customer's page (DOM glue over this `Workspace`).

mod files;
pub use files::Reread;
mod request;
pub use prep::mapping::targets;
pub use request::{Answer, Request};
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod page;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod worker;

use prep::corrections::Corrections;
use prep::notes::NoteSource;
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
    /// Problems of the mapping; a blocking one keeps Confirm disabled.
    pub problems: Vec<prep::checks::Problem>,
    /// Real values of each column and what Freshsales receives for them.
    pub samples: Vec<prep::samples::ColumnSamples>,
    /// Team members from the users file (the people an unknown owner can be given to).
    pub team_members: Vec<prep::model::TeamMember>,
    /// The corrections in effect.
    pub corrections: Corrections,
}

/// What confirming produces: the two files the customer downloads.
pub struct Confirmed {
    /// The bundle (`*.bundle.jsonl.gz`).
    pub bundle: Vec<u8>,
    /// The scope report (`*.bundle.scope.md`).
    pub report: String,
}

/// The files the customer dropped and the settings they chose.
#[derive(Default)]
pub struct Workspace {
    files: files::Files,
    settings: Settings,
    corrections: Corrections,
    capacity: u64,
    memory: u64,
}

/// How many items of each review queue an [`Analysis`] carries.
pub const REVIEW_PREVIEW: usize = 20;

/// The largest export (bytes, all files together) the page prepares. A wasm32 page has at
/// most 4 GiB of memory; with tables that keep the decoded files as their text, notes planned
/// in 12 bytes and built one at a time and the bundle streamed out of WASM memory, a 2.04 GB
/// export (51 MB of contacts, 1990 MB of notes) completes, peaking at 3730 MiB
/// (`LARGE_CONTACTS_MB=50 LARGE_NOTES_MB=1950 cargo bench -p browser-tests --bench large`).
/// Beyond this the customer is told up front to use `loader prepare`, which runs the same
/// core natively. Exports below it that would not fit (contacts cost more per byte than
/// notes) are refused up front by the memory estimate ([`BROWSER_MEMORY`]) instead, before
/// anything is built.
pub const BROWSER_CAPACITY: u64 = 2048 * 1024 * 1024;

/// The WASM memory a preparation may count on (of wasm32's 4096 MiB, some kept spare).
pub const BROWSER_MEMORY: u64 = 3900 * 1024 * 1024;

/// WASM memory a preparation takes per byte of a contacts file, and per byte of any other
/// file: contacts are built and held whole, notes are planned in 12 bytes and built one at a
/// time; the files' bytes become their tables' text (`files.rs`). Two runs of `cargo bench
/// -p browser-tests --bench large` (2026-12-02, in bytes: the bench reports MiB) fit 7.82
/// and 1.765: 204 MB of contacts with 614 MB of notes peaked at 2678 MB, 51 MB with 1990 MB
/// at 3911 MB. Contacts then shrank (their custom values, lists and lookups): the first
/// export peaked at 2451 MB, which with 1.765 for the notes fits 6.70 a byte of contacts.
/// On 2026-12-04 contacts were drafted a run at a time and their values held inline when
/// short (`model::Text`): the first export peaked at 2308 MB, fitting 6.0, and a
/// contacts-heavy one (575 MB of contacts, 10 MB of notes) at 3639 MB, 6.3. Rounded up,
/// so the three are estimated above what they took (2431, 3913 and 3756 MB).
const CONTACT_BYTE_COST: f64 = 6.5;
const OTHER_BYTE_COST: f64 = 1.8;

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
            files: files::Files::default(),
            settings,
            corrections: Corrections::default(),
            capacity: BROWSER_CAPACITY,
            memory: BROWSER_MEMORY,
        })
    }

    /// Sets the largest export this workspace prepares (tests; [`BROWSER_CAPACITY`] otherwise).
    pub fn set_capacity(&mut self, bytes: u64) {
        self.capacity = bytes;
    }

    /// Sets the memory a preparation may count on (tests; [`BROWSER_MEMORY`] otherwise).
    pub fn set_memory(&mut self, bytes: u64) {
        self.memory = bytes;
    }

    /// The memory (bytes) preparing the files is expected to take, and the file whose
    /// contacts weigh most (or the largest file).
    fn memory_estimate(&self) -> (u64, String) {
        let cost = |(contacts, other): (u64, u64)| {
            contacts as f64 * CONTACT_BYTE_COST + other as f64 * OTHER_BYTE_COST
        };
        let total: f64 = self.files.weights().map(|(_, w)| cost(w)).sum();
        let heaviest = self
            .files
            .weights()
            .max_by(|a, b| cost(a.1).total_cmp(&cost(b.1)))
            .map(|(name, _)| name.to_string())
            .unwrap_or_default();
        (total as u64, heaviest)
    }

    /// From now on, files are read once when added and their bytes let go; `reread` gives
    /// a file's bytes again when the mapping chooses another encoding or delimiter for it
    /// (the worker reads the browser's `File` again).
    pub fn set_reread(&mut self, reread: Reread) {
        self.files.set_reread(reread);
    }

    /// Adds (or replaces) a file.
    pub fn add_file(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.insert(InputFile {
            name: name.to_string(),
            bytes,
        });
    }

    /// Adds a file once it is known to be readable as an export: a file that is not one
    /// (an image, a PDF, a broken spreadsheet) is refused in plain words and not added, so
    /// it never counts in the export.
    pub fn add_export_file(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), PrepError> {
        let file = InputFile {
            name: name.to_string(),
            bytes,
        };
        let refuse = |why: String| PrepError::Input {
            file: name.to_string(),
            message: format!("not added: {why}"),
        };
        self.files.insert_checked(file).map_err(|r| match r {
            files::Refused::Unopened(PrepError::Input { message, .. }) => refuse(message),
            files::Refused::Unopened(other) => refuse(other.to_string()),
            files::Refused::Binary => refuse(
                "it is not a CSV, spreadsheet, zip or HTML export file (it holds binary data, such as an image or a document)"
                    .into(),
            ),
        })
    }

    /// Removes a file.
    pub fn remove_file(&mut self, name: &str) {
        self.files.remove(name);
    }

    /// The names of the files held, sorted (the order `prep` reads them in).
    pub fn file_names(&self) -> Vec<String> {
        self.files.names()
    }

    /// Total size of the files held, in bytes (for the page's throughput figure).
    pub fn total_bytes(&self) -> u64 {
        self.files.total_bytes()
    }

    /// The settings in effect.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Names the multi-select field that receives AllClients groups (`loader prepare
    /// --groups-field`). A blank name keeps the current one, since the field needs a label.
    pub fn set_groups_field_label(&mut self, label: &str) {
        let label = label.trim();
        if !label.is_empty() {
            self.settings.groups_field_label = label.to_string();
        }
    }

    /// The AllClients account's time zone, an IANA name (`loader prepare --time-zone`); the
    /// page proposes the browser's. Blank: not stated.
    pub fn set_time_zone(&mut self, zone: &str) {
        let zone = zone.trim();
        self.settings.time_zone = (!zone.is_empty()).then(|| zone.to_string());
    }

    /// Prepares the files and hands the result to `then` with its notes unbuilt: they are
    /// the bulk of an export, and only the bundle needs them (built one at a time).
    fn run<R>(
        &self,
        mapping: Option<&str>,
        confirmation: Option<Confirmation>,
        then: impl FnOnce(Prepared, &NoteSource) -> Result<R, PrepError>,
    ) -> Result<R, PrepError> {
        let total = self.total_bytes();
        if total > self.capacity {
            let largest = self.files.largest();
            return Err(PrepError::Input {
                file: largest,
                message: format!(
                    "this export is {} MB in all, more than the {} MB a browser tab can prepare. \
                     Run `loader prepare --input <folder> --out <bundle>` on this computer \
                     instead: it runs the same preparation and gives the same bundle, and it \
                     does not send anything anywhere either",
                    total.div_ceil(1024 * 1024),
                    self.capacity / (1024 * 1024)
                ),
            });
        }
        let (needed, heaviest) = self.memory_estimate();
        if needed > self.memory {
            return Err(PrepError::Input {
                file: heaviest,
                message: format!(
                    "this export would need about {} MB of memory to prepare here (contacts \
                     take the most), more than the {} MB a browser tab has. Run `loader \
                     prepare --input <folder> --out <bundle>` on this computer instead: it \
                     runs the same preparation and gives the same bundle, and it does not send \
                     anything anywhere either",
                    needed.div_ceil(1024 * 1024),
                    self.memory / (1024 * 1024)
                ),
            });
        }
        let mapping = mapping
            .map(Mapping::from_json)
            .transpose()
            .map_err(PrepError::Mapping)?;
        let options = Options {
            mapping,
            settings: self.settings.clone(),
            confirmation,
            corrections: self.corrections.clone(),
        };
        self.files.with_read(options.mapping.as_ref(), |files| {
            prep::prepare::prepare_read(files, &options, then)
        })
    }

    /// Prepares with the given mapping JSON (or the proposal) and returns what to show.
    pub fn analyse(&self, mapping: Option<&str>) -> Result<Analysis, PrepError> {
        self.run(mapping, None, |p, notes| Ok(Self::analysis(&p, notes)))
    }

    fn analysis(p: &Prepared, notes: &NoteSource) -> Analysis {
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
        Analysis {
            summary: Summary::of(&bundle::manifest_with(p, notes)),
            mapping: p.mapping_file(),
            review,
            problems: p.problems.clone(),
            samples: p.samples.clone(),
            team_members: p.team_members.clone(),
            corrections: p.corrections.clone(),
        }
    }

    /// Replaces the corrections (JSON of `prep::corrections::Corrections`).
    pub fn set_corrections(&mut self, json: &str) -> Result<(), PrepError> {
        self.corrections = Corrections::from_json(json)
            .map_err(|e| PrepError::Mapping(format!("corrections: {e}")))?;
        Ok(())
    }

    /// Finds contacts by name or email and previews one (`key`, else the first match) as
    /// it will land in Freshsales.
    pub fn preview(
        &self,
        mapping: Option<&str>,
        query: &str,
        key: Option<&str>,
    ) -> Result<prep::preview::Preview, PrepError> {
        self.run(mapping, None, |p, notes| {
            Ok(prep::preview::find(&p, notes, query, key))
        })
    }

    /// The corrections an edited review-queue CSV makes, beside those in effect (the page
    /// adds them with its own).
    pub fn corrections_from_queue(
        &self,
        mapping: Option<&str>,
        csv: &str,
    ) -> Result<Corrections, PrepError> {
        self.run(mapping, None, |p, _| {
            Corrections::from_queue_csv(csv, &p.review).map_err(PrepError::Mapping)
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
        self.run(mapping, Some(confirmation), |p, notes| {
            prep::checks::refuse_blocking(&p.problems)?;
            let mut out = Vec::new();
            bundle::write_streaming(&p, notes, &mut out)?;
            Ok(out)
        })
    }

    /// Confirms: the bundle (as [`Workspace::bundle`]) and its scope report in Markdown, the
    /// report being the one `loader prepare` writes next to the bundle (`*.scope.md`: it
    /// names the confirmation and the written bundle's content hash).
    pub fn confirm(
        &self,
        mapping: Option<&str>,
        confirmed_by: &str,
        confirmed_at: &str,
    ) -> Result<Confirmed, PrepError> {
        let mut bundle = Vec::new();
        let report = self.confirm_into(mapping, confirmed_by, confirmed_at, &mut bundle)?;
        Ok(Confirmed { bundle, report })
    }

    /// [`Workspace::confirm`] writing the bundle to `out` as it is made (the worker streams
    /// it out of WASM memory, which a large export's bundle would not fit in beside the
    /// export); returns the scope report.
    pub fn confirm_into(
        &self,
        mapping: Option<&str>,
        confirmed_by: &str,
        confirmed_at: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<String, PrepError> {
        if confirmed_by.trim().is_empty() {
            return Err(PrepError::Mapping(
                "a confirmation needs the confirming person's name".into(),
            ));
        }
        let confirmation = Confirmation {
            confirmed_by: confirmed_by.trim().to_string(),
            confirmed_at: confirmed_at.to_string(),
        };
        self.run(mapping, Some(confirmation), |p, notes| {
            prep::checks::refuse_blocking(&p.problems)?;
            // The hash in the report is the one of the content actually written.
            let written = bundle::write_streaming(&p, notes, &mut *out)?;
            let mut summary = Summary::of(&bundle::manifest_with(&p, notes));
            summary.content_sha256 = written.content_sha256;
            Ok(summary.markdown(&p.review))
        })
    }

    /// The scope report in Markdown (a draft: no confirmation).
    pub fn report_markdown(&self, mapping: Option<&str>) -> Result<String, PrepError> {
        self.run(mapping, None, |p, notes| {
            Ok(Summary::of(&bundle::manifest_with(&p, notes)).markdown(&p.review))
        })
    }

    /// One review queue as spreadsheet-safe CSV (`reason` is e.g. `orphan_note`).
    pub fn review_csv(&self, mapping: Option<&str>, reason: &str) -> Result<String, PrepError> {
        let reason: Reason = serde_json::from_value(serde_json::Value::String(reason.to_string()))
            .map_err(|_| PrepError::Mapping(format!("unknown review reason '{reason}'")))?;
        self.run(mapping, None, |p, _| Ok(queue_csv(&p.review, reason)))
    }
}

/// The name a file found in a dropped or picked folder gets, or `None` to skip it: the same
/// rule as `loader prepare --input FOLDER` (path relative to the folder, `/`-separated;
/// hidden files and folders skipped; the extensions of `prep::archive::EXTENSIONS`), so the page's bundle
/// names its inputs exactly as the CLI does. `path` starts with the folder's own name, as
/// the browser's `webkitRelativePath` does.
pub fn folder_entry_name(path: &str) -> Option<String> {
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    parts.next()?; // the dropped folder itself
    let rest = parts.collect::<Vec<&str>>().join("/");
    prep::archive::is_export_path(&rest).then_some(rest)
}

#[cfg(test)]
mod tests;
