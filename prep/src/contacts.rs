//! Contacts: one per email (rows with the same email merged, most recently edited values
//! first), malformed emails held, companies turned into sales accounts.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::FastMap;
use std::sync::Arc;

use crate::dates::CalendarDate;
use crate::fields::{Converter, CustomFieldDef, FieldValue, StdField as F};
use crate::ids::IdMap;
use crate::mapping::Target;
use crate::model::{Account, Contact, Counts, CustomValues, OtherPhone, Source, Text};
use crate::review::{Reason, ReviewItem};
use crate::sheet::Sheet;
use crate::table::Row;
use crate::values::{email_key, is_valid_email, parse_checkbox, split_list, squash, union_into};

/// Where a contact reference leads.
#[derive(Debug, Clone)]
pub enum Link {
    /// To the loaded contact at this index.
    Loaded(usize),
    /// To a held row: its notes and tasks are held too. Boxed, so that a link takes a
    /// word beside its tag: the lookups hold one per contact, and few rows are held.
    Held(Box<HeldRow>),
}

/// A contacts row held for review, as a link names it.
#[derive(Debug, Clone)]
pub struct HeldRow {
    /// Its file.
    pub file: String,
    /// Its row (header = row 1).
    pub row: u64,
    /// Why it is held.
    pub reason: Reason,
}

impl Link {
    fn held(file: &str, row: u64, reason: Reason) -> Link {
        Link::Held(Box::new(HeldRow {
            file: file.to_string(),
            row,
            reason,
        }))
    }
}

/// Lookups from the keys notes and tasks use to the contacts.
#[derive(Debug, Default)]
pub struct ContactIndex {
    /// AllClients contact id → contact (merged rows' ids included).
    pub by_id: IdMap<Link>,
    /// Lower-case primary email → contact.
    pub by_email: FastMap<String, Link>,
    /// Lower-case other email → contact (first one wins).
    pub by_other_email: FastMap<String, usize>,
    /// Lower-case "first last" → the one contact with that name, `None` when several
    /// have it (a join by name needs exactly one; a list per name took an allocation of
    /// room for four per contact).
    pub by_name: FastMap<String, Option<usize>>,
}

/// The result of building contacts.
#[derive(Debug, Default)]
pub struct ContactSet {
    /// Contacts to load, in first-row order.
    pub contacts: Vec<Contact>,
    /// Sales accounts, in first-seen order.
    pub accounts: Vec<Account>,
    /// Lookups for joining.
    pub index: ContactIndex,
    /// rows_in / loaded / merged / held.
    pub counts: Counts,
    /// Review items.
    pub review: Vec<ReviewItem>,
}

/// How many rows are drafted side by side before they are folded in.
const DRAFT_RUN: usize = 8192;

struct Draft {
    contact: Contact,
    updated: Option<CalendarDate>,
    company: Option<Text>,
    sheet: usize,
    row: usize,
}

/// Builds the contacts of all contacts sheets with the confirmed custom field definitions.
pub fn build(sheets: &[Sheet], defs: &BTreeMap<String, CustomFieldDef>) -> ContactSet {
    let mut set = ContactSet::default();
    // Each label is allocated once and shared by every contact that has the field: an
    // export can have hundreds of thousands of contacts and a dozen custom fields.
    let converters: BTreeMap<&str, (Arc<str>, Converter)> = defs
        .iter()
        .map(|(label, def)| {
            (
                label.as_str(),
                (Arc::from(label.as_str()), Converter::new(def)),
            )
        })
        .collect();
    let rows: usize = sheets.iter().map(|s| s.table.rows.len()).sum();
    let mut drafts: Vec<Draft> = Vec::with_capacity(rows);
    for (si, sheet) in sheets.iter().enumerate() {
        let plan = Plan::new(sheet, &converters);
        // Each row is drafted on its own (a pure function of the row), so the rows are
        // drafted in parallel and folded in file order: the result is the sequential one.
        // A run of rows at a time: an outcome is larger than its draft, and all of a
        // sheet's outcomes beside the drafts were the preparation's high-water mark.
        for (run, rows) in sheet.table.rows.chunks(DRAFT_RUN).enumerate() {
            let outcomes: Vec<Outcome> = rows
                .par_iter()
                .with_min_len(512)
                .map(|row| outcome(sheet, &plan, row))
                .collect();
            for (ri, (row, o)) in rows.iter().zip(outcomes).enumerate() {
                let ri = run * DRAFT_RUN + ri;
                set.counts.rows_in += 1;
                set.review.extend(o.ragged);
                set.review.extend(o.review);
                match o.draft {
                    None => set.counts.held += 1,
                    Some(Ok(mut d)) => {
                        d.sheet = si;
                        d.row = ri;
                        drafts.push(d);
                    }
                    Some(Err(item)) => {
                        if let Some(id) = o.id {
                            set.index
                                .by_id
                                .insert(&id, Link::held(sheet.file, row.row.into(), item.reason));
                        }
                        if let Some(v) = &item.value {
                            set.index.by_email.entry(email_key(v)).or_insert(Link::held(
                                sheet.file,
                                row.row.into(),
                                item.reason,
                            ));
                        }
                        set.review.push(*item);
                        set.counts.held += 1;
                    }
                }
            }
        }
    }
    merge(sheets, drafts, &mut set);
    link_accounts(&mut set);
    demote_duplicate_mobiles(&mut set);
    set
}

/// What drafting one row came to: its ragged-row item, the items drafting raised, and
/// its draft (`None` when the ragged check holds the row; `Err` when drafting does, with
/// the row's AllClients id so its notes and tasks find it held).
struct Outcome {
    ragged: Option<ReviewItem>,
    review: Vec<ReviewItem>,
    id: Option<String>,
    draft: Option<Result<Draft, Box<ReviewItem>>>,
}

fn outcome(sheet: &Sheet, plan: &Plan, row: &Row) -> Outcome {
    let mut o = Outcome {
        ragged: sheet.ragged(row),
        review: Vec::new(),
        id: None,
        draft: None,
    };
    if o.ragged.as_ref().is_some_and(|item| item.held) {
        return o;
    }
    let draft = draft(sheet, plan, row, &mut o.review);
    if draft.is_err() {
        o.id = sheet.cell(row, sheet.std(F::ContactId)).map(str::to_string);
    }
    o.draft = Some(draft);
    o
}

/// What a sheet's rows need beyond the mapping, worked out once per sheet rather than
/// once per row.
struct Plan<'s> {
    /// Phone columns with their label sources.
    phones: Vec<PhoneColumn>,
    /// Tag and custom field columns, in column order (custom columns without a definition
    /// left out).
    values: Vec<(usize, ValueColumn<'s>)>,
}

/// What a tag or custom field column contributes.
enum ValueColumn<'s> {
    Tags,
    TagIfTrue(&'s str),
    /// Its field's label and converter, and the label's place among the labels (in
    /// label order, the order a contact's custom values are kept in).
    Custom(&'s Arc<str>, &'s Converter<'s>, usize),
}

impl<'s> Plan<'s> {
    fn new(
        sheet: &'s Sheet,
        converters: &'s BTreeMap<&str, (Arc<str>, Converter<'s>)>,
    ) -> Plan<'s> {
        let values = sheet
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, col)| {
                let value = match &col.target {
                    Target::Tags => ValueColumn::Tags,
                    Target::TagIfTrue(tag) => ValueColumn::TagIfTrue(tag),
                    Target::Custom(label) => {
                        let rank = converters.keys().position(|l| *l == label.as_str())?;
                        let (label, converter) = &converters[label.as_str()];
                        ValueColumn::Custom(label, converter, rank)
                    }
                    _ => return None,
                };
                Some((i, value))
            })
            .collect();
        Plan {
            phones: phone_columns(sheet),
            values,
        }
    }
}

fn draft(
    sheet: &Sheet,
    plan: &Plan,
    row: &Row,
    review: &mut Vec<ReviewItem>,
) -> Result<Draft, Box<ReviewItem>> {
    let cell = |f: F| sheet.cell(row, sheet.std(f)).map(Text::from);
    let mut c = Contact {
        sources: vec![Source {
            file: Text::from(sheet.file),
            row: row.row.into(),
        }],
        ..Contact::default()
    };
    if let Some(email) = cell(F::Email) {
        if !is_valid_email(&email) {
            let header = &sheet.table.headers[sheet.std(F::Email).unwrap_or(0)];
            return Err(Box::new(
                ReviewItem::new(
                    Reason::InvalidEmail,
                    sheet.file,
                    "malformed email; row held",
                )
                .at_row(row)
                .value(header, &email)
                .hold(sheet.record(row)),
            ));
        }
        c.email = Some(email);
    }
    for &i in sheet.all_std(F::OtherEmail) {
        if let Some(v) = sheet.cell(row, Some(i)) {
            if is_valid_email(v) {
                union_into(&mut c.other_emails, [v.to_string()]);
            } else {
                review.push(
                    ReviewItem::new(
                        Reason::InvalidValue,
                        sheet.file,
                        "malformed email; value left out",
                    )
                    .at_row(row)
                    .value(&sheet.table.headers[i], v),
                );
            }
        }
    }
    c.allclients_ids = cell(F::ContactId).into_iter().collect();
    c.first_name = cell(F::FirstName);
    c.last_name = cell(F::LastName);
    c.job_title = cell(F::JobTitle);
    let part = |f: F| sheet.cell(row, sheet.std(f));
    c.address = match (part(F::Address), part(F::Address2)) {
        // At its exact size: a contact keeps its values as long as the preparation runs.
        (Some(a), Some(b)) => {
            let mut both = Text::with_capacity(a.len() + 1 + b.len());
            both.push_str(a);
            both.push('\n');
            both.push_str(b);
            Some(both)
        }
        (a, b) => a.or(b).map(Text::from),
    };
    c.city = cell(F::City);
    c.state = cell(F::State);
    c.zipcode = cell(F::Zipcode);
    c.country = cell(F::Country);
    c.owner = cell(F::Owner);
    phones(sheet, &plan.phones, row, &mut c);
    c.created_at = sheet
        .date(row, sheet.std(F::CreatedAt), review)
        .map(|d| d.to_iso_text());
    let updated = sheet.date(row, sheet.std(F::UpdatedAt), review);
    c.updated_at = updated.map(|d| d.to_iso_text());
    // Gathered by their label's place, then put in that order once: a contact has a
    // handful, and a sorted vector searched by label for each took a fifth of drafting.
    let mut customs: Vec<(usize, Arc<str>, FieldValue)> = Vec::new();
    for &(i, ref column) in &plan.values {
        let Some(v) = sheet.cell(row, Some(i)) else {
            continue;
        };
        match *column {
            ValueColumn::Tags => union_into(&mut c.tags, split_list(v)),
            ValueColumn::TagIfTrue(tag) if parse_checkbox(v) == Some(true) => {
                union_into(&mut c.tags, [tag.to_string()])
            }
            ValueColumn::Custom(label, converter, rank) => match converter.convert(v) {
                Ok(value) => match customs.iter_mut().find(|(r, ..)| *r == rank) {
                    Some((.., have)) => unite(have, value),
                    None => customs.push((rank, Arc::clone(label), value)),
                },
                Err(problem) => review.push(
                    ReviewItem::new(
                        Reason::InvalidValue,
                        sheet.file,
                        format!("{}; value held", problem.0),
                    )
                    .at_row(row)
                    .value(&sheet.table.headers[i], v),
                ),
            },
            _ => {}
        }
    }
    customs.sort_unstable_by_key(|(rank, ..)| *rank);
    let customs = customs.into_iter().map(|(_, label, value)| (label, value));
    // Each label once (found above), in label order; were they not, each value is still
    // placed, one at a time.
    c.custom_fields = CustomValues::from_sorted(customs.collect()).unwrap_or_else(|values| {
        let mut placed = CustomValues::default();
        for (label, value) in values {
            add_custom(&mut placed, &label, value);
        }
        placed
    });
    c.fit();
    Ok(Draft {
        contact: c,
        updated,
        company: sheet
            .cell(row, sheet.std(F::Company))
            .map(|s| Text::from(squash(s))),
        sheet: 0,
        row: 0,
    })
}

/// Multi-select values from several columns (or merged rows) unite; others keep the first.
fn add_custom(map: &mut CustomValues, label: &Arc<str>, value: FieldValue) {
    match map.get_mut(label) {
        Some(have) => unite(have, value),
        None => {
            map.insert(Arc::clone(label), value);
        }
    }
}

/// A further value of a field that has one: a multi-select's choices are added to it;
/// any other keeps the first.
fn unite(have: &mut FieldValue, more: FieldValue) {
    if let (FieldValue::Array(have), FieldValue::Array(more)) = (have, more) {
        for m in more {
            if !have.contains(&m) {
                have.push(m);
            }
        }
    }
}

#[derive(PartialEq)]
enum PhoneKind {
    Work,
    Mobile,
    Other,
}

fn phone_kind(label: &str) -> PhoneKind {
    // Most labels are ASCII, lower-cased on the stack; any other is lower-cased in full
    // (the Kelvin sign lower-cases to an ASCII k).
    let mut room = [0u8; 32];
    let l = crate::values::ascii_lowercase_in(label, &mut room)
        .map_or_else(|| Cow::Owned(label.to_lowercase()), Cow::Borrowed);
    if l.contains("mobile") || l.contains("cell") {
        PhoneKind::Mobile
    } else if l.contains("work")
        || l.contains("business")
        || l.contains("office")
        || l.contains("direct")
    {
        PhoneKind::Work
    } else {
        PhoneKind::Other
    }
}

/// A phone column of a sheet and where its label comes from.
struct PhoneColumn {
    index: usize,
    field: F,
    /// For `Phone N`: the first `Phone N Note` column, whose cell labels the number.
    label_column: Option<usize>,
    /// For `Phone N`: the header's own words ("Home Phone" gives "home"), the label when
    /// the label cell is missing or empty.
    header_label: Option<String>,
}

/// The sheet's work, mobile and labelled phone columns, paired with their label columns
/// by the number in the headers.
fn phone_columns(sheet: &Sheet) -> Vec<PhoneColumn> {
    let labels = sheet.all_std(F::PhoneLabel);
    let digit = |h: &str| h.chars().filter(char::is_ascii_digit).collect::<String>();
    let mut out = Vec::new();
    for (i, col) in sheet.columns.iter().enumerate() {
        let Target::Field(field @ (F::WorkNumber | F::MobileNumber | F::Phone)) = col.target else {
            continue;
        };
        let (label_column, header_label) = if field == F::Phone {
            let header = &sheet.table.headers[i];
            let n = digit(header);
            let label_column = labels
                .iter()
                .copied()
                .find(|&l| digit(&sheet.table.headers[l]) == n);
            let words = header.to_lowercase().replace("phone", "");
            let words = words.trim_matches(|c: char| !c.is_alphabetic());
            (label_column, (!words.is_empty()).then(|| words.to_string()))
        } else {
            (None, None)
        };
        out.push(PhoneColumn {
            index: i,
            field,
            label_column,
            header_label,
        });
    }
    out
}

/// Work and mobile numbers come from typed columns or from `Phone N` + `Phone N Note`
/// labels; an unlabelled phone fills the work number (Freshsales' general phone) when free.
fn phones(sheet: &Sheet, columns: &[PhoneColumn], row: &Row, c: &mut Contact) {
    let mut found: Vec<(Text, Option<Text>, PhoneKind)> = Vec::new();
    for col in columns {
        let Some(number) = sheet.cell(row, Some(col.index)) else {
            continue;
        };
        let label = match col.field {
            F::Phone => sheet
                .cell(row, col.label_column)
                .or(col.header_label.as_deref())
                .map(Text::from),
            _ => None,
        };
        let kind = match col.field {
            F::WorkNumber => PhoneKind::Work,
            F::MobileNumber => PhoneKind::Mobile,
            _ => label.as_deref().map_or(PhoneKind::Other, phone_kind),
        };
        found.push((Text::from(number), label, kind));
    }
    let mut rest = Vec::new();
    for (number, label, kind) in found {
        match kind {
            PhoneKind::Mobile if c.mobile_number.is_none() => c.mobile_number = Some(number),
            PhoneKind::Work if c.work_number.is_none() => c.work_number = Some(number),
            _ => rest.push(OtherPhone { number, label }),
        }
    }
    if c.work_number.is_none()
        && let Some(i) = rest.iter().position(|p| {
            p.label
                .as_deref()
                .is_none_or(|l| phone_kind(l) == PhoneKind::Other)
        })
    {
        c.work_number = Some(rest.remove(i).number);
    }
    c.other_phones = rest;
}

/// Each group's place in the output: file order, not merge order, so the first row (in
/// file order) of each contact decides where it goes.
fn places(sheets: &[Sheet], drafts: &[Draft], groups: &[&[usize]]) -> Vec<usize> {
    // A source's file is identified by the first sheet with its name.
    let file_pos: Vec<Option<usize>> = sheets
        .iter()
        .map(|s| sheets.iter().position(|sh| sh.file == s.file))
        .collect();
    let first_rows: Vec<(Option<usize>, u64)> = groups
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|&i| {
                    let d = &drafts[i];
                    (
                        file_pos[d.sheet],
                        u64::from(sheets[d.sheet].table.rows[d.row].row),
                    )
                })
                .min()
                .unwrap_or_default()
        })
        .collect();
    let mut by_first_row: Vec<usize> = (0..groups.len()).collect();
    by_first_row.sort_by_key(|&g| first_rows[g]);
    let mut places = vec![0; groups.len()];
    for (place, g) in by_first_row.into_iter().enumerate() {
        places[g] = place;
    }
    places
}

/// Groups the drafts by email (rows without one stand alone) and orders them for the fold:
/// returns each draft's group (numbered in order of first appearance) and the draft
/// indexes sorted by group, then by edit date, oldest first. The sort is stable, so equal
/// edit dates keep file order and the later row wins.
fn merge_order(drafts: &[Draft]) -> (Vec<usize>, Vec<usize>) {
    let mut by_email: FastMap<String, usize> = FastMap::default();
    let mut groups = 0;
    let mut new_group = || {
        groups += 1;
        groups - 1
    };
    // Lower-cased side by side, grouped in order.
    let keys: Vec<Option<String>> = drafts
        .par_iter()
        .with_min_len(1024)
        .map(|d| d.contact.email.as_deref().map(email_key))
        .collect();
    by_email.reserve(drafts.len());
    let group_of: Vec<usize> = keys
        .into_iter()
        .map(|k| match k {
            Some(k) => *by_email.entry(k).or_insert_with(&mut new_group),
            None => new_group(),
        })
        .collect();
    let mut order: Vec<usize> = (0..drafts.len()).collect();
    order.sort_by_key(|&i| (group_of[i], drafts[i].updated.map(|d| (d.date, d.time))));
    (group_of, order)
}

fn fill<S: Clone>(dst: &mut Option<S>, src: &Option<S>) {
    if dst.is_none() {
        dst.clone_from(src);
    }
}

/// Folds rows with the same email into one contact: the most recently edited row wins
/// field by field, blanks are filled from older rows, and tags, emails and phones unite.
fn merge(sheets: &[Sheet], mut drafts: Vec<Draft>, set: &mut ContactSet) {
    let (group_of, order) = merge_order(&drafts);
    let groups: Vec<&[usize]> = order
        .chunk_by(|&a, &b| group_of[a] == group_of[b])
        .collect();
    let places = places(sheets, &drafts, &groups);
    // Groups in output order; `groups[g]` holds the drafts of group number `g`.
    let mut by_place = vec![0; groups.len()];
    for (g, &place) in places.iter().enumerate() {
        by_place[place] = g;
    }
    // The contacts are written over the drafts, slot k holding the contact placed k-th, when
    // each slot's draft has been folded by the time its slot is written (its group is placed
    // at or before k; always so when the drafts are in file order): an export's contacts
    // then never take room twice, which was the preparation's high-water mark.
    let in_place = (0..groups.len()).all(|k| places[group_of[k]] <= k);
    let mut apart: Vec<Contact> = Vec::new();
    // The merge's review items, by group: they are listed in group order (first appearance),
    // whatever order the groups are folded in.
    let mut items: Vec<(usize, ReviewItem)> = Vec::new();
    // Each slot's surviving row (sheet, row), for the finish below.
    let mut survivors: Vec<(usize, usize)> = Vec::with_capacity(groups.len());
    for (k, &g) in by_place.iter().enumerate() {
        let group = groups[g];
        // The most recently edited row survives; the others fold into it, newest first.
        let mut rows = group.iter().rev().map(|&i| Draft {
            contact: std::mem::take(&mut drafts[i].contact),
            company: drafts[i].company.take(),
            ..drafts[i]
        });
        let Some(first) = rows.next() else { continue };
        let mut c = first.contact;
        let mut company = first.company;
        let survivor = (first.sheet, first.row);
        for older in rows {
            set.counts.merged += 1;
            let o = older.contact;
            let sheet = &sheets[older.sheet];
            let row = &sheet.table.rows[older.row];
            let into = &sheets[survivor.0].table.rows[survivor.1];
            items.push((
                g,
                ReviewItem::new(
                    Reason::DuplicateEmail,
                    sheet.file,
                    format!(
                        "merged into {} row {} (the most recently edited row with this email)",
                        sheets[survivor.0].file, into.row
                    ),
                )
                .at_row(row)
                .value(
                    &header_of(sheet, F::Email),
                    o.email.as_deref().unwrap_or(""),
                )
                .with_record(sheet.record(row)),
            ));
            fill(&mut c.first_name, &o.first_name);
            fill(&mut c.last_name, &o.last_name);
            fill(&mut c.job_title, &o.job_title);
            // A merged row's other numbers are kept as further phones, not dropped.
            for (have, theirs, label) in [
                (&c.work_number, &o.work_number, "Work"),
                (&c.mobile_number, &o.mobile_number, "Mobile"),
            ] {
                if let (Some(h), Some(t)) = (have, theirs)
                    && h != t
                {
                    let p = OtherPhone {
                        number: t.clone(),
                        label: Some(label.into()),
                    };
                    if !c.other_phones.contains(&p) {
                        c.other_phones.push(p);
                    }
                }
            }
            fill(&mut c.work_number, &o.work_number);
            fill(&mut c.mobile_number, &o.mobile_number);
            fill(&mut c.address, &o.address);
            fill(&mut c.city, &o.city);
            fill(&mut c.state, &o.state);
            fill(&mut c.zipcode, &o.zipcode);
            fill(&mut c.country, &o.country);
            fill(&mut c.owner, &o.owner);
            fill(&mut c.created_at, &o.created_at);
            fill(&mut c.updated_at, &o.updated_at);
            fill(&mut company, &older.company);
            union_into(&mut c.tags, o.tags);
            union_into(&mut c.other_emails, o.other_emails);
            for p in o.other_phones {
                if !c.other_phones.contains(&p) {
                    c.other_phones.push(p);
                }
            }
            for (label, value) in o.custom_fields {
                add_custom(&mut c.custom_fields, &label, value);
            }
            for id in o.allclients_ids {
                if !c.allclients_ids.contains(&id) {
                    c.allclients_ids.push(id);
                }
            }
            c.sources.extend(o.sources);
        }
        c.account = company;
        survivors.push(survivor);
        if in_place {
            drafts[k].contact = c;
        } else {
            apart.push(c);
        }
    }
    set.contacts = if in_place {
        drafts.truncate(groups.len());
        // Collected in place: the drafts' allocation becomes the contacts'; what merged rows
        // and held rows left over is given back.
        let mut contacts: Vec<Contact> = drafts.into_iter().map(|d| d.contact).collect();
        contacts.shrink_to_fit();
        contacts
    } else {
        apart
    };
    // Each contact finished on its own, side by side; a group without an email is one row,
    // so its item never sits among a merge's.
    let missing: Vec<(usize, ReviewItem)> = set
        .contacts
        .par_iter_mut()
        .with_min_len(1024)
        .zip(by_place.par_iter().zip(&survivors))
        .filter_map(|(c, (&g, &(s, r)))| {
            finish(c);
            c.email.is_none().then(|| {
                let sheet = &sheets[s];
                let item = ReviewItem::new(
                    Reason::MissingEmail,
                    sheet.file,
                    "no email: loaded, but a later re-run cannot recognise it",
                )
                .at_row(&sheet.table.rows[r]);
                (g, item)
            })
        })
        .collect();
    items.extend(missing);
    // Stable: a group's own items keep their order.
    items.sort_by_key(|(g, _)| *g);
    set.review.extend(items.into_iter().map(|(_, item)| item));
    set.counts.loaded = set.contacts.len() as u64;
    index(set);
}

/// A folded contact's last touches: its primary email out of its other emails, its key,
/// and its lists no larger than they need be.
fn finish(c: &mut Contact) {
    c.key = match (&c.email, c.allclients_ids.first()) {
        (Some(email), _) => {
            let key = email_key(email);
            if !c.other_emails.is_empty() {
                c.other_emails.retain(|e| email_key(e) != key);
            }
            let mut out = String::with_capacity("email:".len() + key.len());
            out.push_str("email:");
            out.push_str(&key);
            out
        }
        (None, Some(id)) => format!("allclients:{id}"),
        (None, None) => format!("row:{}:{}", c.sources[0].file, c.sources[0].row),
    };
    c.fit();
}

fn header_of(sheet: &Sheet, f: F) -> String {
    sheet
        .std(f)
        .map(|i| sheet.table.headers[i].clone())
        .unwrap_or_default()
}

/// A contact's lower-cased other emails and full name, for the index.
type OtherKeys = (Vec<String>, Option<String>);

fn index(set: &mut ContactSet) {
    // The keys are worked out side by side (lower-casing is most of it), then inserted in
    // contact order, into maps sized once for them instead of grown by doubling; the maps
    // by id and email and those by other email and name are filled side by side, each in
    // contact order.
    let (emails, others): (Vec<Option<String>>, Vec<OtherKeys>) = set
        .contacts
        .par_iter()
        .with_min_len(1024)
        .map(|c| {
            (
                c.email.as_deref().map(email_key),
                (
                    c.other_emails.iter().map(|e| email_key(e)).collect(),
                    full_name(c.first_name.as_deref(), c.last_name.as_deref()),
                ),
            )
        })
        .unzip();
    let ContactIndex {
        by_id,
        by_email,
        by_other_email,
        by_name,
    } = &mut set.index;
    let contacts = &set.contacts;
    let n = contacts.len();
    rayon::join(
        || {
            by_id.reserve(n);
            by_email.reserve(n);
            for (i, (c, email)) in contacts.iter().zip(emails).enumerate() {
                for id in &c.allclients_ids {
                    by_id.insert(id, Link::Loaded(i));
                }
                if let Some(e) = email {
                    by_email.insert(e, Link::Loaded(i));
                }
            }
        },
        || {
            by_name.reserve(n);
            for (i, (emails, name)) in others.into_iter().enumerate() {
                for e in emails {
                    by_other_email.entry(e).or_insert(i);
                }
                if let Some(name) = name {
                    by_name
                        .entry(name)
                        .and_modify(|one| *one = None)
                        .or_insert(Some(i));
                }
            }
        },
    );
}

/// Lower-case, space-squashed "first last", the last-resort join key.
pub fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    // The words of both parts joined by single spaces: `squash("{first} {last}")` without
    // the intermediate strings (this runs for every contact and joined row).
    let mut squashed = String::new();
    let words = [first, last]
        .into_iter()
        .flat_map(|part| part.unwrap_or("").split_whitespace());
    for word in words {
        if !squashed.is_empty() {
            squashed.push(' ');
        }
        squashed.push_str(word);
    }
    let s = squashed.to_lowercase();
    (!s.is_empty()).then_some(s)
}

/// Replaces each contact's company text by the key of a sales account, one per
/// normalised company name.
fn link_accounts(set: &mut ContactSet) {
    let mut by_name: FastMap<String, usize> = FastMap::default();
    for c in &mut set.contacts {
        let Some(name) = c.account.take() else {
            continue;
        };
        let norm = name.as_str().to_lowercase();
        let i = match by_name.get(&norm) {
            Some(&i) => i,
            None => {
                let i = set.accounts.len();
                set.accounts.push(Account {
                    key: format!("account:{norm}"),
                    name: name.into(),
                    contacts: 0,
                });
                by_name.insert(norm, i);
                i
            }
        };
        set.accounts[i].contacts += 1;
        c.account = Some(Text::from(set.accounts[i].key.as_str()));
    }
}

/// Room for a mobile number's digits on the stack; longer ones are copied.
const DIGITS_ROOM: usize = 32;

fn demote_duplicate_mobiles(set: &mut ContactSet) {
    // By their digits, most of which are a plain number: kept as one without a copy.
    let mut seen: IdMap<usize> = IdMap::default();
    seen.reserve(set.contacts.len());
    for i in 0..set.contacts.len() {
        let Some(m) = set.contacts[i].mobile_number.as_deref() else {
            continue;
        };
        let mut room = [0u8; DIGITS_ROOM];
        let digits = digits_of(m, &mut room);
        if digits.is_empty() {
            continue;
        }
        if let Some(&first) = seen.get(&digits) {
            let first_key = set.contacts[first].key.clone();
            let c = &mut set.contacts[i];
            let Some(m) = c.mobile_number.take() else {
                continue;
            };
            let src = &c.sources[0];
            let mut item = ReviewItem::new(
                Reason::DuplicateMobile,
                &src.file,
                format!("mobile number also on contact {first_key}; kept as another phone"),
            )
            .value("mobile", &m);
            item.row = Some(src.row);
            set.review.push(item);
            c.other_phones.push(OtherPhone {
                number: m,
                label: Some("mobile".into()),
            });
        } else {
            seen.insert(&digits, i);
        }
    }
}

/// The ASCII digits of `text`, written into `room` when they fit.
fn digits_of<'r>(text: &str, room: &'r mut [u8; DIGITS_ROOM]) -> Cow<'r, str> {
    let mut n = 0;
    for b in text.bytes().filter(u8::is_ascii_digit) {
        match room.get_mut(n) {
            Some(slot) => *slot = b,
            None => return Cow::Owned(text.chars().filter(char::is_ascii_digit).collect()),
        }
        n += 1;
    }
    // ASCII digits are text.
    Cow::Borrowed(std::str::from_utf8(&room[..n]).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::ColumnMapping;
    use crate::table::Table;

    fn email_column() -> Vec<ColumnMapping> {
        vec![ColumnMapping {
            source: "Email".into(),
            target: Target::Field(F::Email),
            confidence: 1.0,
            reason: String::new(),
            date_order: None,
        }]
    }

    fn emails(set: &ContactSet) -> Vec<&str> {
        set.contacts
            .iter()
            .map(|c| c.email.as_deref().unwrap_or(""))
            .collect()
    }

    #[test]
    fn phone_labels_are_read_whatever_their_case_or_length() {
        let long = format!("{} work", "x".repeat(40));
        for (label, kind) in [
            ("Mobile", PhoneKind::Mobile),
            ("CELL", PhoneKind::Mobile),
            ("Work", PhoneKind::Work),
            ("Business Line", PhoneKind::Work),
            ("OFFICE", PhoneKind::Work),
            ("direct", PhoneKind::Work),
            ("Home", PhoneKind::Other),
            ("Fax", PhoneKind::Other),
            ("", PhoneKind::Other),
            (long.as_str(), PhoneKind::Work),
            // Beyond ASCII: the Kelvin sign is a capital k, the dotted I a capital i.
            ("Wor\u{212A}", PhoneKind::Work),
            ("Mob\u{130}le", PhoneKind::Other),
            ("Téléphone mobile", PhoneKind::Mobile),
            ("Büro", PhoneKind::Other),
        ] {
            assert!(phone_kind(label) == kind, "{label}");
        }
    }

    #[test]
    fn a_mobile_number_met_again_becomes_another_phone_by_its_digits() {
        let mut columns = email_column();
        columns.push(ColumnMapping {
            source: "Mobile".into(),
            target: Target::Field(F::MobileNumber),
            ..columns[0].clone()
        });
        let long = "1234567890".repeat(4);
        let text = format!(
            "Email,Mobile\n\
             a@x.example,(012) 345-6789\n\
             b@x.example,0123456789\n\
             c@x.example,123456789\n\
             d@x.example,1-2-3-4-5-6-7-8-9\n\
             e@x.example,{long}\n\
             f@x.example,+{long}\n\
             g@x.example,n/a\n\
             h@x.example,none\n"
        );
        let table = Table::parse("Contacts.csv", &text, None).unwrap();
        let set = build(
            &[Sheet::new("Contacts.csv", &table, &columns)],
            &BTreeMap::new(),
        );
        let mobiles: Vec<Option<&str>> = set
            .contacts
            .iter()
            .map(|c| c.mobile_number.as_deref())
            .collect();
        // A leading zero is a digit: 0123456789 and 123456789 are different numbers.
        // Numbers with no digits are never the same number.
        assert_eq!(
            mobiles,
            [
                Some("(012) 345-6789"),
                None,
                Some("123456789"),
                None,
                Some(long.as_str()),
                None,
                Some("n/a"),
                Some("none"),
            ]
        );
        for (i, first) in [(1, "a"), (3, "c"), (5, "e")] {
            let c = &set.contacts[i];
            assert_eq!(c.other_phones.len(), 1, "{}", c.key);
            let item = set
                .review
                .iter()
                .find(|r| r.reason == Reason::DuplicateMobile && r.row == Some(i as u64 + 2))
                .unwrap();
            assert!(
                item.message.contains(&format!("email:{first}@x.example")),
                "{}",
                item.message
            );
        }
    }

    #[test]
    fn address_and_address_2_are_joined_by_a_line_break() {
        let mut columns = email_column();
        for (source, f) in [("Address", F::Address), ("Address 2", F::Address2)] {
            columns.push(ColumnMapping {
                source: source.into(),
                target: Target::Field(f),
                ..columns[0].clone()
            });
        }
        let csv = "Email,Address,Address 2\n\
                   a@x.example,1 Main St,Suite 4\n\
                   b@x.example,,Suite 5\n\
                   c@x.example,2 Elm Road and a long way on,\n";
        let table = Table::parse("Contacts.csv", csv, None).unwrap();
        let set = build(
            &[Sheet::new("Contacts.csv", &table, &columns)],
            &BTreeMap::new(),
        );
        let addresses: Vec<Option<&str>> =
            set.contacts.iter().map(|c| c.address.as_deref()).collect();
        assert_eq!(
            addresses,
            [
                Some("1 Main St\nSuite 4"),
                Some("Suite 5"),
                Some("2 Elm Road and a long way on")
            ]
        );
    }

    #[test]
    fn rows_drafted_in_runs_keep_their_rows_across_a_run_boundary() {
        // Rows on both sides of a run boundary: a malformed email, and one email met in
        // the first run and again in the second.
        let n = DRAFT_RUN + 3;
        let mut csv = String::from("Email\n");
        for i in 0..n {
            match i {
                1 => csv.push_str("dup@x.example\n"),
                _ if i == DRAFT_RUN + 1 => csv.push_str("DUP@x.example\n"),
                _ if i == DRAFT_RUN => csv.push_str("not an email\n"),
                _ => csv.push_str(&format!("c{i}@x.example\n")),
            }
        }
        let table = Table::parse("Contacts.csv", &csv, None).unwrap();
        let set = build(
            &[Sheet::new("Contacts.csv", &table, &email_column())],
            &BTreeMap::new(),
        );
        assert_eq!(set.counts.rows_in, n as u64);
        assert_eq!((set.counts.merged, set.counts.held), (1, 1));
        // Rows are numbered from 2 (the header is row 1).
        let held = set.review.iter().find(|i| i.reason == Reason::InvalidEmail);
        assert_eq!(held.and_then(|i| i.row), Some(DRAFT_RUN as u64 + 2));
        // The later row survives, in the place of the first; both rows are its sources.
        let dup = &set.contacts[1];
        assert_eq!(dup.email.as_deref(), Some("DUP@x.example"));
        let rows: Vec<u64> = dup.sources.iter().map(|s| s.row).collect();
        assert_eq!(rows, [DRAFT_RUN as u64 + 3, 3]);
        let merged = set
            .review
            .iter()
            .find(|i| i.reason == Reason::DuplicateEmail);
        assert_eq!(merged.and_then(|i| i.row), Some(3));
        let into = format!("merged into Contacts.csv row {} ", DRAFT_RUN + 3);
        assert!(merged.is_some_and(|i| i.message.starts_with(&into)));
        let last = set.contacts.last().and_then(|c| c.email.as_deref());
        assert_eq!(last, Some(format!("c{}@x.example", n - 1).as_str()));
    }

    #[test]
    fn contacts_keep_file_order_whether_merged_over_their_drafts_or_apart() {
        let columns = email_column();
        let defs = BTreeMap::new();
        // One file: the drafts are in file order, so the contacts are written over them.
        let one = Table::parse(
            "Contacts.csv",
            "Email\na@x.example\nb@x.example\nA@x.example\nc@x.example\n",
            None,
        )
        .unwrap();
        let set = build(&[Sheet::new("Contacts.csv", &one, &columns)], &defs);
        // The later of two rows with one email and no edit dates survives.
        assert_eq!(emails(&set), ["A@x.example", "b@x.example", "c@x.example"]);
        assert_eq!((set.counts.loaded, set.counts.merged), (3, 1));
        // Two sheets of one name (rows counted from 2 in each): c's first row comes before
        // b's, so b's slot is still needed when c is written, and the contacts are built
        // apart; the order is the same rule's.
        let first =
            Table::parse("Contacts.csv", "Email\na@x.example\nb@x.example\n", None).unwrap();
        let second = Table::parse("Contacts.csv", "Email\nc@x.example\n", None).unwrap();
        let sheets = [
            Sheet::new("Contacts.csv", &first, &columns),
            Sheet::new("Contacts.csv", &second, &columns),
        ];
        let set = build(&sheets, &defs);
        assert_eq!(emails(&set), ["a@x.example", "c@x.example", "b@x.example"]);
        assert_eq!(set.counts.loaded, 3);
        // The review lists the merge's items in first-appearance order either way.
        let mut columns = email_column();
        columns.push(ColumnMapping {
            source: "First Name".into(),
            target: Target::Field(F::FirstName),
            ..columns[0].clone()
        });
        let first = Table::parse("Contacts.csv", "Email,First Name\n,Ann\n,Bob\n", None).unwrap();
        let second = Table::parse("Contacts.csv", "Email,First Name\n,Cy\n", None).unwrap();
        let sheets = [
            Sheet::new("Contacts.csv", &first, &columns),
            Sheet::new("Contacts.csv", &second, &columns),
        ];
        let set = build(&sheets, &defs);
        let names: Vec<&str> = set
            .contacts
            .iter()
            .map(|c| c.first_name.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(names, ["Ann", "Cy", "Bob"]);
        let missing: Vec<Option<u64>> = set
            .review
            .iter()
            .filter(|i| i.reason == Reason::MissingEmail)
            .map(|i| i.row)
            .collect();
        assert_eq!(missing, [Some(2), Some(3), Some(2)]);
    }
}
