//! The wire types of PartLogic: what the Stock API answers and what the portal SPA sends and
//! receives. This crate is the boundary between server and browser, so it holds serde types only
//! and builds for `wasm32-unknown-unknown`; the `openapi` feature adds `utoipa::ToSchema` derives
//! for the server's OpenAPI spec.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Serialises timestamps as RFC 3339 in UTC with exactly three fractional digits and `Z`
/// (`2026-01-01T12:00:00.000Z`): spreadsheet and Zapier parsers cope with that form best, and a
/// fixed width keeps values sortable as text.
pub mod rfc3339_millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Formats `t` the one way every PartLogic timestamp is written.
    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// serde `serialize_with` target.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    /// serde `deserialize_with` target (accepts any RFC 3339 offset).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same for `Option<DateTime<Utc>>` (`null` when absent).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        /// serde `serialize_with` target.
        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::format(t)),
                None => s.serialize_none(),
            }
        }

        /// serde `deserialize_with` target.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let raw = Option::<String>::deserialize(d)?;
            raw.map(|raw| {
                DateTime::parse_from_rfc3339(&raw)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// Whole numbers as JSON Schema counts them: `250` and `250.0` are the same integer, so a client
/// whose JSON library writes every number as a float is not refused.
pub mod whole_numbers {
    use serde::de::{self, Deserializer, SeqAccess, Visitor};

    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("a whole number that is too large"))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // 2^63 is exactly representable; anything at or past it does not fit an i64.
            const LIMIT: f64 = 9_223_372_036_854_775_808.0;
            if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
                Ok(v as i64)
            } else {
                Err(E::custom("a whole number"))
            }
        }
    }

    struct WholeSeq;

    impl<'de> Visitor<'de> for WholeSeq {
        type Value = Vec<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of whole numbers")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<i64>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(n) = seq.next_element::<One>()? {
                out.push(n.0);
            }
            Ok(out)
        }
    }

    struct One(i64);

    impl<'de> de::Deserialize<'de> for One {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Whole).map(One)
        }
    }

    /// serde `deserialize_with` target for `Vec<i64>`.
    pub fn vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        d.deserialize_seq(WholeSeq)
    }

    /// serde `deserialize_with` target for a field that may be absent (outer `None`, with
    /// `#[serde(default)]`), `null` (`Some(None)`) or a whole number.
    pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        option(d).map(Some)
    }

    /// serde `deserialize_with` target for `Option<Vec<i64>>` (`null` is `None`).
    pub fn option_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
        struct Wrapper(Vec<i64>);
        impl<'de> de::Deserialize<'de> for Wrapper {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                vec(d).map(Wrapper)
            }
        }
        Ok(Option::<Wrapper>::deserialize(d)?.map(|w| w.0))
    }

    /// serde `deserialize_with` target for `Option<i64>` (`null` is `None`).
    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(Option::<One>::deserialize(d)?.map(|o| o.0))
    }

    use serde::Deserialize as _;
}

/// The characters a name may not hold, as inclusive ranges: control characters, and the
/// invisible and direction-changing ones that make a name read as something it is not
/// (zero-width spaces and joiners, the combining grapheme joiner, bidi embeddings, overrides and
/// isolates, variation selectors, Mongolian selectors, the BOM, Hangul fillers, shorthand format
/// controls, musical-symbol format controls, and the tag characters). The OpenAPI document
/// states the rules with [`forbidden_class`]; [`is_forbidden_in_names`] applies them.
pub const FORBIDDEN_IN_NAMES: &[(char, char)] = &[
    ('\u{0}', '\u{1f}'),
    ('\u{7f}', '\u{9f}'),
    ('\u{ad}', '\u{ad}'),
    ('\u{34f}', '\u{34f}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{115f}', '\u{1160}'),
    ('\u{17b4}', '\u{17b5}'),
    ('\u{180b}', '\u{180f}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{2028}', '\u{202e}'),
    ('\u{2060}', '\u{206f}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{fe00}', '\u{fe0f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{ffa0}', '\u{ffa0}'),
    ('\u{fff9}', '\u{fffb}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0000}', '\u{e007f}'),
    ('\u{e0100}', '\u{e01ef}'),
];

/// The spaces trimmed from both ends of a name (Unicode's space separators), as ranges.
pub const NAME_SPACES: &[(char, char)] = &[
    (' ', ' '),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// Whether `c` may not appear in a name or other text field (see [`FORBIDDEN_IN_NAMES`]).
pub fn is_forbidden_in_names(c: char) -> bool {
    FORBIDDEN_IN_NAMES
        .iter()
        .any(|(from, to)| (*from..=*to).contains(&c))
}

/// `ranges` as the body of a regular expression character class that Python, Rust and
/// ECMAScript (with the `u` flag) read alike: characters of the Basic Multilingual Plane as
/// `\uXXXX` escapes, others as themselves.
pub fn character_class(ranges: &[(char, char)]) -> String {
    fn one(c: char) -> String {
        if (c as u32) <= 0xffff {
            format!("\\u{:04x}", c as u32)
        } else {
            c.to_string()
        }
    }
    ranges
        .iter()
        .map(|(from, to)| {
            if from == to {
                one(*from)
            } else {
                format!("{}-{}", one(*from), one(*to))
            }
        })
        .collect()
}

/// [`FORBIDDEN_IN_NAMES`] as a character class body.
pub fn forbidden_class() -> String {
    character_class(FORBIDDEN_IN_NAMES)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

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
    /// 412: the key changed since it was read (`If-Match` did not match its `ETag`).
    PreconditionFailed,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: body fields break the rules; see `errors`.
    ValidationFailed,
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

/// What happened to a key, as its history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A user created the key.
    Created,
    /// A user renamed it or changed its devices.
    Edited,
    /// A user retired it.
    Retired,
    /// The key was used for the first time.
    FirstUsed,
    /// A user rolled it: a new secret, the old one working for the overlap chosen.
    Rolled,
    /// It was refused (at most one event per reason and hour).
    Refused,
}

impl AuditAction {
    /// The action as stored and sent (`first_used`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Edited => "edited",
            Self::Retired => "retired",
            Self::FirstUsed => "first_used",
            Self::Rolled => "rolled",
            Self::Refused => "refused",
        }
    }

    /// The action stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Created,
            Self::Edited,
            Self::Retired,
            Self::FirstUsed,
            Self::Rolled,
            Self::Refused,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
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

// ---------------------------------------------------------------------------------------------
// Stock API (`/api`, authenticated by `X-API-Key`)
// ---------------------------------------------------------------------------------------------

/// The answer of `GET /api/ping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Ping {
    /// Always `true`.
    pub ok: bool,
    /// The server's clock, UTC with milliseconds.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub time: DateTime<Utc>,
}

/// The answer of `GET /api/health`: whether the server can do more than answer `/api/ping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    /// `true` when the database answers (status 200), `false` otherwise (status 503).
    pub ok: bool,
    /// `up` or `down`.
    pub database: DatabaseState,
    /// How long the database took to answer, in milliseconds (`null` when it did not).
    pub database_ms: Option<u64>,
    /// The server's clock, UTC with milliseconds.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub time: DateTime<Utc>,
}

/// Whether the database answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DatabaseState {
    /// It answered a trivial query within two seconds.
    Up,
    /// It did not.
    Down,
}

/// One stock row. The first seven names are the legacy ones existing integrations map, kept
/// exactly (including their capitals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockRow {
    /// The row's id; rows are returned in ascending id order.
    pub id: i64,
    /// The device (store room, tool crib, vending machine) holding the stock.
    #[serde(rename = "DeviceName")]
    pub device_name: String,
    /// The item code.
    #[serde(rename = "SKU")]
    pub sku: String,
    /// The item's description.
    #[serde(rename = "Description")]
    pub description: String,
    /// The quantity below which the item should be reordered.
    #[serde(rename = "MinQty")]
    pub min_qty: i64,
    /// The quantity to fill up to.
    #[serde(rename = "MaxQty")]
    pub max_qty: i64,
    /// The quantity physically in the device.
    #[serde(rename = "Physical")]
    pub physical: i64,
    /// The device's id (use it with `?device=`).
    #[serde(rename = "DeviceId")]
    pub device_id: i64,
    /// The customer (site) the device belongs to.
    #[serde(rename = "Customer")]
    pub customer: String,
    /// Where in the device the item is kept (bin, shelf); may be empty.
    #[serde(rename = "Location")]
    pub location: String,
    /// When the row last changed.
    #[serde(rename = "UpdatedAt", with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub updated_at: DateTime<Utc>,
}

/// Which way a stock row crossed its minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// `Physical` fell below `MinQty`.
    BelowMin,
    /// `Physical` came back to `MinQty` or above.
    Restocked,
}

impl AlertKind {
    /// The kind as stored and sent (`below_min`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BelowMin => "below_min",
            Self::Restocked => "restocked",
        }
    }

    /// The kind written `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::BelowMin, Self::Restocked]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One crossing of a stock row's minimum, as `GET /api/stock/alerts` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockAlert {
    /// Unique per crossing and never reused: polling tools deduplicate on it.
    pub id: i64,
    /// The stock row (its `id` in `/api/stock`).
    #[serde(rename = "StockId")]
    pub stock_id: i64,
    /// The device.
    #[serde(rename = "DeviceId")]
    pub device_id: i64,
    /// The device's name.
    #[serde(rename = "DeviceName")]
    pub device_name: String,
    /// The customer (site) the device belongs to.
    #[serde(rename = "Customer")]
    pub customer: String,
    /// The item code.
    #[serde(rename = "SKU")]
    pub sku: String,
    /// The item's description.
    #[serde(rename = "Description")]
    pub description: String,
    /// The reorder level when it crossed.
    #[serde(rename = "MinQty")]
    pub min_qty: i64,
    /// The fill-up level then.
    #[serde(rename = "MaxQty")]
    pub max_qty: i64,
    /// The quantity after the change.
    #[serde(rename = "Physical")]
    pub physical: i64,
    /// The quantity before it.
    #[serde(rename = "PreviousPhysical")]
    pub previous_physical: i64,
    /// Which way it crossed.
    #[serde(rename = "Kind")]
    pub kind: AlertKind,
    /// When.
    #[serde(rename = "At", with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub at: DateTime<Utc>,
}

/// The calling key, as `GET /api/key` describes it: the "test connection" answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyInfo {
    /// The name its owner gave it.
    pub name: String,
    /// Its first characters (`pl_Ab3x`).
    pub prefix: String,
    /// When it was created.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// The last day it works, in `time_zone`; `null` if it never expires.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date, example = "2026-12-31"))]
    pub expires_on: Option<NaiveDate>,
    /// The IANA time zone `expires_on` is read in.
    pub time_zone: String,
    /// The first instant it is refused; `null` if it never expires.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<DateTime<Utc>>,
    /// `active` or `expiring_soon` (a key that answers is never expired or retired).
    pub status: KeyStatus,
    /// The devices it reaches now: its ticked devices that its owner may still see.
    pub devices: Vec<ApiDevice>,
}

/// A device an API key can read, as `GET /api/devices` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiDevice {
    /// The device's id.
    pub id: i64,
    /// The device's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// The customer (site) it belongs to.
    #[serde(rename = "Customer")]
    pub customer: String,
}

// ---------------------------------------------------------------------------------------------
// Portal JSON API (`/portal/api`, authenticated by the session cookie)
// ---------------------------------------------------------------------------------------------

/// `POST /portal/api/session`: log in.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user's email address (case does not matter).
    #[serde(default)]
    pub email: String,
    /// The user's password.
    #[serde(default)]
    pub password: String,
}

// Hand-written so that the password never reaches a log line or a panic message.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What a user may see: every device of the account, or a chosen list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees all of the account's devices and manages every key of the account.
    Admin,
    /// Sees only the devices granted to them, and only their own keys.
    Member,
}

/// The logged-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CurrentUser {
    /// The user's id.
    pub id: i64,
    /// The user's email address.
    pub email: String,
    /// The user's display name.
    pub name: String,
    /// Admin or member.
    pub role: Role,
    /// The account (organisation) the user belongs to.
    pub account_id: i64,
    /// The account's name.
    pub account_name: String,
}

/// A device the logged-in user may put on a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PortalDevice {
    /// The device's id.
    pub id: i64,
    /// The device's name.
    pub name: String,
    /// The customer's (site's) id.
    pub customer_id: i64,
    /// The customer's (site's) name.
    pub customer_name: String,
}

/// What the portal's guides need: where integrations reach this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConnectInfo {
    /// The server's public base URL, without a trailing slash (`https://partlogic.example`).
    pub base_url: String,
    /// The recipe files served at `/recipes/<file>`, with this base URL filled in.
    pub recipes: Vec<String>,
}

/// Where a key stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Works.
    Active,
    /// Works, but expires within seven days.
    ExpiringSoon,
    /// Past its expiry date; refused.
    Expired,
    /// Retired by a user; refused.
    Retired,
}

/// A user as shown beside a key (owner, actor of an event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserRef {
    /// The user's id.
    pub id: i64,
    /// The user's email address.
    pub email: String,
    /// The user's display name.
    pub name: String,
}

/// An API key as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeySummary {
    /// The key's id.
    pub id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// The first characters of the key, enough to recognise it (`pl_Ab3x`).
    pub prefix: String,
    /// How many devices are ticked on it.
    pub device_count: u64,
    /// Who created and owns it.
    pub owner: UserRef,
    /// When it was created.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// The last day it works, in `time_zone`; `null` for a key that never expires.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date, example = "2026-12-31"))]
    pub expires_on: Option<NaiveDate>,
    /// The IANA time zone `expires_on` is read in.
    pub time_zone: String,
    /// The first instant the key is refused (the end of `expires_on` in `time_zone`).
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute); `null` if never.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was retired; `null` unless retired.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub retired_at: Option<DateTime<Utc>>,
    /// Where it stands now.
    pub status: KeyStatus,
    /// Why it was retired; `null` unless retired.
    pub retired_reason: Option<RetiredReason>,
    /// More about that: for a leaked key, where it was found.
    pub retired_detail: Option<String>,
    /// The prefix of the secret it had before it was last rolled; `null` if never rolled.
    pub previous_prefix: Option<String>,
    /// The first instant that previous secret is refused; `null` if never rolled.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub previous_until: Option<DateTime<Utc>>,
    /// Its own rate limit in requests a minute; `null` when its account's default applies.
    pub rate_limit_per_minute: Option<u32>,
    /// The rate limit that applies to it now (its own, or its account's default).
    pub effective_rate_limit_per_minute: u32,
    /// Requests it made over the last seven days (every outcome).
    pub requests_7d: u64,
    /// When one of its secrets (current or previous) was last reported found in public;
    /// `null` if never.
    #[serde(with = "rfc3339_millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub leaked_at: Option<DateTime<Utc>>,
    /// Where that report said it was found.
    pub leaked_url: Option<String>,
}

/// Why a key was retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RetiredReason {
    /// A user retired it in the portal.
    Retired,
    /// Whoever held it retired it with the key itself (`DELETE /api/key`).
    SelfRetired,
    /// It was reported found in public (secret scanning); `retired_detail` says where.
    Leaked,
}

impl RetiredReason {
    /// The reason as stored and sent (`self_retired`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retired => "retired",
            Self::SelfRetired => "self_retired",
            Self::Leaked => "leaked",
        }
    }

    /// The reason stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Retired, Self::SelfRetired, Self::Leaked]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// How long a rolled key's old secret keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum RollOverlap {
    /// Not at all: the old secret is refused at once.
    #[serde(rename = "PT0S")]
    None,
    /// One hour.
    #[serde(rename = "PT1H")]
    Hour,
    /// 24 hours.
    #[serde(rename = "PT24H")]
    Day,
    /// Seven days.
    #[serde(rename = "P7D")]
    Week,
}

impl RollOverlap {
    /// Every overlap, shortest first.
    pub const ALL: [Self; 4] = [Self::None, Self::Hour, Self::Day, Self::Week];

    /// The ISO 8601 duration it is written as (`PT1H`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "PT0S",
            Self::Hour => "PT1H",
            Self::Day => "PT24H",
            Self::Week => "P7D",
        }
    }

    /// The overlap written `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Its length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Self::None => 0,
            Self::Hour => 3600,
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
        }
    }

    /// In words, for people (`24 hours`).
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "none (the old key stops now)",
            Self::Hour => "1 hour",
            Self::Day => "24 hours",
            Self::Week => "7 days",
        }
    }
}

/// `POST /portal/api/keys/{id}/roll`: give a key a new secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RollKeyRequest {
    /// How long the old secret keeps working: `PT0S`, `PT1H`, `PT24H` or `P7D`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "PT24H"))]
    pub overlap: String,
}

/// One period of a key's use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UsageBucket {
    /// When the period starts.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: DateTime<Utc>,
    /// Requests answered.
    pub ok: u64,
    /// Requests refused, by problem code.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, u64>))]
    pub refused: std::collections::BTreeMap<ProblemCode, u64>,
    /// Stock rows returned.
    pub rows: u64,
}

/// `GET /portal/api/keys/{id}/usage`: a key's use, the last 24 hours by hour and the last 30
/// days by day (in the time zone asked for), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyUsage {
    /// 24 hourly buckets, the last one the current hour.
    pub hours: Vec<UsageBucket>,
    /// 30 daily buckets, the last one today.
    pub days: Vec<UsageBucket>,
}

/// One token in a secret-scanning report (GitHub's partner contract).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LeakReport {
    /// The token found.
    pub token: String,
    /// The token type the scanner matched.
    #[serde(rename = "type")]
    pub token_type: String,
    /// Where it was found.
    #[serde(default)]
    pub url: String,
    /// What kind of place that is (`content`, `commit`, …).
    #[serde(default)]
    pub source: String,
}

/// What the server made of one reported token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LeakVerdict {
    /// The token as reported.
    pub token_raw: String,
    /// The token type as reported.
    pub token_type: String,
    /// `true_positive` (a PartLogic key, now retired if it was live) or `false_positive`.
    pub label: LeakLabel,
}

// Hand-written, like `CreatedKey`'s: a reported token may be a live key, and a stray `{:?}`
// must not print it.
impl std::fmt::Debug for LeakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakReport")
            .field("token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("url", &self.url)
            .field("source", &self.source)
            .finish()
    }
}

impl std::fmt::Debug for LeakVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakVerdict")
            .field("token_raw", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("label", &self.label)
            .finish()
    }
}

/// Whether a reported token was one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeakLabel {
    /// A key this server issued (live or not).
    TruePositive,
    /// Not a key of this server.
    FalsePositive,
}

/// One thing that happened to a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    /// The event's id.
    pub id: i64,
    /// What happened.
    pub action: AuditAction,
    /// The user who did it (`null` for `first_used`, which the key itself did).
    pub actor: Option<UserRef>,
    /// The IP address it came from.
    pub ip: Option<String>,
    /// What changed, in words.
    pub detail: Option<String>,
    /// When it happened.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
}

/// A key with its devices and history (`GET /portal/api/keys/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyDetail {
    /// The key as listed.
    #[serde(flatten)]
    pub summary: KeySummary,
    /// The devices ticked on it that still exist.
    pub devices: Vec<PortalDevice>,
    /// How many of them it reaches now (those its owner may still see).
    pub reachable_device_count: u64,
    /// Ticked devices it does not reach now: its owner can no longer see them.
    pub unreachable_device_ids: Vec<i64>,
    /// Who retired it.
    pub retired_by: Option<UserRef>,
    /// The IP address it was last used from.
    pub last_used_ip: Option<String>,
    /// What happened to it, newest first (the newest 200 events).
    pub events: Vec<AuditEvent>,
}

/// `POST /portal/api/keys`: create a key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// 1 to 100 characters.
    #[serde(default)]
    pub name: String,
    /// The last day the key works (`YYYY-MM-DD`), read in `time_zone`; omit for no expiry.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = Date, example = "2026-12-31"))]
    pub expires_on: Option<String>,
    /// An IANA time zone such as `Europe/London`; defaults to `UTC`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The devices the key may read (at least one, each one the user may see).
    #[serde(default, deserialize_with = "whole_numbers::vec")]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub device_ids: Vec<i64>,
    /// Admins only: requests a minute the key may make (1 to 100000); omit or `null` for the
    /// account's default.
    #[serde(default, deserialize_with = "whole_numbers::option")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
    pub rate_limit_per_minute: Option<i64>,
}

/// `PATCH /portal/api/keys/{id}`: rename a key or change its devices (the secret stays).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyRequest {
    /// A new name, 1 to 100 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// The new full device list (at least one).
    #[serde(default, deserialize_with = "whole_numbers::option_vec")]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub device_ids: Option<Vec<i64>>,
    /// Admins only: a new rate limit in requests a minute (1 to 100000), or `null` for the
    /// account's default; omit to leave it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_numbers::present"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, minimum = 1, maximum = 100000))]
    pub rate_limit_per_minute: Option<Option<i64>>,
}

/// The answer to creating a key: the only time its secret is ever shown.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedKey {
    /// The key as it will be listed from now on.
    pub key: KeyDetail,
    /// The full key, to send as `X-API-Key`. Store it now: it cannot be shown again.
    pub secret: String,
}

// Hand-written so that a stray `{:?}` (a log line, a panic message) never prints the secret.
impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod debug_redaction {
    use super::*;

    #[test]
    fn reported_tokens_never_show_in_debug() {
        let token = "pl_secretsecretsecretsecretsecretsecretsecret0123456";
        let report = LeakReport {
            token: token.to_owned(),
            token_type: "partlogic_api_key".to_owned(),
            url: "https://example.com".to_owned(),
            source: "content".to_owned(),
        };
        let verdict = LeakVerdict {
            token_raw: token.to_owned(),
            token_type: "partlogic_api_key".to_owned(),
            label: LeakLabel::TruePositive,
        };
        for text in [format!("{report:?}"), format!("{verdict:?}")] {
            assert!(!text.contains(token), "{text}");
            assert!(text.contains("<redacted>"));
        }
    }
}
