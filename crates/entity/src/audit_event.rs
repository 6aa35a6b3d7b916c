//! What happened to a key, by whom, when and from where.
use sea_orm::entity::prelude::*;

/// A row of `audit_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The account the key belongs to.
    pub account_id: i64,
    /// The key.
    pub key_id: i64,
    /// The user who acted; `None` for events the key itself caused (first use).
    pub actor_id: Option<i64>,
    /// What happened (`partlogic_types::AuditAction` as text).
    pub action: String,
    /// The client's IP address.
    pub ip: Option<String>,
    /// What changed, in words.
    pub detail: Option<String>,
    /// When it happened.
    pub at: DateTimeUtc,
    /// For events recorded at most once per period (refused uses: key, reason and hour): that
    /// identity, unique, so that the database refuses a second one.
    pub dedupe: Option<String>,
}

/// Relations of `audit_events`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
