//! "Expires On" dates: a key works through the whole of that day in the owner's time zone and is
//! refused from the first instant after it.
//!
//! [`Expiry`] is the parsed field (a date and the zone it is read in); the functions below say
//! when such a date ends and what it means for a key now.

use chrono::{DateTime, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use partlogic_types::{FieldError, KeyStatus};

use crate::domain::field_error;

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
        match end_of_day(date, zone) {
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

/// How close to expiry a key counts as "expiring soon".
pub const EXPIRING_SOON: chrono::Duration = chrono::Duration::days(7);

/// Parses an IANA zone name (`Europe/London`, `UTC`).
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// The first instant after `date` in `zone`: midnight starting the next day there. Where that
/// midnight does not exist (a DST jump at 00:00), the first instant that does exist.
pub fn end_of_day(date: NaiveDate, zone: Tz) -> Option<DateTime<Utc>> {
    let next = date.checked_add_days(Days::new(1))?;
    // Walk forward minute by minute through a (rare) DST gap; gaps are at most a few hours.
    for minutes in 0..=(4 * 60) {
        let local = next.and_hms_opt(0, 0, 0)? + chrono::Duration::minutes(minutes);
        if let Some(t) = zone.from_local_datetime(&local).earliest() {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

/// Where a key stands at `now`.
pub fn status(
    retired_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> KeyStatus {
    match (retired_at, expires_at) {
        (Some(_), _) => KeyStatus::Retired,
        (None, Some(end)) if now >= end => KeyStatus::Expired,
        (None, Some(end)) if end - now <= EXPIRING_SOON => KeyStatus::ExpiringSoon,
        _ => KeyStatus::Active,
    }
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

    #[test]
    fn end_of_day_is_next_local_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        let london = end_of_day(d, parse_zone("Europe/London").unwrap()).unwrap();
        assert_eq!(london.to_rfc3339(), "2027-01-01T00:00:00+00:00");
        let auckland = end_of_day(d, parse_zone("Pacific/Auckland").unwrap()).unwrap();
        assert_eq!(auckland.to_rfc3339(), "2026-12-31T11:00:00+00:00");
    }

    #[test]
    fn midnight_in_a_dst_gap_moves_forward() {
        // America/Santiago springs forward at 00:00 on 2026-09-06 (to 01:00).
        let d = NaiveDate::from_ymd_opt(2026, 9, 5).unwrap();
        let t = end_of_day(d, parse_zone("America/Santiago").unwrap()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }
}
