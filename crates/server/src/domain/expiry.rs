//! "Expires On": a date and the time zone it is read in.

use chrono::{DateTime, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use partlogic_types::FieldError;

use super::field_error;

/// How far ahead an expiry date may lie, in years. Keys that should live longer are made
/// without an expiry; the bound catches typed years such as 2062 for 2026 and keeps every
/// stored date four digits long.
pub const MAX_LIFETIME_YEARS: u32 = 5;
/// [`MAX_LIFETIME_YEARS`] in days, roughly, for messages and the portal's date picker.
pub const MAX_LIFETIME_DAYS: u32 = MAX_LIFETIME_YEARS * 366;

/// When a key stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expiry {
    /// The IANA zone the date is read in (kept even without a date, for display).
    pub zone: Tz,
    /// The last day the key works, and the first instant it is refused; `None`: never.
    pub on: Option<(NaiveDate, DateTime<Utc>)>,
}

/// Why an expiry was refused.
#[derive(Debug)]
pub(crate) enum ExpiryError {
    /// Not a date or not a zone (422).
    Invalid(Vec<FieldError>),
    /// A well-formed date outside what is allowed today: already over, or too far ahead (409).
    OutOfRange(FieldError),
}

impl Expiry {
    /// Parses `expires_on` (exactly `YYYY-MM-DD`, or absent for no expiry) read in `time_zone`
    /// (an IANA name such as `Europe/London`, spelled exactly; absent means UTC). The key works
    /// through the whole of that day there and is refused from the first instant after it.
    pub(crate) fn parse(
        expires_on: Option<&str>,
        time_zone: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, ExpiryError> {
        let mut errors = Vec::new();
        let zone = match time_zone {
            None => Some(Tz::UTC),
            Some(name) => match name.parse::<Tz>() {
                Ok(z) => Some(z),
                Err(_) => {
                    errors.push(field_error(
                        "time_zone",
                        "must be an IANA time zone such as Europe/London, spelled exactly",
                    ));
                    None
                }
            },
        };
        let date = match expires_on {
            None => None,
            Some(raw) => match parse_date(raw) {
                Some(d) => Some(d),
                None => {
                    errors.push(field_error(
                        "expires_on",
                        "must be a date written YYYY-MM-DD, such as 2026-12-31",
                    ));
                    None
                }
            },
        };
        let Some(zone) = zone.filter(|_| errors.is_empty()) else {
            return Err(ExpiryError::Invalid(errors));
        };
        let Some(date) = date else {
            return Ok(Self { zone, on: None });
        };
        let today = now.with_timezone(&zone).date_naive();
        let latest = today
            .checked_add_months(Months::new(MAX_LIFETIME_YEARS * 12))
            .unwrap_or(NaiveDate::MAX);
        if date > latest {
            return Err(ExpiryError::OutOfRange(field_error(
                "expires_on",
                format!(
                    "must be at most {MAX_LIFETIME_YEARS} years ahead (on or before {latest}); \
                     leave it empty for a key that does not expire"
                ),
            )));
        }
        match crate::expiry::end_of_day(date, zone) {
            Some(end) if end > now => Ok(Self {
                zone,
                on: Some((date, end)),
            }),
            _ => Err(ExpiryError::OutOfRange(field_error(
                "expires_on",
                format!("must be today or later in {}", zone.name()),
            ))),
        }
    }

    /// The last day the key works.
    pub(crate) fn date(&self) -> Option<NaiveDate> {
        self.on.map(|(d, _)| d)
    }

    /// The first instant the key is refused.
    pub(crate) fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.on.map(|(_, t)| t)
    }
}

/// Exactly `YYYY-MM-DD`: four digits of year (so never `+10000-01-01` or `20261-01-01`), a real
/// calendar day.
fn parse_date(raw: &str) -> Option<NaiveDate> {
    let b = raw.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    #[test]
    fn dates_are_exactly_four_digit_years() {
        for bad in [
            "+10000-01-01",
            "10000-01-01",
            "2026-1-01",
            "2026-02-30",
            " 2026-12-31",
            "",
        ] {
            assert!(
                matches!(
                    Expiry::parse(Some(bad), None, now()),
                    Err(ExpiryError::Invalid(_))
                ),
                "{bad:?}"
            );
        }
        let e = Expiry::parse(Some("2026-12-31"), Some("Europe/London"), now()).unwrap();
        assert_eq!(e.date().unwrap().to_string(), "2026-12-31");
    }

    #[test]
    fn past_and_far_dates_are_out_of_range() {
        for d in ["2026-11-25", "0001-01-01", "9999-12-31", "2031-11-27"] {
            assert!(
                matches!(
                    Expiry::parse(Some(d), None, now()),
                    Err(ExpiryError::OutOfRange(_))
                ),
                "{d}"
            );
        }
        assert!(Expiry::parse(Some("2031-11-26"), None, now()).is_ok());
        assert!(Expiry::parse(Some("2026-11-26"), None, now()).is_ok());
    }

    #[test]
    fn zones_are_exact_iana_names() {
        assert!(Expiry::parse(None, Some("Europe/London"), now()).is_ok());
        assert!(Expiry::parse(None, None, now()).is_ok());
        for bad in ["", "Mars/Base", " UTC", "europe/london"] {
            assert!(
                matches!(
                    Expiry::parse(None, Some(bad), now()),
                    Err(ExpiryError::Invalid(_))
                ),
                "{bad:?}"
            );
        }
    }
}
