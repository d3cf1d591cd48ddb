// The background worker's only hand-written JavaScript: load the same preparer module and
// hand over to Rust (prep-wasm/src/worker.rs), which answers the page's messages.
import init, { workerMain } from './prep-wasm.js';

await init({ module_or_path: new URL('./prep-wasm_bg.wasm', import.meta.url) });
workerMain();
