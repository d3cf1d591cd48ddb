//! A parsed input file together with its name and its columns' targets: what every
//! object builder (contacts, notes, tasks, …) reads rows through.

use crate::dates::{CalendarDate, DateOrder, parse_raw};
use crate::fields::StdField;
use crate::mapping::{ColumnMapping, Target};
use crate::review::{Reason, Record, ReviewItem};
use crate::table::{Row, Table};
use std::sync::Arc;

/// One input file's table with the mapping resolved to column indexes.
pub struct Sheet<'a> {
    /// Input file name.
    pub file: &'a str,
    /// The parsed table.
    pub table: &'a Table,
    /// Its headers, shared by the records of its rows held for review.
    headers: Arc<[String]>,
    /// For each column, its mapping.
    pub columns: Vec<ColumnMapping>,
    /// Column indexes per standard field (indexed by the field's discriminant), worked out
    /// once: builders ask for a field's column many times per row.
    by_field: Vec<Vec<usize>>,
    /// Columns whose `Header: value` lines are appended to a note's or task's text.
    appended: Vec<usize>,
}

impl<'a> Sheet<'a> {
    /// Resolves `mapping` (the effective columns of this kind) against the table's headers.
    pub fn new(file: &'a str, table: &'a Table, mapping: &[ColumnMapping]) -> Sheet<'a> {
        let columns = table
            .headers
            .iter()
            .map(|h| {
                mapping
                    .iter()
                    .find(|c| &c.source == h)
                    .cloned()
                    .unwrap_or(ColumnMapping {
                        source: h.clone(),
                        target: Target::Ignore,
                        confidence: 0.0,
                        reason: String::new(),
                        date_order: None,
                    })
            })
            .collect();
        let mut sheet = Sheet {
            file,
            table,
            headers: Arc::from(table.headers.as_slice()),
            columns,
            by_field: Vec::new(),
            appended: Vec::new(),
        };
        for (i, c) in sheet.columns.iter().enumerate() {
            if let Target::Field(f) = c.target {
                let slot = f as usize;
                if sheet.by_field.len() <= slot {
                    sheet.by_field.resize(slot + 1, Vec::new());
                }
                sheet.by_field[slot].push(i);
            }
        }
        sheet.appended = sheet.indexes(|t| *t == Target::Append || matches!(t, Target::Custom(_)));
        sheet
    }

    /// Index of the first column mapped to `field`.
    pub fn std(&self, field: StdField) -> Option<usize> {
        self.all_std(field).first().copied()
    }

    /// The cell that names a row's contact (its email, else its contact id, else its
    /// name) as (header, value): what a customer corrects to join an orphan.
    pub fn link_cell(&self, row: &Row) -> Option<(&str, String)> {
        [
            StdField::Email,
            StdField::ContactId,
            StdField::ContactName,
            StdField::LastName,
        ]
        .into_iter()
        .find_map(|f| {
            let i = self.std(f)?;
            let v = row.get(i);
            (!crate::values::trim(v).is_empty())
                .then(|| (self.table.headers[i].as_str(), v.to_string()))
        })
    }

    /// A row held because it names no loaded contact, carrying the cell that names one (so
    /// the customer can correct it in place).
    pub fn orphan(&self, row: &Row, reason: Reason, why: String) -> ReviewItem {
        let mut item = ReviewItem::new(reason, self.file, why)
            .at_row(row)
            .hold(self.record(row));
        if let Some((header, value)) = self.link_cell(row) {
            item = item.value(header, &value);
        }
        item
    }

    /// Indexes of all columns mapped to `field`, in column order.
    pub fn all_std(&self, field: StdField) -> &[usize] {
        self.by_field.get(field as usize).map_or(&[], Vec::as_slice)
    }

    /// Indexes of columns whose target satisfies `pred`.
    pub fn indexes(&self, pred: impl Fn(&Target) -> bool) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&i| pred(&self.columns[i].target))
            .collect()
    }

    /// The trimmed cell of `row` in `column`, or `None` when empty or unmapped.
    pub fn cell<'r>(&self, row: &'r Row, column: Option<usize>) -> Option<&'r str> {
        let v = crate::values::trim(row.get(column?));
        (!v.is_empty()).then_some(v)
    }

    /// The raw row as `[header, cell]` pairs (extra cells get `column N` names).
    pub fn record(&self, row: &Row) -> Record {
        Record::of_row(&self.headers, row)
    }

    /// Reads a date cell with its column's order; an unreadable value becomes an
    /// `invalid_value` review item.
    pub fn date(
        &self,
        row: &Row,
        column: Option<usize>,
        review: &mut Vec<ReviewItem>,
    ) -> Option<CalendarDate> {
        let i = column?;
        let text = self.cell(row, Some(i))?;
        let order = self.columns[i].date_order.unwrap_or(DateOrder::Mdy);
        match parse_raw(text).and_then(|r| r.settle(order)) {
            Some(d) => Some(d),
            None => {
                review.push(
                    ReviewItem::new(Reason::InvalidValue, self.file, "not a date with a year")
                        .at_row(row)
                        .value(&self.table.headers[i], text),
                );
                None
            }
        }
    }

    /// Checks the row's width against the header: `Some(item)` to report, with `held` set
    /// when extra non-empty cells would otherwise be lost.
    pub fn ragged(&self, row: &Row) -> Option<ReviewItem> {
        let width = self.table.headers.len();
        let len = row.cells.len();
        if len == width {
            return None;
        }
        let item = ReviewItem::new(
            Reason::RaggedRow,
            self.file,
            format!("{len} cells where the header has {width}"),
        )
        .at_row(row);
        if len > width
            && row
                .cells
                .iter()
                .skip(width)
                .any(|c| !crate::values::trim(c).is_empty())
        {
            Some(item.hold(self.record(row)))
        } else if len < width {
            Some(item)
        } else {
            None
        }
    }

    /// A review item that holds `row` whole, with its reason and plain-words message.
    pub fn hold_row(&self, row: &Row, reason: Reason, message: impl Into<String>) -> ReviewItem {
        ReviewItem::new(reason, self.file, message)
            .at_row(row)
            .hold(self.record(row))
    }

    /// `Header: value` lines for the columns mapped to `append`.
    pub fn appended(&self, row: &Row) -> Vec<String> {
        self.appended
            .iter()
            .filter_map(|&i| {
                self.cell(row, Some(i))
                    .map(|v| format!("{}: {v}", self.table.headers[i]))
            })
            .collect()
    }
}
