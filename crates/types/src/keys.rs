//! API keys as read: where a key stands, the calling key (`GET /api/key`), keys as listed and in
//! detail in the portal, and a key's usage.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::audit::AuditEvent;
use crate::lifecycle::RetiredReason;
use crate::permissions::KeyPermissions;
use crate::portal::{PortalDevice, UserRef};
use crate::problem::ProblemCode;
use crate::serde_helpers::rfc3339_millis;
use crate::stock::ApiDevice;

/// The calling key, as `GET /api/key` describes it: the "test connection" answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyInfo {
    /// The name its owner gave it.
    pub name: String,
    /// Its first characters (`pl_Ab3x`).
    pub prefix: String,
    /// When it was created.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// The last day it works, in `time_zone`; `null` if it never expires.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date, example = "2026-12-31"))]
    pub expires_on: Option<NaiveDate>,
    /// The IANA time zone `expires_on` is read in.
    pub time_zone: String,
    /// The first instant it is refused; `null` if it never expires.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<DateTime<Utc>>,
    /// `active` or `expiring_soon` (a key that answers is never expired or retired).
    pub status: KeyStatus,
    /// The devices it reaches now: its ticked devices that its owner may still see.
    pub devices: Vec<ApiDevice>,
    /// What it may do besides reading stock.
    #[serde(default)]
    pub permissions: KeyPermissions,
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
    /// Why it was retired; `null` unless retired.
    pub retired_reason: Option<RetiredReason>,
    /// More about that: for a leaked key, where it was found.
    pub retired_detail: Option<String>,
    /// The prefix of the secret it had before it was last rolled; `null` if never rolled.
    pub previous_prefix: Option<String>,
    /// The first instant that previous secret is refused; `null` if never rolled.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub previous_until: Option<DateTime<Utc>>,
    /// Its own rate limit in requests a minute; `null` when its account's default applies.
    pub rate_limit_per_minute: Option<u32>,
    /// The rate limit that applies to it now (its own, or its account's default).
    pub effective_rate_limit_per_minute: u32,
    /// What it may do: stock is always `read`; orders `none`, `read` or `write`.
    #[serde(default)]
    pub permissions: KeyPermissions,
    /// Requests it made over the last seven days (every outcome).
    pub requests_7d: u64,
    /// When one of its secrets (current or previous) was last reported found in public;
    /// `null` if never.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub leaked_at: Option<DateTime<Utc>>,
    /// Where that report said it was found.
    pub leaked_url: Option<String>,
}

/// One period of a key's use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UsageBucket {
    /// When the period starts.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: DateTime<Utc>,
    /// Requests answered.
    pub ok: u64,
    /// Requests refused, by problem code.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, u64>))]
    pub refused: std::collections::BTreeMap<ProblemCode, u64>,
    /// Stock rows returned.
    pub rows: u64,
}

/// `GET /portal/api/keys/{id}/usage`: a key's use, the last 24 hours by hour and the last 30
/// days by day (in the time zone asked for), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyUsage {
    /// 24 hourly buckets, the last one the current hour.
    pub hours: Vec<UsageBucket>,
    /// 30 daily buckets, the last one today.
    pub days: Vec<UsageBucket>,
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
    /// How many of them it reaches now (those its owner may still see).
    pub reachable_device_count: u64,
    /// Ticked devices it does not reach now: its owner can no longer see them.
    pub unreachable_device_ids: Vec<i64>,
    /// Who retired it.
    pub retired_by: Option<UserRef>,
    /// The IP address it was last used from.
    pub last_used_ip: Option<String>,
    /// What happened to it, newest first (the newest 200 events).
    pub events: Vec<AuditEvent>,
}
