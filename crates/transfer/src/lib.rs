//! Moving customers in and out of Canopy as CSV: import from another POS (with column mapping, a dry run,
//! all-or-nothing writes and idempotent re-runs) and spreadsheet-safe export of customers and orders.

pub mod columns;
pub mod export;
pub mod import;

pub use columns::{Field, Mapping, MappingError};
pub use export::{
    CUSTOMER_COLUMNS, ExportError, ORDER_COLUMNS, export_customers, export_customers_filtered,
    export_orders, safe_cell,
};
pub use import::{
    ImportError, ImportOptions, ImportReport, RowOutcome, RowReport, Summary, import_customers,
};
