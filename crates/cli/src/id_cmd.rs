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

fn parse_batch() -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write_batch(std::io::stdin().lock(), &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Deserialize)]
struct BatchLine {
    payload: String,
}

#[derive(Serialize)]
struct BatchError {
    error: String,
}

/// One output line per non-blank input line. A line that is not UTF-8 or not
/// `{"payload": "..."}` gets an error object like an unreadable card does,
/// so one bad line never loses the rest of the batch. Summaries are written
/// directly (not via `serde_json::Value`) so keys keep the contract's order.
fn write_batch(input: impl BufRead, mut out: impl Write) -> anyhow::Result<()> {
    for line in input.split(b'\n') {
        let line = line.context("reading JSON Lines from stdin")?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let error = |error: String| BatchError { error };
        match serde_json::from_slice::<BatchLine>(&line) {
            Err(err) => {
                serde_json::to_writer(&mut out, &error(format!("invalid input line: {err}")))?
            }
            Ok(BatchLine { payload }) => match canopy_aamva::parse_summary(payload.as_bytes()) {
                Ok(summary) => serde_json::to_writer(&mut out, &summary)?,
                Err(err) => serde_json::to_writer(&mut out, &error(err.to_string()))?,
            },
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VA: &str = "@\n\u{1e}\rANSI 636000100002DL00410278ZV03190008DLDAQT64235789\nDCSSAMPLE\nDACMICHAEL\nDADJOHN\nDCUJR\nDBD06062019\nDBB06061986\nDBA12102024\nDBC1\nDAG2300 WEST BROAD STREET\nDAIRICHMOND\nDAJVA\nDAK232690000  \nDCGUSA\rZVZVA01\r";

    fn batch(input: &str) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        write_batch(input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn batch_writes_one_object_per_line_with_the_contract_keys() {
        let input = format!(
            "{}\n\n{}\nnot json\n",
            serde_json::json!({ "payload": VA }),
            serde_json::json!({ "payload": "hello" })
        );
        let lines = batch(&input);
        assert_eq!(lines.len(), 3);
        let mut keys: Vec<&str> = lines[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = vec![
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "dob",
            "expiry",
            "issue_date",
            "sex",
            "license_number",
            "state",
            "city",
            "street",
            "postal_code",
            "country",
            "aamva_version",
            "iin",
            "document_type",
            "problems",
        ];
        want.sort_unstable();
        keys.sort_unstable();
        assert_eq!(keys, want);
        assert_eq!(lines[0]["dob"], "1986-06-06");
        assert_eq!(lines[0]["suffix"], "JR");
        assert!(lines[1]["error"].as_str().unwrap().contains("not an AAMVA"));
        assert!(
            lines[2]["error"]
                .as_str()
                .unwrap()
                .contains("invalid input line")
        );
    }

    #[test]
    fn summary_keys_are_written_in_contract_order() {
        let mut out = Vec::new();
        write_batch(
            format!("{}\n", serde_json::json!({ "payload": VA })).as_bytes(),
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let order: Vec<usize> = [
            "\"first_name\"",
            "\"dob\"",
            "\"license_number\"",
            "\"document_type\"",
        ]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn invalid_utf8_line_is_an_error_line_not_a_failed_batch() {
        let mut input = b"\xff\xfe\n".to_vec();
        input.extend_from_slice(format!("{}\n", serde_json::json!({ "payload": VA })).as_bytes());
        let mut out = Vec::new();
        write_batch(input.as_slice(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().next().unwrap().contains("error"));
    }
}
