//! Reading stock for the Stock API: the parameters (`filters`), the queries behind them
//! (`query`), the JSON and CSV encodings (`encode`) and unpaged exports (`stream`). The handler
//! in `routes/api/stock.rs` only speaks HTTP.

pub mod alerts;
pub mod encode;
pub mod filters;
pub mod query;
pub mod stream;
pub mod writes;

pub use encode::Format;
pub use filters::StockFilters;
