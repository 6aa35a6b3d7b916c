//! A device ticked on an API key.
use sea_orm::entity::prelude::*;

/// A row of `api_key_devices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_key_devices")]
pub struct Model {
    /// The key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_id: i64,
    /// The device.
    #[sea_orm(primary_key, auto_increment = false)]
    pub device_id: i64,
}

/// Relations of `api_key_devices`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
