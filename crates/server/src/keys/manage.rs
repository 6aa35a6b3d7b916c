//! What the portal does to keys: which devices a user may put on one, who may read or change
//! a key, its version (`ETag`, `If-Match`), its devices and its audit trail. The views it
//! returns are in [`super::views`]; the fields it takes are parsed in `name`, `expiry`,
//! `devices` and `settings`.

use std::collections::BTreeSet;

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use partlogic_entity::{api_key, api_key_device, customer, device, user};
use partlogic_types::{AuditAction, FieldError, PortalDevice};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait,
};

use crate::accounts::reach;
use crate::error::ApiError;
use crate::keys::devices::DeviceSelection;

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
    if crate::domain::if_match(req.headers(), &etag(key)) {
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
    crate::keys::lifecycle::record(db, key, Some(actor.id), action, ip, detail, at).await
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
