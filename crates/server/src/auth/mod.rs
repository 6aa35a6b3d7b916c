//! The two ways in: API keys for `/api`, session cookies for `/portal/api`. Neither accepts the
//! other's credential.

pub mod api_key;
pub mod cache;
pub mod credential;
pub mod last_used;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod throttle;

pub use api_key::ApiCaller;
pub use session::PortalUser;
