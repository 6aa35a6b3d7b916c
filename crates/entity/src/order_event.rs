//! Something that happened to an order (created, received, cancelled), and by whom.
use sea_orm::entity::prelude::*;

/// A row of `order_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_events")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The order.
    pub order_id: i64,
    /// `partlogic_types::OrderAction` as text.
    pub action: String,
    /// `key` or `user`.
    pub actor_kind: String,
    /// The key's or user's name then.
    pub actor_name: String,
    /// The key's prefix or the user's email then.
    pub actor_detail: String,
    /// When.
    pub at: DateTimeUtc,
    /// What, in words.
    pub detail: Option<String>,
}

/// Relations of `order_events`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
