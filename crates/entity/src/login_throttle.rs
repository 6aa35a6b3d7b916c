//! Login attempts counted per subject (an email and network pair, a network, an email, a
//! trusted browser) in fixed windows: one row per subject, so the table stays small however
//! many attempts come in. Subjects are keyed digests, never the typed text.
use sea_orm::entity::prelude::*;

/// A row of `login_throttle`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    /// HMAC-SHA256 of the subject under the server's throttle key, base64url.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// When the current window began (Unix seconds).
    pub window_start: i64,
    /// Attempts counted in it.
    pub attempts: i32,
}

/// Relations of `login_throttle`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
