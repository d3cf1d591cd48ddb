//! The files the customer dropped. Where their bytes can be had again (the worker reads
//! them from the browser's `File`s), each is read once ([`prep::read`]: opened, decoded,
//! parsed) and only the read tables are kept: the export is not held twice, and a
//! preparation run again after a fix starts from the tables. Otherwise (native tests, the
//! page without a worker) the bytes are kept and read on every run, as `loader prepare`
//! reads them.

use std::borrow::Cow;
use std::cell::RefCell;

use prep::kind::FileKind;
use prep::mapping::FileOverride;
use prep::read::{ReadFile, read_expanded, read_files, read_owned};
use prep::{InputFile, Mapping, PrepError};

/// Gives a file's bytes again, by name.
pub type Reread = Box<dyn Fn(&str) -> Result<Vec<u8>, String>>;

/// Why a file was not added.
#[derive(Debug)]
pub enum Refused {
    /// It is an archive or a spreadsheet that does not open: the error says why.
    Unopened(PrepError),
    /// It holds binary data, not text.
    Binary,
}

/// The dropped files.
#[derive(Default)]
pub struct Files {
    held: Vec<Held>,
    reread: Option<Reread>,
}

struct Held {
    name: String,
    size: u64,
    /// How many of its bytes (zips expanded) are contacts, and how many are not.
    weight: (u64, u64),
    /// The file itself, kept only when its bytes cannot be had again.
    file: Option<InputFile>,
    /// The file read, kept when its bytes are not.
    read: RefCell<Option<Vec<ReadFile>>>,
}

impl Files {
    /// From now on, files are read once and their bytes let go: `reread` gives them again
    /// when a mapping chooses another encoding or delimiter.
    pub fn set_reread(&mut self, reread: Reread) {
        self.reread = Some(reread);
    }

    /// Adds (or replaces) a file, even one that cannot be read: it is refused by name when
    /// the preparation reads it.
    pub fn insert(&mut self, file: InputFile) {
        // Unchecked, nothing is refused.
        let _ = self.add(file, false);
    }

    /// Adds (or replaces) a file if it is an export: one that is not (an archive or a
    /// spreadsheet that does not open, binary data) is refused and not added, and a file
    /// of the same name stays as it was.
    pub fn insert_checked(&mut self, file: InputFile) -> Result<(), Refused> {
        self.add(file, true)
    }

    /// An archive is opened once for all that adding needs of it: its weight, the check
    /// and, where bytes are let go, the read.
    fn add(&mut self, file: InputFile, check: bool) -> Result<(), Refused> {
        let expanded = match prep::archive::expand(std::slice::from_ref(&file)) {
            Ok(expanded) => Some(expanded),
            Err(e) if check => return Err(Refused::Unopened(e)),
            Err(_) => None,
        };
        let weight = expanded
            .as_deref()
            .map_or((0, file.bytes.len() as u64), weigh);
        let binary = |expanded: &[Cow<'_, InputFile>]| {
            expanded
                .iter()
                .any(|f| prep::decode::decode(&f.bytes, None).is_err())
        };
        let replacing = self.held.iter().any(|h| h.name == file.name);
        let mut read = None;
        if let Some(expanded) = &expanded {
            // Checked by decoding alone where the file is not read now, and where it replaces
            // one: that one stays if this is refused, and otherwise lets its tables go
            // before this one is read (a tab would hold both).
            if check && (self.reread.is_none() || replacing) && binary(expanded) {
                return Err(Refused::Binary);
            }
            if self.reread.is_some() {
                self.remove(&file.name);
                if !prep::archive::is_archive(&file.name) {
                    // Read taking the bytes, which become the table's text: a large file
                    // is not held twice while it is read. Decoding failed only where the
                    // file is binary (no encoding is chosen yet).
                    let (name, size) = (file.name.clone(), file.bytes.len() as u64);
                    return match read_owned(vec![file], None) {
                        Err(PrepError::Input { .. }) if check => Err(Refused::Binary),
                        // A file that cannot be read now is read again (and refused by
                        // name) when the preparation runs.
                        read => {
                            self.hold(name, size, weight, None, read.ok());
                            Ok(())
                        }
                    };
                }
                match read_expanded(expanded, None) {
                    Ok(files) => read = Some(files),
                    // The read stops at the first file (by name) that fails, and that may
                    // be a broken CSV before a zip's binary file: all are decoded to tell.
                    Err(_) if check && binary(expanded) => return Err(Refused::Binary),
                    Err(_) => {}
                }
            }
        }
        drop(expanded);
        let (name, size) = (file.name.clone(), file.bytes.len() as u64);
        // The bytes are kept only when they cannot be had again.
        let kept = self.reread.is_none().then_some(file);
        self.hold(name, size, weight, kept, read);
        Ok(())
    }

    /// Holds a file added, in place of one of the same name.
    fn hold(
        &mut self,
        name: String,
        size: u64,
        weight: (u64, u64),
        file: Option<InputFile>,
        read: Option<Vec<ReadFile>>,
    ) {
        // Where the file was read, the one it replaces is gone already.
        self.remove(&name);
        self.held.push(Held {
            name,
            size,
            weight,
            file,
            read: RefCell::new(read),
        });
    }

    /// Removes a file.
    pub fn remove(&mut self, name: &str) {
        self.held.retain(|h| h.name != name);
    }

    /// The names of the files, sorted (the order `prep` reads them in).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.held.iter().map(|h| h.name.clone()).collect();
        names.sort();
        names
    }

    /// Their total size in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.held.iter().map(|h| h.size).sum()
    }

    /// The largest file's name.
    pub fn largest(&self) -> String {
        self.held
            .iter()
            .max_by_key(|h| h.size)
            .map(|h| h.name.clone())
            .unwrap_or_default()
    }

    /// Each file's name and weight: contact bytes, other bytes.
    pub fn weights(&self) -> impl Iterator<Item = (&str, (u64, u64))> {
        self.held.iter().map(|h| (h.name.as_str(), h.weight))
    }

    /// Runs `f` over every file read with the encoding and delimiter `mapping` chooses,
    /// reading again those read otherwise (or not yet).
    pub fn with_read<R>(
        &self,
        mapping: Option<&Mapping>,
        f: impl FnOnce(&[&ReadFile]) -> Result<R, PrepError>,
    ) -> Result<R, PrepError> {
        let Some(reread) = &self.reread else {
            let mut read = Vec::new();
            for file in self.held.iter().filter_map(|h| h.file.as_ref()) {
                read.extend(read_files(std::slice::from_ref(file), mapping)?);
            }
            return f(&read.iter().collect::<Vec<_>>());
        };
        let none = FileOverride::default();
        let fits = |files: &[ReadFile]| {
            files
                .iter()
                .all(|r| r.read_as(mapping.and_then(|m| m.files.get(&r.name)).unwrap_or(&none)))
        };
        for h in &self.held {
            let stale = h.read.borrow().as_deref().is_none_or(|r| !fits(r));
            if stale {
                // Let the old tables go before the file is read again.
                h.read.replace(None);
                let bytes = reread(&h.name).map_err(|message| PrepError::Input {
                    file: h.name.clone(),
                    message: format!("cannot read it again: {message}"),
                })?;
                let file = InputFile {
                    name: h.name.clone(),
                    bytes,
                };
                h.read
                    .replace(Some(read_files(std::slice::from_ref(&file), mapping)?));
            }
        }
        let borrowed: Vec<_> = self.held.iter().map(|h| h.read.borrow()).collect();
        let refs: Vec<&ReadFile> = borrowed.iter().flat_map(|r| r.iter().flatten()).collect();
        f(&refs)
    }
}

/// How many bytes of `files` are contacts, and how many are not, each file's kind read from
/// its first line.
fn weigh(files: &[std::borrow::Cow<'_, InputFile>]) -> (u64, u64) {
    let mut weight = (0, 0);
    for f in files {
        let n = f.bytes.len() as u64;
        if prep::kind::detect_bytes(&f.name, &f.bytes) == FileKind::Contacts {
            weight.0 += n;
        } else {
            weight.1 += n;
        }
    }
    weight
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    use prep::kind::FileKind;
    use prep::mapping::FileOverride;

    use crate::Workspace;

    const AT: &str = "2026-01-01T00:00:00Z";

    fn export() -> BTreeMap<&'static str, Vec<u8>> {
        BTreeMap::from([
            // Windows-1252 (é), one malformed email.
            (
                "Contacts.csv",
                b"Email,First Name\r\nada@example.com,Ad\xe9le\r\nbad@,Bo\r\n".to_vec(),
            ),
            (
                "Notes.csv",
                b"Email,Note\r\nada@example.com,called back\r\nbad@,left a message\r\n".to_vec(),
            ),
        ])
    }

    #[test]
    fn files_read_once_give_the_same_bundles_and_are_read_again_only_for_new_choices() {
        let source = export();
        let mut kept = Workspace::new(None).unwrap();
        for (name, bytes) in &source {
            kept.add_file(name, bytes.clone());
        }
        let reads: Rc<RefCell<Vec<String>>> = Rc::default();
        let mut lean = Workspace::new(None).unwrap();
        let (log, from) = (Rc::clone(&reads), source.clone());
        lean.set_reread(Box::new(move |name: &str| {
            log.borrow_mut().push(name.to_string());
            from.get(name).cloned().ok_or_else(|| "gone".to_string())
        }));
        for (name, bytes) in &source {
            lean.add_file(name, bytes.clone());
        }
        fn same(kept: &Workspace, lean: &Workspace, mapping: Option<&str>, why: &str) {
            assert_eq!(
                kept.bundle(mapping, "Ada", AT).unwrap(),
                lean.bundle(mapping, "Ada", AT).unwrap(),
                "{why}"
            );
        }
        assert!(
            lean.files.held.iter().all(|h| h.file.is_none()),
            "no bytes held once read"
        );
        same(
            &kept,
            &lean,
            None,
            "read once or every time, the same bundle",
        );
        let first = lean.analyse(None).unwrap();
        assert_eq!(first.summary.objects.contacts.loaded, 1);

        // A fix changes a copy of the table, never the table read: undone, all is as before.
        let fix = r#"{"format_version":1,"cells":[{"file":"Contacts.csv","row":3,
            "column":"Email","original":"bad@","value":"bo@example.com"}]}"#;
        for ws in [&mut kept, &mut lean] {
            ws.set_corrections(fix).unwrap();
        }
        same(&kept, &lean, None, "with a fix");
        assert_eq!(
            lean.analyse(None).unwrap().summary.objects.contacts.loaded,
            2
        );
        for ws in [&mut kept, &mut lean] {
            ws.set_corrections(r#"{"format_version":1}"#).unwrap();
        }
        assert_eq!(
            serde_json::to_string(&lean.analyse(None).unwrap()).unwrap(),
            serde_json::to_string(&first).unwrap(),
            "the fix undone"
        );
        assert!(reads.borrow().is_empty(), "nothing read again so far");

        // Another encoding for one file: that file alone is read again, once.
        let mut m = first.mapping.clone();
        m.files.insert(
            "Contacts.csv".into(),
            FileOverride {
                kind: Some(FileKind::Contacts),
                encoding: Some("utf-8".into()),
                delimiter: None,
            },
        );
        let json = serde_json::to_string(&m).unwrap();
        same(&kept, &lean, Some(&json), "with an encoding chosen");
        same(&kept, &lean, Some(&json), "again");
        assert_eq!(*reads.borrow(), ["Contacts.csv"]);
        let preview = lean.preview(Some(&json), "ada", None).unwrap();
        assert!(
            serde_json::to_string(&preview)
                .unwrap()
                .contains("Ad\u{fffd}le"),
            "read as UTF-8 this time"
        );

        // A file the browser no longer gives is refused by name.
        lean.files.held[0].read.replace(None);
        lean.set_reread(Box::new(|_: &str| Err("gone".to_string())));
        let e = lean.analyse(None).unwrap_err().to_string();
        assert!(e.starts_with("Contacts.csv: cannot read it again"), "{e}");
    }
}
