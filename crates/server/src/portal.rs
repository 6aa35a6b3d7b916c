//! What the portal handlers share: device visibility, key access rules, versions (`ETag`) and the
//! views of keys they all return. Field rules live in [`crate::domain`].

use std::collections::{BTreeSet, HashMap};

use actix_web::HttpRequest;
use actix_web::http::header;
use chrono::{DateTime, Utc};
use partlogic_entity::{account, api_key, api_key_device, audit_event, customer, device, user};
use partlogic_types::{
    AuditAction, AuditEvent, FieldError, KeyDetail, KeySummary, PortalDevice, RetiredReason,
    UserRef,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait,
};

use crate::domain::DeviceSelection;
use crate::error::ApiError;
use crate::expiry;
use crate::reach;

/// The devices `user` may see (and so put on a key), by customer then device name.
pub async fn visible_devices(
    db: &impl ConnectionTrait,
    user: &user::Model,
    only: Option<&[i64]>,
) -> Result<Vec<PortalDevice>, ApiError> {
    let mut q = device::Entity::find()
        .select_only()
        .column(device::Column::Id)
        .column(device::Column::Name)
        .column(device::Column::CustomerId)
        .column_as(customer::Column::Name, "customer_name")
        .join(JoinType::InnerJoin, device::Relation::Customer.def())
        .filter(reach::user_devices(
            user.account_id,
            user.id,
            user.is_admin(),
        ));
    if let Some(ids) = only {
        q = q.filter(device::Column::Id.is_in(ids.iter().copied()));
    }
    let rows: Vec<(i64, String, i64, String)> = q
        .order_by_asc(customer::Column::Name)
        .order_by_asc(device::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, customer_id, customer_name)| PortalDevice {
            id,
            name,
            customer_id,
            customer_name,
        })
        .collect())
}

/// Refuses a device selection holding devices `user` may not see (`who` names that user in the
/// message: "you", "the key's owner") with 403 `device_not_in_scope`.
pub(crate) async fn check_devices(
    db: &impl ConnectionTrait,
    user: &user::Model,
    selection: &DeviceSelection,
    who: &str,
) -> Result<(), ApiError> {
    let mut seen = BTreeSet::new();
    // Chunked so thousands of ticked devices stay under every database's parameter limit.
    for chunk in selection.ids().chunks(500) {
        for d in visible_devices(db, user, Some(chunk)).await? {
            seen.insert(d.id);
        }
    }
    let unknown: Vec<String> = selection
        .ids()
        .iter()
        .filter(|id| !seen.contains(id))
        .map(i64::to_string)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ApiError::DevicesNotAllowed(vec![FieldError {
        field: "device_ids".to_owned(),
        message: format!("not devices {who} can use: {}", unknown.join(", ")),
    }]))
}

/// The key's entity tag: its id and version, changed by every edit and by retiring.
pub(crate) fn etag(key: &api_key::Model) -> String {
    format!("\"{}-{}\"", key.id, key.version)
}

/// Refuses the request with 412 `precondition_failed` if it carries an `If-Match` that does not
/// name `key` as it is now (strong comparison; `*` matches any version). Without `If-Match` the
/// change goes ahead, as it always has for scripts.
pub(crate) fn check_if_match(req: &HttpRequest, key: &api_key::Model) -> Result<(), ApiError> {
    let mut values = req.headers().get_all(header::IF_MATCH).peekable();
    if values.peek().is_none() {
        return Ok(());
    }
    let current = etag(key);
    let mut matched = false;
    for value in values {
        // A value that is not text cannot name this version: refuse rather than ignore it.
        let text = value.to_str().map_err(|_| ApiError::PreconditionFailed)?;
        matched |= text.split(',').map(str::trim).any(|tag| {
            // A proxy that compresses may weaken the tag (W/"…"); it still names this version.
            tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current
        });
    }
    if matched {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed)
    }
}

/// The key `id` if `user` may manage it: admins any key of their account, members their own.
/// Anything else is "not found", so ids of other accounts' keys reveal nothing.
pub async fn key_for(
    db: &impl ConnectionTrait,
    user: &user::Model,
    id: i64,
) -> Result<api_key::Model, ApiError> {
    find_key(db, user, id, false).await
}

/// [`key_for`] inside a write transaction, holding the key's row until it commits: two edits or
/// retires of one key then run one after the other (`FOR UPDATE` on PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already serialises writers).
pub async fn key_for_update(
    txn: &impl ConnectionTrait,
    user: &user::Model,
    id: i64,
) -> Result<api_key::Model, ApiError> {
    find_key(txn, user, id, true).await
}

async fn find_key(
    db: &impl ConnectionTrait,
    user: &user::Model,
    id: i64,
    lock: bool,
) -> Result<api_key::Model, ApiError> {
    let mut q =
        api_key::Entity::find_by_id(id).filter(api_key::Column::AccountId.eq(user.account_id));
    if lock {
        q = q.lock_exclusive();
    }
    let key = q.one(db).await?.ok_or(ApiError::NotFound("key"))?;
    visible_to(user, key)
}

fn visible_to(user: &user::Model, key: api_key::Model) -> Result<api_key::Model, ApiError> {
    if !user.is_admin() && key.user_id != user.id {
        return Err(ApiError::NotFound("key"));
    }
    Ok(key)
}

/// Records what `actor` did to a key.
pub async fn audit(
    db: &impl ConnectionTrait,
    key: &api_key::Model,
    actor: &user::Model,
    action: AuditAction,
    ip: Option<String>,
    detail: Option<String>,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    crate::lifecycle::record(db, key, Some(actor.id), action, ip, detail, at).await
}

/// Replaces a key's device list.
pub async fn set_key_devices(
    db: &impl ConnectionTrait,
    key_id: i64,
    device_ids: &[i64],
) -> Result<(), ApiError> {
    api_key_device::Entity::delete_many()
        .filter(api_key_device::Column::KeyId.eq(key_id))
        .exec(db)
        .await?;
    for chunk in device_ids.chunks(500) {
        api_key_device::Entity::insert_many(chunk.iter().map(|d| api_key_device::ActiveModel {
            key_id: Set(key_id),
            device_id: Set(*d),
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

fn user_ref(u: &user::Model) -> UserRef {
    UserRef {
        id: u.id,
        email: u.email.clone(),
        name: u.name.clone(),
    }
}

async fn users_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, UserRef>, ApiError> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(users.iter().map(|u| (u.id, user_ref(u))).collect())
}

fn missing_user(id: i64) -> UserRef {
    UserRef {
        id,
        email: String::new(),
        name: "(deleted user)".to_owned(),
    }
}

/// List views of `keys`, in the order given.
pub async fn summaries(
    db: &impl ConnectionTrait,
    keys: Vec<api_key::Model>,
    now: DateTime<Utc>,
    usage: &crate::usage::Usage,
) -> Result<Vec<KeySummary>, ApiError> {
    let ids: Vec<i64> = keys.iter().map(|k| k.id).collect();
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, i64)> = api_key_device::Entity::find()
            .select_only()
            .column(api_key_device::Column::KeyId)
            .column_as(Expr::col(api_key_device::Column::DeviceId).count(), "n")
            .filter(api_key_device::Column::KeyId.is_in(chunk.iter().copied()))
            .group_by(api_key_device::Column::KeyId)
            .into_tuple()
            .all(db)
            .await?;
        counts.extend(rows);
    }
    let owners = users_by_id(db, keys.iter().map(|k| k.user_id)).await?;
    let requests = crate::usage::requests_7d(db, usage, &ids, now).await?;
    let account_ids: BTreeSet<i64> = keys.iter().map(|k| k.account_id).collect();
    let defaults: HashMap<i64, i32> = account::Entity::find()
        .filter(account::Column::Id.is_in(account_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.rate_limit_per_minute))
        .collect();
    Ok(keys
        .into_iter()
        .map(|k| KeySummary {
            requests_7d: requests.get(&k.id).copied().unwrap_or(0),
            rate_limit_per_minute: k
                .rate_limit_per_minute
                .map(|n| crate::store::rate_limit(n.into())),
            effective_rate_limit_per_minute: crate::store::rate_limit(
                k.rate_limit_per_minute
                    .or_else(|| defaults.get(&k.account_id).copied())
                    .unwrap_or(600)
                    .into(),
            ),
            retired_reason: k.retired_reason.as_deref().and_then(RetiredReason::parse),
            retired_detail: k.retired_detail,
            leaked_at: k.leaked_at,
            leaked_url: k.leaked_url,
            previous_prefix: k.previous_prefix,
            previous_until: k.previous_until,
            id: k.id,
            status: expiry::status(k.retired_at, k.expires_at, now),
            device_count: u64::try_from(counts.get(&k.id).copied().unwrap_or(0)).unwrap_or(0),
            owner: owners
                .get(&k.user_id)
                .cloned()
                .unwrap_or_else(|| missing_user(k.user_id)),
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            expires_on: k.expires_on,
            time_zone: k.time_zone,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            retired_at: k.retired_at,
        })
        .collect())
}

/// The most events a key's view carries, newest first.
pub const HISTORY_EVENTS: u64 = 200;

/// The full view of one key: devices (and which of them it reaches now), who retired it, and
/// its history (newest first).
pub async fn detail(
    db: &impl ConnectionTrait,
    key: api_key::Model,
    now: DateTime<Utc>,
    usage: &crate::usage::Usage,
) -> Result<KeyDetail, ApiError> {
    let device_rows: Vec<(i64, String, i64, String)> = device::Entity::find()
        .select_only()
        .column(device::Column::Id)
        .column(device::Column::Name)
        .column(device::Column::CustomerId)
        .column_as(customer::Column::Name, "customer_name")
        .join(JoinType::InnerJoin, device::Relation::Customer.def())
        .join_rev(
            JoinType::InnerJoin,
            api_key_device::Entity::belongs_to(device::Entity)
                .from(api_key_device::Column::DeviceId)
                .to(device::Column::Id)
                .into(),
        )
        .filter(api_key_device::Column::KeyId.eq(key.id))
        .order_by_asc(customer::Column::Name)
        .order_by_asc(device::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    // The newest events only: refused uses alone may add a few a day for as long as someone
    // keeps trying a dead key.
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::KeyId.eq(key.id))
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .limit(HISTORY_EVENTS)
        .all(db)
        .await?;
    let people = users_by_id(
        db,
        events
            .iter()
            .filter_map(|e| e.actor_id)
            .chain(key.retired_by),
    )
    .await?;
    let retired_by = key
        .retired_by
        .map(|id| people.get(&id).cloned().unwrap_or_else(|| missing_user(id)));
    let last_used_ip = key.last_used_ip.clone();
    let reachable: BTreeSet<i64> = match user::Entity::find_by_id(key.user_id).one(db).await? {
        Some(owner) if owner.account_id == key.account_id && owner.disabled_at.is_none() => {
            let ids: Vec<i64> = device_rows.iter().map(|d| d.0).collect();
            let mut seen = BTreeSet::new();
            for chunk in ids.chunks(500) {
                for d in visible_devices(db, &owner, Some(chunk)).await? {
                    seen.insert(d.id);
                }
            }
            seen
        }
        _ => BTreeSet::new(),
    };
    let summary = summaries(db, vec![key], now, usage)
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("key vanished while viewing it".to_owned()))?;
    Ok(KeyDetail {
        summary,
        reachable_device_count: reachable.len() as u64,
        unreachable_device_ids: device_rows
            .iter()
            .map(|d| d.0)
            .filter(|id| !reachable.contains(id))
            .collect(),
        devices: device_rows
            .into_iter()
            .map(|(id, name, customer_id, customer_name)| PortalDevice {
                id,
                name,
                customer_id,
                customer_name,
            })
            .collect(),
        retired_by,
        last_used_ip,
        events: events
            .into_iter()
            .filter_map(|e| {
                let Some(action) = AuditAction::parse(&e.action) else {
                    tracing::warn!(
                        event_id = e.id,
                        "audit event with an unknown action skipped"
                    );
                    return None;
                };
                Some(AuditEvent {
                    id: e.id,
                    actor: e
                        .actor_id
                        .map(|id| people.get(&id).cloned().unwrap_or_else(|| missing_user(id))),
                    action,
                    ip: e.ip,
                    detail: e.detail,
                    at: e.at,
                })
            })
            .collect(),
    })
}
