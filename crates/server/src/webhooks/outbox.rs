//! The outbox: an event is recorded in the transaction of the change it reports, with one
//! pending delivery per endpoint that wants it, so an event exists exactly when its change
//! committed, and survives anything that happens after. Nothing is sent from here: the worker
//! (`deliver/`) is woken and sends.
//!
//! Which endpoints want an event is decided now by what they subscribed to and the devices
//! their key ticks; whether the key may still see it (its owner's reach, its permissions, its
//! state) is decided again when it is sent.

use std::sync::OnceLock;

use chrono::{DateTime, SecondsFormat, Utc};
use partlogic_entity::{webhook_delivery, webhook_message};
use partlogic_types::{DeliveryState, EventType};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use super::secrets::new_message_id;

/// Wakes the delivery worker of this process when an event was recorded.
pub(crate) fn wake() -> &'static tokio::sync::Notify {
    static WAKE: OnceLock<tokio::sync::Notify> = OnceLock::new();
    WAKE.get_or_init(tokio::sync::Notify::new)
}

/// The condition an endpoint `we` of a key that is not retired meets when it wants events of
/// the type whose `LIKE` pattern ([`wants`]) is `?`. (Whether its key may still see the event is
/// decided when it is sent.)
pub(crate) const WANTS: &str = "we.enabled = TRUE AND (' ' || we.events || ' ') LIKE ? \
     AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = we.key_id AND k.retired_at IS NULL)";

/// The `LIKE` pattern for [`WANTS`].
pub(crate) fn wants(kind: EventType) -> String {
    format!("% {} %", kind.as_str())
}

/// Who an event goes to.
#[derive(Debug, Clone, Copy)]
pub enum Audience {
    /// The endpoints whose keys tick this device (in its account).
    Device {
        /// The device.
        device_id: i64,
    },
    /// The endpoints of one key.
    Key {
        /// The account.
        account_id: i64,
        /// The key.
        key_id: i64,
    },
}

/// The body every endpoint of the standard format receives: `{"type", "timestamp", "data"}`,
/// `data` already JSON.
pub fn payload(kind: EventType, at: DateTime<Utc>, data_json: &str) -> String {
    format!(
        "{{\"type\":\"{}\",\"timestamp\":\"{}\",\"data\":{data_json}}}",
        kind.as_str(),
        at.to_rfc3339_opts(SecondsFormat::Millis, true)
    )
}

/// The endpoints `audience` names that want `kind`: when there are none, nothing needs
/// recording (nor the event's data building).
pub async fn targets(
    db: &impl ConnectionTrait,
    audience: Audience,
    kind: EventType,
) -> Result<Vec<i64>, DbErr> {
    let backend = db.get_database_backend();
    let (sql, values): (String, Vec<sea_orm::Value>) = match audience {
        Audience::Device { device_id } => (
            format!(
                "SELECT we.id FROM webhook_endpoints we \
                 JOIN api_key_devices kd ON kd.key_id = we.key_id AND kd.device_id = ? \
                 JOIN devices d ON d.id = kd.device_id AND d.account_id = we.account_id \
                 WHERE {WANTS}"
            ),
            vec![device_id.into(), wants(kind).into()],
        ),
        Audience::Key { account_id, key_id } => (
            format!(
                "SELECT we.id FROM webhook_endpoints we \
                 WHERE we.account_id = ? AND we.key_id = ? AND {WANTS}"
            ),
            vec![account_id.into(), key_id.into(), wants(kind).into()],
        ),
    };
    let rows = db
        .query_all_raw(crate::db::raw(backend, &sql, values))
        .await?;
    rows.iter().map(|r| r.try_get_by_index(0)).collect()
}

/// Records `kind` with `data_json` (what `data` holds) in `account_id`, about `device_id`
/// if any, for `targets` (from [`targets`], not empty), in the caller's transaction `db`.
/// Returns the message's id (`msg_…`).
pub async fn write(
    db: &impl ConnectionTrait,
    targets: Vec<i64>,
    account_id: i64,
    device_id: Option<i64>,
    kind: EventType,
    data_json: &str,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let public_id = new_message_id().map_err(|e| DbErr::Custom(format!("no randomness: {e}")))?;
    let message = webhook_message::Entity::insert(webhook_message::ActiveModel {
        public_id: Set(public_id.clone()),
        account_id: Set(account_id),
        device_id: Set(device_id),
        event_type: Set(kind.as_str().to_owned()),
        payload: Set(payload(kind, now, data_json)),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    let deliveries = targets
        .into_iter()
        .map(|endpoint_id| webhook_delivery::ActiveModel {
            endpoint_id: Set(endpoint_id),
            message_id: Set(message),
            state: Set(DeliveryState::Pending.as_str().to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            ..Default::default()
        });
    webhook_delivery::Entity::insert_many(deliveries)
        .exec_without_returning(db)
        .await?;
    // The worker waits a moment after this before it looks, so that the transaction has
    // usually committed by then; if not, its next poll finds the delivery.
    wake().notify_one();
    Ok(public_id)
}
