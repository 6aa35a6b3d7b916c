//! Request-wide guards: the access log, the "no key in the URL" rule for `/api`, and the
//! same-origin rule for state-changing portal requests.

use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;

use partlogic_types::FieldError;

use crate::domain::has_control_chars;
use crate::error::ApiError;
use crate::keys;

/// Logs one line per request: method, path, status and time. Never the query string, which is
/// where a careless client puts its key, and never headers; the path is decoded and anything
/// key-shaped in it redacted, however it was percent-encoded.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = redact_keys(&decode_fully(req.path()));
    let metrics = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
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
        path = %path,
        status,
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    res
}

/// `text` percent-decoded until it stops changing, so no depth of encoding (`%255F`,
/// `%2525255F`, …) hides a `_` from the key scanner; invalid UTF-8 is replaced. Each round that
/// changes anything makes the text shorter, so this ends.
pub fn decode_fully(text: &str) -> String {
    let mut current = text.to_owned();
    while current.contains('%') {
        let next = percent_encoding::percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// The security headers of one server: fixed but for the portal's inline loader script, whose
/// hash the CSP names.
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    csp: HeaderValue,
    docs_csp: HeaderValue,
    hsts: bool,
}

impl SecurityHeaders {
    /// Headers allowing `inline_script_hashes` (`'sha256-…'` sources) besides same-origin
    /// scripts; `hsts` adds `Strict-Transport-Security` (only behind HTTPS).
    pub fn new(inline_script_hashes: &[String], hsts: bool) -> Self {
        Self {
            csp: Self::portal_csp(inline_script_hashes),
            // The vendored Swagger UI sets one inline style as it renders; the docs page holds
            // no session and runs no inline script, so only its styles are loosened.
            docs_csp: policy("", " 'unsafe-inline'"),
            hsts,
        }
    }

    /// The portal's policy: same-origin scripts, WebAssembly compiled by the page itself
    /// ('wasm-unsafe-eval' allows that and nothing else of eval), and exactly the inline
    /// scripts whose hashes are given.
    pub fn portal_csp(inline_script_hashes: &[String]) -> HeaderValue {
        let hashes: String = inline_script_hashes
            .iter()
            .map(|h| format!(" {h}"))
            .collect();
        policy(&format!(" 'wasm-unsafe-eval'{hashes}"), "")
    }
}

/// A same-origin policy with extra script and style sources; images may be data: URLs (the
/// docs UI's icons) and nobody may frame any page.
fn policy(scripts: &str, styles: &str) -> HeaderValue {
    let csp = format!(
        "default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

impl SecurityHeaders {
    fn apply(&self, docs: bool, headers: &mut actix_web::http::header::HeaderMap) {
        use actix_web::http::header;
        // The portal's index.html brings its own policy (naming the hash of the loader script
        // it holds now, so a rebuilt SPA works without a restart).
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            let csp = if docs { &self.docs_csp } else { &self.csp };
            headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if self.hsts {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            );
        }
    }
}

/// The outermost layer but for the access log: every answer, whether a handler's, a refusal by
/// another middleware or a caught panic, leaves with the security headers. A panic becomes a
/// plain 500 problem (its message, which might hold request data, is never sent, and the panic
/// hook never logs it).
pub async fn secure_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    use futures_util::FutureExt;
    // Not the request itself: routing needs it unshared.
    let headers = req
        .app_data::<actix_web::web::Data<SecurityHeaders>>()
        .cloned();
    let docs = req.path().starts_with("/api/docs");
    let outcome = std::panic::AssertUnwindSafe(next.call(req))
        .catch_unwind()
        .await;
    // Refusals arrive as errors, which become responses only after every middleware has run:
    // build the response here, with the headers, and hand it on as a finished error.
    let finished = |error: &dyn ResponseError, cause: String| {
        let mut res = error.error_response();
        if let Some(h) = &headers {
            h.apply(docs, res.headers_mut());
        }
        actix_web::error::InternalError::from_response(cause, res).into()
    };
    match outcome {
        Ok(Ok(mut res)) => {
            if let Some(h) = &headers {
                h.apply(docs, res.headers_mut());
            }
            Ok(res.map_into_boxed_body())
        }
        Ok(Err(e)) => Err(finished(e.as_response_error(), e.to_string())),
        Err(_) => {
            let e = ApiError::Internal("a request handler panicked".to_owned());
            Err(finished(&e, "panic".to_owned()))
        }
    }
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
/// least 20 letters and digits. Ranges never overlap and come in order: the search resumes after
/// each match (`pl_aaaa…apl_bbbb…` is one lookalike, not two that cross).
fn key_lookalikes(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let prefix = keys::PREFIX.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at + prefix.len() <= bytes.len() {
            let start = at;
            if bytes[start..].starts_with(prefix) {
                let body = start + prefix.len();
                let run = bytes[body..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .count();
                if run >= KEY_LOOKALIKE_CHARS {
                    at = body + run;
                    return Some((start, at));
                }
            }
            at += 1;
        }
        None
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
    looks_like_key(&decode_fully(query))
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

/// Refuses any request under `/api` (the docs and the OpenAPI document included) with a key in
/// its URL (query string or path), even if its header is valid: the key is already in
/// somebody's logs and its owner needs to hear that.
pub async fn refuse_key_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let api = req.path() == "/api" || req.path().starts_with("/api/");
    if api && (query_has_key(req.query_string()) || looks_like_key(&decode_fully(req.path()))) {
        return Err(ApiError::ApiKeyInQuery.into());
    }
    next.call(req).await
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
            ext.get::<crate::auth::api_key::KeyExpiry>().copied(),
            ext.get::<crate::auth::rate_limit::RateState>().copied(),
            ext.get::<crate::auth::api_key::KeyUsed>().copied(),
        )
    };
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
fn count_use<B>(res: &ServiceResponse<B>, used: crate::auth::api_key::KeyUsed) {
    let Some(state) = res
        .request()
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
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
        state.usage.refused(crate::usage::Refusal {
            key_id: used.key_id,
            account_id: used.account_id,
            code,
            ip: crate::net::client_ip(res.request(), state.settings.trust_proxy),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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
    fn overlapping_lookalikes_are_one_match() {
        let path = "/pl_aaaaaaaaaaaaaaaaaaaapl_bbbbbbbbbbbbbbbbbbbb";
        assert_eq!(
            super::redact_keys(path),
            "/pl_[redacted]_bbbbbbbbbbbbbbbbbbbb"
        );
        assert!(super::looks_like_key(path));
    }

    #[test]
    fn percent_encoded_keys_are_found() {
        let key = "pl_0123456789abcdefghijklmnop";
        let encoded = "/api/pl%5F0123456789abcdefghijklmnop";
        assert!(super::looks_like_key(&super::decode_fully(encoded)));
        let twice = "/api/pl%255F0123456789abcdefghijklmnop";
        assert!(super::looks_like_key(&super::decode_fully(twice)));
        assert!(!super::redact_keys(&super::decode_fully(encoded)).contains(&key[3..]));
        assert!(query_has_key("x=pl%255F0123456789abcdefghijklmnop"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// No path, however odd, can panic the scanner, and nothing key-shaped survives redaction.
        #[test]
        fn the_scanner_never_panics_and_always_redacts(
            path in proptest::string::string_regex("(/|pl_|[a-zA-Z0-9]{1,25}|%5F|%|_|\\PC){0,40}").unwrap()
        ) {
            let decoded = super::decode_fully(&path);
            let redacted = super::redact_keys(&decoded);
            proptest::prop_assert!(!super::looks_like_key(&redacted));
            let _ = super::query_has_key(&path);
        }
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
