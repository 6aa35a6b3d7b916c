//! The portal JSON API the SPA calls, authenticated by the session cookie.

pub mod connect_get;
pub mod devices_list;
pub mod keys_create;
pub mod keys_get;
pub mod keys_list;
pub mod keys_retire;
pub mod keys_roll;
pub mod keys_update;
pub mod keys_usage;
pub mod orders_cancel;
pub mod orders_get;
pub mod orders_list;
pub mod orders_receive;
pub mod session_create;
pub mod session_delete;
pub mod session_get;
pub mod webhooks_create;
pub mod webhooks_delete;
pub mod webhooks_deliveries;
pub mod webhooks_list;
pub mod webhooks_replay;
pub mod webhooks_rotate;
pub mod webhooks_test;
pub mod webhooks_update;

use partlogic_entity::{account, user};
use partlogic_types::{CurrentUser, Role};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::error::ApiError;

/// The portal's view of a user.
pub async fn current_user(
    db: &impl ConnectionTrait,
    u: &user::Model,
) -> Result<CurrentUser, ApiError> {
    let account = account::Entity::find_by_id(u.account_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("user {} has no account", u.id)))?;
    Ok(CurrentUser {
        id: u.id,
        email: u.email.clone(),
        name: u.name.clone(),
        role: if u.is_admin() {
            Role::Admin
        } else {
            Role::Member
        },
        account_id: account.id,
        account_name: account.name,
    })
}
