//! The gate every API request passes: counting, auth, rate limit, faults, headers,
//! persistence. `/__sandbox/*` never goes through it.

use std::future::pending;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::server::ConnAbort;
use super::{PREFIXES, Shared, error_response, json_response};
use crate::config::KeyRole;
use crate::error::{ApiError, error_body};
use crate::faults::{Fault, FaultPlan};
use crate::ratelimit::{Budget, Decision};

/// `METHOD /path/{param}` with the base prefix removed.
fn endpoint_name(method: &str, matched: Option<&MatchedPath>, raw: &str) -> String {
    let path = matched.map(MatchedPath::as_str).unwrap_or(raw);
    let path = PREFIXES
        .iter()
        .find_map(|p| path.strip_prefix(p))
        .unwrap_or(path);
    format!("{method} {path}")
}

fn api_key(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let rest = value.trim().strip_prefix("Token")?.trim_start();
    let key = rest.strip_prefix("token=")?.trim();
    Some(key.trim_matches('"'))
}

// Decided on the concrete path: the route template `/selector/{name}` covers both admin-only
// and open selectors.
fn admin_only(path: &str) -> bool {
    let path = PREFIXES
        .iter()
        .find_map(|p| path.strip_prefix(p))
        .unwrap_or(path);
    path.starts_with("/settings/") || path.trim_end_matches('/') == "/selector/owners"
}

/// Middleware for all API routes.
pub(crate) async fn gate(
    State(s): State<Shared>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let endpoint = endpoint_name(req.method().as_str(), matched.as_ref(), req.uri().path());
    let role = s.config.key_role(api_key(req.headers()).unwrap_or(""));
    let (decision, plan) = {
        let mut inner = s.lock();
        inner.counters.request(&endpoint);
        match role {
            None => {
                inner.counters.unauthorized += 1;
                return error_response(&ApiError::Unauthorized);
            }
            Some(KeyRole::User) if admin_only(req.uri().path()) => {
                return error_response(&ApiError::Forbidden);
            }
            Some(_) => {}
        }
        let now = inner.clock.now_secs();
        let decision = inner.limiter.check(now);
        let plan = match decision {
            Decision::Allowed(_) => inner
                .faults
                .decide_for(req.method().as_str(), req.uri().path()),
            Decision::Limited { .. } => {
                inner.counters.limited(&endpoint);
                FaultPlan {
                    fault: Fault::None,
                    latency_ms: None,
                }
            }
        };
        inner.counters.fault(&plan);
        (decision, plan)
    };
    let budget = match decision {
        Decision::Limited {
            budget,
            retry_after_secs,
        } => {
            let mut resp = json_response(
                429,
                error_body(429, &["Too many requests. API rate limit exceeded.".into()]),
            );
            let real = real_secs(&s, retry_after_secs).max(1);
            if s.config.rate_limit_headers.retry_after {
                set(resp.headers_mut(), "retry-after", real);
            }
            add_budget_headers(&s, resp.headers_mut(), &budget);
            return resp;
        }
        Decision::Allowed(b) => b,
    };
    if let Some(ms) = plan.latency_ms {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let abort = req.extensions().get::<ConnAbort>().cloned();
    let mut resp = match plan.fault {
        Fault::ServerError(code) => server_error(code),
        Fault::ResetBeforeApply => drop_connection(abort).await,
        Fault::LostAfterCommit => {
            let _applied = next.run(req).await;
            persist(&s);
            drop_connection(abort).await
        }
        Fault::None => next.run(req).await,
    };
    persist(&s);
    add_budget_headers(&s, resp.headers_mut(), &budget);
    resp
}

fn persist(s: &Shared) {
    let mut inner = s.lock();
    s.persist_if_changed(&mut inner);
}

// A client honouring the header must wait the real time the simulated wait takes.
fn real_secs(s: &Shared, sim_secs: f64) -> u64 {
    let real = sim_secs / s.config.time_scale;
    real.ceil().max(0.0) as u64
}

fn set(headers: &mut HeaderMap, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        headers.insert(name, v);
    }
}

fn add_budget_headers(s: &Shared, headers: &mut HeaderMap, budget: &Budget) {
    let switches = &s.config.rate_limit_headers;
    if let (Some(limit), Some(remaining)) = (budget.limit, budget.remaining) {
        if switches.x_ratelimit_limit {
            set(headers, "x-ratelimit-limit", limit);
        }
        if switches.x_ratelimit_remaining {
            set(headers, "x-ratelimit-remaining", remaining);
        }
        if switches.x_ratelimit_reset {
            set(
                headers,
                "x-ratelimit-reset",
                real_secs(s, budget.reset_secs),
            );
        }
    }
}

// 502/503 come from the gateway in front of the app, so they are HTML like a proxy's page.
fn server_error(code: u16) -> Response {
    match code {
        500 => json_response(500, error_body(500, &["Internal server error.".into()])),
        _ => {
            let status = axum::http::StatusCode::from_u16(code)
                .unwrap_or(axum::http::StatusCode::BAD_GATEWAY);
            let html = format!(
                "<html><head><title>{code}</title></head><body><h1>{}</h1></body></html>",
                status.canonical_reason().unwrap_or("Error")
            );
            (status, axum::response::Html(html)).into_response()
        }
    }
}

// Asks the connection task to drop the socket, then never answers: the response must not
// reach the client.
async fn drop_connection(abort: Option<ConnAbort>) -> Response {
    match abort {
        Some(a) => {
            a.fire();
            pending::<Response>().await
        }
        // Only reachable if the router is served by something other than our accept loop.
        None => server_error(502),
    }
}
