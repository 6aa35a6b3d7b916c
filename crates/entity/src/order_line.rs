//! One line of an order: an item of the order's device and how many.
use sea_orm::entity::prelude::*;

/// A row of `order_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The order.
    pub order_id: i64,
    /// Its position in the order, from 1.
    pub line_no: i32,
    /// The stock row it replenishes.
    pub stock_id: i64,
    /// The row's SKU.
    pub sku: String,
    /// How many were ordered.
    pub quantity: i64,
    /// How many have been received.
    pub received: i64,
}

/// Relations of `order_lines`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
