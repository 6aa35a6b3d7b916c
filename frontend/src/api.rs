//! The typed client of the portal JSON API. Every failure comes back as a [`Problem`], the same
//! document the server sends, so pages can show `detail` and map `errors` to fields.

use gloo_net::http::{Request, RequestBuilder, Response};
use partlogic_types::{
    CreateKeyRequest, CreatedKey, CurrentUser, KeyDetail, KeySummary, LoginRequest, PortalDevice,
    Problem, UpdateKeyRequest,
};
use serde::de::DeserializeOwned;

const BASE: &str = "/portal/api";

fn local_problem(code: &str, detail: String) -> Problem {
    Problem {
        type_uri: format!("urn:partlogic:problem:{code}"),
        title: "Request failed".to_owned(),
        status: 0,
        detail,
        code: code.to_owned(),
        errors: Vec::new(),
    }
}

async fn read<T: DeserializeOwned>(res: Result<Response, gloo_net::Error>) -> Result<T, Problem> {
    let res = res
        .map_err(|e| local_problem("network_error", format!("could not reach the server: {e}")))?;
    if res.ok() {
        return res.json::<T>().await.map_err(|e| {
            local_problem(
                "bad_response",
                format!("unexpected answer from the server: {e}"),
            )
        });
    }
    let status = res.status();
    match res.json::<Problem>().await {
        Ok(p) => Err(p),
        Err(_) => Err(local_problem(
            "http_error",
            format!("the server answered {status}"),
        )),
    }
}

async fn send_json<B: serde::Serialize, T: DeserializeOwned>(
    req: RequestBuilder,
    body: &B,
) -> Result<T, Problem> {
    match req.json(body) {
        Ok(r) => read(r.send().await).await,
        Err(e) => Err(local_problem("bad_request", e.to_string())),
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

/// One key with devices and events.
pub async fn key(id: i64) -> Result<KeyDetail, Problem> {
    read(Request::get(&format!("{BASE}/keys/{id}")).send().await).await
}

/// Creates a key; the answer holds its secret, once.
pub async fn create_key(body: CreateKeyRequest) -> Result<CreatedKey, Problem> {
    send_json(Request::post(&format!("{BASE}/keys")), &body).await
}

/// Renames a key and/or replaces its devices.
pub async fn update_key(id: i64, body: UpdateKeyRequest) -> Result<KeyDetail, Problem> {
    send_json(Request::patch(&format!("{BASE}/keys/{id}")), &body).await
}

/// Retires a key.
pub async fn retire_key(id: i64) -> Result<KeyDetail, Problem> {
    read(Request::delete(&format!("{BASE}/keys/{id}")).send().await).await
}

/// The message for one field, if the problem names it.
pub fn field_error(p: &Option<Problem>, field: &str) -> Option<String> {
    p.as_ref()?
        .errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}
