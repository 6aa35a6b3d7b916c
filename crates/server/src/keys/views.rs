//! The views of keys the portal shows: the list (with seven days of requests each) and a key's
//! page (with its devices, who made and retired it, and its history).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use partlogic_entity::{account, api_key, api_key_device, audit_event, customer, device, user};
use partlogic_types::{
    AuditAction, AuditEvent, KeyDetail, KeySummary, PortalDevice, RetiredReason, UserRef,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};

use super::manage::visible_devices;
use crate::error::ApiError;
use crate::keys::expiry;

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
    usage: &crate::keys::usage::Usage,
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
    let requests = crate::keys::usage::requests_7d(db, usage, &ids, now).await?;
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
                .map(|n| crate::db::store::rate_limit(n.into())),
            effective_rate_limit_per_minute: crate::db::store::rate_limit(
                k.rate_limit_per_minute
                    .or_else(|| defaults.get(&k.account_id).copied())
                    .unwrap_or(600)
                    .into(),
            ),
            permissions: partlogic_types::KeyPermissions::from_scopes(&k.permissions),
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
    usage: &crate::keys::usage::Usage,
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
