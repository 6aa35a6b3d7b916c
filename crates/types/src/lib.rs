//! The wire types of PartLogic: what the Stock API answers and what the portal SPA sends and
//! receives. This crate is the boundary between server and browser, so it holds serde types only
//! and builds for `wasm32-unknown-unknown`; the `openapi` feature adds `utoipa::ToSchema` derives
//! for the server's OpenAPI spec.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Serialises timestamps as RFC 3339 in UTC with exactly three fractional digits and `Z`
/// (`2026-01-01T12:00:00.000Z`): spreadsheet and Zapier parsers cope with that form best, and a
/// fixed width keeps values sortable as text.
pub mod rfc3339_millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Formats `t` the one way every PartLogic timestamp is written.
    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// serde `serialize_with` target.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    /// serde `deserialize_with` target (accepts any RFC 3339 offset).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same for `Option<DateTime<Utc>>` (`null` when absent).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        /// serde `serialize_with` target.
        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::format(t)),
                None => s.serialize_none(),
            }
        }

        /// serde `deserialize_with` target.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let raw = Option::<String>::deserialize(d)?;
            raw.map(|raw| {
                DateTime::parse_from_rfc3339(&raw)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// An RFC 9457 problem document, the body of every error PartLogic returns
/// (`Content-Type: application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:partlogic:problem:<code>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short, fixed summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, in words meant for a person.
    pub detail: String,
    /// A stable, machine-readable code; integrations should branch on this.
    pub code: String,
    /// Per-field errors, for invalid parameters or bodies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldError {
    /// The field (body property or query parameter) at fault.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Stock API (`/api`, authenticated by `X-API-Key`)
// ---------------------------------------------------------------------------------------------

/// The answer of `GET /api/ping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Ping {
    /// Always `true`.
    pub ok: bool,
    /// The server's clock, UTC with milliseconds.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub time: DateTime<Utc>,
}

/// One stock row. The first seven names are the legacy ones existing integrations map, kept
/// exactly (including their capitals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockRow {
    /// The row's id; rows are returned in ascending id order.
    pub id: i64,
    /// The device (store room, tool crib, vending machine) holding the stock.
    #[serde(rename = "DeviceName")]
    pub device_name: String,
    /// The item code.
    #[serde(rename = "SKU")]
    pub sku: String,
    /// The item's description.
    #[serde(rename = "Description")]
    pub description: String,
    /// The quantity below which the item should be reordered.
    #[serde(rename = "MinQty")]
    pub min_qty: i64,
    /// The quantity to fill up to.
    #[serde(rename = "MaxQty")]
    pub max_qty: i64,
    /// The quantity physically in the device.
    #[serde(rename = "Physical")]
    pub physical: i64,
    /// The device's id (use it with `?device=`).
    #[serde(rename = "DeviceId")]
    pub device_id: i64,
    /// The customer (site) the device belongs to.
    #[serde(rename = "Customer")]
    pub customer: String,
    /// Where in the device the item is kept (bin, shelf); may be empty.
    #[serde(rename = "Location")]
    pub location: String,
    /// When the row last changed.
    #[serde(rename = "UpdatedAt", with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub updated_at: DateTime<Utc>,
}

/// A device an API key can read, as `GET /api/devices` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiDevice {
    /// The device's id.
    pub id: i64,
    /// The device's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// The customer (site) it belongs to.
    #[serde(rename = "Customer")]
    pub customer: String,
}

// ---------------------------------------------------------------------------------------------
// Portal JSON API (`/portal/api`, authenticated by the session cookie)
// ---------------------------------------------------------------------------------------------

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

/// Where a key stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Works.
    Active,
    /// Works, but expires within seven days.
    ExpiringSoon,
    /// Past its expiry date; refused.
    Expired,
    /// Retired by a user; refused.
    Retired,
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

/// An API key as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeySummary {
    /// The key's id.
    pub id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// The first characters of the key, enough to recognise it (`pl_Ab3x`).
    pub prefix: String,
    /// How many devices are ticked on it.
    pub device_count: u64,
    /// Who created and owns it.
    pub owner: UserRef,
    /// When it was created.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// The last day it works, in `time_zone`; `null` for a key that never expires.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date, example = "2026-12-31"))]
    pub expires_on: Option<NaiveDate>,
    /// The IANA time zone `expires_on` is read in.
    pub time_zone: String,
    /// The first instant the key is refused (the end of `expires_on` in `time_zone`).
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute); `null` if never.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was retired; `null` unless retired.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub retired_at: Option<DateTime<Utc>>,
    /// Where it stands now.
    pub status: KeyStatus,
}

/// One thing that happened to a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    /// The event's id.
    pub id: i64,
    /// `created`, `edited`, `retired` or `first_used`.
    pub action: String,
    /// The user who did it (`null` for `first_used`, which the key itself did).
    pub actor: Option<UserRef>,
    /// The IP address it came from.
    pub ip: Option<String>,
    /// What changed, in words.
    pub detail: Option<String>,
    /// When it happened.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
}

/// A key with its devices and history (`GET /portal/api/keys/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyDetail {
    /// The key as listed.
    #[serde(flatten)]
    pub summary: KeySummary,
    /// The devices ticked on it that still exist.
    pub devices: Vec<PortalDevice>,
    /// Who retired it.
    pub retired_by: Option<UserRef>,
    /// The IP address it was last used from.
    pub last_used_ip: Option<String>,
    /// What happened to it, newest first.
    pub events: Vec<AuditEvent>,
}

/// `POST /portal/api/keys`: create a key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// 1 to 100 characters.
    #[serde(default)]
    pub name: String,
    /// The last day the key works (`YYYY-MM-DD`), read in `time_zone`; omit for no expiry.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = Date, example = "2026-12-31"))]
    pub expires_on: Option<String>,
    /// An IANA time zone such as `Europe/London`; defaults to `UTC`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The devices the key may read (at least one, each one the user may see).
    #[serde(default)]
    pub device_ids: Vec<i64>,
}

/// `PATCH /portal/api/keys/{id}`: rename a key or change its devices (the secret stays).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyRequest {
    /// A new name, 1 to 100 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// The new full device list (at least one).
    #[serde(default)]
    pub device_ids: Option<Vec<i64>>,
}

/// The answer to creating a key: the only time its secret is ever shown.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedKey {
    /// The key as it will be listed from now on.
    pub key: KeyDetail,
    /// The full key, to send as `X-API-Key`. Store it now: it cannot be shown again.
    pub secret: String,
}

// Hand-written so that a stray `{:?}` (a log line, a panic message) never prints the secret.
impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}
