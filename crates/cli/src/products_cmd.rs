//! `canopy products import FILE.csv`: create or update products by SKU from a CSV file.
//!
//! Columns (header row required, order free): `sku, name, category, price_cents` and optional
//! `net_weight_g, concentrate_g, thc_mg, volume_ml` (per unit, decimals). Every row is checked
//! first; one bad row writes nothing and names its line and field.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, bail};
use canopy_domain::Actor;
use canopy_orders::{Measures, ProductDraft};
use canopy_store::Store;
use rust_decimal::Decimal;

#[derive(clap::Args)]
pub struct ProductsArgs {
    #[command(subcommand)]
    pub what: ProductsCommand,
}

#[derive(clap::Subcommand)]
pub enum ProductsCommand {
    /// Create or update (by SKU) the products in a CSV file.
    Import {
        #[command(flatten)]
        db: crate::DbArgs,
        file: PathBuf,
    },
}

#[derive(serde::Deserialize)]
struct Row {
    sku: String,
    name: String,
    category: String,
    price_cents: String,
    net_weight_g: Option<String>,
    concentrate_g: Option<String>,
    thc_mg: Option<String>,
    volume_ml: Option<String>,
}

fn dec(field: &str, v: &Option<String>) -> anyhow::Result<Option<Decimal>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Decimal::from_str(s)
            .map(Some)
            .with_context(|| format!("{field}: {s:?} is not a decimal number")),
    }
}

/// Parses the file into drafts; errors name the line.
pub fn parse(text: &str) -> anyhow::Result<Vec<ProductDraft>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut drafts = Vec::new();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("line {line}"))?;
        let draft = (|| -> anyhow::Result<ProductDraft> {
            let measures = Measures::from_decimals(
                dec("net_weight_g", &row.net_weight_g)?,
                dec("concentrate_g", &row.concentrate_g)?,
                dec("thc_mg", &row.thc_mg)?,
                dec("volume_ml", &row.volume_ml)?,
            )?;
            let price: i64 = row.price_cents.trim().parse().with_context(|| {
                format!(
                    "price_cents: {:?} is not a whole number of cents",
                    row.price_cents
                )
            })?;
            Ok(ProductDraft::parse(
                &row.sku,
                &row.name,
                &row.category,
                measures,
                price,
            )?)
        })()
        .with_context(|| format!("line {line}"))?;
        drafts.push(draft);
    }
    if drafts.is_empty() {
        bail!("no products in the file");
    }
    Ok(drafts)
}

pub async fn import(store: &Store, file: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let drafts = parse(&text)?;
    let summary = store
        .import_products(&drafts, &Actor::system("cli"), jiff::Timestamp::now())
        .await?;
    println!(
        "{} products created, {} updated",
        summary.created, summary.updated
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalogue_file_becomes_exact_products() {
        let drafts = parse(
            "sku,name,category,price_cents,net_weight_g,thc_mg\nFLW-1,Blue Dream,flower,3500,3.5,\nEDB-1,\"Gummies, 10 pack\",edible,2000,30,100\n",
        )
        .unwrap();
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].measures.net_weight_mg, Some(3500));
        assert_eq!(drafts[1].name, "Gummies, 10 pack");
        assert_eq!(drafts[1].measures.thc_ug, Some(100_000));
    }

    #[test]
    fn a_bad_row_names_its_line_and_field() {
        let err = parse("sku,name,category,price_cents\nA,a,flower,1\nB,b,herb,1\n").unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("line 3") && text.contains("category"),
            "{text}"
        );
    }
}
