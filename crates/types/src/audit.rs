//! A key's history: the actions it records and the events listed with a key.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::portal::UserRef;
use crate::serde_helpers::rfc3339_millis;

/// What happened to a key, as its history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A user created the key.
    Created,
    /// A user renamed it or changed its devices.
    Edited,
    /// A user retired it.
    Retired,
    /// The key was used for the first time.
    FirstUsed,
    /// A user rolled it: a new secret, the old one working for the overlap chosen.
    Rolled,
    /// It was refused (at most one event per reason and hour).
    Refused,
    /// One of its webhook endpoints was disabled by PartLogic (the receiver answered
    /// `410 Gone`, or failed for five days).
    WebhookDisabled,
}

impl AuditAction {
    /// The action as stored and sent (`first_used`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Edited => "edited",
            Self::Retired => "retired",
            Self::FirstUsed => "first_used",
            Self::Rolled => "rolled",
            Self::Refused => "refused",
            Self::WebhookDisabled => "webhook_disabled",
        }
    }

    /// The action stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Created,
            Self::Edited,
            Self::Retired,
            Self::FirstUsed,
            Self::Rolled,
            Self::Refused,
            Self::WebhookDisabled,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// One thing that happened to a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    /// The event's id.
    pub id: i64,
    /// What happened.
    pub action: AuditAction,
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
