//! The stock queries a key makes, over its reach (kept with the key: no lookup per request).

use crate::db::store::{PageEnd, RowView, Store};
use crate::error::ApiError;
use crate::keys::ApiCaller;

use super::StockFilters;

/// The devices a request reads: the key's reach, narrowed to the `device` filter if any.
pub fn devices(caller: &ApiCaller, f: &StockFilters) -> Vec<i64> {
    if f.devices.is_empty() {
        return caller.reach().iter().map(|d| d.id).collect();
    }
    let mut ids: Vec<i64> = f
        .devices
        .iter()
        .copied()
        .filter(|id| caller.reached(*id).is_some())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Up to `limit` rows after `after`, by id, each handed to `each` as it is read: each call is a
/// short read, and nothing stays open between pages.
pub async fn page(
    store: &Store,
    caller: &ApiCaller,
    f: &StockFilters,
    after: Option<i64>,
    limit: u64,
    each: &mut dyn FnMut(&RowView<'_>),
) -> Result<PageEnd, sea_orm::DbErr> {
    store
        .stock_page(&devices(caller, f), f, after, limit, each)
        .await
}

/// Refuses a `device` filter naming anything outside the key's reach.
pub fn check_devices(caller: &ApiCaller, f: &StockFilters) -> Result<(), ApiError> {
    match f.devices.iter().find(|d| caller.reached(**d).is_none()) {
        Some(missing) => Err(ApiError::DeviceNotInScope(*missing)),
        None => Ok(()),
    }
}

/// [`reach`] as JSON, encoded once per key record (every request of a key answers the same).
pub fn reach_json(caller: &ApiCaller) -> actix_web::web::Bytes {
    caller
        .key
        .devices_json
        .get_or_init(|| {
            serde_json::to_vec(&reach(caller))
                .unwrap_or_else(|_| b"[]".to_vec())
                .into()
        })
        .clone()
}

/// The devices the key reaches now, by id, as `/api/devices` lists them.
pub fn reach(caller: &ApiCaller) -> Vec<partlogic_types::ApiDevice> {
    caller
        .reach()
        .iter()
        .map(|d| partlogic_types::ApiDevice {
            id: d.id,
            name: d.name.clone(),
            customer: d.customer.clone(),
        })
        .collect()
}
