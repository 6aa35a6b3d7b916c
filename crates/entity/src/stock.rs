//! A stock row: one item (SKU) in one device.
use sea_orm::entity::prelude::*;

/// A row of `stock`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock")]
pub struct Model {
    /// Primary key; the Stock API orders and pages by it.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The device holding the item.
    pub device_id: i64,
    /// The item code (unique within the device).
    pub sku: String,
    /// The item's description.
    pub description: String,
    /// Reorder point.
    pub min_qty: i64,
    /// Fill-up level.
    pub max_qty: i64,
    /// Quantity physically present.
    pub physical: i64,
    /// Bin or shelf within the device; may be empty.
    pub location: String,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations of `stock`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The device holding the item.
    #[sea_orm(
        belongs_to = "super::device::Entity",
        from = "Column::DeviceId",
        to = "super::device::Column::Id"
    )]
    Device,
}

impl Related<super::device::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Device.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
