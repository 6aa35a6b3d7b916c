//! An API key. Only the SHA-256 digest of its secret is stored.
use sea_orm::entity::prelude::*;

/// A row of `api_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The owner's account (denormalised for account-wide admin listings).
    pub account_id: i64,
    /// The user who created and owns the key.
    pub user_id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// The first characters of the secret, to recognise it by.
    pub prefix: String,
    /// Lower-case hex SHA-256 of the whole secret (unique).
    pub digest: String,
    /// When it was created.
    pub created_at: DateTimeUtc,
    /// The last day it works, in `time_zone`.
    pub expires_on: Option<Date>,
    /// IANA time zone of `expires_on`.
    pub time_zone: String,
    /// The first instant it is refused (end of `expires_on` in `time_zone`).
    pub expires_at: Option<DateTimeUtc>,
    /// When it was retired.
    pub retired_at: Option<DateTimeUtc>,
    /// Who retired it.
    pub retired_by: Option<i64>,
    /// When it was last used (written at most about once a minute).
    pub last_used_at: Option<DateTimeUtc>,
    /// The IP address it was last used from.
    pub last_used_ip: Option<String>,
    /// Goes up by one at every change of the key's settings (its `ETag`).
    pub version: i32,
    /// The digest of the secret this key had before it was last rolled (unique).
    pub previous_digest: Option<String>,
    /// That secret's display prefix.
    pub previous_prefix: Option<String>,
    /// The first instant that secret is refused.
    pub previous_until: Option<DateTimeUtc>,
    /// Requests a minute it may make; `None` for its account's default.
    pub rate_limit_per_minute: Option<i32>,
    /// Why it was retired (`partlogic_types::RetiredReason` as text).
    pub retired_reason: Option<String>,
    /// More about it: for a leaked key, where it was found.
    pub retired_detail: Option<String>,
    /// When one of its secrets (current or previous) was last reported found in public.
    pub leaked_at: Option<DateTimeUtc>,
    /// Where that report said it was found.
    pub leaked_url: Option<String>,
    /// The permissions it holds beyond reading stock, as scope words (`orders:write`); empty
    /// for none (`partlogic_types::KeyPermissions::from_scopes`).
    pub permissions: String,
    /// When `key.expiring` was recorded for it (once per key).
    pub expiring_notice_at: Option<DateTimeUtc>,
}

/// Relations of `api_keys`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user who owns the key.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    Owner,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
