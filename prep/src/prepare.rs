//! The preparation as one pure function: export files (name + bytes), options and an
//! optional mapping in; every record, the effective mapping and the review queue out.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::activities;
use crate::contacts;
use crate::corrections::{Corrections, apply_cells, take_rows_left};
use crate::error::PrepError;
use crate::fields::{CustomFieldDef, FieldType, infer};
use crate::kind::{FileKind, detect, normalize_header};
use crate::mapping::{ColumnMapping, Mapping, Proposal, Target, column_values, propose};
use crate::model::{
    Account, Appointment, Contact, Counts, Note, Objects, Owner, Task, TeamMember, Template,
};
use crate::notes::{self, NoteSource};
use crate::owners::{self, OwnerRef};
use crate::read::{Content, ReadFile};
use crate::review::{Reason, ReviewItem};
use crate::sheet::Sheet;
use crate::table::Table;
use crate::templates;

/// One export file as the customer gave it.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// File name (a relative path for files from a folder, `/`-separated).
    pub name: String,
    /// Raw bytes.
    pub bytes: Vec<u8>,
}

/// Who confirmed the mapping, and when. Part of the bundle; the loader refuses a bundle
/// without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The name the customer typed.
    pub confirmed_by: String,
    /// RFC 3339 UTC time of the confirmation (an input: the core never reads a clock).
    pub confirmed_at: String,
}

/// Settings of a preparation (all have defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Label of the multi-select field that receives AllClients groups.
    pub groups_field_label: String,
    /// Hosts whose template images die with the AllClients account.
    pub allclients_hosts: Vec<String>,
    /// The largest values Freshsales takes; longer ones are held in the review queue.
    #[serde(default)]
    pub limits: crate::limits::Limits,
    /// The AllClients account's time zone (IANA name, e.g. `America/Chicago`): the export's
    /// times are wall-clock times there, without an offset. The loader converts every
    /// date-time with it. `None`: not stated (the loader then needs `--time-zone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            groups_field_label: "AllClients Groups".into(),
            allclients_hosts: templates::DEFAULT_ALLCLIENTS_HOSTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            limits: crate::limits::Limits::default(),
            time_zone: None,
        }
    }
}

/// Everything a preparation takes besides the files.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The customer's (or a saved) mapping; it overrides the proposal column by column.
    pub mapping: Option<Mapping>,
    /// Settings.
    pub settings: Settings,
    /// The confirmation, when the customer confirmed.
    pub confirmation: Option<Confirmation>,
    /// The customer's corrections of the export.
    pub corrections: Corrections,
}

/// What was read from one input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSummary {
    /// File name.
    pub file: String,
    /// Recognised (or overridden) kind.
    pub kind: FileKind,
    /// SHA-256 of the raw bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Detected (or overridden) encoding, WHATWG name.
    pub encoding: String,
    /// Whether the file started with a byte-order mark.
    pub bom: bool,
    /// The delimiter (`,` `;` `\t` `|`), empty for HTML files.
    pub delimiter: String,
    /// Data rows (header excluded).
    pub rows: u64,
    /// Header cells.
    pub headers: Vec<String>,
}

/// The result of a preparation: the bundle's content.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// Per input file.
    pub inputs: Vec<InputSummary>,
    /// The effective mapping (proposal, overridden by the customer's), with reasons.
    pub mapping: Mapping,
    /// Contact custom fields used by the mapping.
    pub custom_fields: Vec<CustomFieldDef>,
    #[allow(missing_docs)]
    pub accounts: Vec<Account>,
    #[allow(missing_docs)]
    pub contacts: Vec<Contact>,
    #[allow(missing_docs)]
    pub notes: Vec<Note>,
    #[allow(missing_docs)]
    pub tasks: Vec<Task>,
    #[allow(missing_docs)]
    pub appointments: Vec<Appointment>,
    #[allow(missing_docs)]
    pub templates: Vec<Template>,
    /// From the users file.
    pub team_members: Vec<TeamMember>,
    /// Every owner referenced.
    pub owners: Vec<Owner>,
    /// All tags, sorted case-insensitively.
    pub tags: Vec<String>,
    /// The review queue.
    pub review: Vec<ReviewItem>,
    /// Per-object counts.
    pub objects: Objects,
    /// Settings used.
    pub settings: Settings,
    /// The confirmation, if any.
    pub confirmation: Option<Confirmation>,
    /// Things the customer should know that concern no row (e.g. mapping entries for
    /// columns this export lacks).
    pub warnings: Vec<String>,
    /// Where every input column's values go, and what became of each.
    pub ledger: Vec<crate::ledger::ColumnLedger>,
    /// The corrections applied.
    pub corrections: Corrections,
    /// Problems of the mapping (blocking ones stop a confirmation).
    pub problems: Vec<crate::checks::Problem>,
    /// Real values of each column and what Freshsales receives for them.
    pub samples: Vec<crate::samples::ColumnSamples>,
}

struct Parsed<'f> {
    name: String,
    kind: FileKind,
    /// The rows records are built from (those the customer left behind taken out).
    table: Cow<'f, Table>,
    /// Every row, when some were left behind: the ledger counts their values too.
    full: Option<Cow<'f, Table>>,
}

fn delimiter_text(d: u8) -> String {
    (d as char).to_string()
}

/// Runs the whole preparation, every note held in [`Prepared::notes`].
pub fn prepare(inputs: &[InputFile], options: &Options) -> Result<Prepared, PrepError> {
    prepare_with(inputs, options, |mut p, notes| {
        p.notes = notes.collect();
        Ok(p)
    })
}

/// Runs the whole preparation and hands the result to `then` with its notes still
/// unbuilt ([`Prepared::notes`] is empty): `then` builds them one at a time from the
/// [`NoteSource`], e.g. to write a bundle ([`crate::bundle::write_streaming`]) without
/// holding them all, or not at all when only the summary is wanted.
pub fn prepare_with<R>(
    inputs: &[InputFile],
    options: &Options,
    then: impl FnOnce(Prepared, &NoteSource) -> Result<R, PrepError>,
) -> Result<R, PrepError> {
    let files = crate::read::read_files(inputs, options.mapping.as_ref())?;
    prepare_read(&files.iter().collect::<Vec<_>>(), options, then)
}

/// [`prepare_with`] over files read already ([`crate::read::read_files`]), each read with
/// the encoding and delimiter `options.mapping` chooses for it (a file read otherwise is
/// refused). The files are not changed: corrections apply to a copy of the tables they
/// touch.
pub fn prepare_read<R>(
    files: &[&ReadFile],
    options: &Options,
    then: impl FnOnce(Prepared, &NoteSource) -> Result<R, PrepError>,
) -> Result<R, PrepError> {
    let user = options.mapping.clone().unwrap_or_default();
    let settings = &options.settings;
    let mut out = Prepared {
        settings: settings.clone(),
        confirmation: options.confirmation.clone(),
        corrections: options.corrections.clone(),
        ..Prepared::default()
    };
    let mut parsed: Vec<Parsed> = Vec::new();
    // Rows left behind by the customer, with their file's kind.
    let mut left: Vec<(FileKind, ReviewItem)> = Vec::new();
    let mut html_templates = Vec::new();
    let mut sorted: Vec<&ReadFile> = files.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for file in sorted {
        let over = user.files.get(&file.name).cloned().unwrap_or_default();
        if !file.read_as(&over) {
            return Err(PrepError::Input {
                file: file.name.clone(),
                message: "read with another encoding or delimiter than the mapping chooses: \
                          read it again"
                    .into(),
            });
        }
        let summary = |kind, delimiter, rows, headers| InputSummary {
            file: file.name.clone(),
            kind,
            sha256: file.sha256.clone(),
            bytes: file.bytes,
            encoding: file.encoding.clone(),
            bom: file.bom,
            delimiter,
            rows,
            headers,
        };
        let mut table = match &file.content {
            Content::Html(text) if over.kind.is_none_or(|k| k == FileKind::Templates) => {
                let (t, items) =
                    templates::from_html_file(&file.name, text.clone(), &settings.allclients_hosts);
                out.inputs
                    .push(summary(FileKind::Templates, String::new(), 1, Vec::new()));
                html_templates.push((t, items));
                continue;
            }
            Content::Html(text) => Cow::Owned(Table::parse(
                &file.name,
                text,
                crate::read::delimiter(&file.name, &over)?,
            )?),
            Content::Table(t) => Cow::Borrowed(t),
        };
        let fixed = options
            .corrections
            .cells
            .iter()
            .any(|f| f.file == file.name);
        let some_left = options
            .corrections
            .rows_left
            .iter()
            .any(|r| r.file == file.name);
        // The read table is shared by every run; one this run corrects is its own copy.
        if fixed {
            apply_cells(&file.name, table.to_mut(), &options.corrections.cells)?;
        }
        let kind = over
            .kind
            .unwrap_or_else(|| detect(&file.name, &table.headers));
        if kind == FileKind::Unknown {
            out.review.push(ReviewItem::new(
                Reason::UnrecognisedFile,
                &file.name,
                format!(
                    "headers [{}] match no AllClients export; {} rows not loaded",
                    table.headers.join(", "),
                    table.rows.len()
                ),
            ));
        }
        out.inputs.push(summary(
            kind,
            delimiter_text(table.delimiter),
            table.rows.len() as u64,
            table.headers.clone(),
        ));
        let full = some_left.then(|| table.clone());
        if some_left {
            for item in take_rows_left(&file.name, table.to_mut(), &options.corrections.rows_left)?
            {
                left.push((kind, item));
            }
        }
        parsed.push(Parsed {
            name: file.name.clone(),
            kind,
            table,
            full,
        });
    }
    let names: Vec<&str> = parsed.iter().map(|p| p.name.as_str()).collect();
    options.corrections.check_files(&names)?;
    if !parsed.iter().any(|p| p.kind == FileKind::Contacts) {
        let seen: Vec<String> = out
            .inputs
            .iter()
            .map(|i| format!("{}: {}", i.file, i.kind.as_str()))
            .collect();
        return Err(PrepError::NoContacts(if seen.is_empty() {
            "no files".into()
        } else {
            seen.join(", ")
        }));
    }
    out.mapping.files = user.files.clone();

    let mut sheets: BTreeMap<FileKind, Vec<Sheet>> = BTreeMap::new();
    let mut defs: BTreeMap<String, CustomFieldDef> = BTreeMap::new();
    for kind in FileKind::KNOWN {
        let of_kind: Vec<&Parsed> = parsed.iter().filter(|p| p.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let tables: Vec<&Table> = of_kind.iter().map(|p| p.table.as_ref()).collect();
        let proposals = propose(kind, &tables, &settings.groups_field_label);
        let columns = effective_columns(kind, &proposals, &user, &tables, &mut defs, &mut out);
        ambiguous_dates(
            kind,
            &proposals,
            &columns,
            &user,
            of_kind[0].name.as_str(),
            &defs,
            &mut out.review,
        );
        out.problems
            .extend(crate::checks::columns(kind, &columns, &tables, &defs));
        out.mapping.columns.insert(kind, columns.clone());
        let list = of_kind
            .iter()
            .map(|p| Sheet::new(&p.name, &p.table, &columns))
            .collect();
        sheets.insert(kind, list);
    }
    let empty = Vec::new();
    let of = |k: FileKind| sheets.get(&k).unwrap_or(&empty);

    out.team_members = owners::team_members(of(FileKind::Users));
    let list_entries = owners::lists(of(FileKind::Lists));
    add_list_choices(&list_entries, &user, &out.mapping, &mut defs, settings);
    out.custom_fields = ordered_defs(&out.mapping, &defs);

    let mut set = contacts::build(of(FileKind::Contacts), &defs);
    // Extra phones and the AllClients dates get custom fields of their own.
    for d in crate::extras::place(&mut set.contacts, &out.custom_fields) {
        defs.insert(d.label.clone(), d.clone());
        out.custom_fields.push(d);
    }
    // Counted with the fields for phones and dates: they take places too.
    if let Some(w) = custom_field_limit_warning(out.custom_fields.len()) {
        out.warnings.push(w);
    }
    let headers: BTreeMap<(String, String), String> = of(FileKind::Contacts)
        .iter()
        .flat_map(|sheet| {
            sheet.columns.iter().enumerate().filter_map(|(i, c)| {
                let key = match &c.target {
                    Target::Field(f) => f.as_str(),
                    Target::Custom(l) => format!("custom:{l}"),
                    _ => return None,
                };
                Some((
                    (sheet.file.to_string(), key),
                    sheet.table.headers[i].clone(),
                ))
            })
        })
        .collect();
    let header = |file: &str, key: &str| headers.get(&(file.to_string(), key.to_string())).cloned();
    crate::limits::enforce_contacts(
        &mut set.contacts,
        &defs,
        &settings.limits,
        &header,
        &mut set.review,
    );
    out.review.append(&mut set.review);
    // Notes, and the to-dos and appointments, are joined to the contacts side by side
    // (where there are threads): the notes' planning leaves gaps a thread can fill.
    let (notes_planned, (tasks_made, appts_made)) = rayon::join(
        || notes::plan(of(FileKind::Notes), &set, settings.limits.note),
        || {
            (
                activities::tasks(of(FileKind::Tasks), &set),
                activities::appointments(of(FileKind::Appointments), &set),
            )
        },
    );
    let (note_plans, note_counts, r) = notes_planned?;
    out.review.extend(r);
    let (tasks, task_counts, r) = tasks_made;
    out.review.extend(r);
    let (appointments, appt_counts, r) = appts_made;
    out.review.extend(r);
    let (mut templates, mut template_counts, r) =
        templates::from_sheets(of(FileKind::Templates), &settings.allclients_hosts);
    out.review.extend(r);
    for (t, items) in html_templates {
        template_counts.rows_in += 1;
        template_counts.loaded += 1;
        templates.push(t);
        out.review.extend(items);
    }

    // The owners resolved and the tags gathered side by side (where there are threads).
    let owner_map = options.corrections.owner_map();
    let ((owner_list, r), tags) = rayon::join(
        || {
            // Read as they are resolved, not gathered first: one per contact, task and
            // appointment.
            let refs = set
                .contacts
                .iter()
                .filter_map(|c| {
                    Some((
                        c.owner.as_deref()?,
                        c.sources[0].file.as_str(),
                        c.sources[0].row,
                    ))
                })
                .chain(tasks.iter().filter_map(|t| {
                    Some((t.owner.as_deref()?, t.source.file.as_str(), t.source.row))
                }))
                .chain(appointments.iter().filter_map(|a| {
                    Some((a.owner.as_deref()?, a.source.file.as_str(), a.source.row))
                }))
                .map(|(value, file, row)| OwnerRef { value, file, row });
            owners::resolve(refs, &out.team_members, &owner_map)
        },
        || {
            let listed = list_entries
                .iter()
                .filter(|e| e.list.contains("flag") || e.list.contains("tag"));
            let mut tags = crate::values::union_of(
                set.contacts
                    .iter()
                    .flat_map(|c| c.tags.iter().map(String::as_str))
                    .chain(listed.map(|e| e.name.as_str())),
            );
            tags.sort_by_key(|t| (t.to_lowercase(), t.clone()));
            tags
        },
    );
    out.owners = owner_list;
    out.review.extend(r);
    out.tags = tags;

    out.objects = Objects {
        contacts: set.counts,
        notes: note_counts,
        tasks: task_counts,
        appointments: appt_counts,
        templates: template_counts,
        accounts: crate::model::AccountCounts {
            loaded: set.accounts.len() as u64,
        },
    };
    // A row left behind is an input row held back (by choice), with its review item.
    for (kind, item) in left {
        let counts = match kind {
            FileKind::Contacts => Some(&mut out.objects.contacts),
            FileKind::Notes => Some(&mut out.objects.notes),
            FileKind::Tasks => Some(&mut out.objects.tasks),
            FileKind::Appointments => Some(&mut out.objects.appointments),
            FileKind::Templates => Some(&mut out.objects.templates),
            _ => None,
        };
        if let Some(c) = counts {
            c.rows_in += 1;
            c.held += 1;
        }
        out.review.push(item);
    }
    let ledger_inputs: Vec<crate::ledger::Input> = parsed
        .iter()
        .map(|p| crate::ledger::Input {
            file: &p.name,
            kind: p.kind,
            table: p.full.as_deref().unwrap_or(&p.table),
            columns: out.mapping.columns.get(&p.kind).map(Vec::as_slice),
        })
        .collect();
    // The ledger, the samples and the notes' source, each of what is settled by now, side
    // by side (where there are threads).
    let ((ledger, samples), notes) = rayon::join(
        || {
            rayon::join(
                || crate::ledger::build(&ledger_inputs, &out.review),
                || {
                    crate::samples::build(&crate::samples::Built {
                        sheets: &sheets,
                        contacts: &set.contacts,
                        accounts: &set.accounts,
                        owners: &out.owners,
                        tasks: &tasks,
                        appointments: &appointments,
                        review: &out.review,
                    })
                },
            )
        },
        || {
            NoteSource::new(of(FileKind::Notes), note_plans, set.contacts.len(), |i| {
                set.contacts[i].key.as_str()
            })
        },
    );
    out.ledger = ledger;
    out.samples = samples;
    out.problems.extend(crate::checks::overall(
        &out.inputs,
        out.objects.contacts.loaded,
    ));
    out.accounts = set.accounts;
    out.contacts = set.contacts;
    out.tasks = tasks;
    out.appointments = appointments;
    out.templates = templates;
    then(out, &notes)
}

/// The proposal overridden by the customer's mapping, column by column; custom field
/// definitions are the customer's where given, else inferred.
fn effective_columns(
    kind: FileKind,
    proposals: &[Proposal],
    user: &Mapping,
    tables: &[&Table],
    defs: &mut BTreeMap<String, CustomFieldDef>,
    out: &mut Prepared,
) -> Vec<ColumnMapping> {
    let mut columns = Vec::new();
    for p in proposals {
        let mut col = p.column.clone();
        if let Some(mine) = user.column(kind, &col.source) {
            col.target = mine.target.clone();
            col.date_order = mine.date_order.or(col.date_order);
            col.confidence = 1.0;
            col.reason = "confirmed in the mapping".into();
        }
        if kind != FileKind::Contacts && matches!(col.target, Target::Custom(_)) {
            // Only contacts have custom fields; elsewhere the value still travels in the text.
            col.target = Target::Append;
        }
        if let Target::Custom(label) = &col.target
            && !defs.contains_key(label)
        {
            let def = match user.custom_field(label) {
                Some(d) => d.clone(),
                None => match &p.inferred {
                    Some(d) if &d.label == label => d.clone(),
                    _ => infer(label, &column_values(tables, &col.source), None).def,
                },
            };
            defs.insert(label.clone(), def);
        }
        columns.push(col);
    }
    for mine in user.columns.get(&kind).into_iter().flatten() {
        let norm = normalize_header(&mine.source);
        if !columns
            .iter()
            .any(|c| c.source == mine.source || normalize_header(&c.source) == norm)
        {
            out.warnings.push(format!(
                "the mapping names {} column '{}', which this export does not have",
                kind.as_str(),
                mine.source
            ));
        }
    }
    columns
}

/// One `ambiguous_date` item per date column whose order is a guess nobody confirmed.
fn ambiguous_dates(
    kind: FileKind,
    proposals: &[Proposal],
    columns: &[ColumnMapping],
    user: &Mapping,
    file: &str,
    defs: &BTreeMap<String, CustomFieldDef>,
    review: &mut Vec<ReviewItem>,
) {
    for (p, col) in proposals.iter().zip(columns) {
        let Some(ev) = &p.dates else { continue };
        if !ev.needs_review() {
            continue;
        }
        let confirmed = match &col.target {
            Target::Custom(label) => user
                .custom_field(label)
                .is_some_and(|d| d.date_order.is_some()),
            Target::Field(_) => user
                .column(kind, &col.source)
                .is_some_and(|c| c.date_order.is_some()),
            _ => true,
        };
        let uses_dates = match &col.target {
            Target::Custom(label) => defs
                .get(label)
                .is_some_and(|d| d.field_type == FieldType::Date),
            Target::Field(f) => f.is_date(),
            _ => false,
        };
        if confirmed || !uses_dates {
            continue;
        }
        let order = match &col.target {
            Target::Custom(label) => defs.get(label).and_then(|d| d.date_order),
            _ => col.date_order,
        }
        .unwrap_or_default();
        let read = if order == crate::dates::DateOrder::Dmy {
            "day-first"
        } else {
            "month-first"
        };
        review.push(
            ReviewItem::new(
                Reason::AmbiguousDate,
                file,
                format!(
                    "{} values (e.g. {}) read both as month/day and day/month; read {read} for now: choose the order",
                    ev.ambiguous,
                    ev.examples.join(", ")
                ),
            )
            .value(&col.source, ev.examples.first().map(String::as_str).unwrap_or("")),
        );
    }
}

/// Adds values from Groups / Categories / Sources list files to the matching proposed
/// dropdowns, so choices nobody uses yet are not lost. Confirmed definitions stay as the
/// customer set them.
fn add_list_choices(
    entries: &[owners::ListEntry],
    user: &Mapping,
    mapping: &Mapping,
    defs: &mut BTreeMap<String, CustomFieldDef>,
    settings: &Settings,
) {
    let contact_cols = mapping.columns.get(&FileKind::Contacts);
    for e in entries {
        let label = if e.list.contains("group") {
            Some(settings.groups_field_label.clone())
        } else {
            let wanted: &[&str] = if e.list.contains('2') || e.list.contains("custom") {
                &["category2", "customcategory"]
            } else if e.list.contains("categor") {
                &["category", "category1", "contactcategory"]
            } else if e.list.contains("source") {
                &["source", "leadsource", "contactsource"]
            } else {
                &[]
            };
            contact_cols
                .into_iter()
                .flatten()
                .find_map(|c| match &c.target {
                    Target::Custom(l) if wanted.contains(&normalize_header(&c.source).as_str()) => {
                        Some(l.clone())
                    }
                    _ => None,
                })
        };
        let Some(label) = label else { continue };
        if user.custom_field(&label).is_some() {
            continue;
        }
        if let Some(def) = defs.get_mut(&label)
            && matches!(def.field_type, FieldType::Dropdown | FieldType::MultiSelect)
            && !def
                .choices
                .iter()
                .any(|c| c.to_lowercase() == e.name.to_lowercase())
        {
            def.choices.push(e.name.clone());
            def.choices.sort_by_key(|c| c.to_lowercase());
        }
    }
}

/// Contact custom fields Freshsales allows per plan (Freshworks support, "What are custom
/// field limits?": Free 0, Growth 150, Pro 250, Enterprise 630).
pub const CUSTOM_FIELD_LIMITS: [(&str, usize); 3] =
    [("Growth", 150), ("Pro", 250), ("Enterprise", 630)];

/// A warning when the mapping needs more contact custom fields than a plan allows.
fn custom_field_limit_warning(n: usize) -> Option<String> {
    let (smallest, limit) = CUSTOM_FIELD_LIMITS[0];
    if n <= limit {
        return None;
    }
    let fits: Vec<&str> = CUSTOM_FIELD_LIMITS
        .iter()
        .filter(|(_, l)| n <= *l)
        .map(|(p, _)| *p)
        .collect();
    Some(format!(
        "the mapping needs {n} contact custom fields; Freshsales allows {limit} on {smallest}, \
         250 on Pro and 630 on Enterprise ({}): leave unneeded columns behind, or send them \
         to the notes text, in the mapping",
        if fits.is_empty() {
            "no plan has that many".to_string()
        } else {
            format!("fits {}", fits.join(", "))
        }
    ))
}

/// Custom fields in the order of the contacts columns that use them.
fn ordered_defs(mapping: &Mapping, defs: &BTreeMap<String, CustomFieldDef>) -> Vec<CustomFieldDef> {
    let mut out: Vec<CustomFieldDef> = Vec::new();
    for c in mapping
        .columns
        .get(&FileKind::Contacts)
        .into_iter()
        .flatten()
    {
        if let Target::Custom(label) = &c.target
            && let Some(d) = defs.get(label)
            && !out.iter().any(|o| &o.label == label)
        {
            out.push(d.clone());
        }
    }
    out
}

impl Prepared {
    /// The mapping as a customer would save it: effective columns plus custom fields.
    pub fn mapping_file(&self) -> Mapping {
        let mut m = self.mapping.clone();
        m.custom_fields = self.custom_fields.clone();
        m
    }

    /// Review item counts by reason (every reason present, zeros included).
    pub fn review_counts(&self) -> BTreeMap<String, u64> {
        let mut counts: BTreeMap<String, u64> = Reason::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), 0))
            .collect();
        for item in &self.review {
            crate::values::bump(&mut counts, item.reason.as_str());
        }
        counts
    }

    /// Whether every object satisfies `rows_in = loaded + merged + held`.
    pub fn balanced(&self) -> bool {
        let ok = |c: &Counts| c.rows_in == c.loaded + c.merged + c.held;
        let o = &self.objects;
        ok(&o.contacts) && ok(&o.notes) && ok(&o.tasks) && ok(&o.appointments) && ok(&o.templates)
    }
}
