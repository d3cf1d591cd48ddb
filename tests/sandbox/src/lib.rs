//! Local Freshsales-compatible sandbox server (see ARCHITECTURE.md and this crate's README).
//!
//! Functional core: [`store`] (records and validation), [`fields`] (`cf_` names, value checks),
//! [`ratelimit`] (a pure state machine over simulated seconds) and [`faults`] (seeded
//! decisions). The HTTP shell in `http` only parses, locks, calls and answers.

pub mod cli;
pub mod clock;
pub mod config;
pub mod counters;
pub mod error;
pub mod faults;
pub mod fields;
mod http;
pub mod persist;
pub mod ratelimit;
pub mod seed;
pub mod selectors;
pub mod store;
pub mod validate;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use cli::{SandboxArgs, resolve_args, run_cli};
pub use config::{
    DropdownValueMode, FaultConfig, LatencyConfig, RateLimitHeaders, SandboxConfig, TagUpdateMode,
    UnknownCfPolicy,
};
pub use fields::derive_cf_name;
pub use http::server::RunningSandbox;
pub use seed::{FieldKind, Seed, SeedField, SeedFields, SeedUser};

/// Starts a sandbox on `addr` (port 0 picks a free port) and serves it in a background task.
pub async fn start(config: SandboxConfig, addr: SocketAddr) -> anyhow::Result<RunningSandbox> {
    let state = Arc::new(http::AppState::new(config)?);
    {
        let mut inner = state.lock();
        state.persist_if_changed(&mut inner);
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("binding {addr}: {e}"))?;
    let addr = listener.local_addr()?;
    let (shutdown, rx) = watch::channel(false);
    let app = http::router(state.clone());
    let task = tokio::spawn(http::server::serve(listener, app, rx));
    Ok(RunningSandbox {
        addr,
        state,
        shutdown,
        task,
    })
}
