//! `canopy id …` — filled in by the ID-scanning work.
#[derive(clap::Args)]
pub struct IdArgs {}
pub fn run(_args: IdArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("not built yet")
}
