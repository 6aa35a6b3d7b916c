//! The query parameters of `GET /api/stock`, parsed.

use chrono::{DateTime, TimeZone, Utc};
use partlogic_types::FieldError;

use crate::db::store::StockFilters;
use crate::domain::has_control_chars;
use crate::error::ApiError;

/// The most rows one page may ask for.
pub const MAX_LIMIT: u64 = 1000;
/// The longest item code a filter may name.
pub const MAX_SKU_CHARS: usize = 100;

/// The latest instant every database stores alike; later `updated_since` values mean the same
/// ("nothing yet").
fn latest_storable() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

// The type lives with the store that reads it (`db::store`); what a client may ask for, and
// how it is said in a query string, is stock's business and lives here.
impl StockFilters {
    /// Parses a query string. `device` may repeat. Unknown names are refused so that a typo
    /// (`belowmin=true`) does not silently return everything; names starting with `_` (cache
    /// busters) are let through.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut f = Self::default();
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "device" => match value.parse::<i64>() {
                    Ok(id) if id >= 1 => f.devices.push(id),
                    _ => bad(
                        "device",
                        "must be a device id (a whole number from 1)".to_owned(),
                    ),
                },
                "sku" => {
                    let n = value.chars().count();
                    if n == 0 || n > MAX_SKU_CHARS || has_control_chars(&value) {
                        bad(
                            "sku",
                            format!(
                                "must be an item code of 1 to {MAX_SKU_CHARS} characters without control characters"
                            ),
                        );
                    } else {
                        f.sku = Some(value.into_owned());
                    }
                }
                "below_min" => match value.as_ref() {
                    "true" => f.below_min = true,
                    "false" => f.below_min = false,
                    _ => bad("below_min", "must be true or false".to_owned()),
                },
                "updated_since" => match DateTime::parse_from_rfc3339(&value) {
                    Ok(t) => f.updated_since = Some(t.with_timezone(&Utc).min(latest_storable())),
                    Err(_) => bad(
                        "updated_since",
                        "must be an RFC 3339 time such as 2026-01-01T00:00:00Z".to_owned(),
                    ),
                },
                "limit" => match value.parse::<u64>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => f.limit = Some(n),
                    _ => bad(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ),
                },
                "after" => match value.parse::<i64>() {
                    Ok(id) if id >= 0 => f.after = Some(id),
                    _ => bad(
                        "after",
                        "must be a row id (a whole number from 0)".to_owned(),
                    ),
                },
                other if other.starts_with('_') => {}
                other => bad(other, "unknown parameter".to_owned()),
            }
        }
        if errors.is_empty() {
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
    fn refuses_what_the_spec_calls_invalid() {
        for q in [
            "after=-1",
            "device=0",
            "below_min=1",
            "sku=",
            "limit=0",
            "limit=1001",
            "updated_since=yesterday",
            "belowmin=true",
        ] {
            assert!(StockFilters::parse(q).is_err(), "{q}");
        }
        let long = "x".repeat(MAX_SKU_CHARS + 1);
        assert!(StockFilters::parse(&format!("sku={long}")).is_err());
    }

    #[test]
    fn far_future_times_mean_nothing_yet() {
        let f = StockFilters::parse("updated_since=9999-12-31T23:00:00-14:00").unwrap();
        assert_eq!(f.updated_since, Some(latest_storable()));
        let f = StockFilters::parse("after=0&device=3&device=4&_=123&below_min=true").unwrap();
        assert_eq!(f.devices, vec![3, 4]);
        assert!(f.below_min);
    }
}
