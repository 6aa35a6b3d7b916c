//! A device: a store room, tool crib or vending machine holding stock.
use sea_orm::entity::prelude::*;

/// A row of `devices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The owning account (denormalised from the customer so scope checks need no join).
    pub account_id: i64,
    /// The customer (site) it stands at.
    pub customer_id: i64,
    /// Its name (unique within the account; the import file's "Storeroom").
    pub name: String,
}

/// Relations of `devices`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The site it stands at.
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
    /// Its stock rows.
    #[sea_orm(has_many = "super::stock::Entity")]
    Stock,
}

impl Related<super::customer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customer.def()
    }
}

impl Related<super::stock::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Stock.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
