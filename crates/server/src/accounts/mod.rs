//! Who is who: accounts and their users (and the admin operations on them), passwords, portal
//! sessions, login throttling, and device reach (which devices a user may see).
//!
//! A feature: it may use `db`, `domain`, `error` and `clock`; never `http`, `cli`, `keys` or
//! `stock`.

pub mod admin;
pub mod email;
pub mod password;
pub mod reach;
pub mod session;
pub mod throttle;

pub use session::PortalUser;
