//! The `canopy` binary: one command-line entry point for the server and every admin task.

mod id_cmd;
mod limits_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "canopy", version, about = "Customer management for licensed cannabis retailers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read AAMVA ID barcodes (driver's licences and ID cards).
    Id(id_cmd::IdArgs),
    /// Evaluate and list purchase-limit rule sets.
    Limits(limits_cmd::LimitsArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Id(args) => id_cmd::run(args),
        Command::Limits(args) => limits_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
