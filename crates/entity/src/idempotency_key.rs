//! An `Idempotency-Key` a client sent, and the result its first request got, kept 24 hours.
use sea_orm::entity::prelude::*;

/// A row of `idempotency_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The account.
    pub account_id: i64,
    /// The API key that sent it (records answer only that key's retries).
    pub api_key_id: i64,
    /// The header's value.
    pub idem_key: String,
    /// The method and route of the first request (`POST /api/orders`).
    pub endpoint: String,
    /// Hex SHA-256 of the first request's body.
    pub request_digest: String,
    /// Held by the request processing it; `None` once its result is stored.
    pub token: Option<String>,
    /// When the request holding it started (a holder silent for long is taken over).
    pub locked_at: DateTimeUtc,
    /// When the record may be pruned.
    pub expires_at: DateTimeUtc,
    /// The stored result's status.
    pub response_status: Option<i32>,
    /// The stored result's body.
    pub response_body: Option<String>,
    /// The stored result's `Location`, if any.
    pub response_location: Option<String>,
}

/// Relations of `idempotency_keys`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
