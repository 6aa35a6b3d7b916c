//! Where a Stock API request may carry its key: the `X-API-Key` header, HTTP Basic
//! (`Authorization: Basic base64("<key>:")`, the key as the user name and the password ignored,
//! as Stripe does; for tools that only do Basic, such as Zapier's Retrieve Poll and Power Query's
//! credential store), or `Authorization: Bearer <key>`. Every route checks the key the same way
//! whichever way it came.

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;

use crate::error::ApiError;

/// The header that carries the key.
pub const HEADER: &str = "X-API-Key";

/// The key a request presents, from whichever of the three places it is in. Several places
/// naming the same key is fine; naming different keys is refused (`conflicting_api_keys`) rather
/// than guessing which one was meant.
pub(crate) fn presented_key(req: &HttpRequest) -> Result<String, ApiError> {
    let mut found: Option<String> = None;
    let mut offer = |candidate: String| -> Result<(), ApiError> {
        match &found {
            Some(k) if *k != candidate => Err(ApiError::ConflictingApiKeys),
            Some(_) => Ok(()),
            None => {
                found = Some(candidate);
                Ok(())
            }
        }
    };
    for value in req.headers().get_all(HEADER) {
        let v = value
            .to_str()
            .map_err(|_| ApiError::MalformedApiKey)?
            .trim();
        if !v.is_empty() {
            offer(v.to_owned())?;
        }
    }
    for value in req.headers().get_all(header::AUTHORIZATION) {
        // Not text: not one of ours (a proxy's, say); leave it be.
        let Ok(v) = value.to_str() else { continue };
        if let Some(key) = from_authorization(v.trim())? {
            offer(key)?;
        }
    }
    found.ok_or(ApiError::MissingApiKey)
}

/// Whether `candidate` is meant as a PartLogic key (well-formed or not): only those take part.
/// Other credentials in `Authorization` (a proxy's Basic login, an SSO token, a `.netrc` entry
/// that a client library adds by itself) belong to someone else and are left alone.
fn meant_as_key(candidate: &str) -> bool {
    candidate.starts_with(crate::keys::PREFIX)
}

/// The key in an `Authorization` value, if it uses Basic or Bearer (other schemes are not ours
/// and are left alone).
fn from_authorization(value: &str) -> Result<Option<String>, ApiError> {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(meant_as_key(rest).then(|| rest.to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let Some(decoded) = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        // Not Basic as anyone writes it: not a key of ours either.
        return Ok(None);
    };
    // The key is the user name; a tool that only lets people fill in a password gets the same
    // welcome with an empty user name.
    let (user, password) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
    let key = if user.trim().is_empty() {
        password.trim()
    } else {
        user.trim()
    };
    Ok(meant_as_key(key).then(|| key.to_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn basic(s: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }

    #[test]
    fn reads_each_place_and_refuses_disagreement() {
        let k = "pl_abc";
        let r = TestRequest::default()
            .insert_header(("X-API-Key", k))
            .to_http_request();
        assert_eq!(presented_key(&r).unwrap(), k);
        let r = TestRequest::default()
            .insert_header(("Authorization", basic("pl_abc:")))
            .to_http_request();
        assert_eq!(presented_key(&r).unwrap(), k);
        let r = TestRequest::default()
            .insert_header(("Authorization", basic(":pl_abc")))
            .to_http_request();
        assert_eq!(presented_key(&r).unwrap(), k);
        let r = TestRequest::default()
            .insert_header(("Authorization", "bearer pl_abc"))
            .to_http_request();
        assert_eq!(presented_key(&r).unwrap(), k);
        let r = TestRequest::default()
            .insert_header(("X-API-Key", k))
            .insert_header(("Authorization", "Bearer pl_abc"))
            .to_http_request();
        assert_eq!(presented_key(&r).unwrap(), k);
        let r = TestRequest::default()
            .insert_header(("X-API-Key", k))
            .insert_header(("Authorization", "Bearer pl_other"))
            .to_http_request();
        assert!(matches!(
            presented_key(&r),
            Err(ApiError::ConflictingApiKeys)
        ));
        // Someone else's credentials are not keys: not a conflict, and alone, no key at all.
        let r = TestRequest::default()
            .insert_header(("X-API-Key", k))
            .insert_header(("Authorization", basic("proxy-user:proxy-pass")))
            .to_http_request();
        assert_eq!(presented_key(&r).unwrap(), k);
        let r = TestRequest::default()
            .insert_header(("Authorization", "Bearer eyJhbGciOi.sso.token"))
            .to_http_request();
        assert!(matches!(presented_key(&r), Err(ApiError::MissingApiKey)));
        let r = TestRequest::default()
            .insert_header(("Authorization", "Basic %%%"))
            .to_http_request();
        assert!(matches!(presented_key(&r), Err(ApiError::MissingApiKey)));
        let r = TestRequest::default()
            .insert_header(("Authorization", "Digest x"))
            .to_http_request();
        assert!(matches!(presented_key(&r), Err(ApiError::MissingApiKey)));
    }
}
