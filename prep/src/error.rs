//! Typed errors of the preparer core. Every error that comes from user data names the file
//! and, where there is one, the row and column.

use thiserror::Error;

/// Why a preparation or a bundle read could not go on.
#[derive(Debug, Error)]
pub enum PrepError {
    /// An input file could not be decoded or parsed as CSV at all.
    #[error("{file}: {message}")]
    Input {
        /// The input file's name.
        file: String,
        /// What went wrong, in plain words.
        message: String,
    },
    /// A CSV record could not be read (row and line are 1-based; the header is row 1).
    #[error("{file} row {row} (line {line}): {message}")]
    Csv {
        /// The input file's name.
        file: String,
        /// 1-based record number, the header row being row 1.
        row: u64,
        /// 1-based physical line where the record starts.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// No file among the inputs looks like a contacts export.
    #[error("no contacts file among the inputs ({0}); a Contacts.csv export is required")]
    NoContacts(String),
    /// The mapping file could not be read or does not fit the export.
    #[error("mapping: {0}")]
    Mapping(String),
    /// A bundle is damaged, tampered with, truncated or of an unknown format.
    #[error("bundle: {0}")]
    Bundle(String),
    /// Reading or writing a stream failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Shorthand for results of the preparer core.
pub type Result<T, E = PrepError> = std::result::Result<T, E>;
