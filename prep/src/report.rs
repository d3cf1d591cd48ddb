//! The scope report (the discovery document): counts, custom-field inventory, tags, owners
//! and review queues, as JSON (what `loader inspect --json` prints) and Markdown; and the
//! review queues as spreadsheet-safe CSV.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::bundle::Manifest;
use crate::fields::CustomFieldDef;
use crate::model::{Objects, Owner};
use crate::prepare::{Confirmation, InputSummary};
use crate::review::{Reason, ReviewItem};

/// The scope summary of a bundle: the stable JSON other tools script against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Bundle format version.
    pub format_version: u32,
    /// The verified content hash.
    pub content_sha256: String,
    /// Record lines in the bundle.
    pub records: u64,
    /// Tool version that wrote it.
    pub tool_version: String,
    /// Input files.
    pub inputs: Vec<InputRow>,
    /// Counts per object.
    pub objects: Objects,
    /// All tags.
    pub tags: Vec<String>,
    /// Custom fields.
    pub custom_fields: Vec<CustomFieldDef>,
    /// Owners.
    pub owners: Vec<Owner>,
    /// Review counts per reason.
    pub review: BTreeMap<String, u64>,
    /// Notices that concern no row.
    pub warnings: Vec<String>,
    /// Confirmation, if confirmed.
    pub confirmation: Option<Confirmation>,
    /// Where every input column's values go.
    #[serde(default)]
    pub ledger: Vec<crate::ledger::ColumnLedger>,
    /// The ledger's totals.
    #[serde(default)]
    pub ledger_totals: crate::ledger::Totals,
}

/// One input in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRow {
    /// File name.
    pub file: String,
    /// Kind.
    pub kind: String,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// Encoding.
    pub encoding: String,
    /// Delimiter.
    pub delimiter: String,
    /// Data rows.
    pub rows: u64,
}

impl InputRow {
    fn from(i: &InputSummary) -> InputRow {
        InputRow {
            file: i.file.clone(),
            kind: i.kind.as_str().into(),
            sha256: i.sha256.clone(),
            encoding: i.encoding.clone(),
            delimiter: i.delimiter.clone(),
            rows: i.rows,
        }
    }
}

impl Summary {
    /// The summary of a manifest.
    pub fn of(m: &Manifest) -> Summary {
        Summary {
            format_version: m.format_version,
            content_sha256: m.content_sha256.clone(),
            records: m.records,
            tool_version: m.tool.version.clone(),
            inputs: m.inputs.iter().map(InputRow::from).collect(),
            objects: m.objects,
            tags: m.tags.clone(),
            custom_fields: m.custom_fields.clone(),
            owners: m.owners.clone(),
            review: m.review.clone(),
            warnings: m.warnings.clone(),
            confirmation: m.confirmation.clone(),
            ledger: m.ledger.clone(),
            ledger_totals: crate::ledger::totals(&m.ledger),
        }
    }

    /// "N of N source values accounted for (…)": the ledger in one line.
    pub fn ledger_line(&self) -> String {
        let t = self.ledger_totals;
        let accounted = t.loaded + t.held + t.merged + t.left_behind;
        format!(
            "{accounted} of {} source values accounted for: {} loaded, {} held for review, {} merged into another row, {} left behind by choice",
            t.values, t.loaded, t.held, t.merged, t.left_behind
        )
    }

    /// The Markdown scope report; `items` (may be empty) adds the first rows of each queue.
    pub fn markdown(&self, items: &[ReviewItem]) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Migration scope: AllClients → Freshsales\n");
        match &self.confirmation {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "Confirmed by **{}** at {}.\n",
                    md(&c.confirmed_by),
                    c.confirmed_at
                );
            }
            None => {
                let _ = writeln!(s, "**Draft**: not confirmed yet.\n");
            }
        }
        let _ = writeln!(
            s,
            "Bundle content SHA-256: `{}` ({} records)\n",
            self.content_sha256, self.records
        );
        let _ = writeln!(
            s,
            "## Input files\n\n| File | Kind | Encoding | Delimiter | Rows |\n|---|---|---|---|---:|"
        );
        for i in &self.inputs {
            let delim = if i.delimiter == "\t" {
                "tab".to_string()
            } else {
                format!("`{}`", i.delimiter)
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                md(&i.file),
                i.kind,
                i.encoding,
                delim,
                i.rows
            );
        }
        let o = &self.objects;
        let _ = writeln!(
            s,
            "\n## Objects\n\n| Object | Rows in | Loaded | Merged | Held |\n|---|---:|---:|---:|---:|"
        );
        for (name, c) in [
            ("Contacts", o.contacts),
            ("Notes", o.notes),
            ("To-dos", o.tasks),
            ("Appointments", o.appointments),
            ("Email templates", o.templates),
        ] {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} |",
                c.rows_in, c.loaded, c.merged, c.held
            );
        }
        let _ = writeln!(
            s,
            "| Sales accounts (from company) | | {} | | |",
            o.accounts.loaded
        );
        let _ = writeln!(
            s,
            "\n## Where every value goes\n\n{}.\n",
            self.ledger_line()
        );
        let _ = writeln!(
            s,
            "| File | Column | Goes to | Values | Loaded | Held | Merged | Left behind | Changed on the way |\n|---|---|---|---:|---:|---:|---:|---:|---|"
        );
        for c in &self.ledger {
            let held = c
                .held
                .iter()
                .map(|(r, n)| format!("{n} {r}"))
                .collect::<Vec<_>>()
                .join(", ");
            let changed = c
                .transformed
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&c.file),
                md(&c.column),
                md(&c.destination),
                c.values,
                c.loaded,
                if held.is_empty() { "0".into() } else { held },
                c.merged,
                c.left_behind,
                changed
            );
        }
        let behind: Vec<&crate::ledger::ColumnLedger> =
            self.ledger.iter().filter(|c| c.left_behind > 0).collect();
        let _ = writeln!(s, "\n## Left behind\n");
        if behind.is_empty() {
            let _ = writeln!(s, "Nothing: every column with values has a destination.");
        } else {
            for c in behind {
                let _ = writeln!(
                    s,
                    "- {} column {}: {} values (the mapping says ignore)",
                    md(&c.file),
                    md(&c.column),
                    c.left_behind
                );
            }
        }
        let _ = writeln!(s, "\n## Custom fields to create in Freshsales\n");
        if self.custom_fields.is_empty() {
            let _ = writeln!(s, "None.");
        } else {
            let _ = writeln!(s, "| Label | Type | Choices |\n|---|---|---|");
            for f in &self.custom_fields {
                let choices = f
                    .choices
                    .iter()
                    .map(|c| md(c))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(
                    s,
                    "| {} | {} | {} |",
                    md(&f.label),
                    f.field_type.as_str(),
                    choices
                );
            }
        }
        let _ = writeln!(s, "\n## Tags ({})\n", self.tags.len());
        let _ = writeln!(
            s,
            "{}",
            if self.tags.is_empty() {
                "None.".to_string()
            } else {
                self.tags
                    .iter()
                    .map(|t| md(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        let _ = writeln!(
            s,
            "\n## Owners\n\n| Owner in export | Email | Status | Records |\n|---|---|---|---:|"
        );
        for w in &self.owners {
            let status = match w.status {
                crate::model::OwnerStatus::InUsersFile => "in users file",
                crate::model::OwnerStatus::Unknown => "**unknown**",
                crate::model::OwnerStatus::Assigned => "assigned by you",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                md(&w.source),
                md(w.email.as_deref().unwrap_or("")),
                status,
                w.references
            );
        }
        let _ = writeln!(s, "\n## Review queues\n");
        for r in Reason::ALL {
            let n = self.review.get(r.as_str()).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let _ = writeln!(s, "### {} ({n})\n\n{}\n", r.as_str(), r.explain());
            let first: Vec<&ReviewItem> = items.iter().filter(|i| i.reason == r).take(10).collect();
            for i in &first {
                let value = i
                    .value
                    .as_deref()
                    .map(|v| format!(" {}", code_span(&shorten(v, 60))))
                    .unwrap_or_default();
                let _ = writeln!(s, "- {}{}: {}", md(&i.location()), value, md(&i.message));
            }
            if (first.len() as u64) < n && !first.is_empty() {
                let _ = writeln!(s, "- … and {} more", n - first.len() as u64);
            }
            let _ = writeln!(s);
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(s, "## Warnings\n");
            for w in &self.warnings {
                let _ = writeln!(s, "- {}", md(w));
            }
        }
        s
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// Escapes Markdown table and inline syntax in customer text, and keeps it on one line.
/// `s` as a Markdown code span. Backslash escapes do not work inside code spans, so the
/// fence is made longer than any run of backticks in the value (CommonMark §6.1), with a
/// space inside when the value starts or ends with one.
pub fn code_span(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in flat.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A cell made safe for spreadsheets: text starting with `= + - @` (or a tab/CR) would be
/// run as a formula by Excel, so it gets a leading apostrophe.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// One review queue as CSV for a spreadsheet: UTF-8 with a byte-order mark (so Excel
/// reads accents right), the problem, where it is and what happened
/// ([`crate::corrections::QUEUE_COLUMNS`]), then one column per column of the held rows.
/// Edited and loaded back, it becomes corrections
/// ([`crate::corrections::Corrections::from_queue_csv`]).
pub fn queue_csv(items: &[ReviewItem], reason: Reason) -> String {
    let items: Vec<&ReviewItem> = items.iter().filter(|i| i.reason == reason).collect();
    let mut sources: Vec<Cow<str>> = Vec::new();
    for i in &items {
        for (h, _) in i.record.pairs() {
            if !sources.contains(&h) {
                sources.push(h);
            }
        }
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(Vec::new());
    let header = crate::corrections::QUEUE_COLUMNS
        .iter()
        .copied()
        .chain(sources.iter().map(|h| h.as_ref()));
    let _ = w.write_record(header.map(neutralise));
    for i in items {
        let mut row = vec![
            reason.label().to_string(),
            i.file.clone(),
            i.row.map(|r| r.to_string()).unwrap_or_default(),
            i.line.map(|r| r.to_string()).unwrap_or_default(),
            i.column.clone().unwrap_or_default(),
            i.value.clone().unwrap_or_default(),
            i.message.clone(),
            if i.held { "yes" } else { "no" }.to_string(),
        ];
        for h in &sources {
            let cell = i.record.pairs().find(|(k, _)| k == h).map(|(_, v)| v);
            row.push(cell.unwrap_or("").to_string());
        }
        let _ = w.write_record(row.iter().map(|c| neutralise(c)));
    }
    let body = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    format!("\u{feff}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("plain"), "plain");
        let items =
            vec![ReviewItem::new(Reason::OrphanNote, "Notes.csv", "=cmd|' /C calc'!A0").at(3, 3)];
        let csv = queue_csv(&items, Reason::OrphanNote);
        assert!(csv.contains("'=cmd"), "{csv}");
    }

    #[test]
    fn backticks_in_values_do_not_break_code_spans() {
        assert_eq!(code_span("plain"), "`plain`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("``x"), "``` ``x ```");
        assert_eq!(code_span("two\nlines"), "`two lines`");
    }
}
