//! Where a command pushes and with what budget: `--target URL`, or a named profile of a
//! config file (staging, production). The API key only ever comes from an environment
//! variable.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Deserialize;

use crate::api::{ApiKey, Client};
use crate::ratelimit::RateLimiter;

/// Target and budget options shared by plan, push, verify and rollback.
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// Full API base URL, e.g. https://acme.myfreshworks.com/crm/sales/api (or the sandbox's).
    #[arg(long)]
    pub target: Option<String>,
    /// A named profile from the config file instead of --target.
    #[arg(long)]
    pub profile: Option<String>,
    /// Config file with [profiles.NAME] tables (target, api_key_env, plan_limit, budget_per_hour).
    #[arg(long, default_value = "loader.toml")]
    pub config: PathBuf,
    /// Environment variable holding the API key.
    #[arg(long, default_value = "FRESHSALES_API_KEY")]
    pub api_key_env: String,
    /// The account's plan limit, calls per hour (Growth 1000, Pro 2000, Enterprise 5000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub plan_limit: Option<u32>,
    /// Calls per hour this load may use (default 80% of the plan limit: the budget is shared).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub budget_per_hour: Option<u32>,
    /// Calls per minute (Freshsales' fair-usage cap is 400).
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..=400))]
    pub per_minute: u32,
    /// Rehearsals only: the sandbox's --time-scale, so the budget's hour lasts 3600/F seconds.
    #[arg(long, default_value_t = 1.0, hide_short_help = true, value_parser = time_scale)]
    pub time_scale: f64,
}

/// Parses `--time-scale`: a finite speed-up from 1 (real time) to 100,000.
pub fn time_scale(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !f.is_finite() || !(1.0..=100_000.0).contains(&f) {
        return Err(format!(
            "'{s}' is out of range: the time scale is a speed-up from 1 (real time) to 100000"
        ));
    }
    Ok(f)
}

#[derive(Debug, Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Deserialize, Default, Clone)]
struct Profile {
    target: Option<String>,
    api_key_env: Option<String>,
    plan_limit: Option<u32>,
    budget_per_hour: Option<u32>,
}

impl TargetArgs {
    /// Resolves the options into a client.
    pub fn client(&self) -> Result<Client> {
        let profile = match &self.profile {
            Some(name) => {
                let text = std::fs::read_to_string(&self.config)
                    .with_context(|| format!("cannot read {}", self.config.display()))?;
                let cfg: ConfigFile = toml::from_str(&text)
                    .with_context(|| format!("{} is not valid", self.config.display()))?;
                cfg.profiles
                    .get(name)
                    .cloned()
                    .with_context(|| format!("no [profiles.{name}] in {}", self.config.display()))?
            }
            None => Profile::default(),
        };
        let Some(target) = self.target.clone().or(profile.target) else {
            bail!("say where to push: --target URL or --profile NAME");
        };
        if !(target.starts_with("https://")
            || target.starts_with("http://127.")
            || target.starts_with("http://localhost"))
        {
            bail!(
                "--target must be an https:// URL (plain http only for a local sandbox): {target}"
            );
        }
        let local = target.starts_with("http://127.") || target.starts_with("http://localhost");
        if self.time_scale != 1.0 && !local {
            bail!("--time-scale is for rehearsals against a local sandbox, not {target}");
        }
        let key_env = if self.api_key_env != "FRESHSALES_API_KEY" {
            self.api_key_env.clone()
        } else {
            profile
                .api_key_env
                .unwrap_or_else(|| self.api_key_env.clone())
        };
        let key = ApiKey::from_env(&key_env)?;
        let plan_limit = self.plan_limit.or(profile.plan_limit).unwrap_or(1000);
        let budget = self
            .budget_per_hour
            .or(profile.budget_per_hour)
            .unwrap_or(plan_limit * 4 / 5);
        if plan_limit == 0 || budget == 0 {
            bail!(
                "the plan limit and the budget per hour must be at least 1 call (check loader.toml)"
            );
        }
        if budget > plan_limit {
            bail!(
                "--budget-per-hour {budget} is above the plan limit of {plan_limit} calls an hour: \
                 Freshsales would answer 429 (ask support for a higher limit for the migration \
                 window and pass it as --plan-limit)"
            );
        }
        Client::new(
            &target,
            key,
            RateLimiter::new(budget, self.per_minute.min(400)).time_scale(self.time_scale),
        )
    }
}
