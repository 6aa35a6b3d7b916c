//! Where a Stock API request may carry its key: the `X-API-Key` header, HTTP Basic
//! (`Authorization: Basic base64("<key>:")`, the key as the user name and the password ignored,
//! as Stripe does; for tools that only do Basic, such as Zapier's Retrieve Poll and Power Query's
//! credential store), or `Authorization: Bearer <key>`. Every route checks the key the same way
//! whichever way it came.

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;

use crate::error::ApiError;

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
    for value in req.headers().get_all(super::api_key::HEADER) {
        let v = value
            .to_str()
            .map_err(|_| ApiError::MalformedApiKey)?
            .trim();
        if !v.is_empty() {
            offer(v.to_owned())?;
        }
    }
    for value in req.headers().get_all(header::AUTHORIZATION) {
        let v = value
            .to_str()
            .map_err(|_| ApiError::MalformedApiKey)?
            .trim();
        if let Some(key) = from_authorization(v)? {
            offer(key)?;
        }
    }
    found.ok_or(ApiError::MissingApiKey)
}

/// The key in an `Authorization` value, if it uses Basic or Bearer (other schemes are not ours
/// and are left alone).
fn from_authorization(value: &str) -> Result<Option<String>, ApiError> {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok((!rest.is_empty()).then(|| rest.to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(ApiError::MalformedApiKey)?;
    // The key is the user name; a tool that only lets people fill in a password gets the same
    // welcome with an empty user name.
    let (user, password) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
    let key = if user.trim().is_empty() {
        password.trim()
    } else {
        user.trim()
    };
    Ok((!key.is_empty()).then(|| key.to_owned()))
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
        let r = TestRequest::default()
            .insert_header(("Authorization", "Basic %%%"))
            .to_http_request();
        assert!(matches!(presented_key(&r), Err(ApiError::MalformedApiKey)));
        let r = TestRequest::default()
            .insert_header(("Authorization", "Digest x"))
            .to_http_request();
        assert!(matches!(presented_key(&r), Err(ApiError::MissingApiKey)));
    }
}
