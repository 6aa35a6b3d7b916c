//! A failed login, kept for a while to throttle guessing (shared by every server instance).
use sea_orm::entity::prelude::*;

/// A row of `login_failures`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `email:<address>` or `ip:<address>`.
    pub subject: String,
    /// When the attempt failed.
    pub at: DateTimeUtc,
}

/// Relations of `login_failures`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
