//! `canopy limits …` — filled in by the limits-engine work.
#[derive(clap::Args)]
pub struct LimitsArgs {}
pub fn run(_args: LimitsArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("not built yet")
}
