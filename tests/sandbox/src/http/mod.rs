//! The HTTP shell: shared state, routes, and the gate every API request passes.

mod gate;
mod handlers;
mod sandbox_api;
pub(crate) mod server;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::clock::SimClock;
use crate::config::SandboxConfig;
use crate::counters::Counters;
use crate::error::{ApiError, ApiResult};
use crate::faults::FaultDecider;
use crate::persist;
use crate::ratelimit::RateLimiter;
use crate::store::{Record, Store};

/// The prefixes the API is served under (Suite and Classic).
pub const PREFIXES: [&str; 2] = ["/crm/sales/api", "/api"];

/// State shared by all requests.
pub(crate) struct AppState {
    pub config: SandboxConfig,
    initial: Store,
    inner: Mutex<Inner>,
}

/// The mutable part, behind one lock; handlers never hold it across an await.
pub(crate) struct Inner {
    pub store: Store,
    pub limiter: RateLimiter,
    pub faults: FaultDecider,
    pub counters: Counters,
    pub clock: SimClock,
    persisted: u64,
}

pub(crate) type Shared = Arc<AppState>;

impl AppState {
    /// Validates the config and loads the persisted state or the seed.
    pub fn new(config: SandboxConfig) -> anyhow::Result<AppState> {
        config.validate()?;
        let now = crate::clock::unix_now();
        let initial = Store::from_seed(config.seed.as_ref(), &config, now)
            .map_err(|e| anyhow::anyhow!("invalid seed: {}", e.messages().join("; ")))?;
        let loaded = match &config.persist_path {
            Some(p) => persist::load(p)?,
            None => None,
        };
        let store = loaded.unwrap_or_else(|| initial.clone());
        let inner = Inner::fresh(&config, store);
        Ok(AppState {
            config,
            initial,
            inner: Mutex::new(inner),
        })
    }

    /// Locks the mutable state; a panic in another request must not wedge the server.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the store to the persistence file if it changed since the last write.
    pub fn persist_if_changed(&self, inner: &mut Inner) {
        let Some(path) = &self.config.persist_path else {
            return;
        };
        if inner.store.revision() == inner.persisted {
            return;
        }
        match persist::save(path, &inner.store) {
            Ok(()) => inner.persisted = inner.store.revision(),
            Err(e) => tracing::warn!("persisting sandbox state: {e}"),
        }
    }

    /// Back to the configured seed, with fresh counters, limits and fault RNG.
    pub fn reset(&self) {
        let mut inner = self.lock();
        let mut store = self.initial.clone();
        // Keep the revision moving forward so the reset gets persisted.
        while store.revision() <= inner.store.revision() {
            store.bump_revision();
        }
        *inner = Inner::fresh(&self.config, store);
        self.persist_if_changed(&mut inner);
    }

    /// `GET /__sandbox/state`.
    pub fn snapshot(&self) -> Value {
        let inner = self.lock();
        let mut v = inner.store.snapshot();
        if let Value::Object(m) = &mut v {
            m.insert("counters".into(), json!(inner.counters));
            m.insert(
                "rate_limit".into(),
                json!({"hourly_limit": self.config.hourly_limit, "per_minute_limit": self.config.per_minute_limit,
                       "hour_used": inner.limiter.hour_used(), "simulated_secs": inner.clock.now_secs()}),
            );
        }
        v
    }
}

impl Inner {
    fn fresh(config: &SandboxConfig, store: Store) -> Inner {
        Inner {
            store,
            limiter: RateLimiter::new(config.hourly_limit, config.per_minute_limit),
            faults: FaultDecider::new(config.faults.clone(), config.random_seed),
            counters: Counters::default(),
            clock: SimClock::new(config.time_scale),
            persisted: u64::MAX,
        }
    }
}

/// A JSON response.
pub(crate) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

/// An [`ApiError`] as a response.
pub(crate) fn error_response(e: &ApiError) -> Response {
    json_response(e.status(), e.body())
}

/// Parses a request body that must be a JSON object.
pub(crate) fn parse_object(body: &Bytes) -> ApiResult<Record> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad("The request body must be a JSON object.")),
        Err(e) => Err(ApiError::bad(format!("Malformed JSON: {e}"))),
    }
}

/// The object under the root key (`{"contact": {...}}`); the bare body is accepted only when
/// the config allows it.
pub(crate) fn root(body: &Record, key: &str, cfg: &SandboxConfig) -> ApiResult<Record> {
    match body.get(key) {
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::bad(format!("{key} must be an object."))),
        None if cfg.require_root_key => Err(ApiError::bad(format!("Missing root key: {key}."))),
        None => Ok(body.clone()),
    }
}

/// The whole app: the API under both prefixes, and `/__sandbox/*` when enabled.
pub(crate) fn router(state: Shared) -> Router {
    let api = handlers::api_routes()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::gate,
        ))
        .fallback(unmatched);
    let mut app = Router::new();
    for prefix in PREFIXES {
        app = app.nest(prefix, api.clone());
    }
    if state.config.state_api {
        app = app
            .route("/__sandbox/state", get(sandbox_api::state))
            .route("/__sandbox/counters", get(sandbox_api::counters))
            .route("/__sandbox/reset", post(sandbox_api::reset))
            .route("/__sandbox/seed", post(sandbox_api::seed))
            .route("/__sandbox/faults", post(sandbox_api::faults));
    }
    app.fallback(unmatched).with_state(state)
}

async fn unmatched(
    axum::extract::State(s): axum::extract::State<Shared>,
    uri: axum::http::Uri,
) -> Response {
    if PREFIXES.iter().any(|p| uri.path().starts_with(p)) {
        s.lock().counters.request("unmatched");
    }
    error_response(&ApiError::NotFound(format!("No route for {}", uri.path())))
}
