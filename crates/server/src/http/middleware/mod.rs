//! Request-wide guards: the access log, the "no key in the URL" rule for `/api` ([`url_keys`]),
//! the security headers ([`security`]), and the same-origin rule for state-changing portal
//! requests.

mod security;
mod url_keys;

pub use security::{SecurityHeaders, secure_responses};
pub use url_keys::{
    DECODE_ROUNDS, Decoded, MAX_HEADER_BYTES, MAX_URL_BYTES, bound_request_heads, decode_bounded,
    looks_like_key, path_for_log, path_has_key, query_has_key, redact_keys, refuse_key_in_query,
};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;

use partlogic_types::FieldError;

use crate::domain::has_control_chars;
use crate::error::ApiError;

/// Logs one line per request: method, path, status and time. Never the query string, which is
/// where a careless client puts its key, and never headers; the path is decoded (a bounded number
/// of rounds), anything key-shaped in it redacted, and it is written quoted with its control
/// characters escaped, so that a `%0A` in a path cannot start a line of its own.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = path_for_log(req.path());
    let metrics = req
        .app_data::<actix_web::web::Data<crate::http::state::AppState>>()
        .and_then(|s| s.metrics.clone());
    let res = next.call(req).await;
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    if let Some(m) = metrics {
        // The route template the request matched, never the path as sent.
        let route = res.as_ref().ok().and_then(|r| r.request().match_pattern());
        m.record(route.as_deref(), &method, status, started.elapsed());
    }
    tracing::info!(
        %method,
        path = ?path,
        status,
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    res
}

/// `HEAD` is `GET` without the body (RFC 9110): it is routed as `GET`, and the HTTP layer, which
/// saw the `HEAD`, leaves the body out.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// Refuses query parameters holding control characters (NUL above all, which PostgreSQL cannot
/// store or compare) with 400 before any handler or query sees them, so both databases answer
/// the same.
pub async fn refuse_control_chars(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let bad: Vec<FieldError> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(name, value)| has_control_chars(name) || has_control_chars(value))
        .map(|(name, _)| FieldError {
            field: name.chars().filter(|c| !c.is_control()).collect(),
            message: "must not contain control characters".to_owned(),
        })
        .collect();
    if !bad.is_empty() {
        return Err(ApiError::InvalidParameters(bad).into());
    }
    next.call(req).await
}

/// What every Stock API answer says besides its body: when the calling key expires
/// (`PartLogic-Key-Expires`, on every answer to a key with an expiry), and, on a 401 to a client
/// that is not a browser page, a `Basic` challenge as well, so that tools which send Basic
/// credentials only when challenged (Power Query, some HTTP libraries) do so. A browser page
/// (the docs' Try it out) never gets a `Basic` challenge: it would pop up a password dialog.
pub async fn api_answers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    use actix_web::http::header;
    // Browsers mark their requests with Fetch Metadata (older ones at least call themselves
    // Mozilla/…); tools do neither (curl/…, PostmanRuntime/…, Microsoft.Data.Mashup, Zapier).
    let browser = req.headers().contains_key("sec-fetch-mode")
        || req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("Mozilla/"));
    let mut res = next.call(req).await?;
    let (expires, rate, used) = {
        let ext = res.request().extensions();
        (
            ext.get::<crate::keys::caller::KeyExpiry>().copied(),
            ext.get::<crate::keys::rate_limit::RateState>().copied(),
            ext.get::<crate::keys::caller::KeyUsed>().copied(),
        )
    };
    let needs = res
        .request()
        .extensions()
        .get::<crate::keys::caller::RequiredPermission>()
        .copied();
    if let Some(needs) = needs {
        res.headers_mut().insert(
            header::HeaderName::from_static("partlogic-required-permission"),
            HeaderValue::from_static(needs.0.as_str()),
        );
    }
    if let Some(rate) = rate {
        for (name, value) in [
            ("ratelimit-policy", rate.policy_field()),
            ("ratelimit", rate.limit_field()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut()
                    .insert(header::HeaderName::from_static(name), v);
            }
        }
    }
    if let Some(used) = used {
        count_use(&res, used);
    }
    if let Some(expiry) = expires
        && let Ok(v) = HeaderValue::from_str(&partlogic_types::rfc3339_millis::format(&expiry.0))
    {
        res.headers_mut()
            .insert(header::HeaderName::from_static("partlogic-key-expires"), v);
    }
    // Only refusals of a key: a leak report's bad signature is no invitation to log in.
    let key_refusal = res
        .response()
        .extensions()
        .get::<partlogic_types::ProblemCode>()
        .is_some_and(|c| {
            use partlogic_types::ProblemCode as P;
            matches!(
                c,
                P::MissingApiKey
                    | P::MalformedApiKey
                    | P::InvalidApiKey
                    | P::ApiKeyExpired
                    | P::ApiKeyRetired
            )
        });
    if res.status() == actix_web::http::StatusCode::UNAUTHORIZED && !browser && key_refusal {
        res.headers_mut().append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"PartLogic API\", charset=\"UTF-8\""),
        );
    }
    Ok(res)
}

/// Counts the answer in the key's usage, and a refusal in its history.
fn count_use<B>(res: &ServiceResponse<B>, used: crate::keys::caller::KeyUsed) {
    let Some(state) = res
        .request()
        .app_data::<actix_web::web::Data<crate::http::state::AppState>>()
    else {
        return;
    };
    let now = state.clock.now();
    let refused = if res.status().is_success() || res.status().is_redirection() {
        None
    } else {
        Some(
            res.response()
                .extensions()
                .get::<partlogic_types::ProblemCode>()
                .copied()
                .unwrap_or(partlogic_types::ProblemCode::InternalError),
        )
    };
    state.usage.request(used.key_id, now, refused);
    if let Some(code) = refused
        && !matches!(
            code,
            partlogic_types::ProblemCode::InternalError
                | partlogic_types::ProblemCode::ServiceUnavailable
                | partlogic_types::ProblemCode::ServerBusy
        )
    {
        state.usage.refused(crate::keys::usage::Refusal {
            key_id: used.key_id,
            account_id: used.account_id,
            code,
            ip: crate::http::net::client_ip(res.request(), state.settings.trust_proxy),
            at: now,
        });
    }
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
    // The request's own Host header, never X-Forwarded-Host: that one the client may set.
    let Some(host) = headers.get("host").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .map(|(_, authority)| authority.eq_ignore_ascii_case(host))
        .unwrap_or(false)
}
