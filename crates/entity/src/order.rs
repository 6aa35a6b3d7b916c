//! A replenishment order for one device.
use sea_orm::entity::prelude::*;

/// A row of `orders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Its account.
    pub account_id: i64,
    /// Its number within the account (shown as `PO-000123`); unique per account.
    pub number: i64,
    /// The device it replenishes.
    pub device_id: i64,
    /// `open`, `received` or `cancelled` (`partlogic_types::OrderStatus` as text).
    pub status: String,
    /// The creator's own id for it.
    pub reference: Option<String>,
    /// A note for whoever receives it.
    pub note: Option<String>,
    /// The key that created it, if a key did.
    pub created_by_key_id: Option<i64>,
    /// The user who created it, if a user did.
    pub created_by_user_id: Option<i64>,
    /// The creator's name then (a key's name or a user's).
    pub created_by_name: String,
    /// The creator's key prefix or email then.
    pub created_by_detail: String,
    /// When it was created.
    pub created_at: DateTimeUtc,
    /// When it last changed.
    pub updated_at: DateTimeUtc,
    /// Goes up by one at every change (its `ETag`).
    pub version: i32,
}

/// Relations of `orders`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
