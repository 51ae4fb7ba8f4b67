//! `canopy id …`: read AAMVA ID barcodes from stdin.
//!
//! The payload is passed to the parser exactly as read. Scanners in keyboard
//! mode end with a newline and raw payloads end with CR or LF as part of the
//! format; the parser treats both as separators, so nothing is trimmed here
//! (trimming could also remove the padding of the last element).

use std::io::{BufRead, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Arguments of `canopy id`.
#[derive(clap::Args)]
pub struct IdArgs {
    #[command(subcommand)]
    command: IdCommand,
}

#[derive(clap::Subcommand)]
enum IdCommand {
    /// Parse one raw barcode payload from stdin and print it as JSON.
    ///
    /// Exits 1 with a message on stderr when the payload is not a readable
    /// AAMVA card.
    Parse {
        /// Read JSON Lines `{"payload": "..."}` and write one JSON result per
        /// line (`{"error": "..."}` for an unreadable one); always exits 0.
        #[arg(long)]
        batch: bool,
    },
}

/// Runs `canopy id`.
pub fn run(args: IdArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        IdCommand::Parse { batch: false } => parse_one(),
        IdCommand::Parse { batch: true } => parse_batch(),
    }
}

fn parse_one() -> anyhow::Result<ExitCode> {
    let mut payload = Vec::new();
    std::io::stdin()
        .read_to_end(&mut payload)
        .context("reading the payload from stdin")?;
    match canopy_aamva::parse_summary(&payload) {
        Ok(summary) => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &summary)?;
            writeln!(out)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

#[derive(Deserialize)]
struct BatchLine {
    payload: String,
}

#[derive(Serialize)]
struct BatchError {
    error: String,
}

fn parse_batch() -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line.context("reading JSON Lines from stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        // Summaries are written directly (not via `serde_json::Value`) so
        // the keys keep the contract's order.
        match serde_json::from_str::<BatchLine>(&line) {
            Err(err) => serde_json::to_writer(
                &mut out,
                &BatchError {
                    error: format!("invalid input line: {err}"),
                },
            )?,
            Ok(BatchLine { payload }) => match canopy_aamva::parse_summary(payload.as_bytes()) {
                Ok(summary) => serde_json::to_writer(&mut out, &summary)?,
                Err(err) => serde_json::to_writer(
                    &mut out,
                    &BatchError {
                        error: err.to_string(),
                    },
                )?,
            },
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
