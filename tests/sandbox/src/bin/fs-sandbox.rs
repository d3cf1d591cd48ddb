//! Standalone sandbox server: `fs-sandbox --port 8080 --seed seed.json`.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "fs-sandbox",
    about = "A local Freshsales-compatible server for rehearsals and tests"
)]
struct Cli {
    #[command(flatten)]
    args: fs_sandbox::SandboxArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    fs_sandbox::run_cli(Cli::parse().args).await
}
