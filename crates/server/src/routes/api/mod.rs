//! The public Stock API, for integrations holding an API key.

pub mod devices;
pub mod health;
pub mod ping;
pub mod stock;
