//! An endpoint that receives a key's events.
use sea_orm::entity::prelude::*;

/// A row of `webhook_endpoints`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The key's account.
    pub account_id: i64,
    /// The key it belongs to.
    pub key_id: i64,
    /// Where deliveries are posted.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// `partlogic_types::EventType`s, space-separated.
    pub events: String,
    /// `partlogic_types::WebhookFormat` as text.
    pub format: String,
    /// The signing secret, encrypted (never in plain text).
    pub secret: String,
    /// The secret before the last rotation, encrypted, while it still signs.
    pub previous_secret: Option<String>,
    /// Until when the previous secret signs.
    pub previous_until: Option<DateTimeUtc>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Since when deliveries to it have failed.
    pub failing_since: Option<DateTimeUtc>,
    /// When it was added.
    pub created_at: DateTimeUtc,
    /// When it last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations of `webhook_endpoints`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
