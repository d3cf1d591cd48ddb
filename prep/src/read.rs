//! Reading the export's files: archives opened, bytes decoded to text, text parsed into
//! tables. Done once per file and kept ([`ReadFile`]), so a preparation run again (the
//! page runs one after every fix) neither decodes nor parses again, and whoever holds the
//! read files need not hold the files' bytes any more: in a browser tab, that is a whole
//! copy of the export less.

use std::borrow::Cow;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::decode::{decode, decode_owned};
use crate::error::PrepError;
use crate::mapping::{FileOverride, Mapping};
use crate::prepare::InputFile;
use crate::table::Table;

/// One file of the export, read: what a preparation needs of it, without its bytes.
#[derive(Debug, Clone)]
pub struct ReadFile {
    /// Its name (inside a zip, its path there; a spreadsheet's sheets have one each).
    pub name: String,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The encoding it was read with, WHATWG name.
    pub encoding: String,
    /// Whether it started with a byte-order mark.
    pub bom: bool,
    /// The encoding and delimiter the mapping chose for it when it was read (`None`:
    /// detected): read again when the mapping chooses otherwise.
    chosen: (Option<String>, Option<String>),
    /// What it holds.
    pub content: Content,
}

/// A read file's content.
#[derive(Debug, Clone)]
pub enum Content {
    /// An HTML file (an email template, unless the mapping says otherwise), as text.
    Html(String),
    /// A CSV file (or a converted sheet), parsed.
    Table(Table),
}

impl ReadFile {
    /// Whether the file was read with the encoding and delimiter `over` chooses.
    pub fn read_as(&self, over: &FileOverride) -> bool {
        self.chosen == choices(over)
    }
}

fn choices(over: &FileOverride) -> (Option<String>, Option<String>) {
    (over.encoding.clone(), over.delimiter.clone())
}

/// Reads every file of `inputs` (zips opened, spreadsheets converted) with the encoding
/// and delimiter `mapping` chooses for each, in the order they are found.
pub fn read_files(
    inputs: &[InputFile],
    mapping: Option<&Mapping>,
) -> Result<Vec<ReadFile>, PrepError> {
    read_all(crate::archive::expand(inputs)?, mapping)
}

/// [`read_files`] taking the files: a CSV file's bytes become its table's text instead of
/// being copied into it, so reading costs no second copy of the export.
pub fn read_owned(
    inputs: Vec<InputFile>,
    mapping: Option<&Mapping>,
) -> Result<Vec<ReadFile>, PrepError> {
    let mut files = Vec::new();
    for input in inputs {
        if crate::archive::is_archive(&input.name) {
            let entries = crate::archive::expand(std::slice::from_ref(&input))?;
            files.extend(entries.into_iter().map(|e| Cow::Owned(e.into_owned())));
        } else {
            files.push(Cow::Owned(input));
        }
    }
    read_all(files, mapping)
}

/// Reads files already taken out of their archives ([`crate::archive::expand`]), as
/// [`read_files`] does: for whoever has expanded them for a look of its own, so that an
/// archive is not opened twice. Without a mapping, a [`PrepError::Input`] is a file that
/// cannot be decoded as text (binary data); anything wrong inside the text is a
/// [`PrepError::Csv`].
pub fn read_expanded(
    expanded: &[Cow<'_, InputFile>],
    mapping: Option<&Mapping>,
) -> Result<Vec<ReadFile>, PrepError> {
    read_all(
        expanded.iter().map(|f| Cow::Borrowed(f.as_ref())).collect(),
        mapping,
    )
}

fn read_all(
    mut files: Vec<Cow<'_, InputFile>>,
    mapping: Option<&Mapping>,
) -> Result<Vec<ReadFile>, PrepError> {
    let none = FileOverride::default();
    // In the order the preparation takes them, so the first unreadable file is the first
    // named.
    files.sort_by(|a, b| a.name.cmp(&b.name));
    // Files are read side by side where there are threads; the results stay in order.
    let read: Vec<Result<ReadFile, PrepError>> = files
        .into_par_iter()
        .map(|input| {
            let over = mapping
                .and_then(|m| m.files.get(&input.name))
                .unwrap_or(&none);
            read_file(input, over)
        })
        .collect();
    read.into_iter().collect()
}

/// Reads one file (not an archive: see [`read_files`]). An owned file's bytes become its
/// text where they are text already; a borrowed one's are copied.
fn read_file(input: Cow<'_, InputFile>, over: &FileOverride) -> Result<ReadFile, PrepError> {
    let name = input.name.clone();
    let sha256 = format!("{:x}", Sha256::digest(&input.bytes));
    let bytes = input.bytes.len() as u64;
    let forced = over.encoding.as_deref();
    let decoded = match input {
        Cow::Borrowed(f) => decode(&f.bytes, forced),
        Cow::Owned(f) => decode_owned(f.bytes, forced),
    }
    .map_err(|m| PrepError::Input {
        file: name.clone(),
        message: m,
    })?;
    let text = decoded.text.into_owned();
    let lower = name.to_lowercase();
    let content = if lower.ends_with(".html") || lower.ends_with(".htm") {
        Content::Html(text)
    } else {
        Content::Table(Table::parse_owned(&name, text, delimiter(&name, over)?)?)
    };
    Ok(ReadFile {
        name,
        sha256,
        bytes,
        encoding: decoded.encoding,
        bom: decoded.bom,
        chosen: choices(over),
        content,
    })
}

/// The delimiter the mapping chooses for a file, if it chooses one.
pub(crate) fn delimiter(name: &str, over: &FileOverride) -> Result<Option<u8>, PrepError> {
    let Some(d) = over.delimiter.as_deref() else {
        return Ok(None);
    };
    match d {
        "," | "comma" => Ok(Some(b',')),
        ";" | "semicolon" => Ok(Some(b';')),
        "\t" | "\\t" | "tab" => Ok(Some(b'\t')),
        "|" | "pipe" => Ok(Some(b'|')),
        other => Err(PrepError::Input {
            file: name.into(),
            message: format!("unsupported delimiter '{other}'"),
        }),
    }
}
