//! Replenishment orders: the Stock API's first writes. An integration holding an
//! `orders:write` key creates an order for a device of its reach (`POST /api/orders`, exactly
//! once per `Idempotency-Key`); people receive it (the quantities go to `Physical` through the
//! one stock writer) or cancel it, in the portal or through the API.
//!
//! `parse` holds the request rules, `store` the queries, `create` the two ways an order is
//! written, `idempotency` the exactly-once records.

pub mod create;
pub mod csv;
pub mod filters;
pub mod idempotency;
pub mod numbers;
pub mod parse;
pub mod store;
