//! The bundle: one gzip-compressed JSON Lines file. Line 1 is the [`Manifest`]; every other
//! line is one [`Record`] with a `kind`, and (format 2) the last line is the [`Seal`].
//! Written and read as a stream, so neither side holds the whole bundle in memory.
//!
//! Tamper evidence: the content hash is the SHA-256 of the manifest line as written (its
//! `content_sha256` empty), followed by every record line (each with its `\n`). Any change to
//! any byte of the content, or a missing line, changes it. Format 2 puts the hash and the
//! record count in a closing seal line, so the writer streams every record once; format 1
//! (still read) put the hash in the manifest, so every record was built twice.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::corrections::Corrections;
use crate::error::PrepError;
use crate::fields::CustomFieldDef;
use crate::mapping::Mapping;
use crate::model::{
    Account, Appointment, Contact, Note, NoteRef, Objects, Owner, Task, TeamMember, Template,
};
use crate::notes::NoteSource;
use crate::prepare::{Confirmation, InputSummary, Prepared, Settings};
use crate::review::ReviewItem;

/// Version of the bundle format written. Readers take this one and format 1.
pub const FORMAT_VERSION: u32 = 2;

/// The last line of a format-2 bundle: the content hash and the record count, known only
/// once every record is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    /// Always `"seal"`.
    pub kind: String,
    /// SHA-256 over the manifest line (as written) and every record line, hex.
    pub content_sha256: String,
    /// Number of record lines between the manifest and the seal.
    pub records: u64,
}

/// The tool that wrote a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// Tool name.
    pub name: String,
    /// Tool version.
    pub version: String,
}

/// Line 1 of a bundle: everything about the preparation except the records themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `"manifest"`.
    pub kind: String,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// SHA-256 over the content (see the module docs), hex.
    pub content_sha256: String,
    /// Number of record lines after the manifest.
    pub records: u64,
    /// Who wrote it.
    pub tool: Tool,
    /// Input files: name, kind, SHA-256, encoding, delimiter, rows.
    pub inputs: Vec<InputSummary>,
    /// The confirmed mapping.
    pub mapping: Mapping,
    /// Contact custom fields to exist in Freshsales.
    pub custom_fields: Vec<CustomFieldDef>,
    /// Owners referenced, with their users-file status.
    pub owners: Vec<Owner>,
    /// Team members from the users file.
    pub team_members: Vec<TeamMember>,
    /// Every tag.
    pub tags: Vec<String>,
    /// Counts per object (`rows_in = loaded + merged + held`).
    pub objects: Objects,
    /// Review item counts per reason; the items are `review` records.
    pub review: BTreeMap<String, u64>,
    /// Notices that concern no row.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Where every input column's values go, with their counts (absent in older bundles).
    #[serde(default)]
    pub ledger: Vec<crate::ledger::ColumnLedger>,
    /// The customer's corrections of the export (cells fixed, owners assigned), applied
    /// before everything above was worked out; absent when there are none.
    #[serde(default, skip_serializing_if = "Corrections::is_empty")]
    pub corrections: Corrections,
    /// Settings used.
    pub settings: Settings,
    /// The customer's confirmation; `null` for a draft the loader will refuse.
    pub confirmation: Option<Confirmation>,
}

/// A record line of a bundle, in this order in the file: accounts, contacts, notes, tasks,
/// appointments, templates, review items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)]
// Records are written and read one at a time, so the size of the largest variant costs
// nothing; boxing contacts would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub enum Record {
    Account(Account),
    Contact(Contact),
    Note(Note),
    Task(Task),
    Appointment(Appointment),
    Template(Template),
    Review(ReviewItem),
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum RecordRef<'a> {
    Account(&'a Account),
    Contact(&'a Contact),
    Note(&'a NoteRef<'a>),
    Task(&'a Task),
    Appointment(&'a Appointment),
    Template(&'a Template),
    Review(&'a ReviewItem),
}

/// Where a bundle's notes come from: held in memory ([`Prepared::notes`]), or built one at
/// a time from the notes tables ([`NoteSource`]), so a large export's notes are never all
/// held at once.
pub trait Notes {
    /// How many notes there are.
    fn count(&self) -> usize;
    /// Hands every note to `f`, in order; stops at `f`'s first error.
    fn each(&self, f: &mut dyn FnMut(&NoteRef) -> Result<(), PrepError>) -> Result<(), PrepError>;
    /// Hands the notes of the contact keyed `contact` to `f`, in order (the record
    /// preview); stops at `f`'s first error.
    fn each_of(
        &self,
        contact: &str,
        f: &mut dyn FnMut(&NoteRef) -> Result<(), PrepError>,
    ) -> Result<(), PrepError> {
        self.each(&mut |n| if n.contact == contact { f(n) } else { Ok(()) })
    }
}

impl Notes for Vec<Note> {
    fn count(&self) -> usize {
        self.len()
    }

    fn each(&self, f: &mut dyn FnMut(&NoteRef) -> Result<(), PrepError>) -> Result<(), PrepError> {
        self.iter().try_for_each(|n| f(&n.borrowed()))
    }
}

impl Notes for NoteSource<'_> {
    fn count(&self) -> usize {
        self.len()
    }

    fn each(&self, f: &mut dyn FnMut(&NoteRef) -> Result<(), PrepError>) -> Result<(), PrepError> {
        self.for_each(|n| f(&n))
    }

    fn each_of(
        &self,
        contact: &str,
        f: &mut dyn FnMut(&NoteRef) -> Result<(), PrepError>,
    ) -> Result<(), PrepError> {
        self.for_each_of(contact, |n| f(&n))
    }
}

/// Every record of `p` (its notes from `notes`), in bundle order.
fn each_record(
    p: &Prepared,
    notes: &dyn Notes,
    f: &mut dyn FnMut(RecordRef) -> Result<(), PrepError>,
) -> Result<(), PrepError> {
    p.accounts
        .iter()
        .try_for_each(|x| f(RecordRef::Account(x)))?;
    p.contacts
        .iter()
        .try_for_each(|x| f(RecordRef::Contact(x)))?;
    notes.each(&mut |x| f(RecordRef::Note(x)))?;
    p.tasks.iter().try_for_each(|x| f(RecordRef::Task(x)))?;
    p.appointments
        .iter()
        .try_for_each(|x| f(RecordRef::Appointment(x)))?;
    p.templates
        .iter()
        .try_for_each(|x| f(RecordRef::Template(x)))?;
    p.review.iter().try_for_each(|x| f(RecordRef::Review(x)))
}

/// The manifest of `p`, with an empty `content_sha256`.
pub fn manifest(p: &Prepared) -> Manifest {
    manifest_with(p, &p.notes)
}

/// The manifest of `p` whose notes are `notes`, with an empty `content_sha256`.
pub fn manifest_with(p: &Prepared, notes: &dyn Notes) -> Manifest {
    let count = p.accounts.len()
        + p.contacts.len()
        + notes.count()
        + p.tasks.len()
        + p.appointments.len()
        + p.templates.len()
        + p.review.len();
    Manifest {
        kind: "manifest".into(),
        format_version: FORMAT_VERSION,
        content_sha256: String::new(),
        records: count as u64,
        tool: Tool {
            name: crate::TOOL_NAME.into(),
            version: crate::TOOL_VERSION.into(),
        },
        inputs: p.inputs.clone(),
        mapping: p.mapping_file(),
        custom_fields: p.custom_fields.clone(),
        owners: p.owners.clone(),
        team_members: p.team_members.clone(),
        tags: p.tags.clone(),
        objects: p.objects,
        review: p.review_counts(),
        warnings: p.warnings.clone(),
        ledger: p.ledger.clone(),
        corrections: p.corrections.clone(),
        settings: p.settings.clone(),
        confirmation: p.confirmation.clone(),
    }
}

/// The bundle's deflate level. The build's deflate is zlib-rs (the spreadsheet reader's zip
/// dependency turns it on for every user of flate2). Measured with `cargo bench -p prep` on
/// the 58.7 MB export: level 1 (static codes only) 31.8 MB at 61 MB/s of input written,
/// level 2 24.2 MB at 48 MB/s, level 3 22.6 MB at 39 MB/s, level 6 19.8 MB at 20 MB/s. Level
/// 2 makes the bundle a quarter smaller for about a quarter of a second per 60 MB of export:
/// a customer sends it on, often by email.
const GZIP_LEVEL: u32 = 2;

const HASH_FIELD: &str = "\"content_sha256\":\"";

/// The manifest line with its hash emptied: what the content hash starts with.
fn blank_hash(line: &str) -> Result<String, PrepError> {
    let start = line
        .find(HASH_FIELD)
        .ok_or_else(|| PrepError::Bundle("manifest has no content_sha256".into()))?
        + HASH_FIELD.len();
    let len = line[start..]
        .find('"')
        .ok_or_else(|| PrepError::Bundle("manifest is cut short".into()))?;
    Ok(format!("{}{}", &line[..start], &line[start + len..]))
}

/// Writes `p` as a bundle to `w` (gzip, deterministic: no time or name in the gzip header).
/// Returns the manifest as written.
pub fn write(p: &Prepared, w: impl Write) -> Result<Manifest, PrepError> {
    write_streaming(p, &p.notes, w)
}

/// [`write`] with the notes from `notes`: every record is built and serialised once,
/// hashed and compressed as it goes, and the hash closes the bundle in its [`Seal`], so
/// memory stays flat however large the export. Returns the manifest with the hash filled
/// in.
pub fn write_streaming(
    p: &Prepared,
    notes: &dyn Notes,
    w: impl Write,
) -> Result<Manifest, PrepError> {
    let mut m = manifest_with(p, notes);
    let mut out = Out::new(w);
    lines(p, notes, &m, &mut |line| out.content(line))?;
    out.seal(&mut m)?;
    Ok(m)
}

/// [`write_streaming`] with the hashing and compressing on a thread of their own, beside
/// the building and serialising of the records: the same bytes, sooner where there are two
/// cores or more (the CLI). Not on wasm32, which has no threads.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_streaming_threaded<W: Write + Send>(
    p: &Prepared,
    notes: &dyn Notes,
    w: W,
) -> Result<Manifest, PrepError> {
    // Lines travel in batches of a quarter megabyte, two at most waiting: a few hundred
    // kilobytes in flight, plenty to keep both threads busy.
    threaded(p, notes, w, 256 << 10)
}

#[cfg(not(target_arch = "wasm32"))]
fn threaded<W: Write + Send>(
    p: &Prepared,
    notes: &dyn Notes,
    w: W,
    batch_bytes: usize,
) -> Result<Manifest, PrepError> {
    let mut m = manifest_with(p, notes);
    let out = std::thread::scope(|s| {
        // Two batches in flight at most: memory stays flat.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let writer = s.spawn(move || {
            let mut out = Out::new(w);
            for batch in rx {
                out.content(&batch)?;
            }
            Ok::<_, PrepError>(out)
        });
        let mut batch = Vec::with_capacity(batch_bytes);
        let made = lines(p, notes, &m, &mut |line| {
            batch.extend_from_slice(line);
            if batch.len() >= batch_bytes {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_bytes));
                // A send fails only when the writer stopped; its error is the one to tell.
                if tx.send(full).is_err() {
                    return Err(PrepError::Bundle("the bundle writer stopped".into()));
                }
            }
            Ok(())
        });
        if made.is_ok() && !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let written = writer
            .join()
            .map_err(|_| PrepError::Bundle("the bundle writer failed".into()))?;
        let out = written?;
        made.map(|()| out)
    })?;
    out.seal(&mut m)?;
    Ok(m)
}

/// The manifest line, then every record's line, each ending in a newline: the content the
/// seal's hash covers.
fn lines(
    p: &Prepared,
    notes: &dyn Notes,
    m: &Manifest,
    emit: &mut dyn FnMut(&[u8]) -> Result<(), PrepError>,
) -> Result<(), PrepError> {
    let mut line = to_json(m)?.into_bytes();
    line.push(b'\n');
    emit(&line)?;
    each_record(p, notes, &mut |r| {
        line.clear();
        serde_json::to_writer(&mut line, &r).map_err(|e| PrepError::Bundle(e.to_string()))?;
        line.push(b'\n');
        if line.len() > MAX_LINE_BYTES {
            // Readers refuse such a line, so it must not be written.
            let start = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
            return Err(PrepError::Bundle(format!(
                "a record is larger than a bundle line may be ({} MiB): {start}…",
                MAX_LINE_BYTES >> 20
            )));
        }
        emit(&line)
    })
}

/// Where a bundle's bytes go: the content hashed, everything compressed.
struct Out<W: Write> {
    hasher: Sha256,
    gz: flate2::write::GzEncoder<W>,
}

impl<W: Write> Out<W> {
    fn new(w: W) -> Self {
        Out {
            hasher: Sha256::new(),
            // Deterministic: no time or name in the gzip header.
            gz: flate2::GzBuilder::new()
                .mtime(0)
                .write(w, Compression::new(GZIP_LEVEL)),
        }
    }

    fn content(&mut self, bytes: &[u8]) -> Result<(), PrepError> {
        self.hasher.update(bytes);
        self.gz.write_all(bytes)?;
        Ok(())
    }

    /// Closes the bundle with the seal of the content written; fills in `m`'s hash.
    fn seal(self, m: &mut Manifest) -> Result<(), PrepError> {
        let Out { hasher, mut gz } = self;
        m.content_sha256 = format!("{:x}", hasher.finalize());
        let seal = Seal {
            kind: "seal".into(),
            content_sha256: m.content_sha256.clone(),
            records: m.records,
        };
        gz.write_all(to_json(&seal)?.as_bytes())?;
        gz.write_all(b"\n")?;
        gz.finish()?.flush()?;
        Ok(())
    }
}

fn to_json(v: &impl Serialize) -> Result<String, PrepError> {
    serde_json::to_string(v).map_err(|e| PrepError::Bundle(e.to_string()))
}

/// Writes `p` to a byte vector (for the page and tests).
pub fn to_bytes(p: &Prepared) -> Result<Vec<u8>, PrepError> {
    let mut out = Vec::new();
    write(p, &mut out)?;
    Ok(out)
}

/// Streams a bundle's records, checking the content hash as it goes. The check completes
/// when the last record has been read: [`Reader::next_record`] returns an error instead of
/// the end when the content does not match the manifest. Use [`verify`] to check a bundle
/// before acting on any record.
pub struct Reader<R: Read> {
    lines: BufReader<MultiGzDecoder<R>>,
    manifest: Manifest,
    hasher: Sha256,
    seen: u64,
    done: bool,
    buf: String,
}

impl<R: Read> Reader<R> {
    /// Opens a bundle and reads its manifest.
    pub fn open(r: R) -> Result<Reader<R>, PrepError> {
        let mut lines = BufReader::with_capacity(1 << 16, MultiGzDecoder::new(r));
        let mut first = String::new();
        read_capped_line(&mut lines, &mut first).map_err(|e| io_error("manifest", e))?;
        if !first.ends_with('\n') {
            return Err(PrepError::Bundle(
                "not a bundle: the manifest line is missing or cut short".into(),
            ));
        }
        let manifest: Manifest = serde_json::from_str(first.trim_end_matches('\n'))
            .map_err(|e| PrepError::Bundle(format!("manifest is not valid: {e}")))?;
        if manifest.kind != "manifest" {
            return Err(PrepError::Bundle("first line is not a manifest".into()));
        }
        let mut hasher = Sha256::new();
        match manifest.format_version {
            1 => {
                hasher.update(blank_hash(first.trim_end_matches('\n'))?.as_bytes());
                hasher.update(b"\n");
            }
            2 if manifest.content_sha256.is_empty() => hasher.update(first.as_bytes()),
            2 => {
                return Err(PrepError::Bundle(
                    "a format 2 manifest carries no hash (it is in the closing seal): the bundle was altered".into(),
                ));
            }
            v => {
                return Err(PrepError::Bundle(format!(
                    "format_version {v} is not supported (this tool reads 1 and {FORMAT_VERSION})"
                )));
            }
        }
        Ok(Reader {
            lines,
            manifest,
            hasher,
            seen: 0,
            done: false,
            buf: String::new(),
        })
    }

    /// The manifest (not yet verified until all records are read; in a format-2 bundle
    /// its `content_sha256` is filled in from the seal once it is reached).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn sealed(&self) -> bool {
        self.manifest.format_version >= 2
    }

    /// The next record; `Ok(None)` at the end once the content hash matched.
    pub fn next_record(&mut self) -> Result<Option<Record>, PrepError> {
        if self.done {
            return Ok(None);
        }
        self.buf.clear();
        let n = read_capped_line(&mut self.lines, &mut self.buf)
            .map_err(|e| io_error(&format!("line {}", self.seen + 2), e))?;
        if n == 0 {
            if self.sealed() {
                return Err(PrepError::Bundle(format!(
                    "truncated: the bundle ends after {} records without its closing seal",
                    self.seen
                )));
            }
            self.done = true;
            let got = format!("{:x}", std::mem::take(&mut self.hasher).finalize());
            return self.check_end(&got, &self.manifest.content_sha256.clone(), self.seen);
        }
        if !self.buf.ends_with('\n') {
            return Err(PrepError::Bundle(format!(
                "line {} is cut short: the bundle is truncated",
                self.seen + 2
            )));
        }
        if self.sealed() && self.buf.starts_with("{\"kind\":\"seal\"") {
            let seal: Seal = serde_json::from_str(self.buf.trim_end_matches('\n'))
                .map_err(|e| PrepError::Bundle(format!("the seal is not valid: {e}")))?;
            self.done = true;
            let got = format!("{:x}", std::mem::take(&mut self.hasher).finalize());
            if seal.records != self.manifest.records {
                return Err(PrepError::Bundle(format!(
                    "the seal counts {} records where the manifest says {}: the bundle was altered",
                    seal.records, self.manifest.records
                )));
            }
            self.check_end(&got, &seal.content_sha256, self.seen)?;
            let mut rest = String::new();
            if read_capped_line(&mut self.lines, &mut rest)
                .map_err(|e| io_error("after the seal", e))?
                > 0
            {
                return Err(PrepError::Bundle(format!(
                    "line {} is beyond the seal that closes the bundle: the bundle was altered",
                    self.seen + 3
                )));
            }
            self.manifest.content_sha256 = got;
            return Ok(None);
        }
        if self.seen == self.manifest.records {
            return Err(PrepError::Bundle(format!(
                "line {} is a record beyond the {} the manifest counts: the bundle was altered",
                self.seen + 2,
                self.manifest.records
            )));
        }
        self.hasher.update(self.buf.as_bytes());
        self.seen += 1;
        serde_json::from_str(self.buf.trim_end_matches('\n'))
            .map(Some)
            .map_err(|e| PrepError::Bundle(format!("line {}: {e}", self.seen + 1)))
    }

    /// The end: the count and the hash must be the ones promised.
    fn check_end(&self, got: &str, promised: &str, seen: u64) -> Result<Option<Record>, PrepError> {
        if seen != self.manifest.records {
            return Err(PrepError::Bundle(format!(
                "truncated or altered: {seen} records where the manifest says {}",
                self.manifest.records
            )));
        }
        if got != promised {
            return Err(PrepError::Bundle(format!(
                "content does not match its SHA-256 (sealed {promised}, content {got}): the bundle was altered"
            )));
        }
        Ok(None)
    }
}

/// The longest line a bundle may have, in bytes. Far above any honest record (a note or a
/// held row of the largest cell Freshsales takes is well under a megabyte), and low enough
/// that a hostile line cannot exhaust memory before it is refused.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// `read_line`, refusing a line longer than [`MAX_LINE_BYTES`] without buffering the rest.
fn read_capped_line(r: &mut impl BufRead, buf: &mut String) -> std::io::Result<usize> {
    let n = r.by_ref().take(MAX_LINE_BYTES as u64 + 1).read_line(buf)?;
    if buf.len() > MAX_LINE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a line is longer than {} MiB", MAX_LINE_BYTES >> 20),
        ));
    }
    Ok(n)
}

fn io_error(what: &str, e: std::io::Error) -> PrepError {
    PrepError::Bundle(format!(
        "{what}: cannot be read ({e}): the file is truncated or not a bundle"
    ))
}

/// Reads a whole bundle through, checking its hash; returns the manifest and the number of
/// records of each kind. Holds one record at a time.
pub fn verify(r: impl Read) -> Result<(Manifest, BTreeMap<String, u64>), PrepError> {
    let mut reader = Reader::open(r)?;
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(rec) = reader.next_record()? {
        let k = match rec {
            Record::Account(_) => "account",
            Record::Contact(_) => "contact",
            Record::Note(_) => "note",
            Record::Task(_) => "task",
            Record::Appointment(_) => "appointment",
            Record::Template(_) => "template",
            Record::Review(_) => "review",
        };
        crate::values::bump(&mut kinds, k);
    }
    Ok((reader.manifest, kinds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A destination that takes `room` bytes, then fails (a full disk).
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room < buf.len() {
                return Err(std::io::Error::other("no space left"));
            }
            self.room -= buf.len();
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_threaded_writer_writes_the_same_bytes_and_tells_a_failed_write() {
        let mut csv = String::from("Email,First Name\r\n");
        for i in 0..300 {
            csv.push_str(&format!("c{i}@example.com,Name {i}\r\n"));
        }
        let input = crate::InputFile {
            name: "Contacts.csv".into(),
            bytes: csv.into_bytes(),
        };
        let p = crate::prepare(&[input], &Default::default()).unwrap();
        let plain = to_bytes(&p).unwrap();
        // Batches of a few lines: hundreds of them cross between the threads.
        for batch in [1, 64, 1 << 20] {
            let mut out = Vec::new();
            threaded(&p, &p.notes, &mut out, batch).unwrap();
            assert_eq!(out, plain, "batches of {batch} bytes");
        }
        // The disk fills before, during and at the end of the records: the write error is
        // told (not a stopped thread), and nothing hangs.
        for room in [0, 100, plain.len() / 2, plain.len() - 1] {
            let e = threaded(&p, &p.notes, Full { room }, 64).unwrap_err();
            assert!(e.to_string().contains("no space left"), "{room}: {e}");
        }
    }
}
