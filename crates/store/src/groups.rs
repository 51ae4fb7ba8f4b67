//! Customer groups, their discounts and memberships.

use std::collections::{BTreeMap, HashSet};

use canopy_domain::{Actor, CustomerId, GroupId};
use canopy_orders::{Discount, DiscountKind, Group};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

use crate::backend::{Tx, on_read, on_tx};
use crate::retail::{corrupt, parse_category};
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit};

/// A group as staff define it (the id and counts come from storage).
#[derive(Debug, Clone)]
pub struct GroupDraft {
    pub name: String,
    pub description: Option<String>,
    pub discounts: Vec<Discount>,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    name: String,
    description: Option<String>,
    created_at: i64,
    updated_at: i64,
    member_count: i64,
}

#[derive(sqlx::FromRow)]
struct DiscountRow {
    id: String,
    group_id: String,
    label: String,
    kind: String,
    basis_points: Option<i64>,
    amount_cents: Option<i64>,
    categories: Option<String>,
    starts_on: Option<String>,
    ends_on: Option<String>,
}

impl TryFrom<DiscountRow> for Discount {
    type Error = StoreError;
    fn try_from(r: DiscountRow) -> Result<Discount> {
        let kind = match (r.kind.as_str(), r.basis_points, r.amount_cents) {
            ("percent", Some(bp), _) => DiscountKind::Percent {
                basis_points: u32::try_from(bp)
                    .map_err(|_| corrupt("basis_points", &bp.to_string()))?,
            },
            ("amount", _, Some(cents)) => DiscountKind::Amount { cents },
            (other, _, _) => return Err(corrupt("discount kind", other)),
        };
        let categories = match r.categories {
            None => None,
            Some(text) => Some(
                text.split(',')
                    .filter(|s| !s.is_empty())
                    .map(parse_category)
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        let date = |d: Option<String>| {
            d.map(|d| d.parse().map_err(|_| corrupt("discount date", &d)))
                .transpose()
        };
        Ok(Discount {
            id: r.id.parse().map_err(|_| corrupt("discount id", &r.id))?,
            label: r.label,
            kind,
            categories,
            starts_on: date(r.starts_on)?,
            ends_on: date(r.ends_on)?,
        })
    }
}

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.description, g.created_at, g.updated_at, \
     (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count FROM customer_groups g";

impl Store {
    pub async fn create_group(
        &self,
        draft: GroupDraft,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Group> {
        let id = GroupId::new();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO customer_groups (id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)"
        )
        .bind(id.to_string())
        .bind(&draft.name)
        .bind(draft.description.as_deref())
        .bind(to_micros(now))
        .execute(&mut **c)
        .await
        .map(|_| ()))
        .map_err(duplicate_name)?;
        write_discounts(&mut tx, id, &draft.discounts).await?;
        let group = Group {
            id,
            name: draft.name,
            description: draft.description,
            discounts: draft.discounts,
            member_count: 0,
            created_at: now,
            updated_at: now,
        };
        audit::record(
            &mut tx,
            actor,
            now,
            "group.create",
            "group",
            Some(&id.to_string()),
            &serde_json::to_value(&group).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Replaces a group's name, description and discounts.
    pub async fn update_group(
        &self,
        id: GroupId,
        draft: GroupDraft,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Group> {
        let before = self.group(id).await?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE customer_groups SET name = $1, description = $2, updated_at = $3 WHERE id = $4"
        )
        .bind(&draft.name)
        .bind(draft.description.as_deref())
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ()))
        .map_err(duplicate_name)?;
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM group_discounts WHERE group_id = $1"
        )
        .bind(id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
        write_discounts(&mut tx, id, &draft.discounts).await?;
        let after = Group {
            name: draft.name,
            description: draft.description,
            discounts: draft.discounts,
            updated_at: now,
            ..before.clone()
        };
        let changes = audit::diff_of(&before, &after);
        audit::record(
            &mut tx,
            actor,
            now,
            "group.update",
            "group",
            Some(&id.to_string()),
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_group(&self, id: GroupId, actor: &Actor, now: Timestamp) -> Result<()> {
        let group = self.group(id).await?;
        let mut tx = self.begin().await?;
        for sql in [
            "DELETE FROM group_members WHERE group_id = $1",
            "DELETE FROM group_discounts WHERE group_id = $1",
            "DELETE FROM customer_groups WHERE id = $1",
        ] {
            on_tx!(&mut tx, |c| sqlx::query(sql)
                .bind(id.to_string())
                .execute(&mut **c)
                .await
                .map(|_| ()))?;
        }
        audit::record(
            &mut tx,
            actor,
            now,
            "group.delete",
            "group",
            Some(&id.to_string()),
            &serde_json::to_value(&group).unwrap_or_default(),
        )
        .await?;
        tx.commit().await
    }

    pub async fn group(&self, id: GroupId) -> Result<Group> {
        let sql = format!("{GROUP_SELECT} WHERE g.id = $1");
        let rows: Vec<GroupRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(id.to_string())
            .fetch_all(p)
            .await)?;
        self.with_discounts(rows)
            .await?
            .pop()
            .ok_or(StoreError::NotFound { entity: "group" })
    }

    pub async fn list_groups(&self) -> Result<Vec<Group>> {
        let sql = format!("{GROUP_SELECT} ORDER BY g.name");
        let rows: Vec<GroupRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .fetch_all(p)
            .await)?;
        self.with_discounts(rows).await
    }

    /// The groups a customer belongs to, by name, with their discounts.
    pub async fn customer_groups(&self, customer: CustomerId) -> Result<Vec<Group>> {
        let sql = format!(
            "{GROUP_SELECT} WHERE g.id IN (SELECT group_id FROM group_members WHERE customer_id = $1) ORDER BY g.name"
        );
        let rows: Vec<GroupRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(customer.to_string())
            .fetch_all(p)
            .await)?;
        self.with_discounts(rows).await
    }

    /// Adds a customer to a group (already a member: nothing changes).
    pub async fn add_group_member(
        &self,
        group: GroupId,
        customer: CustomerId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        self.group(group).await?;
        self.customer(customer).await?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO group_members (group_id, customer_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(group.to_string())
        .bind(customer.to_string())
        .bind(to_micros(now))
        .execute(&mut **c)
        .await
        .map(|_| ())
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "group.member_add",
            "customer",
            Some(&customer.to_string()),
            &serde_json::json!({ "group_id": group }),
        )
        .await?;
        tx.commit().await
    }

    pub async fn remove_group_member(
        &self,
        group: GroupId,
        customer: CustomerId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let removed = on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM group_members WHERE group_id = $1 AND customer_id = $2"
        )
        .bind(group.to_string())
        .bind(customer.to_string())
        .execute(&mut **c)
        .await
        .map(|r| r.rows_affected()))?;
        if removed == 0 {
            return Err(StoreError::NotFound {
                entity: "group membership",
            });
        }
        audit::record(
            &mut tx,
            actor,
            now,
            "group.member_remove",
            "customer",
            Some(&customer.to_string()),
            &serde_json::json!({ "group_id": group }),
        )
        .await?;
        tx.commit().await
    }

    /// Bulk memberships for demo data and imports: (group, customer) pairs in one transaction.
    pub async fn add_group_members_bulk(
        &self,
        pairs: &[(GroupId, CustomerId)],
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_memberships(&mut tx, pairs, now).await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "group.member_bulk_add",
            "group",
            None,
            &serde_json::json!({ "count": pairs.len() }),
        )
        .await?;
        tx.commit().await
    }

    /// Every group's id and name, for matching names from an import (without discounts or counts).
    pub async fn group_names(&self) -> Result<Vec<(GroupId, String)>> {
        let rows: Vec<(String, String)> = on_read!(self, |p| sqlx::query_as(
            "SELECT id, name FROM customer_groups ORDER BY name"
        )
        .fetch_all(p)
        .await)?;
        rows.into_iter()
            .map(|(id, name)| Ok((id.parse().map_err(|_| corrupt("group id", &id))?, name)))
            .collect()
    }

    /// The groups each of these customers belongs to, so an import adds only memberships that are new.
    pub async fn group_memberships(
        &self,
        customers: &[CustomerId],
    ) -> Result<HashSet<(GroupId, CustomerId)>> {
        let mut found = HashSet::new();
        for chunk in customers.chunks(500) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT group_id, customer_id FROM group_members WHERE customer_id IN ({})",
                list.join(", ")
            );
            let rows: Vec<(String, String)> = on_read!(self, |p| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
                for customer in chunk {
                    q = q.bind(customer.to_string());
                }
                q.fetch_all(p).await
            })?;
            for (group, customer) in rows {
                found.insert((
                    group.parse().map_err(|_| corrupt("group id", &group))?,
                    customer
                        .parse()
                        .map_err(|_| corrupt("member customer id", &customer))?,
                ));
            }
        }
        Ok(found)
    }

    async fn with_discounts(&self, rows: Vec<GroupRow>) -> Result<Vec<Group>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, group_id, label, kind, basis_points, amount_cents, categories, starts_on, ends_on \
             FROM group_discounts WHERE group_id IN ({}) ORDER BY id",
            placeholders.join(", ")
        );
        let discount_rows: Vec<DiscountRow> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for r in &rows {
                q = q.bind(r.id.clone());
            }
            q.fetch_all(p).await
        })?;
        let mut by_group: BTreeMap<String, Vec<Discount>> = BTreeMap::new();
        for d in discount_rows {
            by_group
                .entry(d.group_id.clone())
                .or_default()
                .push(Discount::try_from(d)?);
        }
        rows.into_iter()
            .map(|r| {
                Ok(Group {
                    id: r.id.parse().map_err(|_| corrupt("group id", &r.id))?,
                    discounts: by_group.remove(&r.id).unwrap_or_default(),
                    name: r.name,
                    description: r.description,
                    member_count: r.member_count,
                    created_at: from_micros(r.created_at),
                    updated_at: from_micros(r.updated_at),
                })
            })
            .collect()
    }
}

fn duplicate_name(e: sqlx::Error) -> StoreError {
    if StoreError::is_unique_violation(&e) {
        StoreError::invalid("name", "duplicate_group", "another group has this name")
    } else {
        e.into()
    }
}

async fn write_discounts(tx: &mut Tx, group: GroupId, discounts: &[Discount]) -> Result<()> {
    for d in discounts {
        let (kind, bp, cents) = match d.kind {
            DiscountKind::Percent { basis_points } => {
                ("percent", Some(i64::from(basis_points)), None)
            }
            DiscountKind::Amount { cents } => ("amount", None, Some(cents)),
        };
        let categories = d
            .categories
            .as_ref()
            .map(|cats| cats.iter().map(|c| c.name()).collect::<Vec<_>>().join(","));
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO group_discounts (id, group_id, label, kind, basis_points, amount_cents, categories, starts_on, ends_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(d.id.to_string())
        .bind(group.to_string())
        .bind(&d.label)
        .bind(kind)
        .bind(bp)
        .bind(cents)
        .bind(categories.clone())
        .bind(d.starts_on.map(|x| x.to_string()))
        .bind(d.ends_on.map(|x| x.to_string()))
        .execute(&mut **c)
        .await
        .map(|_| ())
        })?;
    }
    Ok(())
}

/// Creates groups without discounts inside the caller's transaction (an import's), each audited as
/// `group.create` like one made by staff. A name taken meanwhile fails the statement and so the import.
pub(crate) async fn create_groups(
    tx: &mut Tx,
    groups: &[(GroupId, String)],
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    for (id, name) in groups {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO customer_groups (id, name, description, created_at, updated_at) VALUES ($1, $2, NULL, $3, $3)"
        )
        .bind(id.to_string())
        .bind(name)
        .bind(to_micros(now))
        .execute(&mut **c)
        .await
        .map(|_| ()))
        .map_err(duplicate_name)?;
        let group = Group {
            id: *id,
            name: name.clone(),
            description: None,
            discounts: Vec::new(),
            member_count: 0,
            created_at: now,
            updated_at: now,
        };
        audit::record(
            tx,
            actor,
            now,
            "group.create",
            "group",
            Some(&id.to_string()),
            &serde_json::to_value(&group).unwrap_or_default(),
        )
        .await?;
    }
    Ok(())
}

/// Memberships many at a time inside the caller's transaction; pairs that already exist are skipped
/// (`ON CONFLICT DO NOTHING`). Returns how many were added.
pub(crate) async fn insert_memberships(
    tx: &mut Tx,
    pairs: &[(GroupId, CustomerId)],
    now: Timestamp,
) -> Result<u64> {
    let mut added = 0;
    for chunk in pairs.chunks(300) {
        let sql = tx.bulk_sql(format!(
            "INSERT INTO group_members (group_id, customer_id, added_at) VALUES {} ON CONFLICT DO NOTHING",
            crate::events::placeholders(chunk.len(), 3)
        ));
        added += on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for (g, cu) in chunk {
                q = q
                    .bind(g.to_string())
                    .bind(cu.to_string())
                    .bind(to_micros(now));
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(added)
}
