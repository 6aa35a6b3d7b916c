//! A key's rate limit and a roll's overlap.

use partlogic_types::{FieldError, RollOverlap};

use crate::domain::field_error;

/// The highest rate limit a key may be given, in requests a minute.
pub const MAX_RATE_LIMIT: i64 = 100_000;

/// A key's own rate limit: 1 to [`MAX_RATE_LIMIT`] requests a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit(i32);

impl RateLimit {
    /// Parses the `rate_limit_per_minute` field.
    pub(crate) fn parse(n: i64) -> Result<Self, FieldError> {
        if (1..=MAX_RATE_LIMIT).contains(&n) {
            Ok(Self(i32::try_from(n).unwrap_or(i32::MAX)))
        } else {
            Err(field_error(
                "rate_limit_per_minute",
                format!(
                    "must be 1 to {MAX_RATE_LIMIT} requests a minute, or null for the account's default"
                ),
            ))
        }
    }

    /// As stored.
    pub(crate) fn get(self) -> i32 {
        self.0
    }
}

/// How long a rolled key's old secret keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overlap(RollOverlap);

impl Overlap {
    /// Parses the `overlap` field: `PT0S`, `PT1H`, `PT24H` or `P7D`.
    pub(crate) fn parse(raw: &str) -> Result<Self, FieldError> {
        RollOverlap::parse(raw.trim()).map(Self).ok_or_else(|| {
            field_error(
                "overlap",
                "must be PT0S (none), PT1H (1 hour), PT24H (24 hours) or P7D (7 days)",
            )
        })
    }

    /// Its length.
    pub(crate) fn duration(self) -> chrono::Duration {
        chrono::Duration::seconds(self.0.seconds())
    }

    /// In words.
    pub(crate) fn label(self) -> &'static str {
        self.0.label()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_overlaps_parse_only_in_range() {
        assert_eq!(RateLimit::parse(1).unwrap().get(), 1);
        assert_eq!(RateLimit::parse(100_000).unwrap().get(), 100_000);
        for bad in [0, -1, 100_001, i64::MAX] {
            assert_eq!(
                RateLimit::parse(bad).unwrap_err().field,
                "rate_limit_per_minute"
            );
        }
        assert_eq!(
            Overlap::parse("PT24H").unwrap().duration(),
            chrono::Duration::hours(24)
        );
        assert_eq!(
            Overlap::parse("P7D").unwrap().duration(),
            chrono::Duration::days(7)
        );
        for bad in ["", "PT2H", "p7d", "7 days"] {
            assert_eq!(Overlap::parse(bad).unwrap_err().field, "overlap");
        }
    }
}
