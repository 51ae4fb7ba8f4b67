//! `canopy limits …` — evaluate a cart against purchase limits, list the rule sets.
//!
//! `canopy limits check` reads one JSON [`EvaluationRequest`] on stdin and prints the
//! [`canopy_limits::Decision`] as JSON on stdout (exit 0 whether or not the cart is allowed).
//! Bad input gives a message on stderr and exit code 2. The JSON contract is in
//! `docs/limits.md`.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use canopy_limits::{EvaluationRequest, RuleBook};

/// Evaluate and list purchase-limit rule sets.
#[derive(clap::Args)]
pub struct LimitsArgs {
    #[command(subcommand)]
    command: LimitsCommand,
}

#[derive(clap::Subcommand)]
enum LimitsCommand {
    /// Read one evaluation request (JSON) on stdin, print the decision (JSON).
    Check {
        /// Pretty-print the decision.
        #[arg(long)]
        pretty: bool,
    },
    /// List jurisdictions and their rule versions.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Run `canopy limits …`.
pub fn run(args: LimitsArgs) -> anyhow::Result<ExitCode> {
    let book = RuleBook::embedded().context("loading the embedded rule files")?;
    match args.command {
        LimitsCommand::Check { pretty } => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading stdin")?;
            match check(&book, &input) {
                Ok(decision) => {
                    let out = if pretty {
                        serde_json::to_string_pretty(&decision)?
                    } else {
                        serde_json::to_string(&decision)?
                    };
                    print_stdout(&out)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(message) => {
                    eprintln!("error: {message}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        LimitsCommand::List { json } => {
            if json {
                print_stdout(&serde_json::to_string_pretty(&list_json(&book))?)?;
            } else {
                print_stdout(list_text(&book).trim_end())?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Print a line; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn check(book: &RuleBook, input: &str) -> Result<canopy_limits::Decision, String> {
    if input.trim().is_empty() {
        return Err("expected one JSON evaluation request on stdin, got nothing".into());
    }
    let request: EvaluationRequest =
        serde_json::from_str(input).map_err(|e| format!("invalid request JSON: {e}"))?;
    book.evaluate(&request).map_err(|e| e.to_string())
}

fn list_text(book: &RuleBook) -> String {
    let mut out = String::new();
    for set in book.rule_sets() {
        out.push_str(&format!(
            "{}  {}  (time zone {}, {} g/oz)\n",
            set.jurisdiction(),
            set.name(),
            set.time_zone_name(),
            set.grams_per_ounce()
        ));
        for v in set.versions() {
            let classes: Vec<&str> = v.classes().into_iter().map(|c| c.name()).collect();
            out.push_str(&format!(
                "  {}  from {}  [{}]  {} rules  {}\n",
                v.id(),
                v.effective(),
                classes.join(", "),
                v.rules().len(),
                v.summary().unwrap_or("")
            ));
        }
    }
    out
}

fn list_json(book: &RuleBook) -> serde_json::Value {
    serde_json::Value::Array(
        book.rule_sets()
            .map(|set| {
                serde_json::json!({
                    "jurisdiction": set.jurisdiction(),
                    "name": set.name(),
                    "time_zone": set.time_zone_name(),
                    "grams_per_ounce": set.grams_per_ounce().to_string(),
                    "versions": set.versions().iter().map(|v| serde_json::json!({
                        "id": v.id(),
                        "effective": v.effective().to_string(),
                        "summary": v.summary(),
                        "classes": v.classes().into_iter().map(|c| c.name()).collect::<Vec<_>>(),
                        "rules": v.rules().iter().map(|r| serde_json::json!({
                            "id": r.id(),
                            "label": r.label(),
                            "window": r.window().name(),
                            "limit": r.limit().map(|l| l.to_string()),
                            "classes": r.classes().iter().map(|c| c.name()).collect::<Vec<_>>(),
                            "citation": r.citation(),
                        })).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_reads_the_documented_example() {
        let book = RuleBook::embedded().unwrap();
        let input = r#"{"jurisdiction": "US-CO", "at": "2026-03-14T15:30:00-07:00",
            "customer": {"class": "adult-use", "age": 25, "resident": true, "overrides": []},
            "cart": [{"category": "concentrate", "quantity": 1, "net_weight_g": 9, "concentrate_g": null, "thc_mg": null, "volume_ml": null}],
            "history": []}"#;
        let decision = check(&book, input).unwrap();
        assert!(!decision.allowed);
        let json = serde_json::to_value(&decision).unwrap();
        let v = &json["violations"][0];
        for key in ["rule", "window", "used", "limit", "unit"] {
            assert!(!v[key].is_null(), "missing {key}");
        }
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let book = RuleBook::embedded().unwrap();
        assert!(check(&book, "").unwrap_err().contains("nothing"));
        assert!(
            check(&book, "{")
                .unwrap_err()
                .contains("invalid request JSON")
        );
        let unknown = r#"{"jurisdiction": "US-ZZ", "at": "2026-03-14T15:30:00-07:00",
            "customer": {"class": "adult-use", "age": 25}, "cart": []}"#;
        assert!(check(&book, unknown).unwrap_err().contains("US-ZZ"));
    }
}
