//! The typed client of the portal JSON API. Every failure comes back as a [`Problem`], the same
//! document the server sends, so pages can show `detail` and map `errors` to fields.

use gloo_net::http::{Request, RequestBuilder, Response};
use partlogic_types::{
    ConnectInfo, CreateKeyRequest, CreateWebhookRequest, CreatedKey, CreatedWebhookEndpoint,
    CurrentUser, KeyDetail, KeySummary, KeyUsage, LoginRequest, Order, PortalDevice, Problem,
    ProblemCode, QueuedMessage, ReceiveOrderRequest, RollKeyRequest, RollOverlap, UpdateKeyRequest,
    UpdateWebhookRequest, WebhookDelivery, WebhookEndpoint, WebhookSecret,
};
use serde::de::DeserializeOwned;

const BASE: &str = "/portal/api";

/// A failure that never reached (or never came back from) the server: status 0.
fn local_problem(detail: String) -> Problem {
    Problem {
        type_uri: "about:blank".to_owned(),
        title: "Request failed".to_owned(),
        status: 0,
        detail,
        code: ProblemCode::InternalError,
        errors: Vec::new(),
    }
}

/// The one place that reacts to an ended session: any call answered `not_logged_in` logs the
/// portal out, and the route guard sends the user to the login page.
fn observe(p: Problem) -> Problem {
    if p.code == ProblemCode::NotLoggedIn {
        crate::app::session_ended();
    }
    p
}

async fn read_with_etag<T: DeserializeOwned>(
    res: Result<Response, gloo_net::Error>,
) -> Result<(T, Option<String>), Problem> {
    let res = res.map_err(|e| local_problem(format!("could not reach the server: {e}")))?;
    if res.ok() {
        let etag = res.headers().get("etag");
        return res
            .json::<T>()
            .await
            .map(|v| (v, etag))
            .map_err(|e| local_problem(format!("unexpected answer from the server: {e}")));
    }
    let status = res.status();
    match res.json::<Problem>().await {
        Ok(p) => Err(observe(p)),
        Err(_) => Err(local_problem(format!("the server answered {status}"))),
    }
}

async fn read<T: DeserializeOwned>(res: Result<Response, gloo_net::Error>) -> Result<T, Problem> {
    read_with_etag(res).await.map(|(v, _)| v)
}

async fn send_json<B: serde::Serialize, T: DeserializeOwned>(
    req: RequestBuilder,
    body: &B,
) -> Result<T, Problem> {
    match req.json(body) {
        Ok(r) => read(r.send().await).await,
        Err(e) => Err(local_problem(e.to_string())),
    }
}

/// The logged-in user, or `not_logged_in`.
pub async fn me() -> Result<CurrentUser, Problem> {
    read(Request::get(&format!("{BASE}/session")).send().await).await
}

/// Logs in; the server sets the session cookie.
pub async fn login(email: String, password: String) -> Result<CurrentUser, Problem> {
    send_json(
        Request::post(&format!("{BASE}/session")),
        &LoginRequest { email, password },
    )
    .await
}

/// Logs out (the server forgets the session and removes the cookie).
pub async fn logout() -> Result<(), Problem> {
    let res = Request::delete(&format!("{BASE}/session")).send().await;
    match res {
        Ok(r) if r.ok() || r.status() == 401 => Ok(()),
        other => read::<serde_json::Value>(other).await.map(|_| ()),
    }
}

/// The devices the user may put on a key.
pub async fn devices() -> Result<Vec<PortalDevice>, Problem> {
    read(Request::get(&format!("{BASE}/devices")).send().await).await
}

/// The user's keys (admins: the account's; `mine` narrows to their own).
pub async fn keys(mine: bool) -> Result<Vec<KeySummary>, Problem> {
    let url = if mine {
        format!("{BASE}/keys?mine=true")
    } else {
        format!("{BASE}/keys")
    };
    read(Request::get(&url).send().await).await
}

/// One key with devices and events, and its version (`ETag`) for changing it.
pub async fn key(id: i64) -> Result<(KeyDetail, Option<String>), Problem> {
    read_with_etag(Request::get(&format!("{BASE}/keys/{id}")).send().await).await
}

/// Creates a key; the answer holds its secret, once.
pub async fn create_key(body: CreateKeyRequest) -> Result<CreatedKey, Problem> {
    send_json(Request::post(&format!("{BASE}/keys")), &body).await
}

fn if_match(req: RequestBuilder, etag: Option<&str>) -> RequestBuilder {
    match etag {
        Some(tag) => req.header("If-Match", tag),
        None => req,
    }
}

/// Renames a key and/or replaces its devices, if it is still the version `etag` names
/// (otherwise `precondition_failed`).
pub async fn update_key(
    id: i64,
    etag: Option<&str>,
    body: UpdateKeyRequest,
) -> Result<(KeyDetail, Option<String>), Problem> {
    let req = if_match(Request::patch(&format!("{BASE}/keys/{id}")), etag);
    match req.json(&body) {
        Ok(r) => read_with_etag(r.send().await).await,
        Err(e) => Err(local_problem(e.to_string())),
    }
}

/// Retires a key (if it is still the version `etag` names, when given).
pub async fn retire_key(id: i64, etag: Option<&str>) -> Result<KeyDetail, Problem> {
    let req = if_match(Request::delete(&format!("{BASE}/keys/{id}")), etag);
    read(req.send().await).await
}

/// Gives key `id` a new secret (if it is still the version `etag` names); the old one works for
/// `overlap`. The answer holds the new secret, once.
pub async fn roll_key(
    id: i64,
    etag: Option<&str>,
    overlap: RollOverlap,
) -> Result<CreatedKey, Problem> {
    let req = if_match(Request::post(&format!("{BASE}/keys/{id}/roll")), etag);
    send_json(
        req,
        &RollKeyRequest {
            overlap: overlap.as_str().to_owned(),
        },
    )
    .await
}

/// How key `id` was used, days read in `time_zone`.
pub async fn key_usage(id: i64, time_zone: &str) -> Result<KeyUsage, Problem> {
    let zone: String = js_sys::encode_uri_component(time_zone).into();
    read(
        Request::get(&format!("{BASE}/keys/{id}/usage?time_zone={zone}"))
            .send()
            .await,
    )
    .await
}

/// Where key `key`'s webhook endpoint `id` lives (or its list, without one).
fn hooks(key: i64, id: Option<i64>) -> String {
    match id {
        Some(id) => format!("{BASE}/keys/{key}/webhooks/{id}"),
        None => format!("{BASE}/keys/{key}/webhooks"),
    }
}

/// Key `key`'s webhook endpoints.
pub async fn webhooks(key: i64) -> Result<Vec<WebhookEndpoint>, Problem> {
    read(Request::get(&hooks(key, None)).send().await).await
}

/// Adds an endpoint to key `key`; the answer holds its signing secret, once.
pub async fn create_webhook(
    key: i64,
    body: CreateWebhookRequest,
) -> Result<CreatedWebhookEndpoint, Problem> {
    send_json(Request::post(&hooks(key, None)), &body).await
}

/// Changes endpoint `id` of key `key` (pauses or enables it).
pub async fn update_webhook(
    key: i64,
    id: i64,
    body: UpdateWebhookRequest,
) -> Result<WebhookEndpoint, Problem> {
    send_json(Request::patch(&hooks(key, Some(id))), &body).await
}

/// Deletes endpoint `id` of key `key`.
pub async fn delete_webhook(key: i64, id: i64) -> Result<(), Problem> {
    match Request::delete(&hooks(key, Some(id))).send().await {
        Ok(r) if r.ok() => Ok(()),
        other => read::<serde_json::Value>(other).await.map(|_| ()),
    }
}

/// Queues a test event for endpoint `id` of key `key`.
pub async fn test_webhook(key: i64, id: i64) -> Result<QueuedMessage, Problem> {
    let url = format!("{}/test", hooks(key, Some(id)));
    read(Request::post(&url).send().await).await
}

/// A new signing secret for endpoint `id` of key `key`, shown once.
pub async fn rotate_webhook_secret(key: i64, id: i64) -> Result<WebhookSecret, Problem> {
    let url = format!("{}/rotate-secret", hooks(key, Some(id)));
    read(Request::post(&url).send().await).await
}

/// The last 100 deliveries of endpoint `id` of key `key`, newest first.
pub async fn webhook_deliveries(key: i64, id: i64) -> Result<Vec<WebhookDelivery>, Problem> {
    let url = format!("{}/deliveries", hooks(key, Some(id)));
    read(Request::get(&url).send().await).await
}

/// Sends message `message_id` to endpoint `id` of key `key` again.
pub async fn replay_webhook(key: i64, id: i64, message_id: &str) -> Result<QueuedMessage, Problem> {
    let m: String = js_sys::encode_uri_component(message_id).into();
    let url = format!("{}/deliveries/{m}/replay", hooks(key, Some(id)));
    read(Request::post(&url).send().await).await
}

/// Orders the user sees, newest first, filtered by `query` (`status=open&customer=2…`).
pub async fn orders(query: &str) -> Result<Vec<Order>, Problem> {
    read(Request::get(&format!("{BASE}/orders?{query}")).send().await).await
}

/// One order and its `ETag`.
pub async fn order(id: i64) -> Result<(Order, Option<String>), Problem> {
    read_with_etag(Request::get(&format!("{BASE}/orders/{id}")).send().await).await
}

/// Receives `body` on order `id`, if it is still the version `etag` names.
pub async fn receive_order(
    id: i64,
    etag: Option<String>,
    body: ReceiveOrderRequest,
) -> Result<(Order, Option<String>), Problem> {
    let req = if_match(
        Request::post(&format!("{BASE}/orders/{id}/receive")),
        etag.as_deref(),
    );
    match req.json(&body) {
        Ok(r) => read_with_etag(r.send().await).await,
        Err(e) => Err(local_problem(e.to_string())),
    }
}

/// Cancels order `id`, if it is still the version `etag` names.
pub async fn cancel_order(
    id: i64,
    etag: Option<String>,
) -> Result<(Order, Option<String>), Problem> {
    let req = if_match(
        Request::post(&format!("{BASE}/orders/{id}/cancel")),
        etag.as_deref(),
    );
    read_with_etag(req.send().await).await
}

/// Where integrations reach this server, and its recipes.
pub async fn connect() -> Result<ConnectInfo, Problem> {
    read(Request::get(&format!("{BASE}/connect")).send().await).await
}

/// A recipe file as the server serves it (its base URL filled in).
pub async fn recipe(file: &str) -> Result<String, Problem> {
    let res = Request::get(&format!("/recipes/{file}"))
        .send()
        .await
        .map_err(|e| local_problem(format!("could not reach the server: {e}")))?;
    if !res.ok() {
        return Err(local_problem(format!(
            "the server answered {}",
            res.status()
        )));
    }
    res.text()
        .await
        .map_err(|e| local_problem(format!("unexpected answer from the server: {e}")))
}

/// The message for one field, if the problem names it.
pub fn field_error(p: &Option<Problem>, field: &str) -> Option<String> {
    p.as_ref()?
        .errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}
