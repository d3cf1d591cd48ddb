//! `loader`: the migration engineer's command line. This file only parses arguments and
//! hands each subcommand to its module; all preparation logic lives in the `prep` crate.

mod files;
mod prepare_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Move a small business's CRM from AllClients to Freshsales.
#[derive(Parser)]
#[command(name = "loader", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prepare AllClients export files into a mapping bundle (the same core the browser page runs).
    Prepare(prepare_cmd::PrepareArgs),
    /// Verify a bundle's hash and print its scope summary.
    Inspect {
        /// The bundle file (`.jsonl.gz`).
        bundle: PathBuf,
        /// Print exactly one JSON object (the stable contract) instead of the readable summary.
        #[arg(long)]
        json: bool,
    },
    /// Run the main job end to end on the shipped sample export (no credentials, no network).
    Demo {
        /// Where to write the bundle and reports.
        #[arg(long, default_value = "out/demo")]
        out_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Prepare(args) => prepare_cmd::run(&args),
        Command::Inspect { bundle, json } => prepare_cmd::inspect(&bundle, json),
        Command::Demo { out_dir } => prepare_cmd::demo(&out_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
