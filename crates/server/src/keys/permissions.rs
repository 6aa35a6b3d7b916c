//! A key's permissions as the portal changes them: a request names the resources to change,
//! the rest keep their level. (What the levels mean and how a key stores them is
//! `partlogic_types::KeyPermissions`; the Stock API checks them in `keys::caller::Permitted`.)

use partlogic_types::{Access, KeyPermissions, PermissionsRequest};

/// `current` with the levels `change` names. Stock stays `read` whatever is asked: every key
/// reads stock.
pub fn apply(current: KeyPermissions, change: &PermissionsRequest) -> KeyPermissions {
    KeyPermissions {
        stock: Access::Read,
        orders: change.orders.unwrap_or(current.orders),
        webhooks: change.webhooks.unwrap_or(current.webhooks),
    }
}
