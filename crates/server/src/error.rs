//! The one error type of the HTTP layer. Every refusal becomes an RFC 9457 problem document
//! (`application/problem+json`) with a stable `code`; internal causes are logged, never sent.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use partlogic_types::{FieldError, Problem};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `X-API-Key` header.
    #[error("send your API key in the X-API-Key header")]
    MissingApiKey,
    /// The header does not hold a well-formed PartLogic key (prefix, length or checksum).
    #[error(
        "the X-API-Key header does not hold a PartLogic API key (they start with pl_ and are 52 characters long)"
    )]
    MalformedApiKey,
    /// A well-formed key that the server does not know, or whose owner is disabled.
    #[error("this API key is not valid")]
    InvalidApiKey,
    /// The key's expiry date has passed.
    #[error("this API key expired at {0}")]
    ApiKeyExpired(String),
    /// The key was retired in the portal.
    #[error("this API key has been retired")]
    ApiKeyRetired,
    /// A key (or something that looks like one) in the query string.
    #[error(
        "API keys must not be sent in the URL, where logs and browser history keep them; send the key in the X-API-Key header and revoke any key that was put in a URL"
    )]
    ApiKeyInQuery,
    /// A `device` filter names a device outside the key's reach.
    #[error("device {0} is not one this API key may read")]
    DeviceNotInScope(i64),
    /// Bad query parameters (400).
    #[error("some parameters are invalid")]
    InvalidParameters(Vec<FieldError>),
    /// A body whose fields break the rules (422).
    #[error("some fields are invalid")]
    Validation(Vec<FieldError>),
    /// A body that is not the JSON the endpoint expects.
    #[error("{0}")]
    InvalidBody(String),
    /// A body that is not JSON at all.
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// No valid session cookie.
    #[error("log in first")]
    NotLoggedIn,
    /// Wrong email or password (deliberately not saying which).
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// Too many failed logins recently.
    #[error("too many failed logins; try again in {0} seconds")]
    TooManyAttempts(u64),
    /// A state-changing portal request from another site.
    #[error("this request came from another site and was refused")]
    CrossOrigin,
    /// Nothing there (or nothing this caller may see, which must look the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The key is retired and cannot be changed any more.
    #[error("this key is retired and can no longer be changed")]
    KeyRetired,
    /// Every streaming slot is taken; try again shortly.
    #[error("the server is busy with other exports; try again in a few seconds")]
    Busy(u64),
    /// Anything else: a database failure, a bug. Logged in full, sent as a bare 500.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The stable, machine-readable code integrations branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingApiKey => "missing_api_key",
            Self::MalformedApiKey => "malformed_api_key",
            Self::InvalidApiKey => "invalid_api_key",
            Self::ApiKeyExpired(_) => "api_key_expired",
            Self::ApiKeyRetired => "api_key_retired",
            Self::ApiKeyInQuery => "api_key_in_query",
            Self::DeviceNotInScope(_) => "device_not_in_scope",
            Self::InvalidParameters(_) => "invalid_parameters",
            Self::Validation(_) => "validation_failed",
            Self::InvalidBody(_) => "invalid_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotLoggedIn => "not_logged_in",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TooManyAttempts(_) => "too_many_attempts",
            Self::CrossOrigin => "cross_origin_refused",
            Self::NotFound(_) => "not_found",
            Self::KeyRetired => "key_retired",
            Self::Busy(_) => "server_busy",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::MissingApiKey => "API key missing",
            Self::MalformedApiKey => "API key malformed",
            Self::InvalidApiKey => "API key invalid",
            Self::ApiKeyExpired(_) => "API key expired",
            Self::ApiKeyRetired => "API key retired",
            Self::ApiKeyInQuery => "API key in URL",
            Self::DeviceNotInScope(_) => "Device not in scope",
            Self::InvalidParameters(_) => "Invalid parameters",
            Self::Validation(_) => "Validation failed",
            Self::InvalidBody(_) => "Invalid request body",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::NotLoggedIn => "Not logged in",
            Self::InvalidCredentials => "Invalid credentials",
            Self::TooManyAttempts(_) => "Too many attempts",
            Self::CrossOrigin => "Cross-origin request refused",
            Self::NotFound(_) => "Not found",
            Self::KeyRetired => "Key retired",
            Self::Busy(_) => "Server busy",
            Self::Internal(_) => "Internal server error",
        }
    }

    /// The problem document this error is sent as.
    pub fn problem(&self) -> Problem {
        let errors = match self {
            Self::InvalidParameters(e) | Self::Validation(e) => e.clone(),
            _ => Vec::new(),
        };
        let detail = match self {
            // The cause stays in the log: it may name tables, values or hosts.
            Self::Internal(_) => "something went wrong on our side; it has been logged".to_owned(),
            other => other.to_string(),
        };
        Problem {
            type_uri: format!("urn:partlogic:problem:{}", self.code()),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail,
            code: self.code().to_owned(),
            errors,
        }
    }

    /// A 422 about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingApiKey
            | Self::MalformedApiKey
            | Self::InvalidApiKey
            | Self::ApiKeyExpired(_)
            | Self::ApiKeyRetired
            | Self::NotLoggedIn
            | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::ApiKeyInQuery | Self::InvalidParameters(_) | Self::InvalidBody(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::DeviceNotInScope(_) | Self::CrossOrigin => StatusCode::FORBIDDEN,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::KeyRetired => StatusCode::CONFLICT,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::TooManyAttempts(secs) | Self::Busy(secs) => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            Self::MissingApiKey
            | Self::MalformedApiKey
            | Self::InvalidApiKey
            | Self::ApiKeyExpired(_)
            | Self::ApiKeyRetired => {
                // RFC 9110 asks a 401 to name its scheme; clients show this to people.
                res.insert_header((header::WWW_AUTHENTICATE, "ApiKey header=\"X-API-Key\""));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

impl From<sea_orm::TransactionError<sea_orm::DbErr>> for ApiError {
    fn from(e: sea_orm::TransactionError<sea_orm::DbErr>) -> Self {
        Self::Internal(format!("database transaction: {e}"))
    }
}

/// Turns actix's own extractor failures (bad JSON, wrong content type, bad path segment) into
/// problem documents, so no client ever gets a text/plain error.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::ContentType => ApiError::UnsupportedMediaType,
        J::Deserialize(e) => ApiError::InvalidBody(format!(
            "the body is not valid JSON for this request: {}",
            without_values(&e.to_string())
        )),
        J::OverflowKnownLength { .. } | J::Overflow { .. } => {
            ApiError::InvalidBody("the body is too large".to_owned())
        }
        other => ApiError::InvalidBody(format!("the body could not be read: {other}")),
    }
    .into()
}

/// serde's messages quote the offending value ("invalid type: integer `123456`, expected a
/// string"); that value may be a password, so keep only what was expected and where.
fn without_values(message: &str) -> String {
    for kind in ["invalid type", "invalid value", "invalid length"] {
        if let Some(rest) = message.strip_prefix(kind)
            && let Some(at) = rest.find(", expected")
        {
            return format!("{kind}{}", &rest[at..]);
        }
    }
    message.to_owned()
}

/// Path parameters that do not parse (`/keys/abc`) name nothing that exists.
pub fn path_error(
    _err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::NotFound("resource").into()
}
