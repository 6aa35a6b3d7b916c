//! Writing what was counted: the writer task (every few seconds and at shutdown), the upsert of
//! counters, refused uses into the key's history, and pruning past the retention.

use super::*;

pub(super) async fn write_counts(
    db: &DatabaseConnection,
    rows: &[(Slot, Counts)],
) -> Result<(), DbErr> {
    use key_usage::Column as C;
    let txn = crate::db::begin_write(db).await?;
    // Keys deleted at a database prompt would fail the whole write, every time.
    let ids: HashSet<i64> = rows.iter().map(|(s, _)| s.key_id).collect();
    let mut live = HashSet::new();
    let ids: Vec<i64> = ids.into_iter().collect();
    for chunk in ids.chunks(500) {
        let found: Vec<i64> = api_key::Entity::find()
            .select_only()
            .column(api_key::Column::Id)
            .filter(api_key::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&txn)
            .await?;
        live.extend(found);
    }
    let rows: Vec<&(Slot, Counts)> = rows
        .iter()
        .filter(|(s, _)| live.contains(&s.key_id))
        .collect();
    for chunk in rows.chunks(500) {
        let mut stmt = Query::insert();
        stmt.into_table(key_usage::Entity).columns([
            C::KeyId,
            C::Hour,
            C::Outcome,
            C::Requests,
            C::Rows,
        ]);
        for (s, c) in chunk.iter().copied() {
            stmt.values([
                s.key_id.into(),
                instant(s.hour).into(),
                outcome_text(s.outcome).into(),
                i64::try_from(c.requests).unwrap_or(i64::MAX).into(),
                i64::try_from(c.rows).unwrap_or(i64::MAX).into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        let excluded = Alias::new("excluded");
        stmt.on_conflict(
            OnConflict::columns([C::KeyId, C::Hour, C::Outcome])
                .values([
                    (
                        C::Requests,
                        Expr::col((key_usage::Entity, C::Requests))
                            .add(Expr::col((excluded.clone(), C::Requests))),
                    ),
                    (
                        C::Rows,
                        Expr::col((key_usage::Entity, C::Rows)).add(Expr::col((excluded, C::Rows))),
                    ),
                ])
                .to_owned(),
        );
        txn.execute(&stmt).await?;
    }
    txn.commit().await
}

pub(super) async fn write_refusal(db: &DatabaseConnection, r: &Refusal) -> Result<(), DbErr> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        account_id: Set(r.account_id),
        key_id: Set(r.key_id),
        actor_id: Set(None),
        action: Set(AuditAction::Refused.as_str().to_owned()),
        ip: Set(r.ip.clone()),
        detail: Set(Some(r.detail())),
        at: Set(r.at),
        dedupe: Set(Some(r.dedupe())),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([audit_event::Column::Dedupe])
    .exec(db)
    .await?;
    Ok(())
}

/// Stops the writer after a last write.
pub struct UsageFlusher {
    stop: Arc<Notify>,
    done: tokio::task::JoinHandle<()>,
}

impl UsageFlusher {
    /// Writes what is counted and stops, waiting for that for at most `within`.
    pub async fn flush(self, within: Duration) {
        self.stop.notify_one();
        if tokio::time::timeout(within, self.done).await.is_err() {
            tracing::warn!("gave up writing the last key usage at shutdown");
        }
    }
}

/// Starts the writer: every `every`, and at shutdown. It also forgets usage older than
/// [`RETENTION_DAYS`], at start and hourly.
pub fn spawn(db: DatabaseConnection, clock: Clock, every: Duration) -> (Usage, UsageFlusher) {
    let usage = Usage::default();
    let stop = Arc::new(Notify::new());
    let (u, stopping) = (usage.clone(), stop.clone());
    let done = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pruned: Option<i64> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    u.flush(&db, clock.now()).await;
                    let hour = hour_of(clock.now());
                    if pruned != Some(hour) {
                        match prune(&db, clock.now()).await {
                            Ok(()) => pruned = Some(hour),
                            Err(e) => tracing::warn!(error = %e, "old key usage not pruned"),
                        }
                    }
                }
                () = stopping.notified() => {
                    u.flush(&db, clock.now()).await;
                    return;
                }
            }
        }
    });
    (usage, UsageFlusher { stop, done })
}

async fn prune(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<(), DbErr> {
    key_usage::Entity::delete_many()
        .filter(key_usage::Column::Hour.lt(now - chrono::Duration::days(RETENTION_DAYS)))
        .exec(db)
        .await?;
    Ok(())
}
