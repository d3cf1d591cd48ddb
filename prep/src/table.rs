//! A decoded CSV file as a header and rows, with the delimiter it was sniffed with.
//! Parsing itself is csv-core's (the `csv` crate's parser, used directly because it says
//! where in the input each field ends); this module sniffs, numbers rows, notes ragged ones,
//! and keeps the cells as places in the decoded text rather than copies of it.

use std::fmt;
use std::sync::Arc;

use csv_core::ReadFieldResult;

use crate::error::PrepError;

/// One data row of an input file.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based record number; the header is row 1, so the first data row is row 2. Four
    /// bytes (a file of more rows is refused): a notes table has millions of rows.
    pub row: u32,
    /// 1-based physical line where the record starts (differs from `row` after quoted
    /// newlines or skipped blank lines).
    pub line: u32,
    /// The cells as read (may be shorter or longer than the header).
    pub cells: Cells,
}

// Eight bytes beside its cells: u64 numbers would make a notes table's rows a third larger.
const _: () = assert!(std::mem::size_of::<Row>() == 8 + std::mem::size_of::<Cells>());

impl Row {
    /// The cell at `index`, or "" when the row is too short.
    pub fn get(&self, index: usize) -> &str {
        self.cells.get(index).unwrap_or("")
    }
}

/// A field whose cell is its text without its first and last byte (the quotes).
const QUOTED: u32 = 1 << 31;
/// A field whose cell differs from its text (a doubled quote inside, or text after the
/// closing quote): the cell is written over the start of its field once the table is read
/// (it is always shorter), and found through [`CellIndex::escaped`].
const ESCAPED: u32 = 1 << 30;
/// The bits of an entry of [`CellIndex::ends`] that hold the position.
const POSITION: u32 = ESCAPED - 1;

/// A table's text and where each of its cells is in it. The text is the decoded file
/// itself, so reading a file costs its text once and four bytes a cell, not a copy of
/// every cell beside the text (a notes table has millions).
#[derive(Debug, Default)]
struct CellStore {
    /// The decoded file (or, for corrected rows, their cells one after the other, each
    /// followed by one separating byte).
    text: String,
    index: CellIndex,
}

/// Where the cells of a table are in its text.
#[derive(Debug, Default)]
struct CellIndex {
    /// For each cell, in table order: where its field ends (its closing quote included),
    /// counted from the start of its row's text, with the [`QUOTED`] and [`ESCAPED`] flags.
    /// A field starts one byte (the delimiter) after the previous field of its row ends;
    /// the first at the row's start. Relative to the row, four bytes are enough (a row of
    /// 1 GiB is refused), half of what a position in the whole text would take.
    ends: Vec<u32>,
    /// The cells flagged [`ESCAPED`], as (index in `ends`, start, end in the text), in
    /// table order.
    escaped: Vec<(u32, usize, usize)>,
}

impl CellIndex {
    /// The text of cell `index` of the row whose text starts at `start` and whose first
    /// cell is `first`.
    fn get<'a>(&'a self, text: &'a str, start: usize, first: u32, index: usize) -> Option<&'a str> {
        let k = first as usize + index;
        let entry = *self.ends.get(k)?;
        let from = match index {
            0 => 0,
            _ => (self.ends[k - 1] & POSITION) as usize + 1,
        };
        let to = (entry & POSITION) as usize;
        if entry & ESCAPED != 0 {
            let at = self
                .escaped
                .binary_search_by_key(&(k as u32), |e| e.0)
                .ok()?;
            let (_, from, to) = self.escaped[at];
            return text.get(from..to);
        }
        let quoted = usize::from(entry & QUOTED != 0);
        text.get(start + from + quoted..start + to - quoted)
    }
}

impl CellStore {
    /// Appends one row's cells to a store of copies (corrected rows); returns the row's
    /// [`Cells`] fields (where its text starts, its first cell's index, its cell count), or
    /// `None` when the row's text would pass 1 GiB or the store 4 billion cells.
    fn push_row<'c>(
        &mut self,
        cells: impl IntoIterator<Item = &'c str>,
    ) -> Option<(usize, u32, u32)> {
        let start = self.text.len();
        let first = u32::try_from(self.index.ends.len()).ok()?;
        for cell in cells {
            self.text.push_str(cell);
            let end = u32::try_from(self.text.len() - start).ok()?;
            if end > POSITION {
                return None;
            }
            self.index.ends.push(end);
            self.text.push(',');
        }
        let len = u32::try_from(self.index.ends.len()).ok()? - first;
        Some((start, first, len))
    }
}

/// One row's cells: a view into the table's [`CellStore`].
#[derive(Clone)]
pub struct Cells {
    store: Arc<CellStore>,
    /// Where the row's text starts in `store.text`.
    start: usize,
    /// Index of the row's first cell in `store.index.ends` (four bytes: a row is 40 bytes,
    /// and a notes table has millions).
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
        self.store
            .index
            .get(&self.store.text, self.start, self.first, index)
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

/// How a field's text relates to its cell, and where the field ends (see [`CellIndex`]).
fn place(bytes: &[u8], from: usize, to: Option<usize>, cell: &[u8]) -> (usize, u32) {
    let n = cell.len();
    match to {
        // Ended by a delimiter: the field is all before it.
        Some(to) => {
            let field = &bytes[from..to];
            if field == cell {
                (to, 0)
            } else if field.len() >= 2
                && field[0] == b'"'
                && field[field.len() - 1] == b'"'
                && &field[1..field.len() - 1] == cell
            {
                (to, QUOTED)
            } else {
                (to, ESCAPED)
            }
        }
        // Ended by the record's end: the line ending is not part of it.
        None => {
            if bytes.get(from..from + n) == Some(cell) {
                (from + n, 0)
            } else if bytes.get(from) == Some(&b'"')
                && bytes.get(from + 1..from + 1 + n) == Some(cell)
                && bytes.get(from + 1 + n) == Some(&b'"')
            {
                (from + n + 2, QUOTED)
            } else {
                // No field of this row follows, so where it ends is never read.
                (from, ESCAPED)
            }
        }
    }
}

/// The end of the record starting at `start` (where its line ends, or the text) when that
/// line holds no quote, so the record is the line and its fields lie between delimiters;
/// `None` when the parser must read it. A delimiter outside ASCII could cut a letter, so it
/// always goes to the parser.
fn plain_record(bytes: &[u8], start: usize, delimiter: u8) -> Option<usize> {
    let rest = bytes.get(start..).filter(|r| !r.is_empty())?;
    if !delimiter.is_ascii() || delimiter == b'"' {
        return None;
    }
    let len = memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
    match memchr::memchr(b'"', &rest[..len]) {
        Some(_) => None,
        None => Some(start + len),
    }
}

/// The end of the record starting at `start` and whether all its cells trim to nothing,
/// when each of its fields is free of quotes or wholly quoted with no quote inside (a
/// quoted field may hold delimiters and line breaks), its fields' ends (counted from
/// `start`, quoted ones flagged [`QUOTED`]) pushed onto `ends`; `None` when the parser must
/// read it (a doubled quote, text after a closing quote, a quote inside an unquoted field,
/// an unclosed quote, a field past 1 GiB), with the ends of any fields read before pushed
/// still: the caller takes them back.
fn quoted_record(
    text: &str,
    start: usize,
    delimiter: u8,
    ends: &mut Vec<u32>,
) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    if start >= bytes.len() || !delimiter.is_ascii() || delimiter == b'"' {
        return None;
    }
    let mut blank = true;
    let mut from = start;
    loop {
        // Every place found is an ASCII byte's, so the text between is whole letters.
        let (to, flags, cell) = if bytes[from] == b'"' {
            let close = from + 1 + memchr::memchr(b'"', &bytes[from + 1..])?;
            (close + 1, QUOTED, &text[from + 1..close])
        } else {
            let end = memchr::memchr3(delimiter, b'\r', b'\n', &bytes[from..])
                .map_or(bytes.len(), |i| from + i);
            if memchr::memchr(b'"', &bytes[from..end]).is_some() {
                return None;
            }
            (end, 0, &text[from..end])
        };
        let width = u32::try_from(to - start).ok().filter(|&w| w <= POSITION)?;
        ends.push(width | flags);
        blank &= cell.trim().is_empty();
        match bytes.get(to) {
            Some(&d) if d == delimiter => from = to + 1,
            Some(b'\r' | b'\n') | None => return Some((to, blank)),
            _ => return None,
        }
        if from == bytes.len() {
            // A delimiter last in the text: csv-core ends the record with an empty field.
            return None;
        }
    }
}

/// Writes each escaped cell over the start of its field (a cell is shorter than its field,
/// which holds at least its opening quote besides) and points the index at it there, so its
/// text is not held twice. What is left of a letter cut at the cell's end becomes spaces,
/// inside the field, so the text stays valid.
fn unescape_in_place(
    text: String,
    index: &mut CellIndex,
    pending: Vec<(u32, usize, usize, usize)>,
    unescaped: &str,
) -> Result<String, u64> {
    if pending.is_empty() {
        return Ok(text);
    }
    let mut bytes = text.into_bytes();
    index.escaped = Vec::with_capacity(pending.len());
    for (k, from, a, b) in pending {
        let to = from + (b - a);
        bytes[from..to].copy_from_slice(&unescaped.as_bytes()[a..b]);
        let mut i = to;
        while bytes.get(i).is_some_and(|&c| c & 0xC0 == 0x80) {
            bytes[i] = b' ';
            i += 1;
        }
        index.escaped.push((k, from, to));
    }
    // Valid by construction; a failure would be this function's mistake, reported by line.
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u64
    })
}

impl Table {
    /// Parses `text` with the given delimiter, or a sniffed one when `None`.
    pub fn parse(file: &str, text: &str, delimiter: Option<u8>) -> Result<Table, PrepError> {
        Table::parse_owned(file, text.to_owned(), delimiter)
    }

    /// [`Table::parse`] keeping `text` itself as the cells' text, without a copy.
    pub fn parse_owned(
        file: &str,
        mut text: String,
        delimiter: Option<u8>,
    ) -> Result<Table, PrepError> {
        // Decoders and readers size their strings for the worst case; the table keeps its
        // text as long as the preparation runs.
        text.shrink_to_fit();
        let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(&text));
        let bytes = text.as_bytes();
        let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let mut headers: Option<Vec<String>> = None;
        // The rows point at an empty store until theirs is complete: built straight into
        // their vector, they never take room twice (a notes table has millions).
        let pending = Arc::new(CellStore::default());
        // Sized once, from what bounds them (a record ends at a line feed or the end; a
        // cell at a delimiter too), instead of grown by doubling: a browser tab's allocator
        // copies a growing vector and keeps the old one's room, for a large file hundreds
        // of megabytes. The slack of quoted line feeds and delimiters is given back below.
        let line_feeds = memchr::memchr_iter(b'\n', bytes).count();
        let delimiters = memchr::memchr_iter(delimiter, bytes).count();
        let mut rows: Vec<Row> = Vec::with_capacity(line_feeds + 1);
        let mut index_of = CellIndex {
            ends: Vec::with_capacity(line_feeds + delimiters + 1),
            ..CellIndex::default()
        };
        // Escaped cells as read (index in `ends`, where their field starts, their text in
        // `unescaped`), written over their fields once the whole text is read: the check
        // for an unclosed quote below reads the text as it was.
        let mut escaped: Vec<(u32, usize, usize, usize)> = Vec::new();
        let mut unescaped = String::new();
        let mut header_cells: Vec<String> = Vec::new();
        let mut cell: Vec<u8> = vec![0; 1024];
        // Bytes read so far, and the line at a byte already counted to.
        let mut pos = 0;
        let mut counted = (0, 1u64);
        let mut index: u64 = 0;
        // Where the last record read starts, for the unclosed-quote check below.
        let mut last_start: Option<(u64, usize)> = None;
        // Whether records were split without the parser since it last read one.
        let mut parser_behind = false;
        let too_large = |row, line| PrepError::Csv {
            file: file.to_string(),
            row,
            line,
            message: "the file is too large to read: a row over 1 GiB, or over 4 billion \
                      rows, lines or cells in all"
                .into(),
        };
        loop {
            // A record starts where the previous one ended, after any line endings (blank
            // lines are skipped).
            let mut start = pos;
            while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
                start += 1;
            }
            // `start` stops at the end of the text at the latest.
            counted.1 += bytes[counted.0..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted.0 = start;
            let line = counted.1;
            let first = index_of.ends.len();
            // Most records are one line without a quote: their fields are what lies between
            // delimiters, so they are split here with a byte search, without the parser and
            // without copying each cell out (the parser picks up again at the next quote).
            // Most others (a note's text) quote whole fields with no quote inside, which a
            // byte search finds the ends of too.
            let simple = match headers.is_some() {
                false => None,
                true => match plain_record(bytes, start, delimiter) {
                    Some(eol) => {
                        let width = u32::try_from(eol - start)
                            .ok()
                            .filter(|&w| w <= POSITION)
                            .ok_or_else(|| too_large(index + 1, line))?;
                        // Every cell trims to nothing exactly when every letter is
                        // whitespace or the delimiter (ASCII, so it is one letter).
                        let blank = text[start..eol]
                            .chars()
                            .all(|c| c.is_whitespace() || c == char::from(delimiter));
                        if !blank {
                            index_of.ends.extend(
                                memchr::memchr_iter(delimiter, &bytes[start..eol])
                                    .map(|at| at as u32)
                                    .chain([width]),
                            );
                        }
                        Some((eol, blank))
                    }
                    None => quoted_record(&text, start, delimiter, &mut index_of.ends),
                },
            };
            if let Some((eol, blank)) = simple {
                pos = eol;
                parser_behind = true;
                if blank {
                    index_of.ends.truncate(first);
                    continue;
                }
                u32::try_from(index_of.ends.len()).map_err(|_| too_large(index + 1, line))?;
                index += 1;
                last_start = Some((index, start));
                rows.push(Row {
                    row: u32::try_from(index).map_err(|_| too_large(index, line))?,
                    line: u32::try_from(line).map_err(|_| too_large(index, line))?,
                    cells: Cells {
                        store: Arc::clone(&pending),
                        start,
                        first: first as u32,
                        len: (index_of.ends.len() - first) as u32,
                    },
                });
                continue;
            }
            // What a record the parser must read left of its fields is taken back.
            index_of.ends.truncate(first);
            if std::mem::take(&mut parser_behind) {
                // The parser did not see the records split above: it starts afresh at the
                // start of a record (it skips the line endings before it itself).
                reader.reset();
            }
            let marks = (escaped.len(), unescaped.len());
            header_cells.clear();
            let mut blank = true;
            let mut from = start;
            let mut ended = false;
            loop {
                let mut n = 0;
                let record_end = loop {
                    let (res, nin, nout) = reader.read_field(&bytes[pos..], &mut cell[n..]);
                    pos += nin;
                    n += nout;
                    match res {
                        ReadFieldResult::OutputFull => cell.resize(cell.len() * 2, 0),
                        // The whole text is given at once: the next call, with nothing
                        // left, tells the reader the input has ended.
                        ReadFieldResult::InputEmpty => {}
                        ReadFieldResult::Field { record_end } => break Some(record_end),
                        ReadFieldResult::End => break None,
                    }
                };
                let Some(record_end) = record_end else {
                    ended = true;
                    break;
                };
                let content = &cell[..n];
                let (to, flags) = place(bytes, from, (!record_end).then(|| pos - 1), content);
                let end = u32::try_from(to - start)
                    .ok()
                    .filter(|&e| e <= POSITION)
                    .ok_or_else(|| too_large(index + 1, line))?;
                let k =
                    u32::try_from(index_of.ends.len()).map_err(|_| too_large(index + 1, line))?;
                index_of.ends.push(end | flags);
                // Cells are cut from valid text at ASCII bytes, so they are valid text.
                let text_of = std::str::from_utf8(content).unwrap_or_default();
                if flags == ESCAPED {
                    let at = unescaped.len();
                    unescaped.push_str(text_of);
                    escaped.push((k, from, at, unescaped.len()));
                }
                if headers.is_none() {
                    header_cells.push(text_of.trim().to_string());
                }
                blank &= text_of.trim().is_empty();
                from = pos;
                if record_end {
                    break;
                }
            }
            if ended {
                break;
            }
            // Takes back the record's cells (a blank row, or the header).
            let take_back =
                |index_of: &mut CellIndex, escaped: &mut Vec<_>, unescaped: &mut String| {
                    index_of.ends.truncate(first);
                    escaped.truncate(marks.0);
                    unescaped.truncate(marks.1);
                };
            if blank {
                take_back(&mut index_of, &mut escaped, &mut unescaped);
                continue;
            }
            index += 1;
            last_start = Some((index, start));
            let len = (index_of.ends.len() - first) as u32;
            // `first` fits: the cell after it did.
            let first = first as u32;
            match headers {
                None => {
                    headers = Some(unique_headers(header_cells.iter().map(String::as_str)));
                    take_back(&mut index_of, &mut escaped, &mut unescaped);
                }
                Some(_) => rows.push(Row {
                    row: u32::try_from(index).map_err(|_| too_large(index, line))?,
                    line: u32::try_from(line).map_err(|_| too_large(index, line))?,
                    cells: Cells {
                        store: Arc::clone(&pending),
                        start,
                        first,
                        len,
                    },
                }),
            }
        }
        // The parser ends a quoted field at the end of the input without a word, so one
        // stray quote would swallow every later row into a single cell. Only the last record
        // can be in that state (any earlier one was ended by a closing quote), so only it is
        // checked.
        if let Some((row, start)) = last_start
            && let Some((at, column)) = unclosed_quote(&bytes[start..], delimiter)
        {
            let at = start + at;
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
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
        // They grew by doubling: give the slack back, since tables live through the whole
        // preparation (in a browser tab every megabyte counts).
        index_of.ends.shrink_to_fit();
        rows.shrink_to_fit();
        let text = unescape_in_place(text, &mut index_of, escaped, &unescaped).map_err(|line| {
            PrepError::Csv {
                file: file.to_string(),
                row: 0,
                line,
                message: "a cell read from here is not valid text: this is the reader's \
                          mistake, not the file's; please report it"
                    .into(),
            }
        })?;
        let store = Arc::new(CellStore {
            text,
            index: index_of,
        });
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
    /// A changed row whose text would pass 1 GiB is refused by its record number.
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
            let (start, first, len) = store.push_row(cells).ok_or(u64::from(row.row))?;
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
        self.rows
            .binary_search_by_key(&row, |r| u64::from(r.row))
            .ok()
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

    /// The table as the `csv` crate reads the same text (flexible records, no header
    /// handling), an independent reading to hold the table's against: the header, and each
    /// data row's number, physical line and cells, blank records left out.
    /// A header, and each data row's number, line and cells.
    type Reading = (Vec<String>, Vec<(u64, u64, Vec<String>)>);

    fn csv_crate_reading(text: &str, delimiter: u8) -> Reading {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut headers = None;
        let mut rows = Vec::new();
        let mut number = 0;
        for record in reader.records() {
            let record = record.unwrap();
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            number += 1;
            // The crate places a record where the previous one ended: its line is the one
            // after the line endings that follow.
            let p = record.position().unwrap();
            let mut line = p.line();
            let mut b = p.byte() as usize;
            while let Some(c @ (b'\r' | b'\n')) = text.as_bytes().get(b) {
                line += u64::from(*c == b'\n');
                b += 1;
            }
            let cells: Vec<String> = record.iter().map(str::to_string).collect();
            match headers {
                None => headers = Some(unique_headers(cells.iter().map(|c| c.trim()))),
                Some(_) => rows.push((number, line, cells)),
            }
        }
        (headers.unwrap_or_default(), rows)
    }

    fn reading(t: &Table) -> Reading {
        let rows = t
            .rows
            .iter()
            .map(|r| {
                (
                    r.row.into(),
                    r.line.into(),
                    r.cells.iter().map(str::to_string).collect(),
                )
            })
            .collect();
        (t.headers.clone(), rows)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// Quotes, doubled quotes, text after a closing quote, line endings of every kind,
        /// blank and whitespace-only lines, other delimiters and multi-byte letters: the
        /// table's cells, rows and lines are the csv crate's.
        #[test]
        fn cells_rows_and_lines_are_the_csv_crates(
            text in "\u{feff}?[ab é,;\"\r\n\t]{0,120}",
            long in 0usize..3,
            semicolon in proptest::bool::ANY,
        ) {
            // Some cells longer than the parser's first buffer.
            let text = text.replace('b', &"b".repeat([1, 700, 3000][long]));
            let delimiter = if semicolon { b';' } else { b',' };
            // An unclosed quote is refused, by the check both readings share.
            if let Ok(t) = Table::parse("x.csv", &text, Some(delimiter)) {
                proptest::prop_assert_eq!(reading(&t), csv_crate_reading(&text, delimiter));
            }
        }
    }

    #[test]
    fn plain_lines_and_quoted_records_interleave_as_the_csv_crate_reads_them() {
        // Plain lines are split without the parser, quoted records by it: every switch
        // between the two (after a lone CR, a CRLF, a multi-line quoted record, a blank or
        // whitespace-only line, at the end without a line ending) reads as the crate reads.
        for delimiter in [b',', b'\t'] {
            let d = char::from(delimiter);
            let text = format!(
                "Id{d}Name{d}Note\r\n1{d}Ann{d}plain\r2{d}\"Bo\nb\"{d}x\n\n3{d} c {d}\u{a0}\r\n                 {d} {d}\u{a0}\n\u{3000}\n4{d}\"\"\"q\"\"\"{d}\r\n5{d}é{d}z{d}extra\n6{d}last"
            );
            let t = Table::parse("x.csv", &text, Some(delimiter)).unwrap();
            assert_eq!(reading(&t), csv_crate_reading(&text, delimiter));
            let rows: Vec<u32> = t.rows.iter().map(|r| r.row).collect();
            assert_eq!(rows, [2, 3, 4, 5, 6, 7]);
            assert_eq!(t.rows[1].get(1), "Bo\nb");
            assert_eq!(t.rows[2].get(1), " c ");
            assert_eq!(t.rows[4].get(3), "extra");
            assert_eq!(t.rows[5].get(1), "last");
        }
    }

    #[test]
    fn wholly_quoted_fields_read_as_the_csv_crate_reads_them() {
        // Records whose fields are plain or wholly quoted are split without the parser;
        // a doubled quote, text after a closing quote or a quote inside a plain field sends
        // the record to it. Every case is read as the crate reads it.
        for delimiter in [b',', b';', b'\t'] {
            let d = char::from(delimiter);
            let text = format!(
                "Id{d}Note{d}Date\n1{d}\"a{d}b\r\nc\"{d}\"2020\"\n\"\"{d}\" \"{d}\"\"\n2{d}\"x\"y{d}z\n\
                 3{d}\"say \"\"hi\"\"\"{d}\n4{d}pl\"ain{d}\"q\"\r5{d}\"é\"{d}\n\"6\"{d}\"\"{d}\"last\"{d}"
            );
            let t = Table::parse("x.csv", &text, Some(delimiter)).unwrap();
            assert_eq!(reading(&t), csv_crate_reading(&text, delimiter));
            assert_eq!(t.rows[0].get(1), format!("a{d}b\r\nc"));
        }
    }

    #[test]
    fn fields_quoted_escaped_or_plain_read_as_the_csv_crate_reads_them() {
        let text = "Id,Name,Note\r\n1,\"Ann\",\"say \"\"hi\"\"\"\r\n\r\n2,\"Bo\"b,\"a\nb\"\n\"\",,\"x\"\"\"\r3, c ,\"\"\"\"";
        let t = Table::parse("x.csv", text, None).unwrap();
        assert_eq!(reading(&t), csv_crate_reading(text, b','));
        assert_eq!(t.rows[0].get(2), "say \"hi\"");
        assert_eq!(t.rows[1].get(0), "2");
        assert_eq!(t.rows[1].get(1), "Bob");
        // A row of whitespace cells is skipped like a blank line, and not counted.
        let t = Table::parse("x.csv", "a,b\n , \n1,2\n", None).unwrap();
        assert_eq!((t.rows.len(), t.rows[0].row, t.rows[0].line), (1, 2, 3));
    }

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
