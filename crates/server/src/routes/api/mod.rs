//! The public Stock API, for integrations holding an API key.

pub mod alerts;
pub mod devices;
pub mod health;
pub mod key;
pub mod ping;
pub mod stock;
