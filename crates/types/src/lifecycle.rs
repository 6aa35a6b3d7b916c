//! Changing API keys: creating, editing, rolling (with the overlap of the old secret) and
//! retiring them (with the reason).

use serde::{Deserialize, Serialize};

use crate::permissions::PermissionsRequest;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::keys::KeyDetail;
use crate::serde_helpers::whole_numbers;

/// Why a key was retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RetiredReason {
    /// A user retired it in the portal.
    Retired,
    /// Whoever held it retired it with the key itself (`DELETE /api/key`).
    SelfRetired,
    /// It was reported found in public (secret scanning); `retired_detail` says where.
    Leaked,
}

impl RetiredReason {
    /// The reason as stored and sent (`self_retired`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retired => "retired",
            Self::SelfRetired => "self_retired",
            Self::Leaked => "leaked",
        }
    }

    /// The reason stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Retired, Self::SelfRetired, Self::Leaked]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// How long a rolled key's old secret keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum RollOverlap {
    /// Not at all: the old secret is refused at once.
    #[serde(rename = "PT0S")]
    None,
    /// One hour.
    #[serde(rename = "PT1H")]
    Hour,
    /// 24 hours.
    #[serde(rename = "PT24H")]
    Day,
    /// Seven days.
    #[serde(rename = "P7D")]
    Week,
}

impl RollOverlap {
    /// Every overlap, shortest first.
    pub const ALL: [Self; 4] = [Self::None, Self::Hour, Self::Day, Self::Week];

    /// The ISO 8601 duration it is written as (`PT1H`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "PT0S",
            Self::Hour => "PT1H",
            Self::Day => "PT24H",
            Self::Week => "P7D",
        }
    }

    /// The overlap written `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Its length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Self::None => 0,
            Self::Hour => 3600,
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
        }
    }

    /// In words, for people (`24 hours`).
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "none (the old key stops now)",
            Self::Hour => "1 hour",
            Self::Day => "24 hours",
            Self::Week => "7 days",
        }
    }
}

/// `POST /portal/api/keys/{id}/roll`: give a key a new secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RollKeyRequest {
    /// How long the old secret keeps working: `PT0S`, `PT1H`, `PT24H` or `P7D`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "PT24H"))]
    pub overlap: String,
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
    #[serde(default, deserialize_with = "whole_numbers::vec")]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub device_ids: Vec<i64>,
    /// Admins only: requests a minute the key may make (1 to 100000); omit or `null` for the
    /// account's default.
    #[serde(default, deserialize_with = "whole_numbers::option")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
    pub rate_limit_per_minute: Option<i64>,
    /// What the key may do besides reading stock; omit for read-only (orders `none`).
    #[serde(default)]
    pub permissions: Option<PermissionsRequest>,
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
    #[serde(default, deserialize_with = "whole_numbers::option_vec")]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub device_ids: Option<Vec<i64>>,
    /// Admins only: a new rate limit in requests a minute (1 to 100000), or `null` for the
    /// account's default; omit to leave it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_numbers::present"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, minimum = 1, maximum = 100000))]
    pub rate_limit_per_minute: Option<Option<i64>>,
    /// New permissions; resources not named keep theirs. Takes effect from the key's next
    /// request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionsRequest>,
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
