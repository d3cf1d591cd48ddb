//! Command-line options (`loader sandbox ...`, `fs-sandbox ...`) and their merge with a
//! config file: the file gives defaults, flags override.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::config::{ConfigFile, SandboxConfig};
use crate::seed::Seed;

/// Options of the sandbox command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one; the listening line shows it).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// API key clients must send (`Authorization: Token token=KEY`); default `sandbox-key`.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Seed file (users, custom fields, records), JSON.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Calls per hour for the account (0 = unlimited); default 1000.
    #[arg(long, value_name = "N")]
    pub hourly_limit: Option<u32>,
    /// Calls per minute (0 = unlimited); default 400.
    #[arg(long, value_name = "N")]
    pub per_minute_limit: Option<u32>,
    /// Clock speed-up: an hour passes in 3600/F real seconds.
    #[arg(long, value_name = "F")]
    pub time_scale: Option<f64>,
    /// Overall fault probability, split evenly over 5xx, reset-before-apply and lost-after-commit.
    #[arg(long, value_name = "P")]
    pub fault_rate: Option<f64>,
    /// Seed of the fault RNG.
    #[arg(long, value_name = "S")]
    pub random_seed: Option<u64>,
    /// Enable /__sandbox/state, /__sandbox/reset and /__sandbox/seed.
    #[arg(long)]
    pub state_api: bool,
    /// Config file (TOML, or JSON by extension) with the same options.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The config and address the options describe.
pub fn resolve_args(args: &SandboxArgs) -> anyhow::Result<(SandboxConfig, SocketAddr)> {
    let file = match &args.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    let mut config = file.config;
    if let Some(path) = args.seed.as_ref().or(file.seed_file.as_ref()) {
        config.seed = Some(Seed::from_file(path)?);
    }
    if let Some(k) = &args.api_key {
        config.api_key = k.clone();
    }
    if let Some(n) = args.hourly_limit {
        config.hourly_limit = n;
    }
    if let Some(n) = args.per_minute_limit {
        config.per_minute_limit = n;
    }
    if let Some(f) = args.time_scale {
        config.time_scale = f;
    }
    if let Some(p) = args.fault_rate {
        config.set_fault_rate(p);
    }
    if let Some(s) = args.random_seed {
        config.random_seed = s;
    }
    config.state_api |= args.state_api;
    config.validate()?;
    let port = args.port.or(file.port).unwrap_or(0);
    Ok((config, SocketAddr::from((Ipv4Addr::LOCALHOST, port))))
}

/// Starts the sandbox, prints `listening on http://127.0.0.1:N/crm/sales/api` once it
/// accepts connections, and serves until Ctrl-C.
pub async fn run_cli(args: SandboxArgs) -> anyhow::Result<()> {
    let (config, addr) = resolve_args(&args)?;
    let sandbox = crate::start(config, addr).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", sandbox.base_url())?;
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
