//! The portal's session and users (`/portal/api`, authenticated by the session cookie): logging
//! in, the logged-in user and their role, the devices they may use, and the connection details
//! the guides show.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `POST /portal/api/session`: log in.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user's email address (case does not matter).
    #[serde(default)]
    pub email: String,
    /// The user's password.
    #[serde(default)]
    pub password: String,
}

// Hand-written so that the password never reaches a log line or a panic message.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What a user may see: every device of the account, or a chosen list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees all of the account's devices and manages every key of the account.
    Admin,
    /// Sees only the devices granted to them, and only their own keys.
    Member,
}

/// The logged-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CurrentUser {
    /// The user's id.
    pub id: i64,
    /// The user's email address.
    pub email: String,
    /// The user's display name.
    pub name: String,
    /// Admin or member.
    pub role: Role,
    /// The account (organisation) the user belongs to.
    pub account_id: i64,
    /// The account's name.
    pub account_name: String,
}

/// A device the logged-in user may put on a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PortalDevice {
    /// The device's id.
    pub id: i64,
    /// The device's name.
    pub name: String,
    /// The customer's (site's) id.
    pub customer_id: i64,
    /// The customer's (site's) name.
    pub customer_name: String,
}

/// What the portal's guides need: where integrations reach this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConnectInfo {
    /// The server's public base URL, without a trailing slash (`https://partlogic.example`).
    pub base_url: String,
    /// The recipe files served at `/recipes/<file>`, with this base URL filled in.
    pub recipes: Vec<String>,
}

/// A user as shown beside a key (owner, actor of an event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserRef {
    /// The user's id.
    pub id: i64,
    /// The user's email address.
    pub email: String,
    /// The user's display name.
    pub name: String,
}
