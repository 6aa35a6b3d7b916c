//! The `ApiCaller` extractor: a request to `/api` authenticated by its key (in `X-API-Key`, or
//! as HTTP Basic or Bearer: see [`super::credential`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use partlogic_entity::{api_key, audit_event, user};
use partlogic_types::AuditAction;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use crate::error::ApiError;
use crate::keys;
use crate::net::client_ip;
use crate::state::AppState;

/// The header that carries the key.
pub const HEADER: &str = "X-API-Key";

/// A caller holding a valid, unexpired, unretired key whose owner is enabled.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The key's id.
    pub key_id: i64,
    /// The owner's account.
    pub account_id: i64,
    /// The owner.
    pub owner_id: i64,
    /// Whether the owner sees every device of the account (admin) or a granted list.
    pub owner_is_admin: bool,
    /// What `GET /api/key` tells about the key.
    pub key: KeyFacts,
}

/// The key's own settings, as its holder may see them.
#[derive(Debug, Clone)]
pub struct KeyFacts {
    /// Its name.
    pub name: String,
    /// Its display prefix.
    pub prefix: String,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The last day it works.
    pub expires_on: Option<chrono::NaiveDate>,
    /// The zone `expires_on` is read in.
    pub time_zone: String,
    /// The first instant it is refused.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Put in a request's extensions once its key is accepted: the expiry every authenticated
/// answer announces (`PartLogic-Key-Expires`).
#[derive(Debug, Clone, Copy)]
pub struct KeyExpiry(pub chrono::DateTime<chrono::Utc>);

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

async fn authenticate(req: &HttpRequest) -> Result<ApiCaller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("AppState missing".to_owned()))?;
    let candidate = super::credential::presented_key(req)?;
    if !keys::is_well_formed(&candidate) {
        return Err(ApiError::MalformedApiKey);
    }
    let digest = keys::digest(&candidate);
    let found = api_key::Entity::find()
        .filter(api_key::Column::Digest.eq(digest.as_str()))
        .find_also_related(user::Entity)
        .one(&state.db)
        .await?;
    let Some((key, Some(owner))) = found else {
        return Err(ApiError::InvalidApiKey);
    };
    // The index lookup already matched; this keeps the final decision constant-time anyway.
    if !keys::digests_match(&key.digest, &digest) {
        return Err(ApiError::InvalidApiKey);
    }
    if key.retired_at.is_some() {
        return Err(ApiError::ApiKeyRetired);
    }
    let now = state.clock.now();
    if let Some(end) = key.expires_at
        && now >= end
    {
        return Err(ApiError::ApiKeyExpired(
            partlogic_types::rfc3339_millis::format(&end),
        ));
    }
    if owner.disabled_at.is_some() || owner.account_id != key.account_id {
        return Err(ApiError::InvalidApiKey);
    }
    if state.last_used.should_write(key.id) {
        record_use(state, &key, client_ip(req, state.settings.trust_proxy), now);
    }
    if let Some(end) = key.expires_at {
        req.extensions_mut().insert(KeyExpiry(end));
    }
    Ok(ApiCaller {
        key_id: key.id,
        account_id: key.account_id,
        owner_id: owner.id,
        owner_is_admin: owner.is_admin(),
        key: KeyFacts {
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            created_at: key.created_at,
            expires_on: key.expires_on,
            time_zone: key.time_zone.clone(),
            expires_at: key.expires_at,
        },
    })
}

/// Whether the key `key_id` would still be accepted at `now`: not retired, not expired, its
/// owner enabled. Long exports ask between batches, so a key retired mid-export stops there.
pub async fn still_valid(
    db: &impl sea_orm::ConnectionTrait,
    key_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let found = api_key::Entity::find_by_id(key_id)
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(matches!(found, Some((key, Some(owner)))
        if key.retired_at.is_none()
            && key.expires_at.is_none_or(|end| now < end)
            && owner.disabled_at.is_none()
            && owner.account_id == key.account_id))
}

/// Writes "last used" (and, the first time, a `first_used` audit event) off the request path:
/// the caller should not wait for bookkeeping.
fn record_use(
    state: &AppState,
    key: &api_key::Model,
    ip: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) {
    let db = state.db.clone();
    let (key_id, account_id) = (key.id, key.account_id);
    let first = key.last_used_at.is_none();
    actix_web::rt::spawn(async move {
        let result = async {
            if first {
                // Only the request that flips NULL → time writes the event, even with several
                // server instances racing on the key's first calls.
                let flipped = api_key::Entity::update_many()
                    .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
                    .col_expr(api_key::Column::LastUsedIp, Expr::value(ip.clone()))
                    .filter(api_key::Column::Id.eq(key_id))
                    .filter(api_key::Column::LastUsedAt.is_null())
                    .exec(&db)
                    .await?;
                if flipped.rows_affected == 1 {
                    audit_event::Entity::insert(audit_event::ActiveModel {
                        account_id: Set(account_id),
                        key_id: Set(key_id),
                        actor_id: Set(None),
                        action: Set(AuditAction::FirstUsed.as_str().to_owned()),
                        ip: Set(ip.clone()),
                        detail: Set(None),
                        at: Set(now),
                        ..Default::default()
                    })
                    .exec(&db)
                    .await?;
                    return Ok(());
                }
            }
            api_key::Entity::update_many()
                .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
                .col_expr(api_key::Column::LastUsedIp, Expr::value(ip))
                .filter(api_key::Column::Id.eq(key_id))
                .exec(&db)
                .await
                .map(|_| ())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(key_id, error = %e, "could not record key use");
        }
    });
}
