//! A crossing of a stock row's minimum, recorded with the change that caused it.
use sea_orm::entity::prelude::*;

/// A row of `stock_alerts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_alerts")]
pub struct Model {
    /// Primary key; never reused.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The stock row.
    pub stock_id: i64,
    /// Its device (kept here so a key's reach filters alerts without a join).
    pub device_id: i64,
    /// `below_min` or `restocked`.
    pub kind: String,
    /// The row's minimum when it crossed.
    pub min_qty: i64,
    /// The row's maximum then.
    pub max_qty: i64,
    /// The quantity after the change.
    pub physical: i64,
    /// The quantity before it.
    pub previous_physical: i64,
    /// When the change was made.
    pub at: DateTimeUtc,
}

/// Relations of `stock_alerts`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The stock row.
    #[sea_orm(
        belongs_to = "super::stock::Entity",
        from = "Column::StockId",
        to = "super::stock::Column::Id"
    )]
    Stock,
}

impl Related<super::stock::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Stock.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
