//! What the webhooks API reads and writes: a key's endpoints (at most
//! [`super::MAX_ENDPOINTS_PER_KEY`]), their secrets (sealed), their deliveries, test events and
//! replays. Endpoints belong to a key: every query here names the key.

use chrono::{DateTime, Duration, Utc};
use partlogic_entity::{api_key, webhook_delivery, webhook_endpoint};
use partlogic_types::{
    CreatedWebhookEndpoint, DeliveryState, EventType, WebhookDelivery, WebhookEndpoint,
    WebhookFormat, WebhookSecret,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::MAX_ENDPOINTS_PER_KEY;
use super::outbox;
use super::parse::{Change, NewEndpoint, events_from, events_text};
use super::secrets::{Vault, new_secret};
use crate::error::ApiError;

/// How long the previous secret signs beside the new one after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// The most deliveries one page lists.
pub const MAX_DELIVERIES_PAGE: u64 = 100;

fn no_randomness(e: getrandom::Error) -> ApiError {
    ApiError::Internal(format!("no randomness: {e}"))
}

/// An endpoint as the API shows it (never its secret).
pub fn view(m: &webhook_endpoint::Model, now: DateTime<Utc>) -> WebhookEndpoint {
    WebhookEndpoint {
        id: m.id,
        url: m.url.clone(),
        description: m.description.clone(),
        events: events_from(&m.events),
        format: WebhookFormat::parse(&m.format).unwrap_or_default(),
        enabled: m.enabled,
        disabled_reason: if m.enabled {
            None
        } else {
            m.disabled_reason.clone()
        },
        failing_since: m.failing_since,
        previous_secret_until: m.previous_until.filter(|u| *u > now),
        created_at: m.created_at,
    }
}

/// The endpoints of key `key_id`, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    key_id: i64,
) -> Result<Vec<webhook_endpoint::Model>, ApiError> {
    Ok(webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::KeyId.eq(key_id))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await?)
}

/// Endpoint `id` of key `key_id` (404 for any other).
pub async fn find(
    db: &impl ConnectionTrait,
    key_id: i64,
    id: i64,
) -> Result<webhook_endpoint::Model, ApiError> {
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::KeyId.eq(key_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("webhook endpoint"))
}

/// Adds `new` to key `key_id` of `account_id`: refused with `too_many_webhooks` when the key
/// has [`MAX_ENDPOINTS_PER_KEY`]. The count and the insert happen under the key's row lock
/// (PostgreSQL) or the write lock (SQLite), so two concurrent adds cannot both be the tenth.
pub async fn create(
    db: &DatabaseConnection,
    vault: &Vault,
    account_id: i64,
    key_id: i64,
    new: NewEndpoint,
    now: DateTime<Utc>,
) -> Result<CreatedWebhookEndpoint, ApiError> {
    let secret = new_secret().map_err(no_randomness)?;
    let sealed = vault.seal(&secret).map_err(no_randomness)?;
    let txn = crate::db::begin_write(db).await?;
    let mut key = api_key::Entity::find_by_id(key_id);
    if txn.get_database_backend() == DbBackend::Postgres {
        key = key.lock_exclusive();
    }
    if key.one(&txn).await?.is_none() {
        return Err(ApiError::NotFound("key"));
    }
    let count = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::KeyId.eq(key_id))
        .count(&txn)
        .await?;
    if count as usize >= MAX_ENDPOINTS_PER_KEY {
        return Err(ApiError::TooManyWebhooks(MAX_ENDPOINTS_PER_KEY));
    }
    let row = webhook_endpoint::ActiveModel {
        account_id: Set(account_id),
        key_id: Set(key_id),
        url: Set(new.url),
        description: Set(new.description),
        events: Set(events_text(&new.events)),
        format: Set(new.format.as_str().to_owned()),
        secret: Set(sealed),
        previous_secret: Set(None),
        previous_until: Set(None),
        enabled: Set(true),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(CreatedWebhookEndpoint {
        endpoint: view(&row, now),
        secret,
    })
}

/// Applies `change` to endpoint `current` in one transaction: the row is read again under a
/// lock (PostgreSQL) or the write lock (SQLite), so a concurrent pause, enable, or disable by a
/// worker waits, and the endpoint's waiting deliveries end up as its final state says: pending
/// when enabled (enabling clears why it was disabled and since when it failed, so they go out
/// again), held when not.
pub async fn update(
    db: &DatabaseConnection,
    current: webhook_endpoint::Model,
    change: Change,
    now: DateTime<Utc>,
) -> Result<webhook_endpoint::Model, ApiError> {
    let txn = crate::db::begin_write(db).await?;
    let current = webhook_endpoint::Entity::find_by_id(current.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("webhook endpoint"))?;
    let endpoint_id = current.id;
    let mut am = current.into_active_model();
    if let Some(u) = change.url {
        // A new address starts with a clean record.
        if u != *am.url.as_ref() {
            am.failing_since = Set(None);
        }
        am.url = Set(u);
    }
    if let Some(e) = change.events {
        am.events = Set(events_text(&e));
    }
    if let Some(d) = change.description {
        am.description = Set(d);
    }
    if let Some(f) = change.format {
        am.format = Set(f.as_str().to_owned());
    }
    match change.enabled {
        Some(true) => {
            am.enabled = Set(true);
            am.disabled_reason = Set(None);
            am.failing_since = Set(None);
        }
        Some(false) => {
            am.enabled = Set(false);
            am.disabled_reason = Set(Some("paused by its key's owner".to_owned()));
        }
        None => {}
    }
    am.updated_at = Set(now);
    let row = am.update(&txn).await?;
    if row.enabled {
        release(&txn, endpoint_id).await?;
    } else {
        hold(&txn, endpoint_id).await?;
    }
    txn.commit().await?;
    if row.enabled {
        outbox::wake().notify_one();
    }
    Ok(row)
}

/// How a pending delivery is stored while its endpoint is disabled: outside the due index
/// (`webhook_deliveries_pending`, which holds `state = 'pending'` rows only), so that a look
/// for due deliveries does not walk past a disabled endpoint's backlog. The API shows it as
/// `pending`. Some can be `pending` for a disabled endpoint for a while (being sent when it
/// was disabled, a replay, a test event): the claim skips those, and [`sort_held`] holds them.
pub(crate) const HELD: &str = "held";

/// Moves the held deliveries of `endpoint_id` (enabled) back to `pending`, due when they were.
async fn release(db: &impl ConnectionTrait, endpoint_id: i64) -> Result<(), sea_orm::DbErr> {
    db.execute_raw(crate::db::raw(
        db.get_database_backend(),
        "UPDATE webhook_deliveries SET state = 'pending' WHERE endpoint_id = ? AND state = ?",
        vec![endpoint_id.into(), HELD.into()],
    ))
    .await?;
    Ok(())
}

/// Holds the pending deliveries of `endpoint_id` (disabled), except those being sent right
/// now: their outcome is about to be written over them anyway, and their rows may be locked by
/// the instance sending them.
async fn hold(db: &impl ConnectionTrait, endpoint_id: i64) -> Result<(), sea_orm::DbErr> {
    db.execute_raw(crate::db::raw(
        db.get_database_backend(),
        "UPDATE webhook_deliveries SET state = ? WHERE endpoint_id = ? AND state = 'pending' \
         AND (claimed_until IS NULL OR claimed_until < ?)",
        // Leases are in real time, whatever the server's clock says.
        vec![HELD.into(), endpoint_id.into(), Utc::now().into()],
    ))
    .await?;
    Ok(())
}

/// Puts every waiting delivery where its endpoint's state says, for what [`update`] and
/// [`disable`] could not: held ones of enabled endpoints (an instance older than `held`
/// enabled it) go back to pending; pending ones of disabled endpoints that are not being sent
/// (a retry recorded after the endpoint was disabled, a replay, a test event) are held. Run
/// by each worker every minute; cheap, through the indexes of held deliveries and of an
/// endpoint's deliveries. Returns how many rows moved.
pub async fn sort_held(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let released = db
        .execute_raw(crate::db::raw(
            backend,
            "UPDATE webhook_deliveries SET state = 'pending' WHERE state = ? AND endpoint_id IN \
             (SELECT id FROM webhook_endpoints WHERE enabled = TRUE)",
            vec![HELD.into()],
        ))
        .await?
        .rows_affected();
    let held = db
        .execute_raw(crate::db::raw(
            backend,
            "UPDATE webhook_deliveries SET state = ? WHERE state = 'pending' \
             AND (claimed_until IS NULL OR claimed_until < ?) AND endpoint_id IN \
             (SELECT id FROM webhook_endpoints WHERE enabled = FALSE)",
            vec![HELD.into(), Utc::now().into()],
        ))
        .await?
        .rows_affected();
    Ok(released + held)
}

/// Deletes endpoint `id` of key `key_id`, with its deliveries.
pub async fn delete(db: &impl ConnectionTrait, key_id: i64, id: i64) -> Result<(), ApiError> {
    let done = webhook_endpoint::Entity::delete_many()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .filter(webhook_endpoint::Column::KeyId.eq(key_id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(ApiError::NotFound("webhook endpoint"));
    }
    Ok(())
}

/// A new secret for `current`; the one it replaces keeps signing for [`ROTATION_OVERLAP`].
pub async fn rotate(
    db: &impl ConnectionTrait,
    vault: &Vault,
    current: webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> Result<WebhookSecret, ApiError> {
    let secret = new_secret().map_err(no_randomness)?;
    let sealed = vault.seal(&secret).map_err(no_randomness)?;
    let until = now + ROTATION_OVERLAP;
    let old = current.secret.clone();
    let mut am = current.into_active_model();
    am.previous_secret = Set(Some(old));
    am.previous_until = Set(Some(until));
    am.secret = Set(sealed);
    am.updated_at = Set(now);
    am.update(db).await?;
    Ok(WebhookSecret {
        secret,
        previous_secret_until: until,
    })
}

/// Queues a `webhook.test` event for `endpoint` alone; returns its message id.
pub async fn test(
    db: &DatabaseConnection,
    endpoint: &webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let data = serde_json::json!({
        "endpoint_id": endpoint.id,
        "message": "This is a test event from PartLogic: this endpoint receives its key's events.",
    })
    .to_string();
    let txn = db.begin().await?;
    let id = outbox::write(
        &txn,
        vec![endpoint.id],
        endpoint.account_id,
        None,
        EventType::WebhookTest,
        &data,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Queues the message `message_id` to `endpoint` again, now (the same `webhook-id`), with a
/// fresh retry schedule. One being sent right now is left to finish (it is going out anyway).
pub async fn replay(
    db: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let backend = db.get_database_backend();
    let done = db
        .execute_raw(crate::db::raw(
            backend,
            "UPDATE webhook_deliveries SET state = ?, attempts = 0, next_attempt_at = ?, \
             claimed_until = NULL WHERE endpoint_id = ? AND message_id = \
             (SELECT id FROM webhook_messages WHERE public_id = ? AND account_id = ?) \
             AND (claimed_until IS NULL OR claimed_until < ?)",
            vec![
                // Pending even for a disabled endpoint: skipped, then held by `sort_held`.
                DeliveryState::Pending.as_str().into(),
                now.into(),
                endpoint.id.into(),
                message_id.into(),
                endpoint.account_id.into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    if done.rows_affected() == 0 {
        let exists = db
            .query_one_raw(crate::db::raw(
                backend,
                "SELECT 1 FROM webhook_deliveries WHERE endpoint_id = ? AND message_id = \
                 (SELECT id FROM webhook_messages WHERE public_id = ? AND account_id = ?)",
                vec![
                    endpoint.id.into(),
                    message_id.into(),
                    endpoint.account_id.into(),
                ],
            ))
            .await?;
        return match exists {
            Some(_) => Ok(()),
            None => Err(ApiError::NotFound("delivery")),
        };
    }
    outbox::wake().notify_one();
    Ok(())
}

/// One page of `endpoint_id`'s deliveries, newest first, below delivery id `before`; with the
/// next page's cursor while more may remain.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<(Vec<WebhookDelivery>, Option<i64>), ApiError> {
    let mut q = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit);
    if let Some(b) = before {
        q = q.filter(webhook_delivery::Column::Id.lt(b));
    }
    let rows = q.all(db).await?;
    let next = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let ids: Vec<i64> = rows.iter().map(|r| r.message_id).collect();
    let messages: std::collections::HashMap<i64, (String, String, DateTime<Utc>)> =
        partlogic_entity::webhook_message::Entity::find()
            .select_only()
            .column(partlogic_entity::webhook_message::Column::Id)
            .column(partlogic_entity::webhook_message::Column::PublicId)
            .column(partlogic_entity::webhook_message::Column::EventType)
            .column(partlogic_entity::webhook_message::Column::CreatedAt)
            .filter(partlogic_entity::webhook_message::Column::Id.is_in(ids))
            .into_tuple::<(i64, String, String, DateTime<Utc>)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, p, t, at)| (id, (p, t, at)))
            .collect();
    let page = rows
        .into_iter()
        .filter_map(|d| {
            let (public_id, kind, created_at) = messages.get(&d.message_id)?.clone();
            let state = if d.state == HELD {
                DeliveryState::Pending
            } else {
                DeliveryState::parse(&d.state)?
            };
            Some(WebhookDelivery {
                message_id: public_id,
                event_type: EventType::parse(&kind)?,
                created_at,
                state,
                attempts: d.attempts,
                last_attempt_at: d.last_attempt_at,
                last_status: d.last_status.and_then(|s| u16::try_from(s).ok()),
                last_latency_ms: d.last_latency_ms,
                last_error: d.last_error,
                next_attempt_at: (state == DeliveryState::Pending).then_some(d.next_attempt_at),
            })
        })
        .collect();
    Ok((page, next))
}

/// How long events and their deliveries are kept once none of them is pending.
pub const KEEP: Duration = Duration::days(30);

/// Forgets events older than [`KEEP`] that nothing waits to send (pending or held), with their
/// deliveries.
pub async fn prune(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let old = "SELECT m.id FROM webhook_messages m WHERE m.created_at < ? AND NOT EXISTS \
               (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = m.id \
               AND d.state IN (?, ?))";
    let values = || -> Vec<sea_orm::Value> {
        vec![
            (now - KEEP).into(),
            DeliveryState::Pending.as_str().into(),
            HELD.into(),
        ]
    };
    let txn = crate::db::begin_write(db).await?;
    txn.execute_raw(crate::db::raw(
        backend,
        &format!("DELETE FROM webhook_deliveries WHERE message_id IN ({old})"),
        values(),
    ))
    .await?;
    let gone = txn
        .execute_raw(crate::db::raw(
            backend,
            &format!("DELETE FROM webhook_messages WHERE id IN ({old})"),
            values(),
        ))
        .await?
        .rows_affected();
    txn.commit().await?;
    Ok(gone)
}

/// Disables `endpoint` because `reason`, and says so in its key's history.
pub async fn disable(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let done = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(reason.to_owned()),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint_id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Ok(());
    }
    hold(db, endpoint_id).await?;
    let Some(e) = webhook_endpoint::Entity::find_by_id(endpoint_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let Some(key) = api_key::Entity::find_by_id(e.key_id).one(db).await? else {
        return Ok(());
    };
    let host = url::Url::parse(&e.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    crate::keys::lifecycle::record(
        db,
        &key,
        None,
        partlogic_types::AuditAction::WebhookDisabled,
        None,
        // The host only: a URL's path may hold the receiver's secret (Slack's do).
        Some(format!(
            "webhook endpoint {} ({host}) disabled: {reason}",
            e.id
        )),
        now,
    )
    .await
}
