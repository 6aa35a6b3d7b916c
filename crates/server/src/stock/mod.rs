//! What stock is: reading it for the Stock API (the parameters in `filters`, the queries behind
//! them in `query`, the JSON and CSV encodings in `encode`, unpaged exports in `stream` with
//! their slots in `slots`), low-stock alerts, the one writer of stock rows (`writes`) and the
//! CSV import. The handler in `http/routes/api/stock.rs` only speaks HTTP.
//!
//! A feature: it may use `keys` (the caller and its reach), `db`, `domain`, `error` and
//! `clock`; never `http` or `cli`.

pub mod alerts;
pub mod encode;
pub mod filters;
pub mod import;
pub mod query;
pub mod slots;
pub mod stream;
pub mod writes;

pub use crate::db::store::StockFilters;
pub use encode::Format;
