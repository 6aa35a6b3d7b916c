//! Which devices a user may see, for the portal. A user sees every device of their account
//! (admin) or the ones granted to them (member). A key reaches its ticked devices ∩ the devices
//! its owner sees *now* (`db::store::sql::KEY_REACH` states the same rule for the Stock API, whose
//! keys carry their reach with them): taking a device from the owner, or deleting it, removes it
//! from the key's results on the next request.

use partlogic_entity::{device, user_device};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};

fn granted_to(user_id: i64) -> SelectStatement {
    Query::select()
        .column(user_device::Column::DeviceId)
        .from(user_device::Entity)
        .and_where(user_device::Column::UserId.eq(user_id))
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
