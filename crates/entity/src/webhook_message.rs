//! An event, written in the transaction of the change it reports (the outbox).
use sea_orm::entity::prelude::*;

/// A row of `webhook_messages`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_messages")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The id receivers see (`webhook-id`, `msg_…`).
    pub public_id: String,
    /// The account it happened in.
    pub account_id: i64,
    /// The device it is about, if one.
    pub device_id: Option<i64>,
    /// `partlogic_types::EventType` as text.
    pub event_type: String,
    /// The body as sent (`{"type", "timestamp", "data"}`).
    pub payload: String,
    /// When it happened.
    pub created_at: DateTimeUtc,
}

/// Relations of `webhook_messages`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
