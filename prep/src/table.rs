//! A decoded CSV file as a header and rows, with the delimiter it was sniffed with.
//! Parsing itself is the `csv` crate's; this module only sniffs, numbers rows and notes
//! ragged ones.

use std::fmt;
use std::sync::Arc;

use csv::StringRecord;

use crate::error::PrepError;

/// One data row of an input file.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based record number; the header is row 1, so the first data row is row 2.
    pub row: u64,
    /// 1-based physical line where the record starts (differs from `row` after quoted
    /// newlines or skipped blank lines).
    pub line: u64,
    /// The cells as read (may be shorter or longer than the header).
    pub cells: Cells,
}

impl Row {
    /// The cell at `index`, or "" when the row is too short.
    pub fn get(&self, index: usize) -> &str {
        self.cells.get(index).unwrap_or("")
    }
}

/// The cells of all rows of a table, back to back in one buffer: a few large allocations
/// per table instead of several small ones per row, which dominated parsing big exports.
#[derive(Debug, Default)]
struct CellStore {
    /// Every cell's text, concatenated.
    text: String,
    /// For each cell, in table order, where its text ends, counted from the start of its
    /// row's text (a cell starts where the previous cell of its row ends). Relative to the
    /// row, four bytes are enough (a row of 4 GiB is refused), half of what a position in
    /// the whole store would take: a notes table has millions of cells.
    ends: Vec<u32>,
}

impl CellStore {
    /// Appends one row's cells; returns the row's [`Cells`] fields (where its text starts,
    /// its first cell's index, its cell count), or `None` when the row's text would pass
    /// 4 GiB or the table 4 billion cells.
    fn push_row<'c>(
        &mut self,
        cells: impl IntoIterator<Item = &'c str>,
    ) -> Option<(usize, u32, u32)> {
        let start = self.text.len();
        let first = u32::try_from(self.ends.len()).ok()?;
        for cell in cells {
            self.text.push_str(cell);
            self.ends.push(u32::try_from(self.text.len() - start).ok()?);
        }
        let len = u32::try_from(self.ends.len()).ok()? - first;
        Some((start, first, len))
    }
}

/// One row's cells: a view into the table's [`CellStore`].
#[derive(Clone)]
pub struct Cells {
    store: Arc<CellStore>,
    /// Where the row's text starts in `store.text`.
    start: usize,
    /// Index of the row's first cell in `store.ends` (four bytes: a row is 40 bytes, and a
    /// notes table has millions).
    first: u32,
    len: u32,
}

impl Cells {
    /// Number of cells.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the row has no cells.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The cell at `index`, if the row has one.
    pub fn get(&self, index: usize) -> Option<&str> {
        if index >= self.len() {
            return None;
        }
        let k = self.first as usize + index;
        let from = if index == 0 {
            0
        } else {
            self.store.ends[k - 1] as usize
        };
        let to = self.store.ends[k] as usize;
        self.store.text.get(self.start + from..self.start + to)
    }

    /// The cells in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i).unwrap_or(""))
    }
}

impl fmt::Debug for Cells {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A parsed CSV file.
#[derive(Debug, Clone)]
pub struct Table {
    /// Header cells, trimmed.
    pub headers: Vec<String>,
    /// Data rows, in file order, blank rows left out.
    pub rows: Vec<Row>,
    /// The delimiter used.
    pub delimiter: u8,
}

impl Table {
    /// Parses `text` with the given delimiter, or a sniffed one when `None`.
    pub fn parse(file: &str, text: &str, delimiter: Option<u8>) -> Result<Table, PrepError> {
        let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(text));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut headers: Option<Vec<String>> = None;
        // The rows point at an empty store until theirs is complete: built straight into
        // their vector, they never take room twice (a notes table has millions).
        let pending = Arc::new(CellStore::default());
        let mut rows: Vec<Row> = Vec::new();
        let mut store = CellStore {
            text: String::with_capacity(text.len()),
            ends: Vec::new(),
        };
        let mut record = StringRecord::new();
        let mut index: u64 = 0;
        // Where the last record read starts, for the unclosed-quote check below.
        let mut last_start: Option<(u64, usize)> = None;
        loop {
            let line = reader.position().line();
            let more = reader
                .read_record(&mut record)
                .map_err(|e| PrepError::Csv {
                    file: file.to_string(),
                    row: index + 1,
                    line: e.position().map(|p| p.line()).unwrap_or(line),
                    message: e.to_string(),
                })?;
            if !more {
                break;
            }
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            index += 1;
            if let Some(p) = record.position() {
                // The position may sit before the previous record's line ending.
                let mut b = p.byte() as usize;
                while matches!(text.as_bytes().get(b), Some(b'\r' | b'\n')) {
                    b += 1;
                }
                last_start = Some((index, b));
            }
            let line = record.position().map_or(line, |p| start_line(text, p));
            match headers {
                None => headers = Some(unique_headers(record.iter().map(str::trim))),
                Some(_) => {
                    let (start, first, len) =
                        store.push_row(&record).ok_or_else(|| PrepError::Csv {
                            file: file.to_string(),
                            row: index,
                            line,
                            message: "the file is too large to read: a row over 4 GiB, or \
                                      over 4 billion cells in all"
                                .into(),
                        })?;
                    rows.push(Row {
                        row: index,
                        line,
                        cells: Cells {
                            store: Arc::clone(&pending),
                            start,
                            first,
                            len,
                        },
                    });
                }
            }
        }
        // The csv crate ends a quoted field at the end of the input without a word, so one
        // stray quote would swallow every later row into a single cell. Only the last record
        // can be in that state (any earlier one was ended by a closing quote), so only it is
        // checked.
        if let Some((row, start)) = last_start
            && let Some((at, column)) = unclosed_quote(&text.as_bytes()[start..], delimiter)
        {
            let at = start + at;
            let line = 1 + text.as_bytes()[..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            let name = match (&headers, row) {
                (Some(h), r) if r > 1 => h
                    .get(column)
                    .map(|h| format!("column '{h}'"))
                    .unwrap_or_else(|| format!("column {}", column + 1)),
                _ => format!("header cell {}", column + 1),
            };
            return Err(PrepError::Csv {
                file: file.to_string(),
                row,
                line,
                message: format!(
                    "{name}: a quote (\") opens here and is never closed, so every later row \
                     would be read as part of this one value. Remove or close that quote and \
                     export or save the file again"
                ),
            });
        }
        // Both grew by doubling: give the slack back, since tables live through the whole
        // preparation (in a browser tab every megabyte counts).
        store.text.shrink_to_fit();
        store.ends.shrink_to_fit();
        rows.shrink_to_fit();
        let store = Arc::new(store);
        for row in &mut rows {
            row.cells.store = Arc::clone(&store);
        }
        Ok(Table {
            headers: headers.unwrap_or_default(),
            rows,
            delimiter,
        })
    }

    /// Index of the header whose text is exactly `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Replaces cells, each given as (index into `rows`, column, new text; a later change of
    /// the same cell wins); a row shorter than the column is padded with empty cells. Only
    /// the changed rows are copied, into a small store of their own, so a correction costs
    /// the size of its row, not of the table (the page re-prepares after every fix).
    /// A changed row whose text would pass 4 GiB is refused by its record number.
    pub fn replace_cells(&mut self, changes: &[(usize, usize, &str)]) -> Result<(), u64> {
        if changes.is_empty() {
            return Ok(());
        }
        // Stable: changes of one row keep their order, so the last one of a cell wins.
        let mut sorted: Vec<&(usize, usize, &str)> = changes.iter().collect();
        sorted.sort_by_key(|c| c.0);
        let mut store = CellStore::default();
        let mut firsts: Vec<(usize, usize, u32, u32)> = Vec::new();
        for mine in sorted.chunk_by(|a, b| a.0 == b.0) {
            let index = mine[0].0;
            let Some(row) = self.rows.get(index) else {
                continue;
            };
            let len = mine
                .iter()
                .map(|c| c.1 + 1)
                .fold(row.cells.len(), usize::max);
            let cells = (0..len).map(|column| match mine.iter().rev().find(|c| c.1 == column) {
                Some(c) => c.2,
                None => row.cells.get(column).unwrap_or(""),
            });
            let (start, first, len) = store.push_row(cells).ok_or(row.row)?;
            firsts.push((index, start, first, len));
        }
        let store = Arc::new(store);
        for (index, start, first, len) in firsts {
            self.rows[index].cells = Cells {
                store: Arc::clone(&store),
                start,
                first,
                len,
            };
        }
        Ok(())
    }

    /// Index into `rows` of the data row with record number `row` (rows are in file
    /// order, so this is a binary search).
    pub fn row_index(&self, row: u64) -> Option<usize> {
        self.rows.binary_search_by_key(&row, |r| r.row).ok()
    }
}

/// Header cells with repeats renamed `Email (2)`, `Email (3)`…: every column then has a
/// name of its own, so a repeated column is mapped, loaded and listed like any other
/// instead of vanishing behind the first.
fn unique_headers<'a>(cells: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in cells {
        let mut name = h.to_string();
        let mut n = 1;
        while !h.is_empty() && out.contains(&name) {
            n += 1;
            name = format!("{h} ({n})");
        }
        out.push(name);
    }
    out
}

/// The line where a record really starts: csv reports the position where the previous
/// record ended, before any blank lines it skipped.
fn start_line(text: &str, p: &csv::Position) -> u64 {
    let bytes = text.as_bytes();
    let mut b = p.byte() as usize;
    let mut line = p.line();
    while b < bytes.len() && (bytes[b] == b'\r' || bytes[b] == b'\n') {
        line += u64::from(bytes[b] == b'\n');
        b += 1;
    }
    line
}

/// Where a quoted field of the record at the start of `bytes` opens without ever closing
/// (byte offset of the quote, 0-based column), following the csv crate's reading: a field
/// is quoted when it starts with `"`, `""` inside it is a quote, and a quote followed by
/// anything else ends the quoting.
fn unclosed_quote(bytes: &[u8], delimiter: u8) -> Option<(usize, usize)> {
    enum S {
        Start,
        Plain,
        Quoted(usize),
        QuoteInQuoted(usize),
    }
    let mut state = S::Start;
    let mut column = 0;
    for (i, &b) in bytes.iter().enumerate() {
        state = match state {
            S::Start | S::Plain | S::QuoteInQuoted(_) if b == delimiter => {
                column += 1;
                S::Start
            }
            S::Start | S::Plain | S::QuoteInQuoted(_) if b == b'\n' || b == b'\r' => {
                return None;
            }
            S::Start if b == b'"' => S::Quoted(i),
            S::Start | S::Plain => S::Plain,
            S::Quoted(at) if b == b'"' => S::QuoteInQuoted(at),
            S::Quoted(at) => S::Quoted(at),
            S::QuoteInQuoted(at) if b == b'"' => S::Quoted(at),
            S::QuoteInQuoted(_) => S::Plain,
        };
    }
    match state {
        S::Quoted(at) => Some((at, column)),
        _ => None,
    }
}

/// Picks `,`, `;`, tab or `|` by how consistently each splits the first lines (quotes
/// respected). Ties go to the comma, which is what AllClients' exports use.
pub fn sniff_delimiter(text: &str) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let head = &text.as_bytes()[..text.len().min(64 * 1024)];
    let lines = split_records(head, 30);
    let mut best = (b',', 0usize, 0usize);
    for &cand in &CANDIDATES {
        let counts: Vec<usize> = lines
            .iter()
            .map(|l| l.iter().filter(|&&b| b == cand).count())
            .collect();
        let Some(&header_count) = counts.first() else {
            continue;
        };
        if header_count == 0 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == header_count).count();
        if (consistent, header_count) > (best.1, best.2) {
            best = (cand, consistent, header_count);
        }
    }
    best.0
}

/// The first `max` records of `bytes` with quoted parts blanked out, so delimiters inside
/// quotes do not count.
fn split_records(bytes: &[u8], max: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut quoted = false;
    for &b in bytes {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => {
                if current.iter().any(|c: &u8| !c.is_ascii_whitespace()) {
                    out.push(std::mem::take(&mut current));
                    if out.len() == max {
                        return out;
                    }
                }
                current.clear();
            }
            _ if quoted => {}
            _ => current.push(b),
        }
    }
    if !current.is_empty() && out.len() < max {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclosed_quote_is_refused_where_it_opens() {
        let text =
            "Contact ID,First Name,Email\r\n1,\"Ann,ann@example.com\r\n2,Bob,bob@example.com\r\n";
        let e = Table::parse("Contacts.csv", text, None).unwrap_err();
        let PrepError::Csv {
            file,
            row,
            line,
            message,
        } = &e
        else {
            panic!("{e}")
        };
        assert_eq!((file.as_str(), *row, *line), ("Contacts.csv", 2, 2));
        assert!(message.contains("column 'First Name'"), "{message}");
        // Closed quotes, doubled quotes and stray quotes inside plain cells are fine.
        let fine = "a,b\n\"x \"\"y\"\"\",5'11\"\n\"multi\nline\",z\n";
        let t = Table::parse("x.csv", fine, None).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].get(0), "multi\nline");
    }

    #[test]
    fn repeated_headers_get_names_of_their_own() {
        let t = Table::parse(
            "c.csv",
            "Contact ID,First Name,Email,Email,Team Member\n1,Ann,ann@example.com,ann.work@example.com,Pat\n",
            None,
        )
        .unwrap();
        assert_eq!(
            t.headers,
            [
                "Contact ID",
                "First Name",
                "Email",
                "Email (2)",
                "Team Member"
            ]
        );
        assert_eq!(
            t.rows[0].get(t.column("Email (2)").unwrap()),
            "ann.work@example.com"
        );
    }

    #[test]
    fn replaced_cells_change_only_their_rows() {
        let text = "Id,Name,Email\n1,Ann,ann@x\n2,Bob\n3,Cy,cy@x\n";
        let mut t = Table::parse("Contacts.csv", text, None).unwrap();
        let before: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| r.cells.iter().map(str::to_string).collect())
            .collect();
        // Row 3 (index 1) is short: its Email is padded; Ann's name is changed twice and
        // the later change wins.
        t.replace_cells(&[
            (1, 2, "bob@x"),
            (0, 1, "Anne"),
            (0, 1, "Annie"),
            (9, 0, "none"),
        ])
        .unwrap();
        let cells = |i: usize| -> Vec<&str> { t.rows[i].cells.iter().collect() };
        assert_eq!(cells(0), ["1", "Annie", "ann@x"]);
        assert_eq!(cells(1), ["2", "Bob", "bob@x"]);
        assert_eq!(cells(2), before[2]);
        assert_eq!(t.row_index(4), Some(2));
        assert_eq!(t.row_index(5), None);
    }

    #[test]
    fn sniffs_common_delimiters() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter("a;b;c\n1;\"2,5\";3\n4;5;6\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter("name\nAda\n"), b',');
        assert_eq!(sniff_delimiter("a|b\n1|2\n"), b'|');
    }

    #[test]
    fn rows_keep_numbers_and_skip_blank_lines() {
        let t = Table::parse(
            "x.csv",
            "\n\na,b\r\n1,\"two\r\nlines\"\r\n\r\n3,4\r\n",
            None,
        )
        .unwrap();
        assert_eq!(t.headers, ["a", "b"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!((t.rows[0].row, t.rows[0].line), (2, 4));
        assert_eq!(t.rows[0].get(1), "two\r\nlines");
        assert_eq!((t.rows[1].row, t.rows[1].line), (3, 7));
        assert_eq!(t.rows[1].get(5), "");
    }
}
