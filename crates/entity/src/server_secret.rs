//! Secrets the server makes for itself on first start and every instance shares (the key that
//! turns login subjects into digests).
use sea_orm::entity::prelude::*;

/// A row of `server_secrets`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "server_secrets")]
pub struct Model {
    /// What the secret is for.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The secret, base64url.
    pub value: String,
}

/// Relations of `server_secrets`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
