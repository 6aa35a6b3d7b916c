//! Request-wide guards: the access log, the "no key in the URL" rule for `/api`, and the
//! same-origin rule for state-changing portal requests.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

use crate::error::ApiError;
use crate::keys;

/// Logs one line per request: method, path, status and time. Never the query string, which is
/// where a careless client puts its key, and never headers.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await;
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    tracing::info!(
        %method,
        path = %path,
        status,
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    res
}

/// Parameter names that mean "here is my key" in the wild, compared without case, `-` or `_`.
const KEY_PARAM_NAMES: &[&str] = &[
    "xapikey",
    "apikey",
    "key",
    "token",
    "accesstoken",
    "authorization",
    "auth",
    "secret",
];

/// Whether a query string carries an API key: under a key-like name, or a value that looks like a
/// PartLogic key under any name.
pub fn query_has_key(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(name, value)| {
        let folded: String = name
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        KEY_PARAM_NAMES.contains(&folded.as_str())
            || value.contains(keys::PREFIX) && value.len() >= 20
    })
}

/// Refuses any `/api` request with a key in its URL, even if its header is valid: the key is
/// already in somebody's logs and its owner needs to hear that.
pub async fn refuse_key_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if query_has_key(req.query_string()) {
        return Err(ApiError::ApiKeyInQuery.into());
    }
    next.call(req).await
}

/// Refuses state-changing portal requests sent by another site. `SameSite=Strict` already keeps
/// the cookie off them; this is the second lock (Fetch Metadata, then `Origin` vs `Host`).
pub async fn same_origin_only(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !is_same_origin(&req) {
        return Err(ApiError::CrossOrigin.into());
    }
    next.call(req).await
}

fn is_same_origin(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else {
        // Not a browser (curl, scripts): there is no other site to speak of.
        return true;
    };
    let host = req.connection_info().host().to_owned();
    origin
        .split_once("://")
        .map(|(_, authority)| authority.eq_ignore_ascii_case(&host))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::query_has_key;

    #[test]
    fn finds_keys_under_any_spelling() {
        assert!(query_has_key("X-API-Key=abc"));
        assert!(query_has_key("api_key=abc"));
        assert!(query_has_key("sku=1&ApiKey=abc"));
        assert!(query_has_key("x=pl_0123456789abcdefghijklmnop"));
        assert!(!query_has_key("sku=ABC&limit=10"));
        assert!(!query_has_key(""));
    }
}
