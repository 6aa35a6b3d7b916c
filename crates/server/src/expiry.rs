//! "Expires On" dates: a key works through the whole of that day in the owner's time zone and is
//! refused from the first instant after it.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use partlogic_types::KeyStatus;

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
