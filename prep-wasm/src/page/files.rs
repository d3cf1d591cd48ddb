//! Reading files: picked, dropped or a whole folder, handed to the workspace with progress.

use super::*;

// Reading files

/// Files from a picker, named like the CLI names them: a picked file by its name, a file of
/// a picked folder by its path inside the folder (and filtered like `loader prepare`).
pub(super) fn picked(input: &HtmlInputElement) -> Vec<(String, File)> {
    let mut out = Vec::new();
    let Some(list) = input.files() else {
        return out;
    };
    for i in 0..list.length() {
        let Some(file) = list.get(i) else { continue };
        let relative = Reflect::get(&file, &"webkitRelativePath".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let name = if relative.is_empty() {
            Some(file.name())
        } else {
            folder_entry_name(&relative)
        };
        if let Some(name) = name {
            out.push((name, file));
        }
    }
    out
}

pub(super) fn dropped_entries(dt: &DataTransfer) -> Vec<FileSystemEntry> {
    let items = dt.items();
    (0..items.length())
        .filter_map(|i| items.get(i))
        .filter(|item| item.kind() == "file")
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect()
}

/// Dropped files and folders, walked. A top-level file keeps its name; files inside a dropped
/// folder are named and filtered like `loader prepare --input FOLDER` does.
pub(super) async fn walk_entries(entries: Vec<FileSystemEntry>) -> Vec<(String, File)> {
    let mut out = Vec::new();
    let mut stack = entries;
    while let Some(entry) = stack.pop() {
        if entry.is_directory() {
            let reader = entry
                .unchecked_ref::<FileSystemDirectoryEntry>()
                .create_reader();
            // `readEntries` returns a batch at a time until it returns none.
            loop {
                let batch = Promise::new(&mut |resolve, reject| {
                    let _ = reader.read_entries_with_callback_and_callback(&resolve, &reject);
                });
                let Ok(batch) = JsFuture::from(batch).await else {
                    break;
                };
                let batch = Array::from(&batch);
                if batch.length() == 0 {
                    break;
                }
                stack.extend(batch.iter().map(|e| e.unchecked_into::<FileSystemEntry>()));
            }
        } else if entry.is_file() {
            let path = entry.full_path();
            let path = path.trim_start_matches('/');
            let name = if path.contains('/') {
                folder_entry_name(path)
            } else {
                Some(path.to_string())
            };
            let Some(name) = name else { continue };
            let file_entry: &FileSystemFileEntry = entry.unchecked_ref();
            let file = Promise::new(&mut |resolve: Function, reject: Function| {
                file_entry.file_with_callback_and_callback(&resolve, &reject);
            });
            match JsFuture::from(file).await {
                Ok(f) => out.push((name, f.unchecked_into::<File>())),
                Err(_) => error(Some(&format!("Could not read {name}."))),
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Progress of the files being read: bytes of the files already read, bytes of all of them,
/// and when reading began.
pub(super) struct Reading {
    before: f64,
    total: f64,
    started: f64,
}

thread_local! {
    pub(super) static READING: RefCell<Reading> = const {
        RefCell::new(Reading { before: 0.0, total: 0.0, started: 0.0 })
    };
}

/// `done` bytes of file `name` are read: moves the bar and says how fast.
pub(super) fn reading(name: &str, done: f64) {
    let (all, total, started) = READING.with(|r| {
        let r = r.borrow();
        (r.before + done, r.total, r.started)
    });
    progress(all, total);
    let secs = ((now_ms() - started) / 1000.0).max(0.001);
    status(&format!(
        "Reading {name}: {:.1} of {:.1} MB ({:.1} MB/s)",
        all / 1e6,
        total / 1e6,
        all / 1e6 / secs
    ));
}

/// Reads a file in the page (the fallback without a worker), slice by slice.
pub(super) async fn read_in_page(name: &str, file: File) -> Result<Vec<u8>, String> {
    let blob = gloo_file::Blob::from(web_sys::Blob::from(file));
    let size = blob.size();
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut offset = 0;
    while offset < size {
        let end = (offset + CHUNK).min(size);
        let chunk = gloo_file::futures::read_as_bytes(&blob.slice(offset, end))
            .await
            .map_err(|e| format!("Could not read {name}: {e}"))?;
        bytes.extend_from_slice(&chunk);
        offset = end;
        reading(name, offset as f64);
    }
    Ok(bytes)
}

pub(super) async fn add_files(files: Vec<(String, File)>) {
    if files.is_empty() {
        notify(
            "files",
            "No export files there (.csv, .txt, .xlsx, .xls, .ods, .zip, .html).",
            true,
        );
        return;
    }
    error(None);
    notify("files", "", false);
    unconfirm();
    let total: f64 = files.iter().map(|(_, f)| f.size()).sum();
    READING.with(|r| {
        *r.borrow_mut() = Reading {
            before: 0.0,
            total,
            started: now_ms(),
        }
    });
    show("progress-area", true);
    let mut refused = Vec::new();
    for (name, file) in files {
        let size = file.size();
        match call(Request::Add { name: name.clone() }, Some(file)).await {
            // Not an export (an image, a document): said in plain words, never counted.
            Err(e) => refused.push(e),
            Ok(_) => {
                with_app(|a| a.files.insert(name, size as u64));
            }
        }
        READING.with(|r| r.borrow_mut().before += size);
    }
    if !refused.is_empty() {
        notify("files", &refused.join(" "), true);
    }
    reanalyse().await;
}

pub(super) async fn load_mapping(file: File) {
    let blob = gloo_file::Blob::from(web_sys::Blob::from(file));
    match gloo_file::futures::read_as_text(&blob).await {
        Ok(text) => match Mapping::from_json(&text) {
            Ok(m) => {
                with_app(|a| a.overrides = m);
                notify("mapping", "Saved mapping loaded.", false);
                reanalyse().await;
            }
            Err(e) => notify(
                "mapping",
                &format!("That mapping file cannot be used: {e}"),
                true,
            ),
        },
        Err(e) => notify(
            "mapping",
            &format!("Could not read the mapping file: {e}"),
            true,
        ),
    }
}
