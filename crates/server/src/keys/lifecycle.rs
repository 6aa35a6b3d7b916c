//! Key lifecycle writes shared by the portal and the Stock API: retiring a key (by a user, by
//! its holder, or because it leaked), ending a rolled key's overlap, and finding a key by either
//! of its secrets.

use chrono::{DateTime, Utc};
use partlogic_entity::{api_key, audit_event, retired_digest};
use partlogic_types::{AuditAction, RetiredReason};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect,
};

use crate::error::ApiError;

/// Which of a key's secrets a digest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Its current secret.
    Current,
    /// The secret it had before it was last rolled.
    Previous,
    /// A secret it was rolled past (already refused everywhere).
    RolledPast,
}

/// The key one of whose secrets has the digest `digest`, locked for update.
pub async fn find_by_digest(
    db: &impl ConnectionTrait,
    digest: &str,
) -> Result<Option<(api_key::Model, Which)>, ApiError> {
    let key = api_key::Entity::find()
        .filter(
            Condition::any()
                .add(api_key::Column::Digest.eq(digest))
                .add(api_key::Column::PreviousDigest.eq(digest)),
        )
        .lock_exclusive()
        .one(db)
        .await?;
    if let Some(k) = key {
        let which = if crate::domain::digest::digests_match(&k.digest, digest) {
            Which::Current
        } else {
            Which::Previous
        };
        return Ok(Some((k, which)));
    }
    let Some(old) = retired_digest::Entity::find_by_id(digest.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let key = api_key::Entity::find_by_id(old.key_id).one(db).await?;
    Ok(key.map(|k| (k, Which::RolledPast)))
}

/// Who or what retires a key.
pub struct Retirement<'a> {
    /// Why.
    pub reason: RetiredReason,
    /// More about it (for a leak: where it was found).
    pub detail: Option<String>,
    /// The user who did it; `None` when the key's holder or a leak report did.
    pub actor: Option<i64>,
    /// The client's address.
    pub ip: Option<String>,
    /// The words for the key's history.
    pub history: Option<&'a str>,
}

/// Retires `key` (unless it already is) and records it; returns the key as it is now. A key
/// retired while a rolled secret's overlap runs loses both secrets.
pub async fn retire(
    db: &impl ConnectionTrait,
    key: api_key::Model,
    r: Retirement<'_>,
    now: DateTime<Utc>,
) -> Result<api_key::Model, ApiError> {
    if key.retired_at.is_some() {
        return Ok(key);
    }
    let (version, previous_until) = (key.version, key.previous_until);
    let mut am = key.into_active_model();
    am.retired_at = Set(Some(now));
    am.retired_by = Set(r.actor);
    am.retired_reason = Set(Some(r.reason.as_str().to_owned()));
    am.retired_detail = Set(r.detail.clone());
    // A secret still in its overlap stops with the key.
    if previous_until.is_some_and(|until| until > now) {
        am.previous_until = Set(Some(now));
    }
    am.version = Set(version + 1);
    let key = am.update(db).await?;
    record(
        db,
        &key,
        r.actor,
        AuditAction::Retired,
        r.ip,
        r.history.map(str::to_owned),
        now,
    )
    .await?;
    Ok(key)
}

/// Stops a rolled key's previous secret now (if it still works).
pub async fn end_overlap(
    db: &impl ConnectionTrait,
    key: api_key::Model,
    ip: Option<String>,
    why: &str,
    now: DateTime<Utc>,
) -> Result<api_key::Model, ApiError> {
    if key.previous_until.is_none_or(|end| end <= now) {
        return Ok(key);
    }
    let (version, prefix) = (key.version, key.previous_prefix.clone().unwrap_or_default());
    let mut am = key.into_active_model();
    am.previous_until = Set(Some(now));
    am.version = Set(version + 1);
    let key = am.update(db).await?;
    record(
        db,
        &key,
        None,
        AuditAction::Edited,
        ip,
        Some(format!("previous secret {prefix}… stopped: {why}")),
        now,
    )
    .await?;
    Ok(key)
}

/// Notes that one of `key`'s secrets was reported found at `url`, for the banners.
pub async fn note_leak(
    db: &impl ConnectionTrait,
    key: api_key::Model,
    url: &str,
    now: DateTime<Utc>,
) -> Result<api_key::Model, ApiError> {
    let mut am = key.into_active_model();
    am.leaked_at = Set(Some(now));
    am.leaked_url = Set(Some(url.to_owned()));
    Ok(am.update(db).await?)
}

/// Records what happened to a key.
pub async fn record(
    db: &impl ConnectionTrait,
    key: &api_key::Model,
    actor: Option<i64>,
    action: AuditAction,
    ip: Option<String>,
    detail: Option<String>,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        account_id: Set(key.account_id),
        key_id: Set(key.id),
        actor_id: Set(actor),
        action: Set(action.as_str().to_owned()),
        ip: Set(ip),
        detail: Set(detail),
        at: Set(at),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}
