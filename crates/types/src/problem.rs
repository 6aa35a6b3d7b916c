//! Errors: the RFC 9457 problem document every refusal carries, its stable `ProblemCode`, and
//! per-field errors.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// An RFC 9457 problem document, the body of every error PartLogic returns
/// (`Content-Type: application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:partlogic:problem:<code>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short, fixed summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, in words meant for a person.
    pub detail: String,
    /// A stable, machine-readable code; integrations should branch on this.
    pub code: ProblemCode,
    /// Per-field errors, for invalid parameters or bodies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The stable, machine-readable `code` of every problem document. Integrations branch on it;
/// the server and the portal share this one list, so neither spells a code by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// 400: a key (or something shaped like one) in the URL.
    ApiKeyInQuery,
    /// 400: two different keys in one request (say, `X-API-Key` and `Authorization`).
    ConflictingApiKeys,
    /// 400: bad query parameters; see `errors`.
    InvalidParameters,
    /// 400: a body that is not the JSON the endpoint expects.
    InvalidBody,
    /// 401: no API key sent.
    MissingApiKey,
    /// 401: the credential is not shaped like a PartLogic key.
    MalformedApiKey,
    /// 401: a well-formed key the server does not know (or whose owner is disabled).
    InvalidApiKey,
    /// 401: the key's expiry date has passed.
    ApiKeyExpired,
    /// 401: the key was retired.
    ApiKeyRetired,
    /// 401: a secret-scanning report whose signature is missing or does not verify.
    InvalidSignature,
    /// 401: no valid portal session.
    NotLoggedIn,
    /// 401: wrong email or password.
    InvalidCredentials,
    /// 403: a device outside the key's reach.
    DeviceNotInScope,
    /// 403: a state-changing portal request from another site.
    CrossOriginRefused,
    /// 403: something only an account admin may do (set a key's rate limit).
    AdminOnly,
    /// 403: the key lacks the permission this operation needs (named in the problem and in
    /// `PartLogic-Required-Permission`).
    PermissionDenied,
    /// 404: nothing there (or nothing this caller may see).
    NotFound,
    /// 405: the path exists but not with this method; see `Allow`.
    MethodNotAllowed,
    /// 413: the request body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// 414: the URL (path and query) is longer than the server reads.
    UriTooLong,
    /// 431: the request's headers are larger than the server reads.
    RequestHeadersTooLarge,
    /// 409: the key is retired and can no longer be changed.
    KeyRetired,
    /// 409: a well-formed expiry date outside what is allowed today (already over, or more than
    /// five years ahead).
    ExpiryOutOfRange,
    /// 409: an `Idempotency-Key` whose first request is still being processed; retry shortly.
    IdempotencyKeyInUse,
    /// 409: the order is no longer open (received or cancelled).
    OrderNotOpen,
    /// 409: the order has received lines and can no longer be cancelled.
    OrderPartlyReceived,
    /// 409: the key already has as many webhook endpoints as it may (10).
    TooManyWebhooks,
    /// 412: the key changed since it was read (`If-Match` did not match its `ETag`).
    PreconditionFailed,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: body fields break the rules; see `errors`.
    ValidationFailed,
    /// 422: an `Idempotency-Key` already used with a different body or endpoint.
    IdempotencyKeyReused,
    /// 422: a webhook URL that may not be called: not `https`, with a user name or password,
    /// or naming (or resolving to) a loopback, private, link-local or metadata address.
    WebhookUrlNotAllowed,
    /// 429: too many failed logins; see `Retry-After`.
    TooManyAttempts,
    /// 429: this key already has as many unpaged exports running as it may; see `Retry-After`.
    TooManyStreams,
    /// 429: this key made as many requests this minute as its rate limit allows; see
    /// `Retry-After` and the `RateLimit` field.
    RateLimited,
    /// 503: the server is busy with other exports; see `Retry-After`.
    ServerBusy,
    /// 503: the database cannot be reached; see `Retry-After`.
    ServiceUnavailable,
    /// 503: this server has no key to keep webhook signing secrets with
    /// (`PARTLOGIC_WEBHOOK_KEY`), so it takes no webhook endpoints.
    WebhooksNotConfigured,
    /// 500: a fault on the server's side (logged there, never described here).
    InternalError,
}

impl ProblemCode {
    /// The code as it appears on the wire (`not_logged_in`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKeyInQuery => "api_key_in_query",
            Self::ConflictingApiKeys => "conflicting_api_keys",
            Self::InvalidParameters => "invalid_parameters",
            Self::InvalidBody => "invalid_body",
            Self::MissingApiKey => "missing_api_key",
            Self::MalformedApiKey => "malformed_api_key",
            Self::InvalidApiKey => "invalid_api_key",
            Self::ApiKeyExpired => "api_key_expired",
            Self::ApiKeyRetired => "api_key_retired",
            Self::InvalidSignature => "invalid_signature",
            Self::NotLoggedIn => "not_logged_in",
            Self::InvalidCredentials => "invalid_credentials",
            Self::DeviceNotInScope => "device_not_in_scope",
            Self::CrossOriginRefused => "cross_origin_refused",
            Self::AdminOnly => "admin_only",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UriTooLong => "uri_too_long",
            Self::RequestHeadersTooLarge => "request_headers_too_large",
            Self::KeyRetired => "key_retired",
            Self::ExpiryOutOfRange => "expiry_out_of_range",
            Self::PreconditionFailed => "precondition_failed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ValidationFailed => "validation_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::OrderNotOpen => "order_not_open",
            Self::OrderPartlyReceived => "order_partly_received",
            Self::TooManyWebhooks => "too_many_webhooks",
            Self::WebhookUrlNotAllowed => "webhook_url_not_allowed",
            Self::WebhooksNotConfigured => "webhooks_not_configured",
            Self::TooManyAttempts => "too_many_attempts",
            Self::TooManyStreams => "too_many_streams",
            Self::RateLimited => "rate_limited",
            Self::ServerBusy => "server_busy",
            Self::ServiceUnavailable => "service_unavailable",
            Self::InternalError => "internal_error",
        }
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldError {
    /// The field (body property or query parameter) at fault.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}
