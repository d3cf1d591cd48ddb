//! Notes, tasks and appointments: rows joined to their contact by AllClients id, else
//! email, else other email, else (reviewed) name. What matches nothing is held, never
//! dropped.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use sha2::{Digest, Sha256};

use crate::contacts::{ContactSet, Link, full_name};
use crate::fields::StdField as F;
use crate::model::{Appointment, Counts, JoinedBy, Priority, Source, Task, TaskStatus};
use crate::review::{Reason, ReviewItem};
use crate::sheet::Sheet;
use crate::table::Row;
use crate::values::{email_key, parse_checkbox};

/// A row's link to its contact, or why there is none.
pub(crate) enum Join {
    Found(usize, JoinedBy),
    Missing(String),
}

pub(crate) fn join(sheet: &Sheet, row: &Row, set: &ContactSet) -> Join {
    let cell = |f: F| sheet.cell(row, sheet.std(f));
    // The last held contact met on the way, which explains a failed join better than
    // "no contact".
    let mut held: Option<&Link> = None;
    let id = cell(F::ContactId);
    if let Some(id) = id
        && let Some(i) = follow(set.index.by_id.get(id), &mut held)
    {
        return Join::Found(i, JoinedBy::ContactId);
    }
    let email = cell(F::Email);
    if let Some(email) = email {
        let mut buf = [0u8; KEY_ROOM];
        let key = lookup_key(email, &mut buf);
        if let Some(i) = follow(set.index.by_email.get(key.as_ref()), &mut held) {
            return Join::Found(i, JoinedBy::Email);
        }
        if let Some(&i) = set.index.by_other_email.get(key.as_ref()) {
            return Join::Found(i, JoinedBy::OtherEmail);
        }
    }
    let name = full_name(cell(F::FirstName), cell(F::LastName))
        .or_else(|| cell(F::ContactName).map(|n| crate::values::squash(n).to_lowercase()));
    if let Some(name) = &name
        && let Some(&Some(i)) = set.index.by_name.get(name)
    {
        return Join::Found(i, JoinedBy::Name);
    }
    // The join failed: only now is it worth spelling out why.
    if let Some(Link::Held(h)) = held {
        return Join::Missing(format!(
            "its contact ({} row {}) is held: {}",
            h.file,
            h.row,
            h.reason.as_str()
        ));
    }
    let tried: Vec<String> = [
        id.map(|id| format!("contact id {id}")),
        email.map(|email| format!("email {email}")),
        name.map(|name| format!("name {name}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if tried.is_empty() {
        return Join::Missing("no contact id, email or name to join on".into());
    }
    Join::Missing(format!(
        "no contact with {} (email changed since export, or contact beyond a plan cap)",
        tried.join(" or ")
    ))
}

/// The loaded contact a link leads to; a held one is remembered in `held` instead.
fn follow<'s>(link: Option<&'s Link>, held: &mut Option<&'s Link>) -> Option<usize> {
    match link? {
        Link::Loaded(i) => Some(*i),
        h @ Link::Held(..) => {
            *held = Some(h);
            None
        }
    }
}

/// Room for an email's lookup key on the stack: an address has at most 254 bytes.
const KEY_ROOM: usize = 256;

/// [`email_key`], borrowed when the email is lower-case ASCII already, lower-cased into
/// `buf` when it is ASCII that fits (exports often write emails in capitals), so lookups
/// allocate only for letters beyond ASCII.
fn lookup_key<'e>(email: &'e str, buf: &'e mut [u8; KEY_ROOM]) -> Cow<'e, str> {
    let trimmed = crate::values::trim(email);
    if trimmed
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        return Cow::Borrowed(trimmed);
    }
    crate::values::ascii_lowercase_in(trimmed, buf)
        .map_or_else(|| Cow::Owned(email_key(email)), Cow::Borrowed)
}

pub(crate) fn name_join_item(sheet: &Sheet, row: &Row, set: &ContactSet, i: usize) -> ReviewItem {
    ReviewItem::new(
        Reason::NameJoin,
        sheet.file,
        format!("joined by name only to {}", set.contacts[i].key),
    )
    .at_row(row)
}

/// The first 10 bytes of the SHA-256 of `parts` (each followed by a NUL).
pub(crate) type Fingerprint = [u8; 10];

pub(crate) fn fingerprint_bytes(parts: &[&str]) -> Fingerprint {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let mut fp = [0; 10];
    fp.copy_from_slice(&h.finalize()[..10]);
    fp
}

/// What [`FingerprintRepeats`] tells repeats apart by: 10 bytes of the 128-bit XXH3 of
/// `parts`, each followed by a NUL, as [`fingerprint_bytes`] hashes them. Equal parts give
/// equal bytes, as they give equal keys; this hash is some ten times cheaper than a
/// SHA-256, and a note's SHA-256 is then worked out only once, for its key. (Two different
/// notes of one export share 80 bits of either hash with a chance of about 1 in 10^10.)
pub(crate) fn repeat_bytes(parts: &[&str]) -> Fingerprint {
    // One pass over one buffer where the parts fit on the stack (a note's contact key,
    // date and text nearly always do); else fed to the streaming hasher.
    let mut room = [0u8; 512];
    let n: usize = parts.iter().map(|p| p.len() + 1).sum();
    let hash = if n <= room.len() {
        let mut at = 0;
        for p in parts {
            room[at..at + p.len()].copy_from_slice(p.as_bytes());
            // Followed by the NUL the room holds already.
            at += p.len() + 1;
        }
        xxhash_rust::xxh3::xxh3_128(&room[..n])
    } else {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for p in parts {
            h.update(p.as_bytes());
            h.update(&[0]);
        }
        h.digest128()
    };
    let mut fp = [0; 10];
    fp.copy_from_slice(&hash.to_le_bytes()[..10]);
    fp
}

/// 20 lower-case hex digits of the fingerprint of `parts`.
fn fingerprint(parts: &[&str]) -> String {
    hex(&fingerprint_bytes(parts))
}

pub(crate) fn hex(fp: &Fingerprint) -> String {
    let mut hex = String::with_capacity(2 * fp.len());
    push_hex(&mut hex, fp);
    hex
}

fn push_hex(out: &mut String, fp: &Fingerprint) {
    for b in fp {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Gives repeated keys a `#n` suffix so identical rows stay distinct records.
#[derive(Default)]
struct KeyRepeats(crate::FastMap<String, u32>);

impl KeyRepeats {
    fn unique(&mut self, key: String) -> String {
        let n = self.0.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { key } else { format!("{key}#{n}") }
    }
}

/// Counts records per fingerprint (so the n-th of identical rows gets the key suffix
/// `#n`), keyed by the fingerprint's bytes: no key string is copied or hashed for the
/// count, which matters with hundreds of thousands of notes.
/// Almost every fingerprint is seen once, so those are only remembered (ten bytes a slot,
/// where a count beside each took sixteen); the rare repeats are counted apart.
pub(crate) struct FingerprintRepeats {
    /// The fingerprints seen, in parts chosen by their last two bytes (which the hasher
    /// leaves out). A hash set has a power of two of slots and fills 7/8 of them before it
    /// grows, so one set for n fingerprints takes between 1.14 and 2.29 slots each: 370 MB
    /// for a 2 GB export's 18 million notes, in a browser tab near its 4 GiB. Parts of a
    /// power of two of slots each, as many as the count needs, take about 1.2.
    once: Vec<HashSet<Fingerprint, BuildHasherDefault<PrefixHasher>>>,
    more: HashMap<Fingerprint, u32, BuildHasherDefault<PrefixHasher>>,
}

impl FingerprintRepeats {
    /// Room for `capacity` fingerprints without growing.
    pub(crate) fn new(capacity: usize) -> FingerprintRepeats {
        let once = Self::parts(capacity)
            .into_iter()
            .map(|n| HashSet::with_capacity_and_hasher(n, Default::default()))
            .collect();
        FingerprintRepeats {
            once,
            more: HashMap::default(),
        }
    }

    /// The capacity of each part for `capacity` fingerprints: one set when they are few;
    /// else 33 to 70 parts of `2^k` slots (7/8 of them usable) that hold a share each with
    /// room for its spread (a share of a uniform hash varies by about its square root).
    fn parts(capacity: usize) -> Vec<usize> {
        if capacity < 1 << 16 {
            return vec![capacity];
        }
        // Divided first: `capacity * 8` could pass a 32-bit usize.
        let slots = (capacity / 7 * 8 / 32).next_power_of_two() / 2;
        let usable = slots / 8 * 7;
        let share = usable - 4 * usable.isqrt() - usable / 100;
        vec![usable; capacity.div_ceil(share)]
    }

    /// How many records so far (this one included) have this fingerprint.
    pub(crate) fn repeat(&mut self, fp: Fingerprint) -> u32 {
        let part = usize::from(u16::from_le_bytes([fp[8], fp[9]])) % self.once.len();
        if self.once[part].insert(fp) {
            return 1;
        }
        let n = self.more.entry(fp).or_insert(1);
        *n += 1;
        *n
    }
}

/// `<prefix>:<hex>`, with `#n` for the n-th record (n > 1) of the same fingerprint.
pub(crate) fn fingerprint_key(prefix: &str, fp: &Fingerprint, n: u32) -> String {
    // One buffer, no formatter: this runs for every note.
    let mut key = String::with_capacity(prefix.len() + 1 + 2 * fp.len() + 11);
    key.push_str(prefix);
    key.push(':');
    push_hex(&mut key, fp);
    if n > 1 {
        key.push('#');
        key.push_str(&n.to_string());
    }
    key
}

/// Hashes a fingerprint by its first 8 bytes: they come from SHA-256, so they are spread
/// evenly already and need no further mixing.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
}

/// Splits `[[System]]` and `[[Icon:Name]]` prefixes off a note's text.
pub fn system_prefix(text: &str) -> (bool, Option<String>) {
    let mut rest = text.trim_start();
    let mut system = false;
    let mut icon = None;
    while let Some(after) = rest.strip_prefix("[[") {
        let Some(end) = after.find("]]") else { break };
        let tag = &after[..end];
        if tag.eq_ignore_ascii_case("system") {
            system = true;
        } else if let Some(name) = tag
            .strip_prefix("Icon:")
            .or_else(|| tag.strip_prefix("icon:"))
        {
            icon = Some(name.to_string());
        } else {
            break;
        }
        rest = &after[end + 2..];
    }
    (system, icon)
}

fn status(sheet: &Sheet, row: &Row, review: &mut Vec<ReviewItem>) -> TaskStatus {
    let completed_date = sheet.cell(row, sheet.std(F::CompletedDate)).is_some();
    let Some(i) = sheet.std(F::Status) else {
        return if completed_date {
            TaskStatus::Completed
        } else {
            TaskStatus::Open
        };
    };
    let Some(v) = sheet.cell(row, Some(i)) else {
        return if completed_date {
            TaskStatus::Completed
        } else {
            TaskStatus::Open
        };
    };
    let header = &sheet.table.headers[i];
    let lower = v.to_lowercase();
    let yes_no = crate::kind::normalize_header(header) != "status";
    match lower.as_str() {
        "closed" | "completed" | "complete" | "done" => TaskStatus::Completed,
        "open" | "pending" | "not started" | "in progress" => TaskStatus::Open,
        _ if yes_no && parse_checkbox(v).is_some() => {
            if parse_checkbox(v) == Some(true) {
                TaskStatus::Completed
            } else {
                TaskStatus::Open
            }
        }
        _ => {
            review.push(
                ReviewItem::new(
                    Reason::InvalidValue,
                    sheet.file,
                    "unknown status; loaded as open",
                )
                .at_row(row)
                .value(header, v),
            );
            TaskStatus::Open
        }
    }
}

fn priority(sheet: &Sheet, row: &Row, review: &mut Vec<ReviewItem>) -> Option<Priority> {
    let i = sheet.std(F::Priority)?;
    let v = sheet.cell(row, Some(i))?;
    match v.to_lowercase().as_str() {
        "high" | "1" | "urgent" => Some(Priority::High),
        "normal" | "medium" | "3" | "2" => Some(Priority::Normal),
        "low" | "5" | "4" => Some(Priority::Low),
        _ => {
            review.push(
                ReviewItem::new(
                    Reason::InvalidValue,
                    sheet.file,
                    "unknown priority; left out",
                )
                .at_row(row)
                .value(&sheet.table.headers[i], v),
            );
            None
        }
    }
}

/// Builds the tasks of all task sheets.
pub fn tasks(sheets: &[Sheet], set: &ContactSet) -> (Vec<Task>, Counts, Vec<ReviewItem>) {
    let mut out = Vec::new();
    let mut counts = Counts::default();
    let mut review = Vec::new();
    let mut keys = KeyRepeats::default();
    for sheet in sheets {
        for row in &sheet.table.rows {
            counts.rows_in += 1;
            if let Some(item) = sheet.ragged(row) {
                let held = item.held;
                review.push(item);
                if held {
                    counts.held += 1;
                    continue;
                }
            }
            let (i, joined_by) = match join(sheet, row, set) {
                Join::Found(i, by) => (i, by),
                Join::Missing(why) => {
                    counts.held += 1;
                    review.push(sheet.orphan(row, Reason::OrphanTask, why));
                    continue;
                }
            };
            if joined_by == JoinedBy::Name {
                review.push(name_join_item(sheet, row, set, i));
            }
            let cell = |f: F| sheet.cell(row, sheet.std(f)).map(str::to_string);
            let task_type = cell(F::TaskType);
            let title = cell(F::Title)
                .or_else(|| task_type.clone())
                .unwrap_or_else(|| "To-Do (imported from AllClients)".to_string());
            let mut details = cell(F::Details);
            let mut extra = sheet.appended(row);
            if let Some(t) = cell(F::Template) {
                extra.push(format!("Template: {t}"));
            }
            if !extra.is_empty() {
                let d = details.get_or_insert_with(String::new);
                if !d.is_empty() {
                    d.push_str("\n\n");
                }
                d.push_str(&extra.join("\n"));
            }
            let due_date = sheet
                .date(row, sheet.std(F::DueDate), &mut review)
                .map(|d| d.to_iso()[..10].to_string());
            let completed_date = sheet
                .date(row, sheet.std(F::CompletedDate), &mut review)
                .map(|d| d.to_iso());
            if due_date.is_none() && completed_date.is_none() {
                review.push(
                    ReviewItem::new(
                        Reason::MissingDueDate,
                        sheet.file,
                        "no due date: Freshsales needs one, so this to-do will be due on the \
                         day the mapping is confirmed",
                    )
                    .at_row(row)
                    .value(&title, ""),
                );
            }
            let contact = set.contacts[i].key.clone();
            let key = match cell(F::TodoId) {
                Some(id) => keys.unique(format!("task:allclients:{id}")),
                None => keys.unique(format!(
                    "task:{}",
                    fingerprint(&[&contact, &title, due_date.as_deref().unwrap_or("")])
                )),
            };
            out.push(Task {
                key,
                contact,
                joined_by,
                title,
                details,
                due_date,
                status: status(sheet, row, &mut review),
                completed_date,
                priority: priority(sheet, row, &mut review),
                task_type,
                owner: cell(F::Owner),
                source: Source {
                    file: sheet.file.to_string(),
                    row: row.row.into(),
                },
            });
            counts.loaded += 1;
        }
    }
    (out, counts, review)
}

/// Builds the appointments of all appointment sheets. Contact-less appointments are valid.
pub fn appointments(
    sheets: &[Sheet],
    set: &ContactSet,
) -> (Vec<Appointment>, Counts, Vec<ReviewItem>) {
    let mut out = Vec::new();
    let mut counts = Counts::default();
    let mut review = Vec::new();
    let mut keys = KeyRepeats::default();
    for sheet in sheets {
        for row in &sheet.table.rows {
            counts.rows_in += 1;
            if let Some(item) = sheet.ragged(row) {
                let held = item.held;
                review.push(item);
                if held {
                    counts.held += 1;
                    continue;
                }
            }
            let has_ref = [
                F::ContactId,
                F::Email,
                F::FirstName,
                F::LastName,
                F::ContactName,
            ]
            .iter()
            .any(|&f| sheet.cell(row, sheet.std(f)).is_some());
            let contact = match join(sheet, row, set) {
                Join::Found(i, by) => {
                    if by == JoinedBy::Name {
                        review.push(name_join_item(sheet, row, set, i));
                    }
                    Some(set.contacts[i].key.clone())
                }
                Join::Missing(why) => {
                    if has_ref {
                        let mut item = ReviewItem::new(
                            Reason::OrphanAppointment,
                            sheet.file,
                            format!("{why}; loaded without a contact"),
                        )
                        .at_row(row);
                        if let Some((header, value)) = sheet.link_cell(row) {
                            item = item.value(header, &value);
                        }
                        review.push(item);
                    }
                    None
                }
            };
            let cell = |f: F| sheet.cell(row, sheet.std(f)).map(str::to_string);
            let date = sheet.date(row, sheet.std(F::Date), &mut review);
            let at = |f: F, review: &mut Vec<ReviewItem>| -> Option<String> {
                let i = sheet.std(f)?;
                let v = sheet.cell(row, Some(i))?;
                // "9:00 AM" alone is a time on the appointment's date.
                if let (Some(d), None) = (date, crate::dates::parse_raw(v)) {
                    let joined = format!("{} {v}", d.to_iso()[..10].replace('-', "/"));
                    if let Some(x) = crate::dates::parse_raw(&joined)
                        .and_then(|r| r.settle(crate::dates::DateOrder::Mdy))
                    {
                        return Some(x.to_iso());
                    }
                }
                sheet.date(row, Some(i), review).map(|d| d.to_iso())
            };
            let start = at(F::Start, &mut review).or_else(|| date.map(|d| d.to_iso()));
            let mut end = at(F::End, &mut review);
            // An end given as a time alone that comes before the start (8:30 PM to 1:00 AM)
            // is on the next day.
            let end_time_only = sheet
                .cell(row, sheet.std(F::End))
                .is_some_and(|v| crate::dates::parse_raw(v).is_none());
            if let (Some(e), Some(s)) = (&end, &start)
                && end_time_only
                && e.len() > 10
                && e < s
            {
                end = next_day(e);
            }
            let Some(start) = start else {
                // Freshsales needs a start: without one the appointment cannot be placed.
                counts.held += 1;
                review.push(sheet.hold_row(
                    row,
                    Reason::InvalidValue,
                    "appointment has no date that can be read; row held",
                ));
                continue;
            };
            let start = Some(start);
            let title = cell(F::Title).unwrap_or_else(|| "Appointment".to_string());
            let mut details = cell(F::Details);
            let extra = sheet.appended(row);
            if !extra.is_empty() {
                let d = details.get_or_insert_with(String::new);
                if !d.is_empty() {
                    d.push_str("\n\n");
                }
                d.push_str(&extra.join("\n"));
            }
            let key = match cell(F::AppointmentId) {
                Some(id) => keys.unique(format!("appointment:allclients:{id}")),
                None => keys.unique(format!(
                    "appointment:{}",
                    fingerprint(&[
                        contact.as_deref().unwrap_or(""),
                        &title,
                        start.as_deref().unwrap_or("")
                    ])
                )),
            };
            out.push(Appointment {
                key,
                contact,
                title,
                details,
                start,
                end,
                all_day: cell(F::AllDay).as_deref().and_then(parse_checkbox) == Some(true),
                owner: cell(F::Owner),
                source: Source {
                    file: sheet.file.to_string(),
                    row: row.row.into(),
                },
            });
            counts.loaded += 1;
        }
    }
    (out, counts, review)
}

/// `YYYY-MM-DDTHH:MM:SS` one calendar day later.
fn next_day(iso: &str) -> Option<String> {
    let num = |r: std::ops::Range<usize>| iso.get(r)?.parse::<i32>().ok();
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let next = time::Date::from_calendar_date(num(0..4)?, month, day)
        .ok()?
        .next_day()?;
    Some(format!(
        "{:04}-{:02}-{:02}{}",
        next.year(),
        u8::from(next.month()),
        next.day(),
        iso.get(10..)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_keys_are_email_keys() {
        let long = format!("{}@EXAMPLE.COM", "A".repeat(300));
        for email in [
            "ada@x.com",
            " Ada@X.com ",
            "SIOBHN.SCHFER79279@MAIL.EXAMPLE.ORG",
            "Zoë@Example.com",
            "\u{212a}elvin@x.com",
            long.as_str(),
            "",
        ] {
            let mut buf = [0u8; KEY_ROOM];
            assert_eq!(lookup_key(email, &mut buf), email_key(email), "{email}");
        }
    }

    #[test]
    fn repeat_bytes_tell_parts_apart_on_the_stack_and_beyond() {
        let long = "é".repeat(400);
        for text in ["", "call back", long.as_str()] {
            let parts = ["ann@example.com", "2024-03-05 10:22", text];
            // The same parts, hashed as one run of bytes, each part followed by a NUL.
            let joined: String = parts.iter().map(|p| format!("{p}\0")).collect();
            let hash = xxhash_rust::xxh3::xxh3_128(joined.as_bytes()).to_le_bytes();
            assert_eq!(
                repeat_bytes(&parts)[..],
                hash[..10],
                "{} bytes",
                joined.len()
            );
            // A part's bytes moved to its neighbour is another note.
            let moved = ["ann@example.com2", "024-03-05 10:22", text];
            assert_ne!(repeat_bytes(&parts), repeat_bytes(&moved));
        }
    }

    #[test]
    fn repeats_count_each_fingerprint_on_its_own() {
        for capacity in [4, 1 << 20] {
            let mut r = FingerprintRepeats::new(capacity);
            let (a, b) = (fingerprint_bytes(&["a"]), fingerprint_bytes(&["b"]));
            let seen: Vec<u32> = [a, b, a, a, b].into_iter().map(|f| r.repeat(f)).collect();
            assert_eq!(seen, [1, 1, 2, 3, 2], "{capacity}");
        }
    }

    /// The parts hold their shares of as many fingerprints as asked for without growing,
    /// in about 1.2 slots each (one set took up to 2.29).
    #[test]
    fn repeats_parts_hold_their_count_in_few_slots() {
        // Both ends of the range of part counts: just under and just over a power of two.
        for capacity in [1 << 16, 100_000, 7 << 17, (7 << 17) - 1, 1 << 20] {
            let mut r = FingerprintRepeats::new(capacity);
            let slots = |r: &FingerprintRepeats| -> usize {
                r.once.iter().map(|s| s.capacity()).sum::<usize>()
            };
            let before = slots(&r);
            assert!(
                (33..=70).contains(&r.once.len()),
                "{capacity}: {} parts",
                r.once.len()
            );
            let per = before as f64 / 7.0 * 8.0 / capacity as f64;
            assert!(per < 1.3, "{capacity}: {per:.2} slots each");
            // Spread as SHA-256 is (splitmix64), without hashing each: the test runs
            // unoptimised in CI.
            let mix = |mut z: u64| {
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
                z ^ (z >> 31)
            };
            for i in 0..capacity as u64 {
                let (a, b) = (mix(2 * i), mix(2 * i + 1));
                let mut fp = [0; 10];
                fp[..8].copy_from_slice(&a.to_le_bytes());
                fp[8..].copy_from_slice(&b.to_le_bytes()[..2]);
                assert_eq!(r.repeat(fp), 1);
            }
            assert_eq!(slots(&r), before, "{capacity}: no part grew");
        }
    }

    #[test]
    fn an_end_before_the_start_is_the_next_morning() {
        assert_eq!(
            next_day("2021-12-31T01:00:00").as_deref(),
            Some("2022-01-01T01:00:00")
        );
        assert_eq!(
            next_day("2024-02-28T07:15:00").as_deref(),
            Some("2024-02-29T07:15:00")
        );
    }

    #[test]
    fn system_prefixes() {
        assert_eq!(
            system_prefix("[[System]][[Icon:Email]] Sent"),
            (true, Some("Email".into()))
        );
        assert_eq!(
            system_prefix("[[Icon:Calendar]]x"),
            (false, Some("Calendar".into()))
        );
        assert_eq!(system_prefix("plain [[System]]"), (false, None));
    }
}
