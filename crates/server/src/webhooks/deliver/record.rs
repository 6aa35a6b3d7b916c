//! Recording outcomes: one recorder writes each batch that gathered in one transaction, with
//! the retry schedule ([`SCHEDULE`] with jitter), `failing_since`, and disabling an endpoint
//! after `410 Gone` or [`DISABLE_AFTER`] of failures.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use partlogic_entity::webhook_endpoint;
use partlogic_types::DeliveryState;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use super::{DISABLE_AFTER, Job, Outcome, RECORD_BATCH, SCHEDULE, Worker};

impl Worker {
    /// Writes outcomes as they come, each batch that gathered meanwhile in one transaction.
    pub(super) async fn record_all(
        self: Arc<Self>,
        mut received: tokio::sync::mpsc::Receiver<(Job, Outcome)>,
    ) {
        let mut batch = Vec::new();
        while received.recv_many(&mut batch, RECORD_BATCH).await > 0 {
            // Each failure is logged where it happens.
            let _ = self.record_batch(&batch).await;
            batch.clear();
        }
    }

    /// Records `batch` in one transaction; if that fails, each outcome in its own, so that one
    /// that cannot be written does not take the others with it.
    async fn record_batch(&self, batch: &[(Job, Outcome)]) -> Result<(), crate::error::ApiError> {
        let together = async {
            let txn = crate::db::begin_write(&self.db).await?;
            let mut cleared = HashSet::new();
            for (job, outcome) in batch.iter() {
                self.record(&txn, job, outcome, &mut cleared).await?;
            }
            txn.commit().await?;
            Ok::<(), crate::error::ApiError>(())
        };
        let Err(first) = together.await else {
            return Ok(());
        };
        tracing::warn!(error = %first, deliveries = batch.len(), "webhooks: recording a batch failed; recording its outcomes one by one");
        let mut last = Ok(());
        for (job, outcome) in batch.iter() {
            let one = async {
                let txn = crate::db::begin_write(&self.db).await?;
                self.record(&txn, job, outcome, &mut HashSet::new()).await?;
                txn.commit().await?;
                Ok::<(), crate::error::ApiError>(())
            };
            if let Err(e) = one.await {
                // The claim runs out and the delivery is made again: at least once.
                tracing::warn!(error = %e, delivery = job.id, "webhooks: recording an outcome failed");
                last = Err(e);
            }
        }
        last
    }

    /// Records one outcome in `db`'s transaction. `cleared` holds the endpoints whose
    /// `failing_since` this transaction has cleared with no failure recorded since: a burst of
    /// successes to one endpoint clears it once, not once per delivery.
    async fn record(
        &self,
        db: &impl ConnectionTrait,
        job: &Job,
        outcome: &Outcome,
        cleared: &mut HashSet<i64>,
    ) -> Result<(), crate::error::ApiError> {
        let now = self.clock.now();
        let backend = db.get_database_backend();
        let attempts = job.attempts + 1;
        // Only while the claim is still this one: a replay or another worker after the lease
        // ran out has it otherwise, and its outcome is the one to keep.
        let set = "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, \
                   claimed_until = NULL, last_attempt_at = ?, last_status = ?, \
                   last_latency_ms = ?, last_error = ? WHERE id = ? AND claimed_until = ?";
        let write = |state: DeliveryState,
                     attempts: i32,
                     next: DateTime<Utc>,
                     status: Option<u16>,
                     ms: Option<i64>,
                     error: Option<String>| {
            let statement = crate::db::raw(
                backend,
                set,
                vec![
                    state.as_str().into(),
                    attempts.into(),
                    next.into(),
                    now.into(),
                    status.map(i32::from).into(),
                    ms.into(),
                    error.into(),
                    job.id.into(),
                    job.lease.into(),
                ],
            );
            async move { Ok::<bool, DbErr>(db.execute_raw(statement).await?.rows_affected() == 1) }
        };
        match outcome {
            Outcome::Delivered { status, ms } => {
                let kept = write(
                    DeliveryState::Delivered,
                    attempts,
                    now,
                    Some(*status),
                    Some(*ms),
                    None,
                )
                .await?;
                if kept && cleared.insert(job.endpoint_id) {
                    db.execute_raw(crate::db::raw(
                        backend,
                        "UPDATE webhook_endpoints SET failing_since = NULL \
                             WHERE id = ? AND failing_since IS NOT NULL",
                        vec![job.endpoint_id.into()],
                    ))
                    .await?;
                }
            }
            Outcome::Gone { ms } => {
                let kept = write(
                    DeliveryState::Failed,
                    attempts,
                    now,
                    Some(410),
                    Some(*ms),
                    Some("answered 410 Gone: the endpoint was disabled".to_owned()),
                )
                .await?;
                if kept {
                    crate::webhooks::store::disable(
                        db,
                        job.endpoint_id,
                        "the receiver answered 410 Gone (it no longer wants these events)",
                        now,
                    )
                    .await?;
                }
            }
            Outcome::Dropped(why) => {
                write(
                    DeliveryState::Dropped,
                    job.attempts,
                    now,
                    None,
                    None,
                    Some(why.clone()),
                )
                .await?;
            }
            Outcome::Internal(why) => {
                write(
                    DeliveryState::Pending,
                    job.attempts,
                    now + chrono::Duration::minutes(1),
                    None,
                    None,
                    Some(why.clone()),
                )
                .await?;
            }
            Outcome::Failed {
                status,
                ms,
                error,
                retry_after,
            } => {
                let index = usize::try_from(job.attempts).unwrap_or(usize::MAX);
                let (state, next) = match SCHEDULE.get(index) {
                    Some(wait) => {
                        let wait = retry_after.unwrap_or_else(|| jitter(*wait));
                        (
                            DeliveryState::Pending,
                            now + chrono::Duration::seconds(wait),
                        )
                    }
                    None => (DeliveryState::Failed, now),
                };
                if !write(state, attempts, next, *status, *ms, Some(error.clone())).await? {
                    return Ok(());
                }
                cleared.remove(&job.endpoint_id);
                db.execute_raw(crate::db::raw(
                    backend,
                    "UPDATE webhook_endpoints SET failing_since = ? \
                     WHERE id = ? AND failing_since IS NULL",
                    vec![now.into(), job.endpoint_id.into()],
                ))
                .await?;
                // Read again here, after the outcomes recorded before this one: a success
                // since the claim may have cleared it, a new URL too.
                let failing: Option<DateTime<Utc>> =
                    webhook_endpoint::Entity::find_by_id(job.endpoint_id)
                        .one(db)
                        .await?
                        .and_then(|e| e.failing_since);
                if failing.is_some_and(|since| now - since >= DISABLE_AFTER) {
                    crate::webhooks::store::disable(
                        db,
                        job.endpoint_id,
                        "every delivery failed for 5 days",
                        now,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// `wait` seconds, give or take a tenth, so that retries of many deliveries spread out.
fn jitter(wait: i64) -> i64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return wait;
    }
    let spread = (wait / 10).max(1);
    let r = i64::from(u32::from_le_bytes(b)) % (2 * spread + 1);
    (wait - spread + r).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The claim's queries say `state = 'pending'` literally, as the partial index they use
    /// does (migration `m20261208_000010`).
    #[test]
    fn pending_is_spelled_as_the_claims_and_their_index_spell_it() {
        assert_eq!(DeliveryState::Pending.as_str(), "pending");
    }

    #[test]
    fn jitter_stays_within_a_tenth() {
        for wait in SCHEDULE {
            for _ in 0..50 {
                let j = jitter(wait);
                assert!((wait - wait / 10 - 1..=wait + wait / 10 + 1).contains(&j));
            }
        }
    }
}
