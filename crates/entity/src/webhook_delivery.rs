//! One message to one endpoint: where it stands and its latest attempt.
use sea_orm::entity::prelude::*;

/// A row of `webhook_deliveries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// The message.
    pub message_id: i64,
    /// `partlogic_types::DeliveryState` as text, or `held`: pending while its endpoint is
    /// disabled, kept out of the due index (shown as pending).
    pub state: String,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: DateTimeUtc,
    /// A worker holds it until then (a worker that died lets it go when this passes).
    pub claimed_until: Option<DateTimeUtc>,
    /// When the latest attempt was made.
    pub last_attempt_at: Option<DateTimeUtc>,
    /// The receiver's status on the latest attempt.
    pub last_status: Option<i32>,
    /// How long it took, in milliseconds.
    pub last_latency_ms: Option<i64>,
    /// What went wrong.
    pub last_error: Option<String>,
}

/// Relations of `webhook_deliveries`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
