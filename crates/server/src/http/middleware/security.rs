//! The security headers every answer leaves with, and the outermost guard that turns refusals and
//! caught panics into finished answers carrying them.

use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;

use crate::error::ApiError;

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
