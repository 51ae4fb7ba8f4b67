//! Moving customers in and out of Canopy as CSV: import from another POS (with column mapping, a dry run,
//! all-or-nothing writes and idempotent re-runs) and spreadsheet-safe export.

pub mod columns;
pub mod export;
pub mod import;

pub use columns::{Field, Mapping, MappingError};
pub use export::{CUSTOMER_COLUMNS, ExportError, export_customers, safe_cell};
pub use import::{
    ImportError, ImportOptions, ImportReport, RowOutcome, RowReport, Summary, import_customers,
};
