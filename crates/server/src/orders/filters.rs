//! The query parameters of `GET /api/orders` (and the portal's list), parsed.

use chrono::{DateTime, Utc};
use partlogic_types::{FieldError, OrderStatus};

use super::store::ListFilters;
use crate::domain::has_control_chars;
use crate::error::ApiError;

/// The most orders one page may ask for.
pub const MAX_LIMIT: u64 = 1000;
/// A page's size when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 100;

/// The latest instant both databases store and compare alike.
fn latest_storable() -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl ListFilters {
    /// Parses a query string: `status`, `device` (repeatable), `reference`, `created_since`,
    /// `limit`, `before`. Unknown names are refused, names starting with `_` let through.
    pub fn parse(query: &str) -> Result<ListFilters, ApiError> {
        let mut f = ListFilters {
            limit: DEFAULT_LIMIT,
            ..Default::default()
        };
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            })
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "status" => match OrderStatus::parse(&value) {
                    Some(s) => f.status = Some(s),
                    None => bad("status", "must be open, received or cancelled"),
                },
                "device" => match value.parse::<i64>() {
                    Ok(id) if id >= 1 => f.devices.push(id),
                    _ => bad("device", "must be a device id (a whole number from 1)"),
                },
                "reference" => {
                    let n = value.chars().count();
                    if n == 0 || n > super::parse::MAX_REFERENCE_CHARS || has_control_chars(&value)
                    {
                        bad(
                            "reference",
                            "must be 1 to 100 characters without control characters",
                        );
                    } else {
                        f.reference = Some(value.into_owned());
                    }
                }
                "created_since" => match DateTime::parse_from_rfc3339(&value) {
                    // Past what every database stores alike means the same: nothing yet.
                    Ok(t) => f.created_since = Some(t.with_timezone(&Utc).min(latest_storable())),
                    Err(_) => bad(
                        "created_since",
                        "must be an RFC 3339 time such as 2026-01-01T00:00:00Z",
                    ),
                },
                "limit" => match value.parse::<u64>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => f.limit = n,
                    _ => bad("limit", "must be a whole number from 1 to 1000"),
                },
                "before" => match value.parse::<i64>() {
                    Ok(id) if id >= 1 => f.before = Some(id),
                    _ => bad("before", "must be an order id (a whole number from 1)"),
                },
                other if other.starts_with('_') => {}
                other => bad(other, "is not a parameter of this endpoint"),
            }
        }
        if errors.is_empty() {
            f.devices.sort_unstable();
            f.devices.dedup();
            Ok(f)
        } else {
            Err(ApiError::InvalidParameters(errors))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let f = ListFilters::parse(
            "status=open&device=2&device=1&reference=r%201&limit=5&before=9&_=1",
        )
        .unwrap();
        assert_eq!(f.status, Some(OrderStatus::Open));
        assert_eq!(f.devices, vec![1, 2]);
        assert_eq!(f.reference.as_deref(), Some("r 1"));
        assert_eq!((f.limit, f.before), (5, Some(9)));
        assert_eq!(ListFilters::parse("").unwrap().limit, DEFAULT_LIMIT);
        for bad in [
            "status=done",
            "device=0",
            "limit=0",
            "limit=1001",
            "before=x",
            "nope=1",
            "created_since=yesterday",
            "reference=",
        ] {
            assert!(ListFilters::parse(bad).is_err(), "{bad}");
        }
    }
}
