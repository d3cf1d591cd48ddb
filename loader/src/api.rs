//! The Freshsales HTTP client: auth, root-key JSON, the shared call budget, retries with
//! backoff and jitter, and errors sorted into what the caller can do about them. The API key
//! lives only in the request header; it is never formatted, logged or stored.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::ratelimit::{RateLimiter, ServerHint};

/// The API key. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Reads the key from the environment variable `var`.
    pub fn from_env(var: &str) -> anyhow::Result<ApiKey> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(ApiKey(v.trim().to_string())),
            _ => anyhow::bail!(
                "the API key is read from the environment variable {var}, which is not set"
            ),
        }
    }

    /// A key given in code (tests, the in-process sandbox).
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Why a call did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Freshsales refused the request (4xx other than auth and 429): fix the record.
    #[error("HTTP {status}: {message}")]
    Rejected {
        /// Status code.
        status: u16,
        /// The API's message(s).
        message: String,
    },
    /// The write may or may not have landed (connection reset, lost response, 5xx on a
    /// create): the caller must look before retrying.
    #[error("no reliable answer ({0}); the change may or may not have been applied")]
    Ambiguous(String),
    /// Bad key or missing permission: nothing will work until the configuration is fixed.
    #[error("HTTP {status}: {message} (check the API key and that it belongs to an admin)")]
    Auth {
        /// Status code.
        status: u16,
        /// The API's message.
        message: String,
    },
    /// The answer was not JSON: wrong URL (a login page, another host).
    #[error(
        "the target answered {status} with {content_type} instead of JSON: check --target (e.g. https://acme.myfreshworks.com/crm/sales/api)"
    )]
    NotJson {
        /// Status code.
        status: u16,
        /// What came back instead.
        content_type: String,
    },
    /// Retries ran out on an idempotent call.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last problem.
        last: String,
    },
}

/// Whether repeating a request can cause no harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, upserts, updates, deletes: retried on failure.
    Safe,
    /// Creates of notes and tasks: never retried blindly.
    Create,
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code (200, 201, 204…).
    pub status: u16,
    /// The JSON body (`null` for an empty one).
    pub body: Value,
    /// Requests sent to get it (more than one after a retry, when an earlier attempt may
    /// have been applied without its answer arriving).
    pub attempts: u32,
}

/// Counters for reports and the benchmark.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Requests sent.
    pub sent: u64,
    /// 429s received.
    pub throttled: u64,
    /// Retries made.
    pub retries: u64,
}

/// A Freshsales API client bound to one account.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: ApiKey,
    limiter: Arc<Mutex<RateLimiter>>,
    stats: Arc<Mutex<Stats>>,
    started: Instant,
    max_attempts: u32,
}

fn hint(headers: &HeaderMap, status: u16) -> ServerHint {
    let num = |name: &str| -> Option<f64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let reset_in = num("x-ratelimit-reset").map(|r| {
        // Seconds from now, or an epoch time: upstream does not say which.
        if r > 1e9 {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            (r - now).max(0.0)
        } else {
            r
        }
    });
    ServerHint {
        retry_after: num("retry-after"),
        remaining: num("x-ratelimit-remaining").map(|r| r as u64),
        reset_in,
        throttled: status == 429,
    }
}

fn message(body: &Value) -> String {
    match &body["errors"]["message"] {
        Value::Array(a) => a
            .iter()
            .map(|m| {
                m.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| m.to_string())
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::String(s) => s.clone(),
        Value::Null => body.to_string(),
        other => other.to_string(),
    }
}

impl Client {
    /// A client for `base` (e.g. `https://acme.myfreshworks.com/crm/sales/api`) keeping to
    /// `limiter`.
    pub fn new(base: &str, key: ApiKey, limiter: RateLimiter) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(15))
            .pool_max_idle_per_host(8)
            .build()?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            key,
            limiter: Arc::new(Mutex::new(limiter)),
            stats: Arc::new(Mutex::new(Stats::default())),
            started: Instant::now(),
            max_attempts: 8,
        })
    }

    /// The base URL (safe to print: it holds no secret).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Counters so far.
    pub async fn stats(&self) -> Stats {
        *self.stats.lock().await
    }

    /// Seconds a number of calls takes at the budget's pace.
    pub async fn eta_seconds(&self, calls: u64) -> f64 {
        self.limiter.lock().await.eta_seconds(calls)
    }

    /// Calls per hour the budget allows on a live account (unscaled).
    pub async fn budget_per_hour(&self) -> f64 {
        self.limiter.lock().await.per_real_hour()
    }

    /// Calls per second the budget allows.
    pub async fn rate(&self) -> f64 {
        self.limiter.lock().await.rate()
    }

    async fn admit(&self) {
        loop {
            let wait = {
                let now = self.started.elapsed().as_secs_f64();
                self.limiter.lock().await.try_acquire(now)
            };
            match wait {
                Ok(()) => return,
                Err(w) => tokio::time::sleep(Duration::from_secs_f64(w.max(0.001))).await,
            }
        }
    }

    async fn backoff(&self, attempt: u32) {
        self.stats.lock().await.retries += 1;
        let base = 0.25 * 2f64.powi(attempt.min(6) as i32);
        // Jitter from the clock's low bits: enough to spread retries, no RNG state needed.
        let jitter = (self.started.elapsed().subsec_nanos() % 1000) as f64 / 1000.0;
        tokio::time::sleep(Duration::from_secs_f64(base * (0.5 + jitter))).await;
    }

    /// Sends one request: `path` is relative to the base (`/contacts/upsert`).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        kind: Idempotency,
    ) -> Result<Answer, CallError> {
        let url = format!("{}{}", self.base, path);
        let mut last = String::new();
        for attempt in 0..self.max_attempts {
            self.admit().await;
            self.stats.lock().await.sent += 1;
            let mut auth =
                HeaderValue::from_str(&format!("Token token={}", self.key.0)).map_err(|_| {
                    CallError::Auth {
                        status: 0,
                        message: "the API key has characters a header cannot carry".into(),
                    }
                })?;
            // Kept out of any debug output of the request.
            auth.set_sensitive(true);
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("Authorization", auth)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let never_sent = e.is_connect();
                    last = if e.is_timeout() {
                        "timed out".to_string()
                    } else {
                        format!("connection failed: {}", e.without_url())
                    };
                    if kind == Idempotency::Create && !never_sent {
                        return Err(CallError::Ambiguous(last));
                    }
                    self.backoff(attempt).await;
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let h = hint(resp.headers(), status);
            {
                let now = self.started.elapsed().as_secs_f64();
                self.limiter.lock().await.observe(now, h);
            }
            if status == 429 {
                self.stats.lock().await.throttled += 1;
                last = "429 rate limited".into();
                continue; // the limiter now holds every call until the server's window reopens
            }
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    last = format!("response lost: {}", e.without_url());
                    if kind == Idempotency::Create {
                        return Err(CallError::Ambiguous(last));
                    }
                    self.backoff(attempt).await;
                    continue;
                }
            };
            let json: Option<Value> = if bytes.is_empty() {
                Some(Value::Null)
            } else {
                serde_json::from_slice(&bytes).ok()
            };
            if status >= 500 {
                last = format!("HTTP {status}");
                if kind == Idempotency::Create {
                    return Err(CallError::Ambiguous(last));
                }
                self.backoff(attempt).await;
                continue;
            }
            if status == 413 {
                // The record is too large for the account (a proxy's answer is often not
                // JSON): that record fails, the load goes on.
                return Err(CallError::Rejected {
                    status,
                    message: "the record is too large for Freshsales (413 Payload Too Large): \
                              shorten its longest value, or lower the limits at prepare (--limit)"
                        .into(),
                });
            }
            let Some(body) = json else {
                return Err(CallError::NotJson {
                    status,
                    content_type: if content_type.is_empty() {
                        "no content type".into()
                    } else {
                        content_type
                    },
                });
            };
            return match status {
                200..=299 => Ok(Answer {
                    status,
                    body,
                    attempts: attempt + 1,
                }),
                401 | 403 => Err(CallError::Auth {
                    status,
                    message: message(&body),
                }),
                _ => Err(CallError::Rejected {
                    status,
                    message: message(&body),
                }),
            };
        }
        Err(CallError::GaveUp {
            attempts: self.max_attempts,
            last,
        })
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Result<Answer, CallError> {
        self.call(reqwest::Method::GET, path, None, Idempotency::Safe)
            .await
    }
}
