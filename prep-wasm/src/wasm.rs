//! The JavaScript face of [`crate::Workspace`] (ruff_wasm style): one object, serde values in
//! and out through `serde-wasm-bindgen`, errors as JS `Error`s whose message names the file,
//! row and column (and which carry `file`, `row`, `line` properties when there is a place).
//! Nothing here decides anything: each method converts, calls the plain-Rust method, converts.

use js_sys::{Error, Reflect};
use prep::PrepError;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Serialises as plain JS objects and arrays (maps become objects, not `Map`s), so the page
/// and other callers can treat results exactly like the JSON the CLI writes.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, Error> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| Error::new(&format!("cannot convert the result: {e}")))
}

/// A `PrepError` as a JS `Error`; its message is the core's (it names file, row and column).
fn js_error(e: PrepError) -> Error {
    let err = Error::new(&e.to_string());
    let place: Option<(&str, Option<u64>, Option<u64>)> = match &e {
        PrepError::Input { file, .. } => Some((file, None, None)),
        PrepError::Csv {
            file, row, line, ..
        } => Some((file, Some(*row), Some(*line))),
        _ => None,
    };
    if let Some((file, row, line)) = place {
        // Best effort: the message already says it all; the properties are for scripts.
        let _ = Reflect::set(&err, &"file".into(), &file.into());
        if let Some(row) = row {
            let _ = Reflect::set(&err, &"row".into(), &(row as f64).into());
        }
        if let Some(line) = line {
            let _ = Reflect::set(&err, &"line".into(), &(line as f64).into());
        }
    }
    err
}

/// A mapping argument: `undefined`/`null` for the proposal, a mapping object (the shape of a
/// mapping file) or its JSON text. Returned as JSON text for [`crate::Workspace`].
fn mapping_json(mapping: JsValue) -> Result<Option<String>, Error> {
    if mapping.is_undefined() || mapping.is_null() {
        return Ok(None);
    }
    if let Some(text) = mapping.as_string() {
        return Ok(Some(text));
    }
    let value: serde_json::Value = serde_wasm_bindgen::from_value(mapping)
        .map_err(|e| Error::new(&format!("mapping: {e}")))?;
    Ok(Some(value.to_string()))
}

/// The files a customer dropped, and what the preparer makes of them.
#[wasm_bindgen(js_name = Workspace)]
pub struct JsWorkspace {
    inner: crate::Workspace,
}

#[wasm_bindgen(js_class = Workspace)]
impl JsWorkspace {
    /// `new Workspace(settings?)`: settings as `prep::Settings` (`{groups_field_label,
    /// allclients_hosts}`), or `undefined` for the defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(settings: JsValue) -> Result<JsWorkspace, Error> {
        let json = if settings.is_undefined() || settings.is_null() {
            None
        } else {
            let value: serde_json::Value = serde_wasm_bindgen::from_value(settings)
                .map_err(|e| Error::new(&format!("settings: {e}")))?;
            Some(value.to_string())
        };
        let inner = crate::Workspace::new(json.as_deref()).map_err(js_error)?;
        Ok(JsWorkspace { inner })
    }

    /// The preparer's version (what bundles record as `tool.version`).
    #[wasm_bindgen]
    pub fn version() -> String {
        prep::TOOL_VERSION.to_string()
    }

    /// Adds (or replaces) a file: its name (a `/`-separated relative path for files from a
    /// folder) and its bytes.
    #[wasm_bindgen(js_name = addFile)]
    pub fn add_file(&mut self, name: &str, bytes: Vec<u8>) {
        self.inner.add_file(name, bytes);
    }

    /// Removes a file.
    #[wasm_bindgen(js_name = removeFile)]
    pub fn remove_file(&mut self, name: &str) {
        self.inner.remove_file(name);
    }

    /// The names of the files held, sorted.
    #[wasm_bindgen(js_name = fileNames)]
    pub fn file_names(&self) -> Vec<String> {
        self.inner.file_names()
    }

    /// `{summary, mapping, review}` for the mapping given (or the proposal).
    #[wasm_bindgen]
    pub fn analyse(&self, mapping: JsValue) -> Result<JsValue, Error> {
        let mapping = mapping_json(mapping)?;
        to_js(&self.inner.analyse(mapping.as_deref()).map_err(js_error)?)
    }

    /// The confirmed bundle (a `Uint8Array`), byte-identical to `loader prepare --mapping M
    /// --confirmed-by NAME --confirmed-at AT` on the same files.
    #[wasm_bindgen]
    pub fn bundle(
        &self,
        mapping: JsValue,
        confirmed_by: &str,
        confirmed_at: &str,
    ) -> Result<Vec<u8>, Error> {
        let mapping = mapping_json(mapping)?;
        self.inner
            .bundle(mapping.as_deref(), confirmed_by, confirmed_at)
            .map_err(js_error)
    }

    /// Confirms: `{bundle: Uint8Array, report: string}`, the bundle as [`Self::bundle`] and
    /// the scope report `loader prepare` writes beside it (`*.scope.md`).
    #[wasm_bindgen]
    pub fn confirm(
        &self,
        mapping: JsValue,
        confirmed_by: &str,
        confirmed_at: &str,
    ) -> Result<JsValue, Error> {
        let mapping = mapping_json(mapping)?;
        let c = self
            .inner
            .confirm(mapping.as_deref(), confirmed_by, confirmed_at)
            .map_err(js_error)?;
        let out = js_sys::Object::new();
        let _ = Reflect::set(
            &out,
            &"bundle".into(),
            &js_sys::Uint8Array::from(&c.bundle[..]),
        );
        let _ = Reflect::set(&out, &"report".into(), &c.report.into());
        Ok(out.into())
    }

    /// The scope report in Markdown (a draft: no confirmation).
    #[wasm_bindgen(js_name = reportMarkdown)]
    pub fn report_markdown(&self, mapping: JsValue) -> Result<String, Error> {
        let mapping = mapping_json(mapping)?;
        self.inner
            .report_markdown(mapping.as_deref())
            .map_err(js_error)
    }

    /// One review queue (`orphan_note`, …) as spreadsheet-safe CSV.
    #[wasm_bindgen(js_name = reviewCsv)]
    pub fn review_csv(&self, mapping: JsValue, reason: &str) -> Result<String, Error> {
        let mapping = mapping_json(mapping)?;
        self.inner
            .review_csv(mapping.as_deref(), reason)
            .map_err(js_error)
    }
}

/// The targets a column of a `kind` file (`contacts`, `notes`, …) can be mapped to.
#[wasm_bindgen]
pub fn targets(kind: &str) -> Result<Vec<String>, Error> {
    let kind: prep::kind::FileKind =
        serde_json::from_value(serde_json::Value::String(kind.to_string()))
            .map_err(|_| Error::new(&format!("unknown file kind '{kind}'")))?;
    Ok(crate::targets(kind))
}
