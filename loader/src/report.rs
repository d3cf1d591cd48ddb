//! Per-phase reconciliation: expected, created, updated, skipped (with reasons) and failed
//! (with the API's error), as JSON and CSV, plus an error file of rejected records that can
//! be fixed and re-run.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::journal::Phase;

/// One phase's reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseReport {
    /// Phase name.
    pub phase: String,
    /// Records in the bundle for this phase.
    pub expected: u64,
    /// Created by this load.
    pub created: u64,
    /// Updated (existed before).
    pub updated: u64,
    /// Not sent, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Refused by Freshsales.
    pub failed: u64,
    /// Sent, but no answer came back however often it was tried (never refused): the
    /// journal keeps them in doubt and the next `push` settles them by reading back.
    #[serde(default)]
    pub in_doubt: u64,
}

impl PhaseReport {
    /// Whether every expected record is accounted for.
    pub fn balanced(&self) -> bool {
        self.expected
            == self.created
                + self.updated
                + self.skipped.values().sum::<u64>()
                + self.failed
                + self.in_doubt
    }
}

/// A rejected record, for the error file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRow {
    /// Phase.
    pub phase: String,
    /// Bundle key.
    pub key: String,
    /// Input file and row it came from.
    pub source: String,
    /// HTTP status; none when no answer came back (the record is in doubt, not refused).
    pub status: Option<u16>,
    /// The API's message.
    pub error: String,
    /// The bundle record (JSON), to fix and re-run.
    pub record: String,
}

/// Writes `report-<phase>.json` and `.csv`.
pub fn write_phase(dir: &Path, phase: Phase, r: &PhaseReport) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(format!("report-{}.json", phase.as_str())),
        serde_json::to_string_pretty(r)?,
    )?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "phase",
        "expected",
        "created",
        "updated",
        "skipped",
        "skipped_reasons",
        "failed",
        "in_doubt",
    ])?;
    let reasons = r
        .skipped
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    w.write_record([
        r.phase.clone(),
        r.expected.to_string(),
        r.created.to_string(),
        r.updated.to_string(),
        r.skipped.values().sum::<u64>().to_string(),
        reasons,
        r.failed.to_string(),
        r.in_doubt.to_string(),
    ])?;
    std::fs::write(
        dir.join(format!("report-{}.csv", phase.as_str())),
        w.into_inner()?,
    )?;
    Ok(())
}

/// Writes `errors.csv` (spreadsheet-safe) with every rejected record.
pub fn write_errors(dir: &Path, rows: &[ErrorRow]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["phase", "key", "source", "status", "error", "record"])?;
    for r in rows {
        let status = r.status.map(|s| s.to_string()).unwrap_or_default();
        let cells = [&r.phase, &r.key, &r.source, &status, &r.error, &r.record];
        w.write_record(cells.iter().map(|c| prep::report::neutralise(c)))?;
    }
    std::fs::write(dir.join("errors.csv"), w.into_inner()?)?;
    Ok(())
}
