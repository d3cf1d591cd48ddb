//! `/__sandbox/*`: state dump, counters, reset, seed and faults. Never rate limited or faulted.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{Shared, error_response, json_response};
use crate::error::ApiError;
use crate::seed::Seed;

pub(crate) async fn state(State(s): State<Shared>) -> Response {
    json_response(200, s.snapshot())
}

pub(crate) async fn counters(State(s): State<Shared>) -> Response {
    let c = s.lock().counters.clone();
    json_response(200, json!(c))
}

pub(crate) async fn reset(State(s): State<Shared>) -> Response {
    s.reset();
    json_response(200, json!({"reset": true}))
}

pub(crate) async fn seed(State(s): State<Shared>, body: Bytes) -> Response {
    let seed: Seed = match serde_json::from_slice(&body) {
        Ok(seed) => seed,
        Err(e) => return error_response(&ApiError::bad(format!("Invalid seed: {e}"))),
    };
    let mut inner = s.lock();
    let now = crate::clock::unix_now();
    match inner.store.apply_seed(&seed, &s.config, now) {
        Ok(()) => {
            s.persist_if_changed(&mut inner);
            json_response(200, json!({"seeded": true}))
        }
        Err(e) => error_response(&e),
    }
}

/// `POST /__sandbox/faults` with a fault config (JSON): replaces the fault probabilities
/// from the next request on, e.g. to let a test's second run go through cleanly.
pub(crate) async fn faults(State(s): State<Shared>, body: Bytes) -> Response {
    let config: crate::config::FaultConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error_response(&ApiError::bad(format!("Invalid fault config: {e}"))),
    };
    s.lock().faults.set_config(config);
    json_response(200, json!({"faults": true}))
}
