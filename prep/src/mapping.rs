//! The mapping: which Freshsales field each source column goes to. The preparer proposes
//! one (deterministically, with a confidence and a reason per column); the customer edits
//! it; a saved mapping file re-applied to a later export overrides the proposal.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dates::DateOrder;
use crate::fields::{CustomFieldDef, FieldType, StdField, infer};
use crate::kind::{Alias, FileKind, alias, normalize_header};
use crate::table::Table;
use crate::values::is_valid_email;

/// Version of the mapping file format.
pub const MAPPING_FORMAT_VERSION: u32 = 1;

/// Where a source column's values go. In JSON it is one string: a standard field's name
/// (`first_name`), `tags`, `tag_if_true:<Tag>`, `custom:<Label>`, `append` or `ignore`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Target {
    /// A standard field.
    Field(StdField),
    /// Split into tags.
    Tags,
    /// A one-column-per-flag export: a yes/X cell adds this tag.
    TagIfTrue(String),
    /// A custom field with this label (defined in [`Mapping::custom_fields`]).
    Custom(String),
    /// Appended to a note's or task's text as `Header: value`, for columns Freshsales has
    /// no field for.
    Append,
    /// Not migrated. Only proposed for empty columns; the customer may choose it.
    Ignore,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Field(s) => f.write_str(&s.as_str()),
            Target::Tags => f.write_str("tags"),
            Target::TagIfTrue(t) => write!(f, "tag_if_true:{t}"),
            Target::Custom(l) => write!(f, "custom:{l}"),
            Target::Append => f.write_str("append"),
            Target::Ignore => f.write_str("ignore"),
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(label) = s.strip_prefix("custom:") {
            if label.trim().is_empty() {
                return Err("custom field label is empty".into());
            }
            return Ok(Target::Custom(label.to_string()));
        }
        if let Some(tag) = s.strip_prefix("tag_if_true:") {
            return Ok(Target::TagIfTrue(tag.to_string()));
        }
        match s {
            "tags" => Ok(Target::Tags),
            "append" => Ok(Target::Append),
            "ignore" => Ok(Target::Ignore),
            other => serde_json::from_value(serde_json::Value::String(other.to_string()))
                .map(Target::Field)
                .map_err(|_| format!("unknown target '{other}'")),
        }
    }
}

impl TryFrom<String> for Target {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Target> for String {
    fn from(t: Target) -> String {
        t.to_string()
    }
}

/// One source column's mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// The header as it appears in the export.
    pub source: String,
    /// Where it goes.
    pub target: Target,
    /// 0–1: how sure the proposal is (1 for a customer's choice).
    #[serde(default)]
    pub confidence: f64,
    /// In plain words, why this target ("header alias", "values look like emails", …).
    #[serde(default)]
    pub reason: String,
    /// For standard date columns: month-first or day-first slash dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_order: Option<DateOrder>,
}

/// A customer's correction of how one input file is read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileOverride {
    /// The file's kind, when recognition got it wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
    /// A WHATWG encoding label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// `,` `;` `\t` or `|`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
}

/// The whole mapping: what the page shows and edits, what a mapping file holds, and what the
/// bundle records as confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// [`MAPPING_FORMAT_VERSION`].
    pub format_version: u32,
    /// Per input file name: corrections of kind, encoding, delimiter.
    #[serde(default)]
    pub files: BTreeMap<String, FileOverride>,
    /// Per file kind: the columns in header order.
    #[serde(default)]
    pub columns: BTreeMap<FileKind, Vec<ColumnMapping>>,
    /// Contact custom fields, in first-column order.
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldDef>,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            format_version: MAPPING_FORMAT_VERSION,
            files: BTreeMap::new(),
            columns: BTreeMap::new(),
            custom_fields: Vec::new(),
        }
    }
}

impl Mapping {
    /// Reads a mapping file's JSON.
    pub fn from_json(json: &str) -> Result<Mapping, String> {
        let m: Mapping = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if m.format_version != MAPPING_FORMAT_VERSION {
            return Err(format!(
                "mapping format_version {} is not supported (expected {MAPPING_FORMAT_VERSION})",
                m.format_version
            ));
        }
        Ok(m)
    }

    /// The customer's mapping of a column, matched exactly, then by normalised header.
    pub fn column(&self, kind: FileKind, source: &str) -> Option<&ColumnMapping> {
        let cols = self.columns.get(&kind)?;
        cols.iter().find(|c| c.source == source).or_else(|| {
            let norm = normalize_header(source);
            cols.iter().find(|c| normalize_header(&c.source) == norm)
        })
    }

    /// The custom field definition with this label.
    pub fn custom_field(&self, label: &str) -> Option<&CustomFieldDef> {
        self.custom_fields.iter().find(|d| d.label == label)
    }
}

/// A column's proposal with the evidence behind it.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The column mapping.
    pub column: ColumnMapping,
    /// For custom targets: the inferred definition.
    pub inferred: Option<CustomFieldDef>,
    /// Date-order evidence, for date columns (standard or custom).
    pub dates: Option<crate::dates::OrderEvidence>,
}

/// Proposes a mapping for the columns of all `tables` of one kind (the union of their
/// headers, in first-seen order).
pub fn propose(kind: FileKind, tables: &[&Table], groups_label: &str) -> Vec<Proposal> {
    let mut headers: Vec<String> = Vec::new();
    for t in tables {
        for h in &t.headers {
            if !headers.contains(h) {
                headers.push(h.clone());
            }
        }
    }
    // A column's proposal depends on the fields earlier columns took, and the columns are
    // read side by side: each is proposed with the fields its header's predecessors take by
    // name alone (what `taken` nearly always is), then the proposals are taken in order
    // wherever that guess was the fields really taken, and made again where not (after a
    // column whose values look like emails took the email field). The result is the
    // sequential one.
    let mut guessed: Vec<Vec<StdField>> = Vec::with_capacity(headers.len());
    let mut by_name: Vec<StdField> = Vec::new();
    for header in &headers {
        guessed.push(by_name.clone());
        if let Some(Alias::Std(f)) = alias(kind, header)
            && !(single_valued(f) && by_name.contains(&f))
        {
            by_name.push(f);
        }
    }
    let propose_one = |header: &str, taken: &mut Vec<StdField>| {
        // Read only when the proposal needs them: columns named like a standard field that
        // is not a date (most of them) never do.
        let values = std::cell::OnceCell::new();
        let values = || {
            values
                .get_or_init(|| column_values(tables, header))
                .as_slice()
        };
        propose_column(kind, header, values, taken, groups_label)
    };
    let ahead: Vec<(Proposal, Vec<StdField>)> = headers
        .par_iter()
        .zip(guessed.par_iter())
        .map(|(header, guess)| {
            let mut taken = guess.clone();
            let proposal = propose_one(header, &mut taken);
            (proposal, taken)
        })
        .collect();
    let mut taken: Vec<StdField> = Vec::new();
    let mut out = Vec::with_capacity(headers.len());
    for ((header, guess), (proposal, after)) in headers.iter().zip(&guessed).zip(ahead) {
        if *guess == taken {
            taken = after;
            out.push(proposal);
        } else {
            out.push(propose_one(header, &mut taken));
        }
    }
    out
}

/// All cells of the column named `header` across `tables`.
pub fn column_values<'t>(tables: &[&'t Table], header: &str) -> Vec<&'t str> {
    // Sized once: a column of a big export has millions of cells.
    let rows = tables
        .iter()
        .filter(|t| t.column(header).is_some())
        .map(|t| t.rows.len())
        .sum();
    let mut values = Vec::with_capacity(rows);
    values.extend(column_cells(tables, header));
    values
}

/// The cells of the column named `header` across `tables`, one at a time.
pub fn column_cells<'t>(tables: &[&'t Table], header: &str) -> impl Iterator<Item = &'t str> {
    let found: Vec<(&'t Table, usize)> = tables
        .iter()
        .filter_map(|t| Some((*t, t.column(header)?)))
        .collect();
    found
        .into_iter()
        .flat_map(|(t, i)| t.rows.iter().map(move |r| r.get(i)))
}

/// Whether a second column of this field has nowhere to go: phones and further emails
/// take as many columns as the export has.
fn single_valued(f: StdField) -> bool {
    !matches!(
        f,
        StdField::Phone | StdField::PhoneLabel | StdField::OtherEmail
    )
}

fn propose_column<'v>(
    kind: FileKind,
    header: &str,
    values: impl Fn() -> &'v [&'v str],
    taken: &mut Vec<StdField>,
    groups_label: &str,
) -> Proposal {
    let mk = |target, confidence, reason: String| ColumnMapping {
        source: header.to_string(),
        target,
        confidence,
        reason,
        date_order: None,
    };
    let custom = |force: Option<FieldType>, label: &str, why: &str| {
        let inf = infer(label, values(), force);
        let reason = format!("{why}; {}", inf.reason);
        Proposal {
            column: mk(Target::Custom(label.to_string()), inf.confidence, reason),
            inferred: Some(inf.def),
            dates: inf.dates,
        }
    };
    match alias(kind, header) {
        Some(Alias::Std(f)) if !(single_valued(f) && taken.contains(&f)) => {
            taken.push(f);
            let dates = f.is_date().then(|| date_evidence(values()));
            let mut column = mk(
                Target::Field(f),
                0.95,
                format!(
                    "the column's name is one AllClients uses for {}",
                    crate::labels::field(f)
                ),
            );
            // The order is recorded whenever it is not the US default, or is a guess: a
            // column of day-first dates must be read day-first (31/12/2020 and 01/02/2021
            // alike), as a custom date column is.
            if let Some(ev) = &dates {
                column.date_order = (ev.needs_review()
                    || ev.order() == crate::dates::DateOrder::Dmy)
                    .then_some(ev.order());
            }
            return Proposal {
                column,
                inferred: None,
                dates,
            };
        }
        Some(Alias::Std(f)) if kind == FileKind::Contacts => {
            return custom(
                None,
                header,
                &format!("{} already has a column", crate::labels::field(f)),
            );
        }
        Some(Alias::Std(_)) => {}
        Some(Alias::Tags) => {
            return Proposal {
                column: mk(
                    Target::Tags,
                    0.9,
                    "the column's name is one AllClients uses for flags".into(),
                ),
                inferred: None,
                dates: None,
            };
        }
        Some(Alias::Dropdown) => {
            return custom(Some(FieldType::Dropdown), header, "single-choice list");
        }
        Some(Alias::Groups) => {
            return custom(Some(FieldType::MultiSelect), groups_label, "groups");
        }
        None => {}
    }
    let values = values();
    // Counted only here: columns matched by header (most of them) never need it.
    let non_empty = values
        .iter()
        .filter(|v| !crate::values::trim(v).is_empty())
        .count();
    if non_empty == 0 {
        return Proposal {
            column: mk(Target::Ignore, 0.9, "column is empty".into()),
            inferred: None,
            dates: None,
        };
    }
    if kind == FileKind::Contacts {
        let emails = values
            .iter()
            .filter(|v| is_valid_email(crate::values::trim(v)))
            .count();
        if emails * 10 >= non_empty * 8 {
            for f in [StdField::Email, StdField::OtherEmail] {
                if !(single_valued(f) && taken.contains(&f)) {
                    taken.push(f);
                    return Proposal {
                        column: mk(Target::Field(f), 0.7, "values look like emails".into()),
                        inferred: None,
                        dates: None,
                    };
                }
            }
        }
        let norm = normalize_header(header);
        for prefix in ["flag", "tag"] {
            if let Some(tag) = norm.strip_prefix(prefix).filter(|t| !t.is_empty())
                && values.iter().all(|v| {
                    crate::values::trim(v).is_empty() || crate::values::parse_checkbox(v).is_some()
                })
            {
                let name = header
                    .split_once(':')
                    .map(|(_, t)| t.trim().to_string())
                    .unwrap_or_else(|| tag.to_string());
                return Proposal {
                    column: mk(
                        Target::TagIfTrue(name),
                        0.6,
                        "one column per flag, yes/no values".into(),
                    ),
                    inferred: None,
                    dates: None,
                };
            }
        }
        return custom(None, header, "no standard field matches");
    }
    match kind {
        FileKind::Notes | FileKind::Tasks | FileKind::Appointments => Proposal {
            column: mk(
                Target::Append,
                0.5,
                "no Freshsales field for it; appended to the text so nothing is lost".into(),
            ),
            inferred: None,
            dates: None,
        },
        _ => Proposal {
            column: mk(
                Target::Ignore,
                0.5,
                "reference data; not needed for the load".into(),
            ),
            inferred: None,
            dates: None,
        },
    }
}

fn date_evidence(values: &[&str]) -> crate::dates::OrderEvidence {
    // In runs side by side (a notes file's date column is its one column read, and has
    // millions of values), merged in order: the result is one pass's.
    let runs: Vec<crate::dates::OrderEvidence> = values
        .par_chunks(16 * 1024)
        .map(|run| {
            let mut ev = crate::dates::OrderEvidence::default();
            for v in run {
                if let Some(raw) = crate::dates::parse_raw(v) {
                    ev.add(&raw, v);
                }
            }
            ev
        })
        .collect();
    let mut ev = crate::dates::OrderEvidence::default();
    for run in runs {
        ev.merge(run);
    }
    ev
}

/// The targets a column of a `kind` file can be mapped to, for the page's select (standard
/// fields in the vocabulary of `docs/bundle.md`, then the generic ones). The page adds the
/// column's current target when it is not listed (a custom field, a flag tag).
pub fn targets(kind: FileKind) -> Vec<String> {
    // Only targets `prep` parses are offered, so a select can never produce a bad mapping
    // (a test checks none is left out that way).
    offered(kind)
        .iter()
        .copied()
        .filter(|t| t.parse::<Target>().is_ok())
        .map(str::to_string)
        .collect()
}

/// The targets listed for a `kind`, "ignore" last.
fn offered(kind: FileKind) -> Vec<&'static str> {
    let fields: &[&str] = match kind {
        FileKind::Contacts => &[
            "contact_id",
            "first_name",
            "last_name",
            "email",
            "other_email",
            "company",
            "job_title",
            "work_number",
            "mobile_number",
            "phone",
            "phone_label",
            "address",
            "address2",
            "city",
            "state",
            "zipcode",
            "country",
            "owner",
            "created_at",
            "updated_at",
            "tags",
        ],
        FileKind::Notes => &[
            "contact_id",
            "email",
            "first_name",
            "last_name",
            "contact_name",
            "note_date",
            "note_text",
            "author",
            "pinned",
            "append",
        ],
        FileKind::Tasks => &[
            "todo_id",
            "title",
            "details",
            "due_date",
            "completed_date",
            "status",
            "priority",
            "task_type",
            "owner",
            "template",
            "contact_id",
            "email",
            "first_name",
            "last_name",
            "contact_name",
            "append",
        ],
        FileKind::Appointments => &[
            "appointment_id",
            "title",
            "details",
            "date",
            "start",
            "end",
            "all_day",
            "owner",
            "color",
            "contact_id",
            "email",
            "first_name",
            "last_name",
            "contact_name",
            "append",
        ],
        FileKind::Users => &[
            "team_member_id",
            "name",
            "first_name",
            "last_name",
            "email",
            "role",
            "database",
        ],
        FileKind::Lists => &["list_name", "list_type", "list_id", "list_count"],
        FileKind::Templates => &[
            "template_id",
            "template_name",
            "folder",
            "subject",
            "body",
            "owner",
        ],
        FileKind::Unknown => &[],
    };
    fields.iter().copied().chain(["ignore"]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target the page lists parses (none is dropped by the filter), round-trips,
    /// and each kind ends with "ignore".
    #[test]
    fn every_offered_target_parses() {
        for kind in FileKind::KNOWN {
            let listed = offered(kind);
            assert_eq!(
                targets(kind),
                listed,
                "{kind:?}: a listed target does not parse"
            );
            for t in &listed {
                assert_eq!(t.parse::<Target>().unwrap().to_string(), *t);
            }
            assert_eq!(listed.last(), Some(&"ignore"), "{kind:?}");
            assert!(listed.len() > 3, "{kind:?}");
        }
        assert!(targets(FileKind::Contacts).contains(&"email".to_string()));
        assert_eq!(targets(FileKind::Unknown), ["ignore"]);
    }

    #[test]
    fn target_strings_round_trip() {
        for s in [
            "first_name",
            "tags",
            "custom:Anniversary",
            "tag_if_true:VIP",
            "ignore",
            "append",
        ] {
            let t: Target = s.parse().unwrap();
            assert_eq!(t.to_string(), s);
        }
        assert!("nonsense".parse::<Target>().is_err());
        assert!("custom:".parse::<Target>().is_err());
    }

    /// The proposals for a contacts file, and their targets.
    fn proposed(csv: &str) -> (Vec<Proposal>, Vec<String>) {
        let t = Table::parse("c.csv", csv, None).unwrap();
        let p = propose(FileKind::Contacts, &[&t], "AllClients Groups");
        let targets = p.iter().map(|p| p.column.target.to_string()).collect();
        (p, targets)
    }

    #[test]
    fn proposes_aliases_values_and_custom_fields() {
        let (p, targets) = proposed(
            "First Name,E-mail,Contact Address,Anniversary,Category,Empty\n\
             Ada,ada@x.com,ada.alt@x.com,3/4/2020,Gold,\n\
             Bo,bo@x.com,bo@y.com,12/24/2019,Silver,\n",
        );
        assert_eq!(
            targets,
            [
                "first_name",
                "email",
                "other_email",
                "custom:Anniversary",
                "custom:Category",
                "ignore"
            ]
        );
        assert_eq!(p[2].column.reason, "values look like emails");
        assert_eq!(p[3].inferred.as_ref().unwrap().field_type, FieldType::Date);
        assert_eq!(p[4].inferred.as_ref().unwrap().choices, ["Gold", "Silver"]);
    }

    #[test]
    fn a_field_taken_by_values_is_taken_for_the_columns_after_it() {
        // The columns are proposed side by side with the fields their names take; the
        // email field taken here by the first column's values is not among those, so the
        // columns after it are proposed again, in order.
        let (p, targets) = proposed(
            "Contact Address,Email,Second Address,E-mail 2,First Name\n\
             ada@x.com,ada.alt@x.com,a@b.com,c@d.com,Ada\n\
             bo@x.com,bo@y.com,e@f.com,g@h.com,Bo\n",
        );
        assert_eq!(
            targets,
            [
                "email",
                "custom:Email",
                "other_email",
                "other_email",
                "first_name"
            ]
        );
        assert_eq!(p[0].column.reason, "values look like emails");
        assert!(
            p[1].column.reason.starts_with("Email already has a column"),
            "{}",
            p[1].column.reason
        );
    }
}
