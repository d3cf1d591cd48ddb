//! Rehearsals against the local sandbox: the seed that makes a sandbox look like the
//! customer's staging account (the bundle's custom fields created, the team as users), and
//! a sandbox started in-process for `loader demo` and the tests.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use fs_sandbox::{FieldKind, RunningSandbox, SandboxConfig, Seed, SeedField, SeedUser};
use prep::bundle::Manifest;

/// The key the in-process sandbox accepts.
pub const SANDBOX_KEY: &str = "sandbox-key";

/// A seed where every custom field of the bundle exists with its confirmed type and choices,
/// and every team member of the export is a user: what a staging account looks like once
/// the checklist of `loader plan` has been worked through.
pub fn seed_for(manifest: &Manifest) -> Result<Seed> {
    let mut seed = Seed::default();
    for f in &manifest.custom_fields {
        let kind: FieldKind = serde_json::from_value(serde_json::json!(f.field_type.as_str()))
            .with_context(|| {
                format!(
                    "field type {} unknown to the sandbox",
                    f.field_type.as_str()
                )
            })?;
        seed.fields.contacts.push(SeedField {
            label: f.label.clone(),
            kind,
            choices: f.choices.clone(),
            required: false,
            name: None,
        });
    }
    for m in &manifest.team_members {
        if let Some(email) = m.email.as_deref().filter(|e| e.contains('@')) {
            seed.users.push(SeedUser {
                id: None,
                email: email.trim().to_string(),
                display_name: m.name.clone().unwrap_or_else(|| email.to_string()),
                is_active: true,
            });
        }
    }
    Ok(seed)
}

/// How fast the rehearsal sandbox's clock runs: an hour of rate budget lasts ten seconds.
pub const DEMO_TIME_SCALE: f64 = 360.0;

/// Starts a sandbox on a free loopback port, seeded for `manifest`, with the Growth plan's
/// limits (1000 calls an hour, 400 a minute) on a clock `time_scale` times faster.
pub async fn start_sandbox(manifest: &Manifest, time_scale: f64) -> Result<RunningSandbox> {
    let config = SandboxConfig {
        api_key: SANDBOX_KEY.into(),
        hourly_limit: 1000,
        per_minute_limit: 400,
        time_scale,
        state_api: true,
        seed: Some(seed_for(manifest)?),
        ..SandboxConfig::default()
    };
    fs_sandbox::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}
