//! Sharing counts between instances through PostgreSQL (`rate_windows`): the sync task that
//! adds this instance's counts every [`SYNC_EVERY`] and reads back everyone's, and the strict
//! decision near a key's limit. See the parent module for the scheme and its bound.

use super::*;

impl RateLimiter {
    pub(super) fn spawn_sync(&self) {
        let limiter = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SYNC_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut pruned_at = None;
            loop {
                every.tick().await;
                let now = limiter.clock.as_ref().map_or_else(Utc::now, |c| c.now());
                if let Err(e) = limiter.sync().await {
                    tracing::warn!(error = %e, "rate limit counts not shared yet; keeping them for the next try");
                }
                // Windows older than the last two are never read again.
                let minute = now.timestamp().div_euclid(WINDOW_SECS);
                if pruned_at != Some(minute) {
                    pruned_at = Some(minute);
                    if let Some(db) = &limiter.shared
                        && let Err(e) = db
                            .execute_raw(Statement::from_sql_and_values(
                                DbBackend::Postgres,
                                "DELETE FROM rate_windows WHERE minute < $1",
                                [(minute - 2).into()],
                            ))
                            .await
                    {
                        tracing::warn!(error = %e, "old rate limit windows not pruned");
                    }
                }
            }
        });
    }

    /// Adds every key's counts not shared yet to the database, and reads back each active key's
    /// global count, in one statement per 1,000 keys. Keys with nothing to add are only read:
    /// an update that adds 0 would still leave PostgreSQL a dead row to vacuum, four times a
    /// second per key.
    pub async fn sync(&self) -> Result<(), sea_orm::DbErr> {
        let Some(db) = &self.shared else {
            return Ok(());
        };
        let now = self.clock.as_ref().map_or_else(Utc::now, |c| c.now());
        let (minute, _) = window(now);
        // (key, minute, counts taken out of pending): every count not shared yet, and this
        // window's keys even without one, to hear what the other instances counted.
        let mut batch: Vec<(i64, i64, u32)> = Vec::new();
        for shard in self.shards.iter() {
            let mut windows = shard.lock().unwrap_or_else(|p| p.into_inner());
            for (key, w) in windows.iter_mut() {
                if w.pending > 0 || w.minute == minute {
                    batch.push((*key, w.minute, w.pending));
                    w.in_flight += w.pending;
                    w.pending = 0;
                }
            }
        }
        let sent: HashMap<(i64, i64), u32> = batch.iter().map(|&(k, m, n)| ((k, m), n)).collect();
        for (i, chunk) in batch.chunks(1000).enumerate() {
            match exchange(db, chunk).await {
                Ok(rows) => {
                    for (key, minute, used) in rows {
                        let n = sent.get(&(key, minute)).copied().unwrap_or(0);
                        self.update(key, minute, |w| {
                            w.in_flight = w.in_flight.saturating_sub(n);
                            w.known = w.known.max(used);
                            w.synced = true;
                        });
                    }
                }
                Err(e) => {
                    // This chunk and every later one were not added: their counts wait for the
                    // next sync.
                    for &(key, minute, n) in &batch[i * 1000..] {
                        self.update(key, minute, |w| {
                            w.in_flight = w.in_flight.saturating_sub(n);
                            w.pending += n;
                        });
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// Adds `ask` requests (the one being decided and those counted here since the last sync) to
/// the key's window if the total stays within `limit`; says whether it did, and the global
/// count after. A refused request still hands over the counts that were accepted here.
pub(super) async fn strict(
    db: &DatabaseConnection,
    key: i64,
    minute: i64,
    ask: u32,
    limit: u32,
) -> Result<(bool, u32), sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO rate_windows (key_id, minute, used) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id, minute) DO UPDATE SET used = rate_windows.used + excluded.used \
             WHERE rate_windows.used + excluded.used <= $4 RETURNING used",
            [
                key.into(),
                minute.into(),
                i64::from(ask).into(),
                i64::from(limit).into(),
            ],
        ))
        .await?;
    if let Some(row) = row {
        let used: i64 = row.try_get("", "used")?;
        return Ok((true, u32::try_from(used).unwrap_or(u32::MAX)));
    }
    // Over the limit: the request is refused, the others accepted here still count.
    let rows = exchange(db, &[(key, minute, ask - 1)]).await?;
    let used = rows.first().map_or(limit, |r| r.2);
    Ok((false, used))
}

/// Adds each `(key, minute, n)` with `n > 0` to its window, reads the others, and returns every
/// window's global count (a window no instance has written yet is left out: its count is 0).
async fn exchange(
    db: &DatabaseConnection,
    counts: &[(i64, i64, u32)],
) -> Result<Vec<(i64, i64, u32)>, sea_orm::DbErr> {
    let (adds, reads): (Vec<_>, Vec<_>) = counts.iter().copied().partition(|c| c.2 > 0);
    let mut rows = add_counts(db, &adds).await?;
    if reads.is_empty() {
        return Ok(rows);
    }
    let mut sql =
        String::from("SELECT key_id, minute, used FROM rate_windows WHERE (key_id, minute) IN (");
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(reads.len() * 2);
    for (i, (key, minute, _)) in reads.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("(${}, ${})", i * 2 + 1, i * 2 + 2));
        values.extend([(*key).into(), (*minute).into()]);
    }
    sql.push(')');
    let read = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            &sql,
            values,
        ))
        .await?;
    for r in &read {
        rows.push(counts_row(r)?);
    }
    Ok(rows)
}

/// Adds each `(key, minute, n)` to its window and returns every window's global count.
async fn add_counts(
    db: &DatabaseConnection,
    counts: &[(i64, i64, u32)],
) -> Result<Vec<(i64, i64, u32)>, sea_orm::DbErr> {
    if counts.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from("INSERT INTO rate_windows (key_id, minute, used) VALUES ");
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(counts.len() * 3);
    for (i, (key, minute, n)) in counts.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let at = i * 3;
        sql.push_str(&format!("(${}, ${}, ${})", at + 1, at + 2, at + 3));
        values.extend([(*key).into(), (*minute).into(), i64::from(*n).into()]);
    }
    sql.push_str(
        " ON CONFLICT (key_id, minute) DO UPDATE SET used = rate_windows.used + excluded.used \
         RETURNING key_id, minute, used",
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            &sql,
            values,
        ))
        .await?;
    rows.iter().map(counts_row).collect()
}

/// A `(key_id, minute, used)` row of `rate_windows`.
fn counts_row(r: &sea_orm::QueryResult) -> Result<(i64, i64, u32), sea_orm::DbErr> {
    let used: i64 = r.try_get("", "used")?;
    Ok((
        r.try_get("", "key_id")?,
        r.try_get("", "minute")?,
        u32::try_from(used).unwrap_or(u32::MAX),
    ))
}
