//! Digests of secrets a key had before it was rolled past them: a request with one is refused
//! as `api_key_retired` (and counted against the key) rather than as an unknown key.
use sea_orm::entity::prelude::*;

/// A row of `retired_digests`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retired_digests")]
pub struct Model {
    /// The old secret's SHA-256 (hex).
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    /// The key it belonged to.
    pub key_id: i64,
}

/// Relations of `retired_digests`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
