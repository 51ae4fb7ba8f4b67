//! Retail stores (locations) and the product catalogue.

use canopy_domain::{Actor, ProductId, StoreId};
use canopy_limits::{Category, EnforcementMode};
use canopy_orders::{
    HistoryScope, LicenceType, Measures, Product, ProductDraft, RetailStore, StoreSettings,
};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

use crate::backend::{Tx, on_read, on_tx};
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit};

const STORE_COLUMNS: &str = "id, name, licensee, licence_type, jurisdiction, time_zone, enforcement, history_scope, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct StoreRow {
    id: String,
    name: String,
    licensee: String,
    licence_type: String,
    jurisdiction: String,
    time_zone: String,
    enforcement: String,
    history_scope: String,
    created_at: i64,
    updated_at: i64,
}

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

pub(crate) fn parse_category(value: &str) -> Result<Category> {
    Category::ALL
        .into_iter()
        .find(|c| c.name() == value)
        .ok_or_else(|| corrupt("category", value))
}

fn enforcement_str(mode: EnforcementMode) -> &'static str {
    match mode {
        EnforcementMode::Block => "block",
        EnforcementMode::Warn => "warn",
    }
}

impl TryFrom<StoreRow> for RetailStore {
    type Error = StoreError;
    fn try_from(r: StoreRow) -> Result<RetailStore> {
        Ok(RetailStore {
            id: r.id.parse().map_err(|_| corrupt("store id", &r.id))?,
            settings: StoreSettings {
                name: r.name,
                licensee: r.licensee,
                licence_type: LicenceType::parse(&r.licence_type)
                    .ok_or_else(|| corrupt("licence_type", &r.licence_type))?,
                jurisdiction: r
                    .jurisdiction
                    .parse()
                    .map_err(|_| corrupt("jurisdiction", &r.jurisdiction))?,
                time_zone: r.time_zone,
                enforcement: match r.enforcement.as_str() {
                    "warn" => EnforcementMode::Warn,
                    "block" => EnforcementMode::Block,
                    other => return Err(corrupt("enforcement", other)),
                },
                history_scope: HistoryScope::parse(&r.history_scope)
                    .ok_or_else(|| corrupt("history_scope", &r.history_scope))?,
            },
            created_at: from_micros(r.created_at),
            updated_at: from_micros(r.updated_at),
        })
    }
}

const PRODUCT_COLUMNS: &str = "id, sku, name, category, net_weight_mg, concentrate_mg, thc_ug, volume_ul, price_cents, archived_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ProductRow {
    id: String,
    sku: String,
    name: String,
    category: String,
    net_weight_mg: Option<i64>,
    concentrate_mg: Option<i64>,
    thc_ug: Option<i64>,
    volume_ul: Option<i64>,
    price_cents: i64,
    archived_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ProductRow> for Product {
    type Error = StoreError;
    fn try_from(r: ProductRow) -> Result<Product> {
        Ok(Product {
            id: r.id.parse().map_err(|_| corrupt("product id", &r.id))?,
            draft: ProductDraft {
                sku: r.sku,
                name: r.name,
                category: parse_category(&r.category)?,
                measures: Measures {
                    net_weight_mg: r.net_weight_mg,
                    concentrate_mg: r.concentrate_mg,
                    thc_ug: r.thc_ug,
                    volume_ul: r.volume_ul,
                },
                price_cents: r.price_cents,
            },
            archived: r.archived_at.is_some(),
            created_at: from_micros(r.created_at),
            updated_at: from_micros(r.updated_at),
        })
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub created: u64,
    pub updated: u64,
}

impl Store {
    pub async fn create_store(
        &self,
        settings: StoreSettings,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<RetailStore> {
        let store = RetailStore {
            id: StoreId::new(),
            settings,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.begin().await?;
        write_store(&mut tx, &store, true).await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "store.create",
            "store",
            Some(&store.id.to_string()),
            &serde_json::to_value(&store).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(store)
    }

    pub async fn update_store(
        &self,
        id: StoreId,
        settings: StoreSettings,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<RetailStore> {
        let before = self.retail_store(id).await?;
        let after = RetailStore {
            settings,
            updated_at: now,
            ..before.clone()
        };
        let mut tx = self.begin().await?;
        write_store(&mut tx, &after, false).await?;
        let changes = audit::diff_of(&before, &after);
        audit::record(
            &mut tx,
            actor,
            now,
            "store.update",
            "store",
            Some(&id.to_string()),
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn retail_store(&self, id: StoreId) -> Result<RetailStore> {
        let sql = format!("SELECT {STORE_COLUMNS} FROM stores WHERE id = $1");
        let row: Option<StoreRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(id.to_string())
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::NotFound { entity: "store" })?
            .try_into()
    }

    pub async fn list_stores(&self) -> Result<Vec<RetailStore>> {
        let sql = format!("SELECT {STORE_COLUMNS} FROM stores ORDER BY name, id");
        let rows: Vec<StoreRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(RetailStore::try_from).collect()
    }

    /// Creates a product, or updates the one with the same SKU.
    pub async fn save_product(
        &self,
        draft: ProductDraft,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(Product, bool)> {
        let mut tx = self.begin().await?;
        let (product, created) = upsert_product(&mut tx, &draft, now).await?;
        audit::record(
            &mut tx,
            actor,
            now,
            if created {
                "product.create"
            } else {
                "product.update"
            },
            "product",
            Some(&product.id.to_string()),
            &serde_json::to_value(&product).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok((product, created))
    }

    /// Updates the product with this id (its SKU may change, unless another product has it).
    pub async fn update_product(
        &self,
        id: ProductId,
        draft: ProductDraft,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Product> {
        let before = self.product(id).await?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE products SET sku = $1, name = $2, category = $3, net_weight_mg = $4, concentrate_mg = $5, \
             thc_ug = $6, volume_ul = $7, price_cents = $8, updated_at = $9 WHERE id = $10"
        )
        .bind(&draft.sku)
        .bind(&draft.name)
        .bind(draft.category.name())
        .bind(draft.measures.net_weight_mg)
        .bind(draft.measures.concentrate_mg)
        .bind(draft.measures.thc_ug)
        .bind(draft.measures.volume_ul)
        .bind(draft.price_cents)
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ()))
        .map_err(|e| {
            if StoreError::is_unique_violation(&e) {
                StoreError::invalid("sku", "duplicate_sku", "another product has this SKU")
            } else {
                e.into()
            }
        })?;
        let after = Product {
            draft,
            updated_at: now,
            ..before.clone()
        };
        let changes = audit::diff_of(&before, &after);
        audit::record(
            &mut tx,
            actor,
            now,
            "product.update",
            "product",
            Some(&id.to_string()),
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Archived products stay on past orders but can no longer be sold by SKU.
    pub async fn archive_product(
        &self,
        id: ProductId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Product> {
        let product = self.product(id).await?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE products SET archived_at = $1, updated_at = $1 WHERE id = $2"
        )
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
        audit::record(
            &mut tx,
            actor,
            now,
            "product.archive",
            "product",
            Some(&id.to_string()),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(Product {
            archived: true,
            updated_at: now,
            ..product
        })
    }

    /// Creates or updates (by SKU) every product in one transaction, audited as one import.
    pub async fn import_products(
        &self,
        drafts: &[ProductDraft],
        actor: &Actor,
        now: Timestamp,
    ) -> Result<ImportSummary> {
        let mut tx = self.begin().await?;
        let mut summary = ImportSummary::default();
        for draft in drafts {
            let (_, created) = upsert_product(&mut tx, draft, now).await?;
            if created {
                summary.created += 1;
            } else {
                summary.updated += 1;
            }
        }
        audit::record(
            &mut tx,
            actor,
            now,
            "product.import",
            "product",
            None,
            &serde_json::to_value(summary).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    pub async fn product(&self, id: ProductId) -> Result<Product> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1");
        let row: Option<ProductRow> =
            on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(id.to_string())
                .fetch_optional(p)
                .await)?;
        row.ok_or(StoreError::NotFound { entity: "product" })?
            .try_into()
    }

    /// Active products, by SKU.
    pub async fn list_products(&self, include_archived: bool) -> Result<Vec<Product>> {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE ($1 OR archived_at IS NULL) ORDER BY sku"
        );
        let rows: Vec<ProductRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(include_archived)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Product::try_from).collect()
    }

    /// Products with these SKUs (archived included; the caller decides).
    pub async fn products_by_sku(&self, skus: &[String]) -> Result<Vec<Product>> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=skus.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE sku IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<ProductRow> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for sku in skus {
                q = q.bind(sku);
            }
            q.fetch_all(p).await
        })?;
        rows.into_iter().map(Product::try_from).collect()
    }
}

async fn write_store(tx: &mut Tx, store: &RetailStore, insert: bool) -> Result<()> {
    let s = &store.settings;
    let sql = if insert {
        "INSERT INTO stores (name, licensee, licence_type, jurisdiction, time_zone, enforcement, history_scope, \
         created_at, updated_at, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    } else {
        "UPDATE stores SET name = $1, licensee = $2, licence_type = $3, jurisdiction = $4, time_zone = $5, \
         enforcement = $6, history_scope = $7, created_at = $8, updated_at = $9 WHERE id = $10"
    };
    on_tx!(tx, |c| sqlx::query(sql)
        .bind(&s.name)
        .bind(&s.licensee)
        .bind(s.licence_type.as_str())
        .bind(s.jurisdiction.as_str())
        .bind(&s.time_zone)
        .bind(enforcement_str(s.enforcement))
        .bind(s.history_scope.as_str())
        .bind(to_micros(store.created_at))
        .bind(to_micros(store.updated_at))
        .bind(store.id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
    Ok(())
}

async fn upsert_product(
    tx: &mut Tx,
    draft: &ProductDraft,
    now: Timestamp,
) -> Result<(Product, bool)> {
    let sql = format!(
        "INSERT INTO products (id, sku, name, category, net_weight_mg, concentrate_mg, thc_ug, volume_ul, price_cents, \
         archived_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $10) \
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, category = excluded.category, \
         net_weight_mg = excluded.net_weight_mg, concentrate_mg = excluded.concentrate_mg, thc_ug = excluded.thc_ug, \
         volume_ul = excluded.volume_ul, price_cents = excluded.price_cents, archived_at = NULL, updated_at = excluded.updated_at \
         RETURNING {PRODUCT_COLUMNS}"
    );
    let row: ProductRow = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
        .bind(ProductId::new().to_string())
        .bind(&draft.sku)
        .bind(&draft.name)
        .bind(draft.category.name())
        .bind(draft.measures.net_weight_mg)
        .bind(draft.measures.concentrate_mg)
        .bind(draft.measures.thc_ug)
        .bind(draft.measures.volume_ul)
        .bind(draft.price_cents)
        .bind(to_micros(now))
        .fetch_one(&mut **c)
        .await)?;
    let product = Product::try_from(row)?;
    let created = to_micros(product.created_at) == to_micros(now);
    Ok((product, created))
}
