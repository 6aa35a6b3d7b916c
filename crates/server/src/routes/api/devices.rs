//! `GET /api/devices`.

use actix_web::{HttpResponse, get, http::header, web};
use partlogic_entity::{customer, device};
use partlogic_types::{ApiDevice, Problem};
use sea_orm::{EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait};

use crate::auth::ApiCaller;
use crate::error::ApiError;
use crate::reach;
use crate::state::AppState;

/// The devices this key can read: its ticked devices that its owner may still see.
#[utoipa::path(
    tag = "stock",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The key's devices, by id", body = Vec<ApiDevice>),
        (status = 400, description = "A key was sent in the URL (`api_key_in_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key: `missing_api_key`, `malformed_api_key`, `invalid_api_key`, `api_key_expired`, `api_key_retired`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/devices")]
pub async fn list_api_devices(
    caller: ApiCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rows: Vec<(i64, String, String)> = device::Entity::find()
        .select_only()
        .column(device::Column::Id)
        .column(device::Column::Name)
        .column_as(customer::Column::Name, "customer")
        .join(JoinType::InnerJoin, device::Relation::Customer.def())
        .filter(reach::key_devices(&caller))
        .order_by_asc(device::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?;
    let body: Vec<ApiDevice> = rows
        .into_iter()
        .map(|(id, name, customer)| ApiDevice { id, name, customer })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}
