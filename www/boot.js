// The page's only hand-written JavaScript: load the preparer (WASM) from this same origin.
// Everything else, including locking the network once loaded, happens in Rust (prep-wasm).
import init from './prep-wasm.js';

await init({ module_or_path: new URL('./prep-wasm_bg.wasm', import.meta.url) });
