//! A portal user.
use sea_orm::entity::prelude::*;

/// A row of `users`. `Debug` is written by hand so the password hash never reaches a log.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The account the user belongs to.
    pub account_id: i64,
    /// Lower-cased email address (unique).
    pub email: String,
    /// Display name.
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// `admin` or `member` (see [`crate::roles`]).
    pub role: String,
    /// When the user was disabled; a disabled user can neither log in nor use keys.
    pub disabled_at: Option<DateTimeUtc>,
    /// When the user was created.
    pub created_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Whether the user sees every device of the account.
    pub fn is_admin(&self) -> bool {
        self.role == crate::roles::ADMIN
    }
}

/// Relations of `users`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
