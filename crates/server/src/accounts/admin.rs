//! Accounts, users and grants: what `partlogic account …` and `partlogic user …` do.

use chrono::{DateTime, Utc};
use partlogic_entity::{account, device, roles, user, user_device};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, SqlErr,
};

use crate::accounts::password;

/// What an admin command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The input breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Creates an account.
pub async fn add_account(
    db: &impl ConnectionTrait,
    name: &str,
    now: DateTime<Utc>,
) -> Result<account::Model, AdminError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid("an account needs a name".into()));
    }
    // The unique index answers "exists already", even when two commands race.
    account::ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AdminError::Invalid(format!("account \u{201c}{name}\u{201d} exists already"))
        }
        _ => e.into(),
    })
}

/// Sets an account's default rate limit (requests a minute per key); running servers hear of
/// it through the key cache's triggers.
pub async fn set_account_rate_limit(
    db: &impl ConnectionTrait,
    account_id: i64,
    per_minute: i32,
) -> Result<(), AdminError> {
    if per_minute < 1 {
        return Err(AdminError::Invalid("a rate limit is at least 1".into()));
    }
    account::Entity::update_many()
        .col_expr(
            account::Column::RateLimitPerMinute,
            sea_orm::sea_query::Expr::value(per_minute),
        )
        .filter(account::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Finds an account by exact name or by id.
pub async fn find_account(
    db: &impl ConnectionTrait,
    name_or_id: &str,
) -> Result<account::Model, AdminError> {
    let by_name = account::Entity::find()
        .filter(account::Column::Name.eq(name_or_id))
        .one(db)
        .await?;
    let found = match by_name {
        Some(a) => Some(a),
        None => match name_or_id.parse::<i64>() {
            Ok(id) => account::Entity::find_by_id(id).one(db).await?,
            Err(_) => None,
        },
    };
    found.ok_or_else(|| AdminError::NotFound(format!("no account \u{201c}{name_or_id}\u{201d}")))
}

/// Creates a user with an argon2id-hashed password.
pub async fn add_user(
    db: &impl ConnectionTrait,
    account_id: i64,
    email: &str,
    name: &str,
    password_text: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<user::Model, AdminError> {
    // The very rules the login applies, so every user made here can log in.
    let email = crate::accounts::email::Email::parse(email)
        .ok()
        .map(|e| e.as_str().to_owned())
        .filter(|e| e.contains('@') && !e.chars().any(char::is_whitespace))
        .ok_or_else(|| {
            AdminError::Invalid(format!(
                "\u{201c}{}\u{201d} is not an email address",
                email.trim()
            ))
        })?;
    if password_text.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let hash = password::hash(password_text).map_err(AdminError::Invalid)?;
    let name = if name.trim().is_empty() {
        email.clone()
    } else {
        name.trim().to_owned()
    };
    user::ActiveModel {
        account_id: Set(account_id),
        email: Set(email.clone()),
        name: Set(name),
        password_hash: Set(hash),
        role: Set(if admin { roles::ADMIN } else { roles::MEMBER }.to_owned()),
        disabled_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AdminError::Invalid(format!("a user with email {email} exists already"))
        }
        _ => e.into(),
    })
}

/// Finds a user by email.
pub async fn find_user(db: &impl ConnectionTrait, email: &str) -> Result<user::Model, AdminError> {
    let email = email.trim().to_lowercase();
    user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no user {email}")))
}

/// Disables a user: no more logins, sessions or working keys, from the next request on.
pub async fn disable_user(
    db: &impl ConnectionTrait,
    email: &str,
    now: DateTime<Utc>,
) -> Result<user::Model, AdminError> {
    let u = find_user(db, email).await?;
    if u.disabled_at.is_some() {
        return Ok(u);
    }
    let mut am = u.into_active_model();
    am.disabled_at = Set(Some(now));
    Ok(am.update(db).await?)
}

/// A device named on the command line: by its exact name or by its id, never a guess between
/// the two (a device may well be called "3").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRef {
    /// The device's name.
    Name(String),
    /// The device's id.
    Id(i64),
}

impl std::fmt::Display for DeviceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Name(n) => write!(f, "\u{201c}{n}\u{201d}"),
            Self::Id(id) => write!(f, "with id {id}"),
        }
    }
}

/// Resolves devices within an account.
pub async fn find_devices(
    db: &impl ConnectionTrait,
    account_id: i64,
    wanted: &[DeviceRef],
) -> Result<Vec<device::Model>, AdminError> {
    let all = device::Entity::find()
        .filter(device::Column::AccountId.eq(account_id))
        .all(db)
        .await?;
    wanted
        .iter()
        .map(|w| {
            all.iter()
                .find(|d| match w {
                    DeviceRef::Name(n) => d.name == *n,
                    DeviceRef::Id(id) => d.id == *id,
                })
                .cloned()
                .ok_or_else(|| AdminError::NotFound(format!("no device {w} in this account")))
        })
        .collect()
}

/// Lets a member see these devices (admins see everything already).
pub async fn grant(
    db: &impl ConnectionTrait,
    email: &str,
    devices: &[DeviceRef],
) -> Result<usize, AdminError> {
    let u = find_user(db, email).await?;
    let found = find_devices(db, u.account_id, devices).await?;
    for d in &found {
        user_device::Entity::insert(user_device::ActiveModel {
            user_id: Set(u.id),
            device_id: Set(d.id),
        })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    }
    Ok(found.len())
}

/// Takes devices away from a member; their keys stop reaching them on the next request.
pub async fn revoke(
    db: &impl ConnectionTrait,
    email: &str,
    devices: &[DeviceRef],
) -> Result<usize, AdminError> {
    let u = find_user(db, email).await?;
    let found = find_devices(db, u.account_id, devices).await?;
    let ids: Vec<i64> = found.iter().map(|d| d.id).collect();
    let res = user_device::Entity::delete_many()
        .filter(user_device::Column::UserId.eq(u.id))
        .filter(user_device::Column::DeviceId.is_in(ids))
        .exec(db)
        .await?;
    Ok(res.rows_affected as usize)
}

/// The customer (site) called `name` in the account, created if missing.
pub async fn ensure_customer(
    db: &impl ConnectionTrait,
    account_id: i64,
    name: &str,
) -> Result<partlogic_entity::customer::Model, AdminError> {
    use partlogic_entity::customer;
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid("a customer needs a name".into()));
    }
    if let Some(c) = customer::Entity::find()
        .filter(customer::Column::AccountId.eq(account_id))
        .filter(customer::Column::Name.eq(name))
        .one(db)
        .await?
    {
        return Ok(c);
    }
    Ok(customer::ActiveModel {
        account_id: Set(account_id),
        name: Set(name.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Adds a device under a customer.
pub async fn add_device(
    db: &impl ConnectionTrait,
    account_id: i64,
    customer_id: i64,
    name: &str,
) -> Result<device::Model, AdminError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid("a device needs a name".into()));
    }
    Ok(device::ActiveModel {
        account_id: Set(account_id),
        customer_id: Set(customer_id),
        name: Set(name.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}
