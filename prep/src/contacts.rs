//! Contacts: one per email (rows with the same email merged, most recently edited values
//! first), malformed emails held, companies turned into sales accounts.

use std::collections::{BTreeMap, HashMap};

use crate::dates::CalendarDate;
use crate::fields::{CustomFieldDef, FieldValue, StdField as F};
use crate::mapping::Target;
use crate::model::{Account, Contact, Counts, OtherPhone, Source};
use crate::review::{Reason, ReviewItem};
use crate::sheet::Sheet;
use crate::table::Row;
use crate::values::{email_key, is_valid_email, parse_checkbox, split_list, squash, union_into};

/// Where a contact reference leads.
#[derive(Debug, Clone)]
pub enum Link {
    /// To the loaded contact at this index.
    Loaded(usize),
    /// To a held row (file, row, reason): its notes and tasks are held too.
    Held(String, u64, Reason),
}

/// Lookups from the keys notes and tasks use to the contacts.
#[derive(Debug, Default)]
pub struct ContactIndex {
    /// AllClients contact id → contact (merged rows' ids included).
    pub by_id: HashMap<String, Link>,
    /// Lower-case primary email → contact.
    pub by_email: HashMap<String, Link>,
    /// Lower-case other email → contact (first one wins).
    pub by_other_email: HashMap<String, usize>,
    /// Lower-case "first last" → contacts with that name.
    pub by_name: HashMap<String, Vec<usize>>,
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

struct Draft {
    contact: Contact,
    updated: Option<CalendarDate>,
    company: Option<String>,
    sheet: usize,
    row: usize,
}

/// Builds the contacts of all contacts sheets with the confirmed custom field definitions.
pub fn build(sheets: &[Sheet], defs: &BTreeMap<String, CustomFieldDef>) -> ContactSet {
    let mut set = ContactSet::default();
    let mut drafts: Vec<Draft> = Vec::new();
    for (si, sheet) in sheets.iter().enumerate() {
        for (ri, row) in sheet.table.rows.iter().enumerate() {
            set.counts.rows_in += 1;
            if let Some(item) = sheet.ragged(row) {
                let held = item.held;
                set.review.push(item);
                if held {
                    set.counts.held += 1;
                    continue;
                }
            }
            let id = sheet.cell(row, sheet.std(F::ContactId)).map(str::to_string);
            match draft(sheet, row, defs, &mut set.review) {
                Ok(mut d) => {
                    d.sheet = si;
                    d.row = ri;
                    drafts.push(d);
                }
                Err(item) => {
                    if let Some(id) = id {
                        set.index
                            .by_id
                            .insert(id, Link::Held(sheet.file.into(), row.row, item.reason));
                    }
                    if let Some(v) = &item.value {
                        set.index.by_email.entry(email_key(v)).or_insert(Link::Held(
                            sheet.file.into(),
                            row.row,
                            item.reason,
                        ));
                    }
                    set.review.push(item);
                    set.counts.held += 1;
                }
            }
        }
    }
    merge(sheets, drafts, &mut set);
    link_accounts(&mut set);
    demote_duplicate_mobiles(&mut set);
    set
}

fn draft(
    sheet: &Sheet,
    row: &Row,
    defs: &BTreeMap<String, CustomFieldDef>,
    review: &mut Vec<ReviewItem>,
) -> Result<Draft, ReviewItem> {
    let cell = |f: F| sheet.cell(row, sheet.std(f)).map(str::to_string);
    let mut c = Contact {
        sources: vec![Source {
            file: sheet.file.to_string(),
            row: row.row,
        }],
        ..Contact::default()
    };
    if let Some(email) = cell(F::Email) {
        if !is_valid_email(&email) {
            let header = &sheet.table.headers[sheet.std(F::Email).unwrap_or(0)];
            return Err(ReviewItem::new(
                Reason::InvalidEmail,
                sheet.file,
                "malformed email; row held",
            )
            .at(row.row, row.line)
            .value(header, &email)
            .hold(sheet.record(row)));
        }
        c.email = Some(email);
    }
    for i in sheet.all_std(F::OtherEmail) {
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
                    .at(row.row, row.line)
                    .value(&sheet.table.headers[i], v),
                );
            }
        }
    }
    c.allclients_ids = cell(F::ContactId).into_iter().collect();
    c.first_name = cell(F::FirstName);
    c.last_name = cell(F::LastName);
    c.job_title = cell(F::JobTitle);
    c.address = match (cell(F::Address), cell(F::Address2)) {
        (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
        (a, b) => a.or(b),
    };
    c.city = cell(F::City);
    c.state = cell(F::State);
    c.zipcode = cell(F::Zipcode);
    c.country = cell(F::Country);
    c.owner = cell(F::Owner);
    phones(sheet, row, &mut c);
    c.created_at = sheet
        .date(row, sheet.std(F::CreatedAt), review)
        .map(|d| d.to_iso());
    let updated = sheet.date(row, sheet.std(F::UpdatedAt), review);
    c.updated_at = updated.map(|d| d.to_iso());
    for (i, col) in sheet.columns.iter().enumerate() {
        let Some(v) = sheet.cell(row, Some(i)) else {
            continue;
        };
        match &col.target {
            Target::Tags => union_into(&mut c.tags, split_list(v)),
            Target::TagIfTrue(tag) if parse_checkbox(v) == Some(true) => {
                union_into(&mut c.tags, [tag.clone()])
            }
            Target::Custom(label) => {
                let Some(def) = defs.get(label) else { continue };
                match def.convert(v) {
                    Ok(value) => add_custom(&mut c.custom_fields, label, value),
                    Err(problem) => review.push(
                        ReviewItem::new(
                            Reason::InvalidValue,
                            sheet.file,
                            format!("{}; value held", problem.0),
                        )
                        .at(row.row, row.line)
                        .value(&sheet.table.headers[i], v),
                    ),
                }
            }
            _ => {}
        }
    }
    Ok(Draft {
        contact: c,
        updated,
        company: cell(F::Company).map(|s| squash(&s)),
        sheet: 0,
        row: 0,
    })
}

/// Multi-select values from several columns (or merged rows) unite; others keep the first.
fn add_custom(map: &mut BTreeMap<String, FieldValue>, label: &str, value: FieldValue) {
    match (map.get_mut(label), value) {
        (Some(FieldValue::Array(have)), FieldValue::Array(more)) => {
            for m in more {
                if !have.contains(&m) {
                    have.push(m);
                }
            }
        }
        (Some(_), _) => {}
        (None, v) => {
            map.insert(label.to_string(), v);
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
    let l = label.to_lowercase();
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

/// Work and mobile numbers come from typed columns or from `Phone N` + `Phone N Note`
/// labels; an unlabelled phone fills the work number (Freshsales' general phone) when free.
fn phones(sheet: &Sheet, row: &Row, c: &mut Contact) {
    let labels = sheet.all_std(F::PhoneLabel);
    let digit = |h: &str| h.chars().filter(char::is_ascii_digit).collect::<String>();
    let mut found: Vec<(String, Option<String>, PhoneKind)> = Vec::new();
    for (i, col) in sheet.columns.iter().enumerate() {
        let Target::Field(f @ (F::WorkNumber | F::MobileNumber | F::Phone)) = col.target else {
            continue;
        };
        let Some(number) = sheet.cell(row, Some(i)) else {
            continue;
        };
        let header = &sheet.table.headers[i];
        let label = match f {
            F::Phone => {
                let n = digit(header);
                labels
                    .iter()
                    .find(|&&l| digit(&sheet.table.headers[l]) == n)
                    .and_then(|&l| sheet.cell(row, Some(l)))
                    .map(str::to_string)
                    .or_else(|| {
                        let words = header.to_lowercase().replace("phone", "");
                        let words = words.trim_matches(|c: char| !c.is_alphabetic());
                        (!words.is_empty()).then(|| words.to_string())
                    })
            }
            _ => None,
        };
        let kind = match f {
            F::WorkNumber => PhoneKind::Work,
            F::MobileNumber => PhoneKind::Mobile,
            _ => label.as_deref().map_or(PhoneKind::Other, phone_kind),
        };
        found.push((number.to_string(), label, kind));
    }
    let mut rest = Vec::new();
    for (number, label, kind) in found {
        match kind {
            PhoneKind::Mobile if c.mobile_number.is_none() => c.mobile_number = Some(number),
            PhoneKind::Work if c.work_number.is_none() => c.work_number = Some(number),
            _ => rest.push(OtherPhone { number, label }),
        }
    }
    if c.work_number.is_none() {
        if let Some(i) = rest.iter().position(|p| {
            p.label
                .as_deref()
                .is_none_or(|l| phone_kind(l) == PhoneKind::Other)
        }) {
            c.work_number = Some(rest.remove(i).number);
        }
    }
    c.other_phones = rest;
}

fn fill(dst: &mut Option<String>, src: &Option<String>) {
    if dst.is_none() {
        dst.clone_from(src);
    }
}

/// Folds rows with the same email into one contact: the most recently edited row wins
/// field by field, blanks are filled from older rows, and tags, emails and phones unite.
fn merge(sheets: &[Sheet], drafts: Vec<Draft>, set: &mut ContactSet) {
    let mut groups: Vec<Vec<Draft>> = Vec::new();
    let mut by_email: HashMap<String, usize> = HashMap::new();
    for d in drafts {
        match d.contact.email.as_deref().map(email_key) {
            Some(k) => match by_email.get(&k) {
                Some(&g) => groups[g].push(d),
                None => {
                    by_email.insert(k, groups.len());
                    groups.push(vec![d]);
                }
            },
            None => groups.push(vec![d]),
        }
    }
    let mut companies: Vec<Option<String>> = Vec::new();
    for mut group in groups {
        // Stable sort: equal edit dates keep file order, so the later row wins.
        group.sort_by(|a, b| {
            a.updated
                .map(|d| (d.date, d.time))
                .cmp(&b.updated.map(|d| (d.date, d.time)))
        });
        let mut rows = group.into_iter().rev();
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
            set.review.push(
                ReviewItem::new(
                    Reason::DuplicateEmail,
                    sheet.file,
                    format!(
                        "merged into {} row {} (the most recently edited row with this email)",
                        sheets[survivor.0].file, into.row
                    ),
                )
                .at(row.row, row.line)
                .value(
                    &header_of(sheet, F::Email),
                    o.email.as_deref().unwrap_or(""),
                )
                .with_record(sheet.record(row)),
            );
            fill(&mut c.first_name, &o.first_name);
            fill(&mut c.last_name, &o.last_name);
            fill(&mut c.job_title, &o.job_title);
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
        if let Some(email) = &c.email {
            let key = email_key(email);
            c.other_emails.retain(|e| email_key(e) != key);
        }
        c.key = match (&c.email, c.allclients_ids.first()) {
            (Some(e), _) => format!("email:{}", email_key(e)),
            (None, Some(id)) => format!("allclients:{id}"),
            (None, None) => format!("row:{}:{}", c.sources[0].file, c.sources[0].row),
        };
        if c.email.is_none() {
            let sheet = &sheets[survivor.0];
            let row = &sheet.table.rows[survivor.1];
            set.review.push(
                ReviewItem::new(
                    Reason::MissingEmail,
                    sheet.file,
                    "no email: loaded without a dedupe key",
                )
                .at(row.row, row.line),
            );
        }
        set.contacts.push(c);
        companies.push(company);
    }
    // File order, not merge order: the first row of each contact decides its place.
    let mut order: Vec<usize> = (0..set.contacts.len()).collect();
    let first_row = |c: &Contact| {
        let s = c
            .sources
            .iter()
            .min_by_key(|s| (sheets.iter().position(|sh| sh.file == s.file), s.row));
        s.map(|s| (sheets.iter().position(|sh| sh.file == s.file), s.row))
    };
    order.sort_by_key(|&i| first_row(&set.contacts[i]));
    let mut contacts = std::mem::take(&mut set.contacts);
    let mut sorted = Vec::with_capacity(contacts.len());
    let mut sorted_companies = Vec::with_capacity(contacts.len());
    for i in order {
        sorted.push(std::mem::take(&mut contacts[i]));
        sorted_companies.push(companies[i].take());
    }
    set.contacts = sorted;
    for (i, c) in set.contacts.iter_mut().enumerate() {
        c.account = sorted_companies[i].take();
    }
    set.counts.loaded = set.contacts.len() as u64;
    index(set);
}

fn header_of(sheet: &Sheet, f: F) -> String {
    sheet
        .std(f)
        .map(|i| sheet.table.headers[i].clone())
        .unwrap_or_default()
}

fn index(set: &mut ContactSet) {
    for (i, c) in set.contacts.iter().enumerate() {
        for id in &c.allclients_ids {
            set.index.by_id.insert(id.clone(), Link::Loaded(i));
        }
        if let Some(e) = &c.email {
            set.index.by_email.insert(email_key(e), Link::Loaded(i));
        }
        for e in &c.other_emails {
            set.index.by_other_email.entry(email_key(e)).or_insert(i);
        }
        if let Some(name) = full_name(c.first_name.as_deref(), c.last_name.as_deref()) {
            set.index.by_name.entry(name).or_default().push(i);
        }
    }
}

/// Lower-case, space-squashed "first last", the last-resort join key.
pub fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let s = squash(&format!("{} {}", first.unwrap_or(""), last.unwrap_or(""))).to_lowercase();
    (!s.is_empty()).then_some(s)
}

/// Replaces each contact's company text by the key of a sales account, one per
/// normalised company name.
fn link_accounts(set: &mut ContactSet) {
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for c in &mut set.contacts {
        let Some(name) = c.account.take() else {
            continue;
        };
        let norm = name.to_lowercase();
        let i = *by_name.entry(norm.clone()).or_insert_with(|| {
            set.accounts.push(Account {
                key: format!("account:{norm}"),
                name,
                contacts: 0,
            });
            set.accounts.len() - 1
        });
        set.accounts[i].contacts += 1;
        c.account = Some(set.accounts[i].key.clone());
    }
}

fn demote_duplicate_mobiles(set: &mut ContactSet) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for i in 0..set.contacts.len() {
        let Some(m) = set.contacts[i].mobile_number.clone() else {
            continue;
        };
        let digits: String = m.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            continue;
        }
        if let Some(&first) = seen.get(&digits) {
            let first_key = set.contacts[first].key.clone();
            let c = &mut set.contacts[i];
            c.mobile_number = None;
            c.other_phones.push(OtherPhone {
                number: m.clone(),
                label: Some("mobile".into()),
            });
            let src = &c.sources[0];
            let mut item = ReviewItem::new(
                Reason::DuplicateMobile,
                &src.file,
                format!("mobile number also on contact {first_key}; kept as another phone"),
            )
            .value("mobile", &m);
            item.row = Some(src.row);
            set.review.push(item);
        } else {
            seen.insert(digits, i);
        }
    }
}
