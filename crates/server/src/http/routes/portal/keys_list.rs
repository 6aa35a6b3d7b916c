//! `GET /portal/api/keys`.

use actix_web::{HttpRequest, get, web};
use partlogic_entity::api_key;
use partlogic_types::{FieldError, KeySummary, Problem};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::views;

/// List API keys
///
/// The user's keys, newest first; for admins every key of the account, with its owner
/// (`?mine=true` narrows that to their own). Expired and retired keys stay listed.
#[utoipa::path(
    tag = "keys",
    security(("session_cookie" = [])),
    params(("mine" = Option<bool>, Query, description = "Admins: only keys they own")),
    responses(
        (status = 200, description = "Keys, newest first", body = Vec<KeySummary>),
        (status = 400, description = "`mine` is not `true` or `false` (`invalid_parameters`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/keys")]
pub async fn list_keys(
    me: PortalUser,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<KeySummary>>, ApiError> {
    let mut mine = false;
    for (name, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if name == "mine" {
            mine = match value.as_ref() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ApiError::InvalidParameters(vec![FieldError {
                        field: "mine".to_owned(),
                        message: "must be true or false".to_owned(),
                    }]));
                }
            };
        }
    }
    let mut q = api_key::Entity::find().filter(api_key::Column::AccountId.eq(me.user.account_id));
    if mine || !me.user.is_admin() {
        q = q.filter(api_key::Column::UserId.eq(me.user.id));
    }
    let keys = q
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .all(&state.db)
        .await?;
    Ok(web::Json(
        views::summaries(&state.db, keys, state.clock.now(), &state.usage).await?,
    ))
}
