//! The one error type: whatever refuses a request, in any layer, returns an [`ApiError`], and
//! the edge answers it as an RFC 9457 problem document (`application/problem+json`) with a
//! stable `code` (a `partlogic_types::ProblemCode`); internal causes are logged, never sent.
//! The extractor error handlers the edge installs (`json_error`, `path_error`) are here too, so
//! that every problem is built in one file.
//!
//! Foundation: uses only `db` (to tell an outage from a bad query).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use partlogic_types::{FieldError, Problem, ProblemCode};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No API key sent.
    #[error(
        "send your API key in the X-API-Key header (or as the user name of HTTP Basic, or as a Bearer token)"
    )]
    MissingApiKey,
    /// The credential does not hold a well-formed PartLogic key (prefix, length or checksum).
    #[error(
        "the API key sent is not a whole PartLogic key (they start with pl_ and are 52 characters long, letters and digits)"
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
    /// Two different keys in one request (say, `X-API-Key` and `Authorization`).
    #[error(
        "this request carries two different API keys; send one key, in one place (X-API-Key, or Authorization: Basic or Bearer)"
    )]
    ConflictingApiKeys,
    /// A key (or something that looks like one) in the URL.
    #[error(
        "API keys must not be sent in the URL, where logs and browser history keep them; send the key in the X-API-Key header and revoke any key that was put in a URL"
    )]
    ApiKeyInQuery,
    /// A `device` filter names a device outside the key's reach.
    #[error("device {0} is not one this API key may read")]
    DeviceNotInScope(i64),
    /// A key's device list names devices its owner may not use (403, with `errors`).
    #[error("some of these devices are not ones you may put on a key")]
    DevicesNotAllowed(Vec<FieldError>),
    /// Bad query parameters (400).
    #[error("some parameters are invalid")]
    InvalidParameters(Vec<FieldError>),
    /// A body whose fields break the rules (422).
    #[error("some fields are invalid")]
    Validation(Vec<FieldError>),
    /// A well-formed expiry date that is not allowed today (409).
    #[error("{}", .0.message)]
    ExpiryOutOfRange(FieldError),
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
    /// The key (or its account) already runs as many unpaged exports as it may.
    #[error(
        "{1} already has {0} exports running; wait for one to finish, or read pages with limit and after"
    )]
    TooManyStreams(usize, &'static str),
    /// A state-changing portal request from another site.
    #[error("this request came from another site and was refused")]
    CrossOrigin,
    /// The key used up its rate limit for this minute; carries the seconds until it resets.
    #[error(
        "this API key made as many requests this minute as its limit allows ({1}); try again in {0} seconds"
    )]
    RateLimited(u32, u32),
    /// A secret-scanning report without a valid signature.
    #[error("{0}")]
    InvalidSignature(&'static str),
    /// Something only account admins may do.
    #[error("{0}")]
    AdminOnly(&'static str),
    /// The key lacks the permission the operation needs (403).
    #[error(
        "this API key does not have the {} permission; its owner can give it in the portal (Integrations, the key's page, Permissions)",
        .0.as_str()
    )]
    PermissionDenied(partlogic_types::Permission),
    /// An `Idempotency-Key` reused with another body or endpoint (422).
    #[error(
        "this Idempotency-Key was already used with a different request; use a new key for a new request"
    )]
    IdempotencyKeyReused,
    /// An `Idempotency-Key` whose first request is still running (409).
    #[error(
        "a request with this Idempotency-Key is still being processed; retry in a moment to get its result"
    )]
    IdempotencyKeyInUse,
    /// The order is received or cancelled (409).
    #[error("order {0} is {1} and can no longer be changed")]
    OrderNotOpen(String, &'static str),
    /// The order has received lines (409).
    #[error("order {0} has received goods and can no longer be cancelled")]
    OrderPartlyReceived(String),
    /// The key has as many webhook endpoints as it may (409).
    #[error("this key already has {0} webhook endpoints, the most it may have; delete one first")]
    TooManyWebhooks(usize),
    /// A webhook URL that may not be called (422, naming the field).
    #[error("{}", .0.message)]
    WebhookUrlNotAllowed(FieldError),
    /// No key to keep webhook secrets with (503).
    #[error(
        "this server takes no webhook endpoints: its operator has not set PARTLOGIC_WEBHOOK_KEY"
    )]
    WebhooksNotConfigured,
    /// Nothing there (or nothing this caller may see, which must look the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A known path asked with a method it does not take; carries the `Allow` value.
    #[error("this path does not take {method}; it takes {allow}")]
    MethodNotAllowed {
        /// The method that was sent.
        method: String,
        /// The methods the path takes, as the `Allow` header lists them.
        allow: String,
    },
    /// A body larger than the endpoint accepts; carries the limit in bytes.
    #[error("the request body is larger than this endpoint accepts ({0} bytes)")]
    PayloadTooLarge(usize),
    /// A request target longer than the server reads; carries the limit in bytes.
    #[error(
        "the URL is longer than this server reads ({0} bytes); send fewer or shorter parameters"
    )]
    UriTooLong(usize),
    /// Request headers larger than the server reads; carries the limit in bytes.
    #[error("the request's headers are larger than this server reads ({0} bytes)")]
    HeadersTooLarge(usize),
    /// The key is retired and cannot be changed any more.
    #[error("this key is retired and can no longer be changed")]
    KeyRetired,
    /// `If-Match` named another version (of a key or an order) than the one stored, or another
    /// change of the same order came first.
    #[error(
        "someone changed this since you loaded it; reload it to see their change, then make yours again"
    )]
    PreconditionFailed,
    /// Every streaming slot (or every password check) is taken; try again shortly.
    #[error("the server is busy; try again in a few seconds")]
    Busy(u64),
    /// The database cannot be reached; try again shortly.
    #[error(
        "the service is unavailable for a moment (its database cannot be reached); try again shortly"
    )]
    Unavailable,
    /// Anything else: a database failure, a bug. Logged in full, sent as a bare 500.
    #[error("internal error")]
    Internal(String),
}

/// How long clients are asked to wait after a database outage answer.
const OUTAGE_RETRY_SECS: u64 = 5;

impl ApiError {
    /// The stable, machine-readable code integrations branch on.
    pub fn code(&self) -> ProblemCode {
        match self {
            Self::MissingApiKey => ProblemCode::MissingApiKey,
            Self::MalformedApiKey => ProblemCode::MalformedApiKey,
            Self::InvalidApiKey => ProblemCode::InvalidApiKey,
            Self::ApiKeyExpired(_) => ProblemCode::ApiKeyExpired,
            Self::ApiKeyRetired => ProblemCode::ApiKeyRetired,
            Self::ApiKeyInQuery => ProblemCode::ApiKeyInQuery,
            Self::ConflictingApiKeys => ProblemCode::ConflictingApiKeys,
            Self::DeviceNotInScope(_) | Self::DevicesNotAllowed(_) => ProblemCode::DeviceNotInScope,
            Self::InvalidParameters(_) => ProblemCode::InvalidParameters,
            Self::Validation(_) => ProblemCode::ValidationFailed,
            Self::ExpiryOutOfRange(_) => ProblemCode::ExpiryOutOfRange,
            Self::InvalidBody(_) => ProblemCode::InvalidBody,
            Self::UnsupportedMediaType => ProblemCode::UnsupportedMediaType,
            Self::NotLoggedIn => ProblemCode::NotLoggedIn,
            Self::InvalidCredentials => ProblemCode::InvalidCredentials,
            Self::TooManyAttempts(_) => ProblemCode::TooManyAttempts,
            Self::TooManyStreams(..) => ProblemCode::TooManyStreams,
            Self::CrossOrigin => ProblemCode::CrossOriginRefused,
            Self::RateLimited(..) => ProblemCode::RateLimited,
            Self::InvalidSignature(_) => ProblemCode::InvalidSignature,
            Self::AdminOnly(_) => ProblemCode::AdminOnly,
            Self::PermissionDenied(_) => ProblemCode::PermissionDenied,
            Self::IdempotencyKeyReused => ProblemCode::IdempotencyKeyReused,
            Self::IdempotencyKeyInUse => ProblemCode::IdempotencyKeyInUse,
            Self::OrderNotOpen(..) => ProblemCode::OrderNotOpen,
            Self::OrderPartlyReceived(_) => ProblemCode::OrderPartlyReceived,
            Self::TooManyWebhooks(_) => ProblemCode::TooManyWebhooks,
            Self::WebhookUrlNotAllowed(_) => ProblemCode::WebhookUrlNotAllowed,
            Self::WebhooksNotConfigured => ProblemCode::WebhooksNotConfigured,
            Self::NotFound(_) => ProblemCode::NotFound,
            Self::MethodNotAllowed { .. } => ProblemCode::MethodNotAllowed,
            Self::PayloadTooLarge(_) => ProblemCode::PayloadTooLarge,
            Self::UriTooLong(_) => ProblemCode::UriTooLong,
            Self::HeadersTooLarge(_) => ProblemCode::RequestHeadersTooLarge,
            Self::KeyRetired => ProblemCode::KeyRetired,
            Self::PreconditionFailed => ProblemCode::PreconditionFailed,
            Self::Busy(_) => ProblemCode::ServerBusy,
            Self::Unavailable => ProblemCode::ServiceUnavailable,
            Self::Internal(_) => ProblemCode::InternalError,
        }
    }

    fn title(&self) -> &'static str {
        match self.code() {
            ProblemCode::MissingApiKey => "API key missing",
            ProblemCode::MalformedApiKey => "API key malformed",
            ProblemCode::InvalidApiKey => "API key invalid",
            ProblemCode::ApiKeyExpired => "API key expired",
            ProblemCode::ApiKeyRetired => "API key retired",
            ProblemCode::ApiKeyInQuery => "API key in URL",
            ProblemCode::ConflictingApiKeys => "Conflicting API keys",
            ProblemCode::DeviceNotInScope => "Device not in scope",
            ProblemCode::InvalidParameters => "Invalid parameters",
            ProblemCode::ValidationFailed => "Validation failed",
            ProblemCode::ExpiryOutOfRange => "Expiry out of range",
            ProblemCode::InvalidBody => "Invalid request body",
            ProblemCode::UnsupportedMediaType => "Unsupported media type",
            ProblemCode::NotLoggedIn => "Not logged in",
            ProblemCode::InvalidCredentials => "Invalid credentials",
            ProblemCode::TooManyAttempts => "Too many attempts",
            ProblemCode::TooManyStreams => "Too many exports",
            ProblemCode::CrossOriginRefused => "Cross-origin request refused",
            ProblemCode::RateLimited => "Rate limit reached",
            ProblemCode::InvalidSignature => "Invalid signature",
            ProblemCode::AdminOnly => "Admins only",
            ProblemCode::PermissionDenied => "Permission denied",
            ProblemCode::IdempotencyKeyReused => "Idempotency key reused",
            ProblemCode::IdempotencyKeyInUse => "Idempotency key in use",
            ProblemCode::OrderNotOpen => "Order not open",
            ProblemCode::OrderPartlyReceived => "Order partly received",
            ProblemCode::TooManyWebhooks => "Too many webhook endpoints",
            ProblemCode::WebhookUrlNotAllowed => "Webhook URL not allowed",
            ProblemCode::WebhooksNotConfigured => "Webhooks not configured",
            ProblemCode::NotFound => "Not found",
            ProblemCode::MethodNotAllowed => "Method not allowed",
            ProblemCode::PayloadTooLarge => "Payload too large",
            ProblemCode::UriTooLong => "URI too long",
            ProblemCode::RequestHeadersTooLarge => "Request headers too large",
            ProblemCode::KeyRetired => "Key retired",
            ProblemCode::PreconditionFailed => "Precondition failed",
            ProblemCode::ServerBusy => "Server busy",
            ProblemCode::ServiceUnavailable => "Service unavailable",
            ProblemCode::InternalError => "Internal server error",
        }
    }

    /// The problem document this error is sent as.
    pub fn problem(&self) -> Problem {
        let errors = match self {
            Self::InvalidParameters(e) | Self::Validation(e) | Self::DevicesNotAllowed(e) => {
                e.clone()
            }
            Self::ExpiryOutOfRange(e) | Self::WebhookUrlNotAllowed(e) => vec![e.clone()],
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
            code: self.code(),
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
        match self.code() {
            ProblemCode::MissingApiKey
            | ProblemCode::MalformedApiKey
            | ProblemCode::InvalidApiKey
            | ProblemCode::ApiKeyExpired
            | ProblemCode::ApiKeyRetired
            | ProblemCode::NotLoggedIn
            | ProblemCode::InvalidSignature
            | ProblemCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ProblemCode::ApiKeyInQuery
            | ProblemCode::ConflictingApiKeys
            | ProblemCode::InvalidParameters
            | ProblemCode::InvalidBody => StatusCode::BAD_REQUEST,
            ProblemCode::DeviceNotInScope
            | ProblemCode::CrossOriginRefused
            | ProblemCode::AdminOnly
            | ProblemCode::PermissionDenied => StatusCode::FORBIDDEN,
            ProblemCode::NotFound => StatusCode::NOT_FOUND,
            ProblemCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::UriTooLong => StatusCode::URI_TOO_LONG,
            ProblemCode::RequestHeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ProblemCode::KeyRetired
            | ProblemCode::ExpiryOutOfRange
            | ProblemCode::IdempotencyKeyInUse
            | ProblemCode::OrderNotOpen
            | ProblemCode::OrderPartlyReceived
            | ProblemCode::TooManyWebhooks => StatusCode::CONFLICT,
            ProblemCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ProblemCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::ValidationFailed
            | ProblemCode::IdempotencyKeyReused
            | ProblemCode::WebhookUrlNotAllowed => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::TooManyAttempts
            | ProblemCode::TooManyStreams
            | ProblemCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::ServerBusy
            | ProblemCode::ServiceUnavailable
            | ProblemCode::WebhooksNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(%cause, "request failed"),
            Self::Unavailable => tracing::warn!("database unreachable; answered 503"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::TooManyAttempts(secs) | Self::Busy(secs) => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            Self::TooManyStreams(..) => {
                res.insert_header((header::RETRY_AFTER, "10"));
            }
            Self::IdempotencyKeyInUse => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::RateLimited(secs, _) => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            Self::Unavailable => {
                res.insert_header((header::RETRY_AFTER, OUTAGE_RETRY_SECS.to_string()));
            }
            Self::MethodNotAllowed { allow, .. } => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            Self::MissingApiKey
            | Self::MalformedApiKey
            | Self::InvalidApiKey
            | Self::ApiKeyExpired(_)
            | Self::ApiKeyRetired => {
                // RFC 9110 asks a 401 to name its schemes. Never `Basic` here: a browser would
                // pop up a password dialog; `middleware::api_answers` adds it for tools.
                res.append_header((header::WWW_AUTHENTICATE, "ApiKey header=\"X-API-Key\""))
                    .append_header((header::WWW_AUTHENTICATE, "Bearer realm=\"PartLogic API\""));
            }
            _ => {}
        }
        let mut res = res.body(serde_json::to_string(&self.problem()).unwrap_or_default());
        // For the usage counters: what a request was refused with.
        res.extensions_mut().insert(self.code());
        res
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        if crate::db::is_outage(&e) {
            tracing::warn!(error = %e, "database unreachable");
            Self::Unavailable
        } else {
            Self::Internal(format!("database: {e}"))
        }
    }
}

impl From<sea_orm::TransactionError<sea_orm::DbErr>> for ApiError {
    fn from(e: sea_orm::TransactionError<sea_orm::DbErr>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(e)
            | sea_orm::TransactionError::Transaction(e) => e.into(),
        }
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
        J::OverflowKnownLength { limit, .. } | J::Overflow { limit } => {
            ApiError::PayloadTooLarge(limit)
        }
        other => ApiError::InvalidBody(format!("the body could not be read: {other}")),
    }
    .into()
}

/// serde's messages quote the offending value ("invalid type: integer `123456`, expected a
/// string"); that value may be a password, so keep only what was expected and where.
pub(crate) fn without_values(message: &str) -> String {
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
