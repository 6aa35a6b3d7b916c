//! A device granted to a member.
use sea_orm::entity::prelude::*;

/// A row of `user_devices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_devices")]
pub struct Model {
    /// The member.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// The device they may see.
    #[sea_orm(primary_key, auto_increment = false)]
    pub device_id: i64,
}

/// Relations of `user_devices`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
