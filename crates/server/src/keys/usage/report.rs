//! Reading usage back for the portal: a key's chart (24 hours by hour, 30 days by day) and
//! requests over seven days, written or not yet written.

use super::*;

/// The key's counters since `since`: what is written, plus what this instance has not written
/// yet.
async fn counters(
    db: &impl ConnectionTrait,
    usage: &Usage,
    key_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<(Slot, Counts)>, DbErr> {
    let stored = key_usage::Entity::find()
        .filter(key_usage::Column::KeyId.eq(key_id))
        .filter(key_usage::Column::Hour.gte(since))
        .all(db)
        .await?;
    let mut out: Vec<(Slot, Counts)> = stored
        .into_iter()
        .filter_map(|m| {
            let outcome = parse_outcome(&m.outcome)?;
            Some((
                Slot {
                    key_id,
                    hour: m.hour.timestamp(),
                    outcome,
                },
                Counts {
                    requests: u64::try_from(m.requests).unwrap_or(0),
                    rows: u64::try_from(m.rows).unwrap_or(0),
                },
            ))
        })
        .collect();
    out.extend(
        usage
            .pending_for(key_id)
            .into_iter()
            .filter(|(s, _)| s.hour >= since.timestamp()),
    );
    Ok(out)
}

fn bucket(start: DateTime<Utc>) -> UsageBucket {
    UsageBucket {
        start,
        ok: 0,
        refused: BTreeMap::new(),
        rows: 0,
    }
}

fn add_to(b: &mut UsageBucket, s: &Slot, c: &Counts) {
    match s.outcome {
        None => b.ok += c.requests,
        Some(code) => *b.refused.entry(code).or_default() += c.requests,
    }
    b.rows += c.rows;
}

/// Local midnight of `day` in `tz` (the first instant of the day where midnight is skipped).
fn day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut t = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..4 {
        if let Some(s) = tz.from_local_datetime(&t).earliest() {
            return s.with_timezone(&Utc);
        }
        t += chrono::Duration::minutes(30);
    }
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The key's use: 24 hours by hour up to the current one, 30 days by day (in `tz`) up to today.
/// An hour counts on the day it starts in.
pub async fn for_key(
    db: &impl ConnectionTrait,
    usage: &Usage,
    key_id: i64,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<KeyUsage, DbErr> {
    let this_hour = hour_of(now);
    let today = now.with_timezone(&tz).date_naive();
    let first_day = today - chrono::Duration::days(29);
    let since = Ord::min(day_start(tz, first_day), instant(this_hour - 23 * 3600));
    let mut hours: Vec<UsageBucket> = (0..24)
        .map(|i| bucket(instant(this_hour - (23 - i) * 3600)))
        .collect();
    let mut days: Vec<UsageBucket> = (0..30)
        .map(|i| bucket(day_start(tz, first_day + chrono::Duration::days(i))))
        .collect();
    for (s, c) in counters(db, usage, key_id, since).await? {
        let i = (s.hour - (this_hour - 23 * 3600)).div_euclid(3600);
        if let Some(b) = usize::try_from(i).ok().and_then(|i| hours.get_mut(i)) {
            add_to(b, &s, &c);
        }
        let day = instant(s.hour).with_timezone(&tz).date_naive();
        let d = (day - first_day).num_days();
        if let Some(b) = usize::try_from(d).ok().and_then(|d| days.get_mut(d)) {
            add_to(b, &s, &c);
        }
    }
    Ok(KeyUsage { hours, days })
}

/// Requests each of `keys` made over the seven days before `now` (every outcome), counted from
/// the start of the hour seven days back, written or not.
pub async fn requests_7d(
    db: &impl ConnectionTrait,
    usage: &Usage,
    keys: &[i64],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, u64>, DbErr> {
    use key_usage::Column as C;
    let since = hour_of(now - chrono::Duration::days(7));
    let mut out: HashMap<i64, u64> = HashMap::new();
    for chunk in keys.chunks(500) {
        let rows: Vec<(i64, i64)> = key_usage::Entity::find()
            .select_only()
            .column(C::KeyId)
            .column_as(Expr::cust("CAST(SUM(requests) AS BIGINT)"), "n")
            .filter(C::KeyId.is_in(chunk.iter().copied()))
            .filter(C::Hour.gte(instant(since)))
            .group_by(C::KeyId)
            .into_tuple()
            .all(db)
            .await?;
        for (k, n) in rows {
            *out.entry(k).or_default() += u64::try_from(n).unwrap_or(0);
        }
    }
    let wanted: HashSet<i64> = keys.iter().copied().collect();
    usage.with(|p| {
        for (s, c) in p.counts.iter().chain(p.in_flight.iter()) {
            if s.hour >= since && wanted.contains(&s.key_id) {
                *out.entry(s.key_id).or_default() += c.requests;
            }
        }
    });
    Ok(out)
}
