//! The engine: the workspace in a Web Worker, or in the page when no worker can start,
//! and the request/answer calls the rest of the page makes to it.

use super::*;

// The engine: the workspace in a Web Worker, or in the page when no worker can start.

pub(super) enum Engine {
    Worker {
        worker: web_sys::Worker,
        next: u32,
        /// `resolve` of each request's promise, by request id.
        pending: HashMap<u32, Function>,
    },
    Page(Box<Workspace>),
}

thread_local! {
    pub(super) static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// Starts the worker and waits for its `ready`; falls back to the page on any failure.
pub(super) async fn start_engine() -> &'static str {
    match spawn_worker().await {
        Ok(worker) => {
            ENGINE.with(|e| {
                *e.borrow_mut() = Some(Engine::Worker {
                    worker,
                    next: 0,
                    pending: HashMap::new(),
                })
            });
            "preparing in a background worker"
        }
        Err(why) => {
            web_sys::console::warn_1(&format!("no worker ({why:?}); preparing in the page").into());
            let ws = Workspace::new(None).unwrap_or_default();
            ENGINE.with(|e| *e.borrow_mut() = Some(Engine::Page(Box::new(ws))));
            "preparing in this page"
        }
    }
}

pub(super) async fn spawn_worker() -> Result<web_sys::Worker, JsValue> {
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options("./worker.js", &opts)?;
    // The first message is `ready`, or an error event if the module cannot load.
    let ready = Promise::new(&mut |resolve, reject| {
        worker.set_onmessage(Some(&resolve));
        worker.set_onerror(Some(&reject));
    });
    let timeout = Promise::new(&mut |_, reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, 20_000);
        }
    });
    if let Err(e) = JsFuture::from(Promise::race(&Array::of2(&ready, &timeout))).await {
        worker.terminate();
        return Err(e);
    }
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
            on_worker_message(e.data())
        });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Both handlers live as long as the page.
    on_message.forget();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| {
        let message = Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "the background worker failed".into());
        // A wasm trap here is almost always memory running out on a very large export.
        let lower = message.to_lowercase();
        let message = if lower.contains("unreachable") || lower.contains("memory") {
            format!(
                "The preparer ran out of memory in this tab ({message}). Reload the page, and \
                 for an export this large run `loader prepare` on this computer instead: same \
                 preparation, same bundle, nothing sent anywhere."
            )
        } else {
            message
        };
        fail_pending(&message);
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    Ok(worker)
}

pub(super) fn on_worker_message(data: JsValue) {
    let get = |k: &str| Reflect::get(&data, &k.into()).ok();
    if get("progress").is_some_and(|p| p.is_truthy()) {
        let done = get("done").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let name = get("name").and_then(|v| v.as_string()).unwrap_or_default();
        reading(&name, done);
        return;
    }
    let Some(id) = get("id").and_then(|v| v.as_f64()) else {
        return;
    };
    if let (Some(bytes), Some(body)) = (get("wasm_memory").and_then(|v| v.as_f64()), doc().body()) {
        // For benchmarks: the worker's WASM memory, which only grows, so its last size is
        // its peak.
        set_attr(&body, "data-worker-wasm-memory", &format!("{bytes}"));
    }
    let resolve = ENGINE.with(|e| match &mut *e.borrow_mut() {
        Some(Engine::Worker { pending, .. }) => pending.remove(&(id as u32)),
        _ => None,
    });
    if let Some(resolve) = resolve {
        let _ = resolve.call1(&JsValue::NULL, &data);
    }
}

/// A crashed worker answers nothing more: every waiting request fails with its message.
pub(super) fn fail_pending(message: &str) {
    let pending = ENGINE.with(|e| match &mut *e.borrow_mut() {
        Some(Engine::Worker { pending, .. }) => std::mem::take(pending),
        _ => HashMap::new(),
    });
    for resolve in pending.into_values() {
        let reply = js_sys::Object::new();
        let _ = Reflect::set(&reply, &"ok".into(), &JsValue::FALSE);
        let _ = Reflect::set(&reply, &"error".into(), &JsValue::from_str(message));
        let _ = resolve.call1(&JsValue::NULL, &reply);
    }
}

/// Sends a request to the workspace and waits for its answer; errors are the core's
/// messages (they name the file, row and column).
pub(super) async fn call(request: Request, file: Option<File>) -> Result<Answer, String> {
    call_for_file(request, file).await.map(|(a, _)| a)
}

/// [`call`], with the `Blob` the worker answers a confirmation with (the bundle, kept out
/// of both WASM memories); the in-page fallback answers with bytes instead.
pub(super) async fn call_for_file(
    request: Request,
    file: Option<File>,
) -> Result<(Answer, Option<Blob>), String> {
    let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
    let promise = ENGINE.with(|e| -> Result<Option<Promise>, String> {
        let mut engine = e.borrow_mut();
        match engine.as_mut() {
            Some(Engine::Worker {
                worker,
                next,
                pending,
            }) => {
                *next += 1;
                let id = *next;
                let msg = js_sys::Object::new();
                let _ = Reflect::set(&msg, &"id".into(), &JsValue::from(id));
                let _ = Reflect::set(&msg, &"request".into(), &JsValue::from_str(&json));
                if let Some(f) = &file {
                    // A File is cloned by reference: the worker reads it, not this page.
                    let _ = Reflect::set(&msg, &"file".into(), f);
                }
                let mut resolver = None;
                let promise = Promise::new(&mut |resolve, _| resolver = Some(resolve));
                if let Some(r) = resolver {
                    pending.insert(id, r);
                }
                worker.post_message(&msg).map_err(|e| format!("{e:?}"))?;
                Ok(Some(promise))
            }
            Some(Engine::Page(_)) => Ok(None),
            None => Err("the preparer is still loading".into()),
        }
    })?;
    match promise {
        Some(p) => {
            let reply = JsFuture::from(p).await.map_err(|e| format!("{e:?}"))?;
            let get = |k: &str| Reflect::get(&reply, &k.into()).ok();
            if get("ok").is_some_and(|v| v.is_truthy()) {
                let answer = Answer {
                    text: get("text").and_then(|v| v.as_string()),
                    bytes: get("bytes")
                        .filter(|v| v.is_instance_of::<Uint8Array>())
                        .map(|v| Uint8Array::new(&v).to_vec()),
                };
                let blob = get("blob").and_then(|v| v.dyn_into::<Blob>().ok());
                Ok((answer, blob))
            } else {
                Err(get("error")
                    .and_then(|v| v.as_string())
                    .unwrap_or_else(|| "the preparation failed".into()))
            }
        }
        None => {
            // In the page: read the file here (in slices, async), then run the same dispatch.
            let bytes = match (&request, file) {
                (Request::Add { name }, Some(f)) => Some(read_in_page(name, f).await?),
                _ => None,
            };
            ENGINE.with(|e| match &mut *e.borrow_mut() {
                Some(Engine::Page(ws)) => ws
                    .handle(request, bytes)
                    .map(|a| (a, None))
                    .map_err(|e| e.to_string()),
                _ => Err("the preparer is not available".into()),
            })
        }
    }
}

/// From here on no `fetch`, XHR, WebSocket or beacon can leave the page: both policies apply,
/// and this one allows no connection at all. The WASM is already loaded, and no customer
/// file has been read yet.
pub(super) fn lock_network(doc: &Document) -> Result<(), JsValue> {
    let meta = doc.create_element("meta")?;
    meta.set_attribute("http-equiv", "Content-Security-Policy")?;
    meta.set_attribute("content", "connect-src 'none'")?;
    if let Some(head) = doc.head() {
        head.append_child(&meta)?;
    }
    Ok(())
}
