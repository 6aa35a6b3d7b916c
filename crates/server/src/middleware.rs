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
    // A careless client may even put its key in the path; the log gets a redacted copy.
    let path = redact_keys(req.path());
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

/// How many characters after `pl_` make something look like a key (a real one has 49).
const KEY_LOOKALIKE_CHARS: usize = 20;

/// Byte ranges of everything in `text` that looks like a PartLogic key: `pl_` followed by at
/// least 20 letters and digits.
fn key_lookalikes(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    text.match_indices(keys::PREFIX)
        .filter_map(move |(start, _)| {
            let body = &text[start + keys::PREFIX.len()..];
            let run = body.bytes().take_while(u8::is_ascii_alphanumeric).count();
            (run >= KEY_LOOKALIKE_CHARS).then_some((start, start + keys::PREFIX.len() + run))
        })
}

/// Whether `text` contains something that looks like a PartLogic key.
pub fn looks_like_key(text: &str) -> bool {
    key_lookalikes(text).next().is_some()
}

/// `text` with anything that looks like a key replaced by `pl_[redacted]`.
pub fn redact_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in key_lookalikes(text) {
        out.push_str(&text[last..start]);
        out.push_str("pl_[redacted]");
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Whether a query string carries an API key: under a key-like name, or something shaped like a
/// PartLogic key anywhere (as a value, or as a bare name: `?pl_…`).
pub fn query_has_key(query: &str) -> bool {
    looks_like_key(query)
        || form_urlencoded::parse(query.as_bytes()).any(|(name, value)| {
            let folded: String = name
                .chars()
                .filter(|c| *c != '-' && *c != '_')
                .flat_map(char::to_lowercase)
                .collect();
            KEY_PARAM_NAMES.contains(&folded.as_str())
                || looks_like_key(&name)
                || looks_like_key(&value)
        })
}

/// Refuses any `/api` request with a key in its URL (query string or path), even if its header
/// is valid: the key is already in somebody's logs and its owner needs to hear that.
pub async fn refuse_key_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if query_has_key(req.query_string()) || looks_like_key(req.path()) {
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
        assert!(query_has_key("pl_0123456789abcdefghijklmnop"));
        assert!(query_has_key("pl_0123456789abcdefghijklmnop=1"));
        assert!(!query_has_key("sku=ABC&limit=10"));
        assert!(!query_has_key("sku=pl_short"));
        assert!(!query_has_key(""));
    }

    #[test]
    fn redacts_key_lookalikes() {
        assert_eq!(
            super::redact_keys("/api/pl_0123456789abcdefghijklmnop/stock"),
            "/api/pl_[redacted]/stock"
        );
        assert_eq!(super::redact_keys("/api/stock"), "/api/stock");
    }
}
