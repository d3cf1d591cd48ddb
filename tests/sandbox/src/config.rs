//! Sandbox configuration: auth keys, limits, faults, and the switches for upstream behaviour
//! the fact sheet marks as unverified.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::seed::Seed;

/// Everything that shapes a sandbox run. Build it in code with struct update syntax
/// (`SandboxConfig { state_api: true, ..Default::default() }`) or read it from TOML/JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// The admin key (`Authorization: Token token=KEY`).
    pub api_key: String,
    /// Further keys with admin rights.
    pub admin_keys: Vec<String>,
    /// Keys that get 403 on admin-only endpoints (`/selector/owners`, `/settings/*`).
    pub non_admin_keys: Vec<String>,
    /// Calls per (scaled) hour for the whole account; 0 disables the limit.
    pub hourly_limit: u32,
    /// Calls per (scaled) minute; 0 disables the cap.
    pub per_minute_limit: u32,
    /// Clock speed-up: an "hour" passes in `3600 / time_scale` real seconds.
    pub time_scale: f64,
    /// Fault probabilities.
    pub faults: FaultConfig,
    /// Seed of the fault RNG, so runs are reproducible.
    pub random_seed: u64,
    /// Which rate-limit headers are sent (upstream is unsure about all of them).
    pub rate_limit_headers: RateLimitHeaders,
    /// What happens to `custom_field` keys that name no field.
    pub unknown_cf_policy: UnknownCfPolicy,
    /// How dropdown and multi_select values are written.
    pub dropdown_value_mode: DropdownValueMode,
    /// Whether `tags` on update replace or extend the record's tags.
    pub tag_update_mode: TagUpdateMode,
    /// Enables `POST /settings/:entity/forms/:form_id/fields`.
    pub custom_field_creation: bool,
    /// Enables the `/__sandbox/*` endpoints.
    pub state_api: bool,
    /// JSON file the records are loaded from on start and written to after each change.
    pub persist_path: Option<PathBuf>,
    /// Initial data; ignored when `persist_path` already holds a state.
    pub seed: Option<Seed>,
    /// Status of a successful DELETE: 200 (with a JSON body) or 204.
    pub delete_status: u16,
    /// Reject write bodies that lack the root key (`{"contact": {...}}`).
    pub require_root_key: bool,
    /// Whether a soft-deleted contact's email still counts as taken.
    pub recycle_bin_blocks_email: bool,
    /// Whether a new contact must have an email or a mobile number (unverified upstream).
    pub contact_needs_email_or_mobile: bool,
    /// Whether `owner_id` on an appointment is accepted (only some clients send it,
    /// unverified upstream); when off it is refused as an unknown attribute.
    pub appointment_owner_id: bool,
    /// Whether `GET /contacts/:id/appointments` exists (unconfirmed upstream); when off it
    /// answers 404 and a client must page `GET /appointments?filter=past|upcoming`.
    pub contact_appointments_list: bool,
    /// Whether `POST /filtered_search/:entity` exists (client-code evidence only, §17.3);
    /// when off it answers 404 and a client must look records up one by one.
    pub filtered_search: bool,
    /// Whether `"emails": "a@b.com"` (one address as a string) is accepted; when off only
    /// the array form is (sources disagree upstream).
    pub email_string_form: bool,
    /// Which multi-select write forms are accepted (sources disagree upstream).
    pub multi_select_form: MultiSelectMode,
}

/// Accepted write forms of a multi-select value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiSelectMode {
    /// `"A;B"` or `["A", "B"]`.
    #[default]
    Either,
    /// Only `"A;B"`.
    Semicolon,
    /// Only `["A", "B"]`.
    Array,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            api_key: "sandbox-key".to_string(),
            admin_keys: Vec::new(),
            non_admin_keys: Vec::new(),
            hourly_limit: 1000,
            per_minute_limit: 400,
            time_scale: 1.0,
            faults: FaultConfig::default(),
            random_seed: 0,
            rate_limit_headers: RateLimitHeaders::default(),
            unknown_cf_policy: UnknownCfPolicy::Reject,
            dropdown_value_mode: DropdownValueMode::Text,
            tag_update_mode: TagUpdateMode::Replace,
            custom_field_creation: false,
            state_api: false,
            persist_path: None,
            seed: None,
            delete_status: 200,
            require_root_key: true,
            recycle_bin_blocks_email: false,
            contact_needs_email_or_mobile: true,
            appointment_owner_id: true,
            contact_appointments_list: true,
            filtered_search: true,
            email_string_form: true,
            multi_select_form: MultiSelectMode::Either,
        }
    }
}

/// Probabilities (0..=1) of each fault, drawn per API request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Answer 500, 502 or 503 without applying the request.
    pub error_5xx: f64,
    /// Drop the connection before the request is applied.
    pub reset_before_apply: f64,
    /// Apply the request, then drop the connection instead of answering.
    pub lost_after_commit: f64,
    /// Delay the request.
    pub latency: LatencyConfig,
    /// When not empty, faults hit only requests that match one entry, `METHOD /path-end`
    /// (e.g. `POST /notes`: the method, and the end of the path after the API prefix);
    /// everything else is answered normally. For tests that need one kind of call to fail
    /// every time.
    pub only: Vec<String>,
}

impl FaultConfig {
    /// Whether faults may hit a `method` request for `path`.
    pub fn applies_to(&self, method: &str, path: &str) -> bool {
        self.only.is_empty()
            || self.only.iter().any(|o| match o.split_once(' ') {
                Some((m, end)) => m.eq_ignore_ascii_case(method) && path.ends_with(end),
                None => path.ends_with(o.as_str()),
            })
    }
}

/// Added latency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyConfig {
    /// Probability of delaying a request.
    pub probability: f64,
    /// Delay in real milliseconds.
    pub ms: u64,
}

/// Rate-limit header switches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitHeaders {
    /// `Retry-After` on 429.
    pub retry_after: bool,
    /// `X-RateLimit-Limit` on every API response.
    pub x_ratelimit_limit: bool,
    /// `X-RateLimit-Remaining` on every API response.
    pub x_ratelimit_remaining: bool,
    /// `X-RateLimit-Reset` (real seconds until the hour window resets) on every API response.
    pub x_ratelimit_reset: bool,
}

impl Default for RateLimitHeaders {
    fn default() -> Self {
        RateLimitHeaders {
            retry_after: true,
            x_ratelimit_limit: true,
            x_ratelimit_remaining: true,
            x_ratelimit_reset: true,
        }
    }
}

/// Unknown `cf_` key in a payload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownCfPolicy {
    /// 400.
    #[default]
    Reject,
    /// Ignore the key silently.
    Drop,
}

/// Accepted form of dropdown / multi_select values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropdownValueMode {
    /// The choice text (`"Gold"`); stored and read back as text.
    #[default]
    Text,
    /// The choice id (`1001`); stored and read back as the id.
    Id,
    /// Either; stored and read back as text.
    Either,
}

/// `tags` on update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagUpdateMode {
    /// The sent list becomes the record's tags.
    #[default]
    Replace,
    /// The sent tags are added to the existing ones.
    Merge,
}

/// A configuration that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A probability outside 0..=1, or fault kinds summing above 1.
    #[error(
        "invalid probability for {0}: must be within 0..=1 (and error_5xx + reset_before_apply + lost_after_commit <= 1)"
    )]
    Probability(&'static str),
    /// Time scale not a positive finite number.
    #[error("time_scale must be a positive number")]
    TimeScale,
    /// Delete status other than 200/204.
    #[error("delete_status must be 200 or 204")]
    DeleteStatus,
    /// Empty API key.
    #[error("api_key must not be empty")]
    EmptyKey,
    /// Config file unreadable or malformed.
    #[error("config file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl SandboxConfig {
    /// Checks ranges the server relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let f = &self.faults;
        let probs = [
            ("error_5xx", f.error_5xx),
            ("reset_before_apply", f.reset_before_apply),
            ("lost_after_commit", f.lost_after_commit),
            ("latency.probability", f.latency.probability),
        ];
        for (name, p) in probs {
            if !(0.0..=1.0).contains(&p) {
                return Err(ConfigError::Probability(name));
            }
        }
        if f.error_5xx + f.reset_before_apply + f.lost_after_commit > 1.0 + 1e-9 {
            return Err(ConfigError::Probability("faults"));
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(ConfigError::TimeScale);
        }
        if self.delete_status != 200 && self.delete_status != 204 {
            return Err(ConfigError::DeleteStatus);
        }
        if self.api_key.is_empty() {
            return Err(ConfigError::EmptyKey);
        }
        Ok(())
    }

    /// Spreads one overall fault rate evenly over the three failure kinds (the CLI's `--fault-rate`).
    pub fn set_fault_rate(&mut self, p: f64) {
        let each = p / 3.0;
        self.faults.error_5xx = each;
        self.faults.reset_before_apply = each;
        self.faults.lost_after_commit = each;
    }

    /// Whether `key` is accepted, and whether it has admin rights.
    pub fn key_role(&self, key: &str) -> Option<KeyRole> {
        if key == self.api_key || self.admin_keys.iter().any(|k| k == key) {
            Some(KeyRole::Admin)
        } else if self.non_admin_keys.iter().any(|k| k == key) {
            Some(KeyRole::User)
        } else {
            None
        }
    }
}

/// What an accepted key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// Everything.
    Admin,
    /// Everything but admin-only endpoints.
    User,
}

/// A config file: the [`SandboxConfig`] fields, plus `port` and `seed_file` (a path relative
/// to the config file) that only make sense for a started server.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// Port to listen on.
    pub port: Option<u16>,
    /// Seed file, already resolved against the config file's folder.
    pub seed_file: Option<PathBuf>,
    /// Everything else.
    pub config: SandboxConfig,
}

impl ConfigFile {
    /// Reads a `.toml` or `.json` config file (chosen by extension; TOML otherwise).
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let err = |message: String| ConfigError::File {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut value: serde_json::Value = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| err(e.to_string()))?
        } else {
            toml::from_str(&text).map_err(|e| err(e.to_string()))?
        };
        let obj = value
            .as_object_mut()
            .ok_or_else(|| err("expected a table of options".into()))?;
        let port = match obj.remove("port") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| err("port must be 0..=65535".into()))?,
            ),
        };
        let seed_file = match obj.remove("seed_file") {
            None => None,
            Some(v) => {
                let rel = v
                    .as_str()
                    .ok_or_else(|| err("seed_file must be a path".into()))?;
                let base = path.parent().unwrap_or(Path::new("."));
                Some(base.join(rel))
            }
        };
        let config: SandboxConfig =
            serde_json::from_value(value).map_err(|e| err(e.to_string()))?;
        Ok(ConfigFile {
            port,
            seed_file,
            config,
        })
    }
}
