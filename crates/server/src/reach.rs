//! Which devices a user, and a key, may see. One place decides, so the portal's device list, key
//! validation and the Stock API can never disagree.
//!
//! A user sees every device of their account (admin) or the ones granted to them (member).
//! A key reaches its ticked devices ∩ the devices its owner sees *now*: taking a device from the
//! owner, or deleting it, removes it from the key's results on the next request.

use partlogic_entity::{api_key_device, device, user_device};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};

use crate::auth::ApiCaller;

fn granted_to(user_id: i64) -> SelectStatement {
    Query::select()
        .column(user_device::Column::DeviceId)
        .from(user_device::Entity)
        .and_where(user_device::Column::UserId.eq(user_id))
        .to_owned()
}

fn ticked_on(key_id: i64) -> SelectStatement {
    Query::select()
        .column(api_key_device::Column::DeviceId)
        .from(api_key_device::Entity)
        .and_where(api_key_device::Column::KeyId.eq(key_id))
        .to_owned()
}

/// A condition on `devices` matching the devices a user may see.
pub fn user_devices(account_id: i64, user_id: i64, is_admin: bool) -> Condition {
    let mut c = Condition::all().add(device::Column::AccountId.eq(account_id));
    if !is_admin {
        c = c.add(device::Column::Id.in_subquery(granted_to(user_id)));
    }
    c
}

/// A condition on `devices` matching the devices a key may read.
pub fn key_devices(caller: &ApiCaller) -> Condition {
    user_devices(caller.account_id, caller.owner_id, caller.owner_is_admin)
        .add(device::Column::Id.in_subquery(ticked_on(caller.key_id)))
}
