//! The public Stock API, for integrations holding an API key.

pub mod alerts;
pub mod devices;
pub mod health;
pub mod key;
pub mod key_retire;
pub mod ping;
pub mod secret_scanning;
pub mod stock;
