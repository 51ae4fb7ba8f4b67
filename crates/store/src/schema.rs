//! What the migrations built, read back from each engine's catalogue and written in one engine-neutral
//! spelling, so a test can hold the SQLite and PostgreSQL migration sets to the same schema.

use std::collections::BTreeSet;

use crate::Result;
use crate::backend::{Backend, Store};

/// A schema as comparable lines: `column t.c text not null default 'x'`, `index t (a, b) unique`,
/// `primary key t (a)`, `refuses update on t`. Engine spellings are normalised (`BIGINT` and `INTEGER`
/// are both `integer`, `'x'::text` is `'x'`, `FALSE` is `0`); the engine-specific search machinery (SQLite's
/// FTS5 tables and their sync triggers, PostgreSQL's trigram GIN indexes) is left out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SchemaDescription {
    pub columns: BTreeSet<String>,
    pub indexes: BTreeSet<String>,
    pub triggers: BTreeSet<String>,
}

impl Store {
    /// The schema the migrations built, for the test that keeps the two migration sets in lockstep.
    pub async fn describe_schema(&self) -> Result<SchemaDescription> {
        match &self.backend {
            Backend::Sqlite { read, .. } => describe_sqlite(read).await,
            Backend::Postgres(pool) => describe_postgres(pool).await,
        }
    }
}

async fn describe_sqlite(pool: &sqlx::SqlitePool) -> Result<SchemaDescription> {
    let mut out = SchemaDescription::default();
    let tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                  AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND name NOT LIKE 'customers\\_fts%' ESCAPE '\\'";
    let columns: Vec<(String, String, String, i64, Option<String>, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
             FROM ({tables}) m, pragma_table_info(m.name) p"
        )))
        .fetch_all(pool)
        .await?;
    let mut keys: std::collections::BTreeMap<String, Vec<(i64, String)>> = Default::default();
    for (table, column, ty, not_null, default, pk) in columns {
        out.columns.insert(column_line(
            &table,
            &column,
            &ty,
            not_null != 0 || pk != 0,
            default.as_deref(),
        ));
        if pk != 0 {
            keys.entry(table).or_default().push((pk, column));
        }
    }
    for (table, mut columns) in keys {
        columns.sort();
        let names: Vec<String> = columns.into_iter().map(|(_, c)| c).collect();
        out.indexes
            .insert(format!("primary key {table} ({})", names.join(", ")));
    }
    let indexes: Vec<(String, String, i64, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT m.name, l.name, l.\"unique\", l.origin, l.partial FROM ({tables}) m, pragma_index_list(m.name) l \
         WHERE l.origin <> 'pk'"
    )))
    .fetch_all(pool)
    .await?;
    for (table, index, unique, _, partial) in indexes {
        let columns: Vec<(Option<String>,)> =
            sqlx::query_as("SELECT name FROM pragma_index_xinfo($1) WHERE key = 1 ORDER BY seqno")
                .bind(&index)
                .fetch_all(pool)
                .await?;
        let columns: Vec<String> = columns
            .into_iter()
            .map(|(c,)| c.unwrap_or_else(|| "<expression>".into()))
            .collect();
        out.indexes
            .insert(index_line(&table, &columns, unique != 0, partial != 0));
    }
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%RAISE(%'",
    )
    .fetch_all(pool)
    .await?;
    for (table, sql) in triggers {
        let head = sql.to_uppercase();
        let head = head.split(" ON ").next().unwrap_or_default().to_string();
        for event in ["INSERT", "UPDATE", "DELETE"] {
            if head.contains(event) {
                out.triggers
                    .insert(format!("refuses {} on {table}", event.to_lowercase()));
            }
        }
    }
    Ok(out)
}

async fn describe_postgres(pool: &sqlx::PgPool) -> Result<SchemaDescription> {
    let mut out = SchemaDescription::default();
    let columns: Vec<(String, String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'NO', column_default::text \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(pool)
    .await?;
    for (table, column, ty, not_null, default) in columns {
        out.columns.insert(column_line(
            &table,
            &column,
            &ty,
            not_null,
            default.as_deref(),
        ));
    }
    // Every index of the schema's tables, its key columns in order (0 = an expression), and whether it
    // is unique, partial or the primary key; GIN (the trigram name search) is PostgreSQL's own.
    let indexes: Vec<(String, Vec<String>, bool, bool, bool)> = sqlx::query_as(
        "SELECT t.relname::text, \
                ARRAY(SELECT COALESCE(a.attname::text, '<expression>') \
                      FROM unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY k(attnum, n) \
                      LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum <> 0 \
                      ORDER BY k.n), \
                i.indisunique, i.indpred IS NOT NULL, i.indisprimary \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid \
         JOIN pg_namespace s ON s.oid = t.relnamespace JOIN pg_am am ON am.oid = x.relam \
         WHERE s.nspname = current_schema() AND am.amname <> 'gin' AND t.relname NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(pool)
    .await?;
    for (table, columns, unique, partial, primary) in indexes {
        if primary {
            out.indexes
                .insert(format!("primary key {table} ({})", columns.join(", ")));
        } else {
            out.indexes
                .insert(index_line(&table, &columns, unique, partial));
        }
    }
    // Row triggers whose function raises an exception: the append-only guards.
    let triggers: Vec<(String, i16)> = sqlx::query_as(
        "SELECT c.relname::text, g.tgtype FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid \
         JOIN pg_namespace s ON s.oid = c.relnamespace JOIN pg_proc p ON p.oid = g.tgfoid \
         WHERE NOT g.tgisinternal AND s.nspname = current_schema() AND p.prosrc ILIKE '%raise exception%'",
    )
    .fetch_all(pool)
    .await?;
    for (table, kind) in triggers {
        // pg_trigger.tgtype bits: 4 INSERT, 8 DELETE, 16 UPDATE.
        for (bit, event) in [(4, "insert"), (8, "delete"), (16, "update")] {
            if kind & bit != 0 {
                out.triggers.insert(format!("refuses {event} on {table}"));
            }
        }
    }
    Ok(out)
}

fn column_line(
    table: &str,
    column: &str,
    ty: &str,
    not_null: bool,
    default: Option<&str>,
) -> String {
    let mut line = format!("column {table}.{column} {}", type_family(ty));
    if not_null {
        line.push_str(" not null");
    }
    if let Some(default) = default.map(normal_default).filter(|d| !d.is_empty()) {
        line.push_str(" default ");
        line.push_str(&default);
    }
    line
}

fn index_line(table: &str, columns: &[String], unique: bool, partial: bool) -> String {
    format!(
        "index {table} ({}){}{}",
        columns.join(", "),
        if unique { " unique" } else { "" },
        if partial { " partial" } else { "" }
    )
}

/// One name per storage class: every integer width is `integer` (SQLite's are all 64-bit; instants and
/// money are `BIGINT` on PostgreSQL), and so is a PostgreSQL `boolean` (SQLite has none: 0 and 1 in an
/// integer column, defaults normalised to match); character types are `text`, `BLOB` and `bytea` are `bytes`.
fn type_family(ty: &str) -> &'static str {
    let ty = ty.to_ascii_lowercase();
    if ty.contains("int") || ty == "serial" || ty == "bigserial" || ty.starts_with("bool") {
        "integer"
    } else if ty.contains("char") || ty.contains("text") || ty.contains("clob") {
        "text"
    } else if ty.contains("blob") || ty == "bytea" {
        "bytes"
    } else if ty.contains("real") || ty.contains("floa") || ty.contains("doub") {
        "float"
    } else if ty.contains("json") {
        "json"
    } else {
        "other"
    }
}

/// A default without engine decoration: PostgreSQL casts (`'x'::text`) and parentheses removed,
/// booleans as `0`/`1`.
fn normal_default(default: &str) -> String {
    let mut d = default.trim();
    while d.starts_with('(') && d.ends_with(')') {
        d = d[1..d.len() - 1].trim();
    }
    let d = match d.find("::") {
        Some(cast) if !d.starts_with("nextval") => &d[..cast],
        _ => d,
    };
    match d.to_ascii_lowercase().as_str() {
        "false" => "0".into(),
        "true" => "1".into(),
        "null" => String::new(),
        _ => d.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_spellings_are_normalised() {
        assert_eq!(type_family("BIGINT"), type_family("integer"));
        assert_eq!(type_family("TEXT"), type_family("character varying"));
        assert_eq!(type_family("boolean"), type_family("INTEGER"));
        assert_eq!(normal_default("'pending'::text"), "'pending'");
        assert_eq!(normal_default("(0)"), "0");
        assert_eq!(normal_default("false"), "0");
        assert_eq!(normal_default("NULL"), "");
    }
}
