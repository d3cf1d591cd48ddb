//! The page's Web Worker: holds the [`Workspace`], reads dropped files in slices and runs the
//! preparation, so the page stays responsive on large exports. `www/worker.js` instantiates
//! the same module and calls [`worker_main`]; the page talks to it with [`Request`]s (see
//! `page/engine.rs`), and the dispatch is [`Workspace::handle`], shared with the in-page fallback.
//!
//! Messages in: `{id, request: JSON of a Request, file?: File}`. Out: `{ready: true}` once,
//! `{progress: true, name, done, total}` while reading, and `{id, ok, text?, bytes?, error?}`.

use std::cell::RefCell;
use std::collections::BTreeMap;

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, DedicatedWorkerGlobalScope, FileReaderSync, MessageEvent};

use crate::{Request, Workspace};

/// Slice size when reading a file: bounded extra memory, and progress for the page.
const CHUNK: f64 = (8 << 20) as f64;

thread_local! {
    static WORKSPACE: RefCell<Option<Workspace>> = const { RefCell::new(None) };
    /// The dropped files as the browser holds them (on disk, not in WASM memory): the
    /// workspace keeps only their read tables and reads a file again from here when the
    /// mapping chooses another encoding or delimiter for it.
    static FILES: RefCell<BTreeMap<String, Blob>> = const { RefCell::new(BTreeMap::new()) };
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// Starts answering the page's messages (called by `www/worker.js`).
#[wasm_bindgen(js_name = workerMain)]
pub fn worker_main() -> Result<(), JsValue> {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().dyn_into()?;
    let mut ws = Workspace::new(None).map_err(|e| JsValue::from_str(&e.to_string()))?;
    ws.set_reread(Box::new(move |name: &str| {
        let file = FILES
            .with(|f| f.borrow().get(name).cloned())
            .ok_or("the browser no longer has it")?;
        // Within an analysis: the page shows that, not a second "Reading" of the file.
        read(None, name, &file).map_err(|e| format!("{e:?}"))
    }));
    WORKSPACE.with(|w| *w.borrow_mut() = Some(ws));
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let (reply, transfer) = answer(&reply_to, &e.data());
        let _ = reply_to.post_message_with_transfer(&reply, &transfer);
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    let ready = Object::new();
    set(&ready, "ready", &JsValue::TRUE);
    scope.post_message(&ready)
}

fn answer(scope: &DedicatedWorkerGlobalScope, data: &JsValue) -> (Object, Array) {
    let reply = Object::new();
    let transfer = Array::new();
    let id = Reflect::get(data, &"id".into()).unwrap_or(JsValue::NULL);
    set(&reply, "id", &id);
    let outcome = (|| -> Result<crate::Answer, String> {
        let text = Reflect::get(data, &"request".into())
            .ok()
            .and_then(|v| v.as_string())
            .ok_or("a request without a body")?;
        let request: Request = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if let Request::Confirm {
            mapping,
            confirmed_by,
            confirmed_at,
        } = &request
        {
            // The bundle leaves WASM memory in slices as it is written, into a Blob.
            let mut out = JsChunks::default();
            let report = WORKSPACE
                .with(|w| {
                    w.borrow().as_ref().map(|ws| {
                        ws.confirm_into(Some(mapping), confirmed_by, confirmed_at, &mut out)
                    })
                })
                .ok_or("the worker has no workspace")?
                .map_err(|e| e.to_string())?;
            let blob = out
                .finish()
                .map_err(|e| format!("cannot hold the bundle: {e:?}"))?;
            set(&reply, "blob", &blob);
            return Ok(crate::Answer {
                text: Some(report),
                bytes: None,
            });
        }
        let mut added = None;
        let bytes = match &request {
            Request::Add { name } => {
                let file: Blob = Reflect::get(data, &"file".into())
                    .map_err(|_| format!("{name}: no file"))?
                    .dyn_into()
                    .map_err(|_| format!("{name}: not a file"))?;
                let bytes = read(Some(scope), name, &file)
                    .map_err(|e| format!("{name}: cannot read: {e:?}"))?;
                added = Some((name.clone(), file));
                Some(bytes)
            }
            Request::Remove { name } => {
                FILES.with(|f| f.borrow_mut().remove(name));
                None
            }
            _ => None,
        };
        let answer = WORKSPACE
            .with(|w| w.borrow_mut().as_mut().map(|ws| ws.handle(request, bytes)))
            .ok_or("the worker has no workspace")?
            .map_err(|e| e.to_string())?;
        // Only a file the workspace took is kept (a refused one is forgotten).
        if let Some((name, file)) = added {
            FILES.with(|f| f.borrow_mut().insert(name, file));
        }
        Ok(answer)
    })();
    // How large the worker's WASM memory has grown (it never shrinks): the page exposes it
    // for benchmarks, since a wasm32 memory cannot pass 4 GiB.
    if let Ok(memory) = wasm_bindgen::memory().dyn_into::<js_sys::WebAssembly::Memory>()
        && let Ok(buffer) = memory.buffer().dyn_into::<ArrayBuffer>()
    {
        set(
            &reply,
            "wasm_memory",
            &JsValue::from_f64(buffer.byte_length() as f64),
        );
    }
    match outcome {
        Ok(a) => {
            set(&reply, "ok", &JsValue::TRUE);
            if let Some(t) = a.text {
                set(&reply, "text", &JsValue::from_str(&t));
            }
            if let Some(b) = a.bytes {
                let array = Uint8Array::from(&b[..]);
                transfer.push(&array.buffer());
                set(&reply, "bytes", &array);
            }
        }
        Err(e) => {
            set(&reply, "ok", &JsValue::FALSE);
            set(&reply, "error", &JsValue::from_str(&e));
        }
    }
    (reply, transfer)
}

/// A writer that moves what it is given out of WASM memory into JavaScript buffers, one
/// slice at a time, and ends as one `Blob` (which the page can download without copying).
#[derive(Default)]
struct JsChunks {
    buffer: Vec<u8>,
    parts: Vec<Uint8Array>,
}

impl JsChunks {
    fn flush_buffer(&mut self) {
        if !self.buffer.is_empty() {
            self.parts.push(Uint8Array::from(&self.buffer[..]));
            self.buffer.clear();
        }
    }

    fn finish(mut self) -> Result<Blob, JsValue> {
        self.flush_buffer();
        let parts = Array::new();
        for p in &self.parts {
            parts.push(p);
        }
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("application/gzip");
        Blob::new_with_u8_array_sequence_and_options(&parts, &opts)
    }
}

impl std::io::Write for JsChunks {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK as usize {
            self.flush_buffer();
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads `file` slice by slice into one buffer, telling the page how far it got (when a
/// `scope` to tell is given).
fn read(
    scope: Option<&DedicatedWorkerGlobalScope>,
    name: &str,
    file: &Blob,
) -> Result<Vec<u8>, JsValue> {
    let reader = FileReaderSync::new()?;
    let total = file.size();
    let mut out = vec![0u8; total as usize];
    let mut offset = 0.0;
    while offset < total {
        let end = (offset + CHUNK).min(total);
        let slice = file.slice_with_f64_and_f64(offset, end)?;
        let buffer: ArrayBuffer = reader.read_as_array_buffer(&slice)?;
        let (from, to) = (offset as usize, end as usize);
        Uint8Array::new(&buffer).copy_to(&mut out[from..to]);
        offset = end;
        let Some(scope) = scope else {
            continue;
        };
        let progress = Object::new();
        set(&progress, "progress", &JsValue::TRUE);
        set(&progress, "name", &JsValue::from_str(name));
        set(&progress, "done", &JsValue::from_f64(offset));
        set(&progress, "total", &JsValue::from_f64(total));
        scope.post_message(&progress)?;
    }
    Ok(out)
}
