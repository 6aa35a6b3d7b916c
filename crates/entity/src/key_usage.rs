//! How a key was used, counted per hour: requests by outcome (`ok`, or the problem code of a
//! refusal) and the stock rows returned.
use sea_orm::entity::prelude::*;

/// A row of `key_usage`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "key_usage")]
pub struct Model {
    /// The key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_id: i64,
    /// The hour (UTC) the counts are for, at its start.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: DateTimeUtc,
    /// `ok`, or the problem code the requests were refused with.
    #[sea_orm(primary_key, auto_increment = false)]
    pub outcome: String,
    /// Requests.
    pub requests: i64,
    /// Stock rows returned by them.
    pub rows: i64,
}

/// Relations of `key_usage`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
