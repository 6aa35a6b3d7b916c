//! An account: one organisation running an inventory.
use sea_orm::entity::prelude::*;

/// A row of `accounts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The organisation's name (unique).
    pub name: String,
    /// When it was created.
    pub created_at: DateTimeUtc,
    /// Requests a minute each of its keys may make, unless the key says otherwise.
    pub rate_limit_per_minute: i32,
}

/// Relations of `accounts`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
