//! Exports that are not plain text: a `.zip` of the export folder (the `zip` crate) and
//! spreadsheets saved from Excel or LibreOffice (`.xlsx`, `.xls`, `.ods`, read with the
//! `calamine` crate). Both become ordinary [`InputFile`]s before anything else looks at
//! them, so the page and the CLI read them identically and the rest of the preparation
//! only ever sees CSV and HTML.

use std::borrow::Cow;
use std::io::{Cursor, Read};

use calamine::{Data, Reader};

use crate::error::PrepError;
use crate::prepare::InputFile;

/// File extensions read as export files, from a folder or a zip (lower case, no dot).
pub const EXTENSIONS: [&str; 9] = [
    "csv", "tsv", "txt", "html", "htm", "xlsx", "xls", "ods", "zip",
];

/// Spreadsheet extensions (converted sheet by sheet to CSV).
const SPREADSHEETS: [&str; 3] = ["xlsx", "xls", "ods"];

/// The largest total a zip may expand to (a zip bomb stops here, with its name).
const MAX_EXPANDED: u64 = 4 << 30;

fn extension(name: &str) -> Option<String> {
    let file = name.rsplit('/').next()?;
    Some(file.rsplit_once('.')?.1.to_ascii_lowercase())
}

/// Whether `path` (a `/`-separated relative path) names a file the preparation reads:
/// known extension, no hidden file or folder on the way (`.DS_Store`, `__MACOSX`).
pub fn is_export_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.iter().any(|p| p.starts_with('.') || *p == "__MACOSX") {
        return false;
    }
    extension(path).is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

/// Whether [`expand`] opens the file named `name` (a zip or a spreadsheet) rather than
/// passing it on as it is.
pub fn is_archive(name: &str) -> bool {
    extension(name).is_some_and(|e| e == "zip" || SPREADSHEETS.contains(&e.as_str()))
}

/// The inputs with every zip opened and every spreadsheet converted; plain files are
/// borrowed, not copied (a browser tab cannot hold a large export twice).
pub fn expand(inputs: &[InputFile]) -> Result<Vec<Cow<'_, InputFile>>, PrepError> {
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        if !is_archive(&input.name) {
            out.push(Cow::Borrowed(input));
        } else if extension(&input.name).as_deref() == Some("zip") {
            for entry in unzip(input)? {
                out.extend(convert(entry)?.into_iter().map(Cow::Owned));
            }
        } else {
            out.extend(sheets(input)?.into_iter().map(Cow::Owned));
        }
    }
    Ok(out)
}

fn convert(file: InputFile) -> Result<Vec<InputFile>, PrepError> {
    match extension(&file.name).as_deref() {
        Some(e) if SPREADSHEETS.contains(&e) => sheets(&file),
        _ => Ok(vec![file]),
    }
}

/// The export files inside a zip, named by their path in it; a single folder holding
/// everything (what zipping the export folder gives) is left out of the names, so a zip
/// of the folder names its files as `loader prepare --input FOLDER` does.
fn unzip(input: &InputFile) -> Result<Vec<InputFile>, PrepError> {
    let bad = |m: String| PrepError::Input {
        file: input.name.clone(),
        message: m,
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(&input.bytes[..]))
        .map_err(|e| bad(format!("this zip file cannot be opened ({e})")))?;
    let mut files = Vec::new();
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| bad(format!("entry {} cannot be read ({e})", i + 1)))?;
        if entry.is_dir() {
            continue;
        }
        let Some(path) = entry.enclosed_name() else {
            continue; // an absolute or `..` path: never an export file
        };
        let path = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if !is_export_path(&path) || extension(&path).as_deref() == Some("zip") {
            continue;
        }
        total += entry.size();
        if total > MAX_EXPANDED {
            return Err(bad(format!(
                "this zip expands to more than {} GB; unzip it and add the files instead",
                MAX_EXPANDED >> 30
            )));
        }
        let mut bytes = Vec::with_capacity(entry.size().min(1 << 30) as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("'{path}' cannot be unpacked ({e})")))?;
        files.push(InputFile { name: path, bytes });
    }
    let first = |f: &InputFile| f.name.split_once('/').map(|(d, _)| d.to_string());
    if let Some(Some(dir)) = files.first().map(first)
        && files
            .iter()
            .all(|f| first(f).as_deref() == Some(dir.as_str()))
    {
        for f in &mut files {
            f.name = f.name[dir.len() + 1..].to_string();
        }
    }
    if files.is_empty() {
        return Err(bad(
            "this zip holds no export files (.csv, .txt, .xlsx, .html…)".into(),
        ));
    }
    Ok(files)
}

/// Every non-empty sheet of a spreadsheet as a UTF-8 CSV file: named like the spreadsheet
/// when it has one such sheet, else `Book.xlsx/Sheet name`.
fn sheets(input: &InputFile) -> Result<Vec<InputFile>, PrepError> {
    let bad = |m: String| PrepError::Input {
        file: input.name.clone(),
        message: m,
    };
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(&input.bytes[..]))
        .map_err(|e| bad(format!("this spreadsheet cannot be opened ({e})")))?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| bad(format!("sheet '{name}' cannot be read ({e})")))?;
        if range.is_empty() {
            continue;
        }
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        for row in range.rows() {
            w.write_record(row.iter().map(cell_text))
                .map_err(|e| bad(e.to_string()))?;
        }
        let bytes = w.into_inner().map_err(|e| bad(e.to_string()))?;
        out.push((name, bytes));
    }
    if out.is_empty() {
        return Err(bad("every sheet of this spreadsheet is empty".into()));
    }
    let single = out.len() == 1;
    Ok(out
        .into_iter()
        .map(|(sheet, bytes)| InputFile {
            name: if single {
                input.name.clone()
            } else {
                format!("{}/{sheet}", input.name)
            },
            bytes,
        })
        .collect())
}

/// A cell as the text a CSV export would hold: whole numbers without `.0`, dates as ISO
/// (`2024-03-05`, or `2024-03-05 14:30:00` with a time), errors as Excel shows them.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, mo, da, h, mi, s, _) = d.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{da:02}")
            } else {
                format!("{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::Error(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn a_zip_of_the_export_folder_names_files_like_the_folder() {
        let zip = zip_of(&[
            ("export/Contacts.csv", b"Email\r\na@x.com\r\n"),
            ("export/templates/Welcome.html", b"<p>hi</p>"),
            ("export/.DS_Store", b"junk"),
            ("__MACOSX/export/._Contacts.csv", b"junk"),
            ("export/photo.jpg", b"junk"),
        ]);
        let inputs = [InputFile {
            name: "export.zip".into(),
            bytes: zip,
        }];
        let out = expand(&inputs).unwrap();
        let names: Vec<&str> = out.iter().map(|f| f.name.as_str()).collect();
        // __MACOSX is skipped before the common folder is looked for.
        assert_eq!(names, ["Contacts.csv", "templates/Welcome.html"]);
        assert_eq!(out[0].bytes, b"Email\r\na@x.com\r\n");
    }

    #[test]
    fn broken_and_empty_archives_are_refused_by_name() {
        let inputs = [InputFile {
            name: "export.zip".into(),
            bytes: b"PK\x03\x04 not really".to_vec(),
        }];
        let e = expand(&inputs).unwrap_err().to_string();
        assert!(
            e.starts_with("export.zip: this zip file cannot be opened"),
            "{e}"
        );
        let inputs = [InputFile {
            name: "photos.zip".into(),
            bytes: zip_of(&[("a.jpg", b"x")]),
        }];
        let e = expand(&inputs).unwrap_err().to_string();
        assert!(e.contains("holds no export files"), "{e}");
        let inputs = [InputFile {
            name: "Contacts.xlsx".into(),
            bytes: b"not a spreadsheet".to_vec(),
        }];
        let e = expand(&inputs).unwrap_err().to_string();
        assert!(
            e.starts_with("Contacts.xlsx: this spreadsheet cannot be opened"),
            "{e}"
        );
    }

    #[test]
    fn plain_files_are_borrowed() {
        let inputs = [InputFile {
            name: "Contacts.csv".into(),
            bytes: b"Email\r\n".to_vec(),
        }];
        assert!(matches!(expand(&inputs).unwrap()[0], Cow::Borrowed(_)));
        assert!(is_export_path("a/Contacts.XLSX"));
        assert!(!is_export_path("a/.hidden/Contacts.csv"));
        assert!(!is_export_path("a/photo.png"));
    }

    #[test]
    fn cells_read_as_an_export_would_write_them() {
        assert_eq!(cell_text(&Data::Float(5551234.0)), "5551234");
        assert_eq!(cell_text(&Data::Float(2.5)), "2.5");
        assert_eq!(cell_text(&Data::Int(7)), "7");
        assert_eq!(cell_text(&Data::Bool(true)), "TRUE");
        let day =
            calamine::ExcelDateTime::new(45356.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(day)), "2024-03-05");
        let at = calamine::ExcelDateTime::new(
            45356.6041666667,
            calamine::ExcelDateTimeType::DateTime,
            false,
        );
        assert_eq!(cell_text(&Data::DateTime(at)), "2024-03-05 14:30:00");
    }

    #[test]
    fn a_spreadsheet_prepares_like_its_csv() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("Contacts").unwrap();
        for (c, h) in ["First Name", "Email", "Phone", "Add Date"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        sheet.write_string(1, 0, "Ada").unwrap();
        sheet.write_string(1, 1, "ada@example.com").unwrap();
        sheet.write_number(1, 2, 5551234.0).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 5).unwrap();
        let format = rust_xlsxwriter::Format::new().set_num_format("mm/dd/yyyy");
        sheet
            .write_datetime_with_format(1, 3, &date, &format)
            .unwrap();
        book.add_worksheet().set_name("Empty").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let inputs = [InputFile {
            name: "Contacts.xlsx".into(),
            bytes,
        }];
        let out = expand(&inputs).unwrap();
        assert_eq!(out.len(), 1, "the empty sheet is left out");
        assert_eq!(out[0].name, "Contacts.xlsx");
        assert_eq!(
            String::from_utf8_lossy(&out[0].bytes),
            "First Name,Email,Phone,Add Date\r\nAda,ada@example.com,5551234,2024-03-05\r\n"
        );
        let p = crate::prepare(&inputs, &Default::default()).unwrap();
        assert_eq!(p.contacts.len(), 1);
        assert_eq!(p.contacts[0].email.as_deref(), Some("ada@example.com"));
        assert_eq!(p.inputs[0].file, "Contacts.xlsx");
    }
}
