//! `DELETE /api/key`: whoever holds a key retires it with the key itself.

use actix_web::{HttpRequest, HttpResponse, delete, web};
use partlogic_types::{Problem, RetiredReason};

use crate::error::ApiError;
use crate::http::extract::UnlimitedCaller;
use crate::http::net::client_ip;
use crate::http::state::AppState;
use crate::keys::lifecycle::{self, Retirement, Which};

/// Retire the key making this request
///
/// Retires the calling key: for whoever finds a key they should not have, or a partner
/// switching off an integration. It fails from the next request on, and its owner sees why in
/// the portal. Sent with a rolled key's previous secret, it stops that secret only (the new one
/// keeps working).
#[utoipa::path(
    tag = "key-retirement",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Retired (or, for a rolled key's previous secret, that secret stopped)"),
        (status = 400, description = "A key in the URL (`api_key_in_query`) or two different keys (`conflicting_api_keys`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key: `missing_api_key`, `malformed_api_key`, `invalid_api_key`, `api_key_expired`, `api_key_retired`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`); see `Retry-After` and `RateLimit`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/key")]
pub async fn retire_current_key(
    UnlimitedCaller(caller): UnlimitedCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let ip = client_ip(&req, state.settings.trust_proxy);
    let txn = crate::db::begin_write(&state.db).await?;
    let Some((key, which)) = lifecycle::find_by_digest(&txn, &caller.key.digest).await? else {
        return Err(ApiError::InvalidApiKey);
    };
    match which {
        Which::Current => {
            let what = format!(
                "retired with the key itself{}",
                ip.as_deref()
                    .map(|ip| format!(" from {ip}"))
                    .unwrap_or_default()
            );
            lifecycle::retire(
                &txn,
                key,
                Retirement {
                    reason: RetiredReason::SelfRetired,
                    detail: None,
                    actor: None,
                    ip,
                    history: Some(&what),
                },
                now,
            )
            .await?;
        }
        Which::Previous => {
            lifecycle::end_overlap(&txn, key, ip, "retired with that secret itself", now).await?;
        }
        // Refused before it gets here (api_key_retired).
        Which::RolledPast => return Err(ApiError::ApiKeyRetired),
    }
    txn.commit().await?;
    state.keys.clear();
    tracing::info!(key_id = caller.key_id(), "key retired by its holder");
    Ok(HttpResponse::NoContent().finish())
}
