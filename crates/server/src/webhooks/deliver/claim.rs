//! Claiming due deliveries (leases; PostgreSQL `FOR UPDATE SKIP LOCKED`) and reading, once
//! per claim, what its deliveries need; then whether each endpoint's key may still receive
//! its event ([`refusal`]), decided in memory.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use partlogic_entity::{webhook_endpoint, webhook_message};
use partlogic_types::{EventType, KeyPermissions, Permission};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, TransactionTrait};

use super::{BATCH, Job, LEASE, PER_ENDPOINT, Worker};

/// What a claim took, and what the worker should do next.
pub(super) struct Claimed {
    /// The deliveries to send.
    pub(super) jobs: Vec<Job>,
    /// Look again at once: something was taken, or another instance took what was picked.
    pub(super) again: bool,
    /// The look was slow on PostgreSQL: its statistics may need refreshing
    /// ([`Worker::refresh_statistics`]).
    pub(super) slow: bool,
}

/// How many due deliveries a claim looks at to pick its own.
const LOOK: usize = 4 * BATCH;
/// A look that takes this long on PostgreSQL means the planner misjudges the queue.
const SLOW_LOOK: Duration = Duration::from_millis(25);
/// How often statistics may be refreshed for that.
const ANALYZE_EVERY: Duration = Duration::from_secs(60);

impl Worker {
    /// Claims up to `limit` due deliveries of enabled endpoints, no more for each endpoint than
    /// it has room for: a look at the oldest due deliveries of endpoints with room picks them,
    /// and the claim takes exactly those that are still free. Leases are in real time whatever
    /// the server's clock says (a test's clock must not make a running delivery look
    /// abandoned).
    pub(super) async fn claim(&self, limit: usize) -> Result<Claimed, DbErr> {
        let now = self.clock.now();
        let real = Utc::now();
        let backend = self.db.get_database_backend();
        let running = self.running();
        // An endpoint is claimed for once half its slots are free, so that claims come in
        // batches and not one per finished delivery (a claim is a few statements, whatever
        // its size).
        let busy: Vec<i64> = running
            .iter()
            .filter(|(_, n)| **n > PER_ENDPOINT / 2)
            .map(|(id, _)| *id)
            .collect();
        let not_busy = if busy.is_empty() {
            String::new()
        } else {
            format!(
                " AND d.endpoint_id NOT IN ({})",
                vec!["?"; busy.len()].join(", ")
            )
        };
        // A look first, which writes nothing (on SQLite a claim takes the write lock, which an
        // idle poll must not): the oldest due deliveries of endpoints with room, more than one
        // claim takes, so that one endpoint's backlog does not hide the others'.
        let look = format!(
            "SELECT d.id, d.endpoint_id FROM webhook_deliveries d \
             JOIN webhook_endpoints we ON we.id = d.endpoint_id \
             WHERE d.state = 'pending' AND d.next_attempt_at <= ? \
             AND (d.claimed_until IS NULL OR d.claimed_until < ?) AND we.enabled = TRUE{not_busy} \
             ORDER BY d.next_attempt_at, d.id LIMIT ?"
        );
        let mut values: Vec<sea_orm::Value> = vec![now.into(), real.into()];
        values.extend(busy.iter().map(|b| sea_orm::Value::from(*b)));
        values.push((LOOK as i64).into());
        let looked = Instant::now();
        let due = self
            .db
            .query_all_raw(crate::db::raw(backend, &look, values))
            .await?;
        // Refreshed by the caller, in a task of its own: never between the look and the claim,
        // whose lease starts now.
        let slow = backend == DbBackend::Postgres && looked.elapsed() >= SLOW_LOOK;
        let mut room: HashMap<i64, usize> = HashMap::new();
        let mut chosen: Vec<i64> = Vec::new();
        for r in due {
            let (id, endpoint): (i64, i64) = (r.try_get_by_index(0)?, r.try_get_by_index(1)?);
            let left = room.entry(endpoint).or_insert_with(|| {
                PER_ENDPOINT.saturating_sub(running.get(&endpoint).copied().unwrap_or(0))
            });
            if *left > 0 {
                *left -= 1;
                chosen.push(id);
                if chosen.len() == limit {
                    break;
                }
            }
        }
        if chosen.is_empty() {
            return Ok(Claimed {
                jobs: Vec::new(),
                again: false,
                slow,
            });
        }
        let picked = chosen.len();
        // Microseconds: what PostgreSQL keeps, so the lease reads back equal. From now, not
        // from before the look.
        let real = Utc::now();
        let lease = real + LEASE;
        let lease =
            lease - chrono::Duration::nanoseconds(i64::from(lease.timestamp_subsec_nanos() % 1000));
        // Still due and free: another instance may have taken some since the look (PostgreSQL
        // skips the rows it holds and checks again those it has just released), a replay may
        // have changed others.
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // By primary key only (whether the endpoint is still enabled is checked once its row
        // is read, below). The list is padded to a power of two with its last id, so that
        // PostgreSQL prepares a handful of statements, not one per length.
        let mut ids = chosen;
        let padded = ids.len().next_power_of_two();
        if let Some(last) = ids.last().copied() {
            ids.resize(padded, last);
        }
        let sql = format!(
            "UPDATE webhook_deliveries SET claimed_until = ? WHERE id IN (\
             SELECT id FROM webhook_deliveries \
             WHERE id IN ({}) AND state = 'pending' AND next_attempt_at <= ? \
             AND (claimed_until IS NULL OR claimed_until < ?){lock}) \
             RETURNING id, endpoint_id, message_id, attempts",
            vec!["?"; ids.len()].join(", ")
        );
        let mut values: Vec<sea_orm::Value> = vec![lease.into()];
        values.extend(ids.iter().map(|id| sea_orm::Value::from(*id)));
        values.extend([now.into(), real.into()]);
        let rows = self
            .db
            .query_all_raw(crate::db::raw(backend, &sql, values))
            .await?;
        // Fewer than picked: another instance took some first; look again at once rather than
        // wait for the next poll.
        let lost = rows.len() < picked;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in rows {
            claimed.push(Job {
                id: r.try_get_by_index(0)?,
                endpoint_id: r.try_get_by_index(1)?,
                message_id: r.try_get_by_index(2)?,
                attempts: r.try_get_by_index(3)?,
                lease,
                endpoint: None,
                message: None,
                refusal: None,
            });
        }
        if let Err(e) = self.prepare(&mut claimed).await {
            // A fault on our side: let them go, due again in a minute (not at the next look,
            // which would meet the same fault four times a second); or the lease lets them go.
            let mut values: Vec<sea_orm::Value> = vec![(now + chrono::Duration::minutes(1)).into()];
            values.extend(claimed.iter().map(|j| sea_orm::Value::from(j.id)));
            let marks = vec!["?"; claimed.len()].join(", ");
            let _ = self
                .db
                .execute_raw(crate::db::raw(
                    backend,
                    &format!(
                        "UPDATE webhook_deliveries SET claimed_until = NULL, next_attempt_at = ? \
                         WHERE id IN ({marks})"
                    ),
                    values,
                ))
                .await;
            return Err(e);
        }
        // Counted in flight only now that nothing above can fail.
        let mut jobs = Vec::with_capacity(claimed.len());
        let mut excess = Vec::new();
        {
            let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            for job in claimed {
                // Paused or disabled since the look: let go, due again when it is enabled.
                if job.endpoint.as_ref().is_some_and(|e| !e.enabled) {
                    excess.push(job.id);
                    continue;
                }
                let n = inflight.entry(job.endpoint_id).or_insert(0);
                if *n >= PER_ENDPOINT {
                    excess.push(job.id);
                } else {
                    *n += 1;
                    jobs.push(job);
                }
            }
        }
        if !excess.is_empty() {
            let marks = vec!["?"; excess.len()].join(", ");
            // If this fails the lease lets them go anyway.
            if let Err(e) = self
                .db
                .execute_raw(crate::db::raw(
                    backend,
                    &format!(
                        "UPDATE webhook_deliveries SET claimed_until = NULL WHERE id IN ({marks})"
                    ),
                    excess.into_iter().map(sea_orm::Value::from).collect(),
                ))
                .await
            {
                tracing::warn!(error = %e, "webhooks: letting go of extra claims failed");
            }
        }
        jobs.sort_by_key(|j| j.id);
        Ok(Claimed {
            again: lost || !jobs.is_empty(),
            jobs,
            slow,
        })
    }

    /// Has PostgreSQL gather the deliveries' statistics again, at most every
    /// [`ANALYZE_EVERY`] and only when many rows changed since they were last gathered. The
    /// look reads a few hundred rows in index order when the planner knows how many are
    /// pending; with statistics from when the table was nearly empty (a burst of 100,000
    /// arriving before autovacuum's next round, or autovacuum off) it chose to read and sort
    /// every pending delivery instead, some 60 ms a look, and a burst drained at about a
    /// hundred a second. It gives up after half a second of waiting for its lock, before
    /// PostgreSQL would cancel an autovacuum holding it (`deadlock_timeout`, 1 s by default).
    pub(super) async fn refresh_statistics(&self) {
        {
            let mut last = self.analyzed.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < ANALYZE_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let refresh = async {
            let changed = self
                .db
                .query_one_raw(sea_orm::Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables \
                     WHERE relname = 'webhook_deliveries'",
                ))
                .await?;
            let Some(row) = changed else {
                return Ok(false);
            };
            let (changed, live): (i64, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
            if changed < (live / 5).max(1000) {
                return Ok(false);
            }
            let txn = self.db.begin().await?;
            txn.execute_unprepared("SET LOCAL lock_timeout = '500ms'")
                .await?;
            txn.execute_unprepared("ANALYZE webhook_deliveries, webhook_endpoints")
                .await?;
            txn.commit().await?;
            Ok::<bool, DbErr>(true)
        };
        match refresh.await {
            Ok(true) => tracing::info!(
                "webhooks: claims were slow; refreshed the planner's statistics of the deliveries"
            ),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "webhooks: refreshing statistics failed"),
        }
    }

    /// Runs `sql`, whose `{a}` and `{b}` stand for the lists `a` and `b` (`x IN ({a})`).
    async fn pairs(
        &self,
        sql: &str,
        a: &[i64],
        b: &[i64],
    ) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        let marks = |n: usize| vec!["?"; n.max(1)].join(", ");
        let sql = sql
            .replacen("{a}", &marks(a.len()), 1)
            .replacen("{b}", &marks(b.len()), 1);
        let values = a
            .iter()
            .chain(b)
            .map(|v| sea_orm::Value::from(*v))
            .collect();
        self.db
            .query_all_raw(crate::db::raw(self.db.get_database_backend(), &sql, values))
            .await
    }

    /// Reads what the jobs' deliveries need, a few statements for the whole claim: their
    /// endpoints, messages, keys (with their owners) and whether each key reaches each device;
    /// then decides each one's refusal, if any.
    async fn prepare(&self, jobs: &mut [Job]) -> Result<(), DbErr> {
        use sea_orm::{ColumnTrait, QueryFilter};
        if jobs.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let backend = self.db.get_database_backend();
        let distinct = |ids: Vec<i64>| -> Vec<i64> {
            let mut ids = ids;
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let endpoints: HashMap<i64, Arc<webhook_endpoint::Model>> =
            webhook_endpoint::Entity::find()
                .filter(
                    webhook_endpoint::Column::Id
                        .is_in(distinct(jobs.iter().map(|j| j.endpoint_id).collect())),
                )
                .all(&self.db)
                .await?
                .into_iter()
                .map(|e| (e.id, Arc::new(e)))
                .collect();
        let messages: HashMap<i64, Arc<webhook_message::Model>> = webhook_message::Entity::find()
            .filter(
                webhook_message::Column::Id
                    .is_in(distinct(jobs.iter().map(|j| j.message_id).collect())),
            )
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.id, Arc::new(m)))
            .collect();
        let key_ids = distinct(endpoints.values().map(|e| e.key_id).collect());
        let marks = |n: usize| vec!["?"; n.max(1)].join(", ");
        let mut keys: HashMap<i64, KeyFacts> = HashMap::new();
        if !key_ids.is_empty() {
            let rows = self
                .db
                .query_all_raw(crate::db::raw(
                    backend,
                    &format!(
                        "SELECT k.id, k.retired_at, k.expires_at, k.permissions, u.disabled_at,                          u.account_id, u.role, u.id FROM api_keys k JOIN users u ON u.id = k.user_id                          WHERE k.id IN ({})",
                        marks(key_ids.len())
                    ),
                    key_ids.iter().map(|k| (*k).into()).collect(),
                ))
                .await?;
            for r in rows {
                let retired: Option<DateTime<Utc>> = r.try_get_by_index(1)?;
                let disabled: Option<DateTime<Utc>> = r.try_get_by_index(4)?;
                let role: String = r.try_get_by_index(6)?;
                keys.insert(
                    r.try_get_by_index(0)?,
                    KeyFacts {
                        retired: retired.is_some(),
                        expires: r.try_get_by_index(2)?,
                        permissions: KeyPermissions::from_scopes(&r.try_get_by_index::<String>(3)?),
                        owner_disabled: disabled.is_some(),
                        owner_account: r.try_get_by_index(5)?,
                        owner_admin: role == partlogic_entity::roles::ADMIN,
                        owner: r.try_get_by_index(7)?,
                    },
                );
            }
        }
        // Which of the (key, device) pairs these events are about each key still reaches:
        // ticked, of the endpoint's account, and seen by its owner (admins see them all).
        let devices = distinct(messages.values().filter_map(|m| m.device_id).collect());
        let mut ticked: HashMap<(i64, i64), i64> = HashMap::new();
        let mut seen: HashSet<(i64, i64)> = HashSet::new();
        if !devices.is_empty() && !key_ids.is_empty() {
            let rows = self
                .pairs(
                    "SELECT kd.key_id, kd.device_id, d.account_id FROM api_key_devices kd \
                     JOIN devices d ON d.id = kd.device_id \
                     WHERE kd.key_id IN ({a}) AND kd.device_id IN ({b})",
                    &key_ids,
                    &devices,
                )
                .await?;
            for r in rows {
                ticked.insert(
                    (r.try_get_by_index(0)?, r.try_get_by_index(1)?),
                    r.try_get_by_index(2)?,
                );
            }
            let owners = distinct(
                keys.values()
                    .filter(|k| !k.owner_admin)
                    .map(|k| k.owner)
                    .collect(),
            );
            if !owners.is_empty() {
                let rows = self
                    .pairs(
                        "SELECT user_id, device_id FROM user_devices \
                         WHERE user_id IN ({a}) AND device_id IN ({b})",
                        &owners,
                        &devices,
                    )
                    .await?;
                for r in rows {
                    seen.insert((r.try_get_by_index(0)?, r.try_get_by_index(1)?));
                }
            }
        }
        for job in jobs.iter_mut() {
            job.endpoint = endpoints.get(&job.endpoint_id).cloned();
            job.message = messages.get(&job.message_id).cloned();
            let (Some(endpoint), Some(message)) = (&job.endpoint, &job.message) else {
                continue;
            };
            job.refusal = refusal(
                endpoint,
                message,
                keys.get(&endpoint.key_id),
                |key, device| {
                    ticked
                        .get(&(key, device))
                        .is_some_and(|account| *account == endpoint.account_id)
                        && keys
                            .get(&key)
                            .is_some_and(|k| k.owner_admin || seen.contains(&(k.owner, device)))
                },
                now,
            );
        }
        Ok(())
    }
}

/// What decides whether a key may still receive events: its row and its owner's.
#[derive(Debug, Clone)]
struct KeyFacts {
    retired: bool,
    expires: Option<DateTime<Utc>>,
    permissions: KeyPermissions,
    owner_disabled: bool,
    owner_account: i64,
    owner_admin: bool,
    owner: i64,
}

/// Why `endpoint`'s key (`key`, read with its owner) may not receive `message` now, if it may
/// not; `reaches(key, device)` says whether the key still reaches a device.
fn refusal(
    endpoint: &webhook_endpoint::Model,
    message: &webhook_message::Model,
    key: Option<&KeyFacts>,
    reaches: impl Fn(i64, i64) -> bool,
    now: DateTime<Utc>,
) -> Option<String> {
    let Some(k) = key else {
        return Some("the key no longer exists".to_owned());
    };
    if k.retired {
        return Some("the key is retired".to_owned());
    }
    if k.expires.is_some_and(|e| e <= now) {
        return Some("the key has expired".to_owned());
    }
    if k.owner_disabled || k.owner_account != endpoint.account_id {
        return Some("the key's owner can no longer use it".to_owned());
    }
    if !k.permissions.allows(Permission::WebhooksManage) {
        return Some("the key no longer has the webhooks:manage permission".to_owned());
    }
    let kind = EventType::parse(&message.event_type);
    // A test event goes to the endpoint that asked for it whatever the key reaches.
    if kind == Some(EventType::WebhookTest) {
        return None;
    }
    if kind.is_some_and(EventType::needs_orders_read)
        && !k.permissions.allows(Permission::OrdersRead)
    {
        return Some("the key no longer has the orders:read permission".to_owned());
    }
    if let Some(device) = message.device_id
        && !reaches(endpoint.key_id, device)
    {
        return Some("the key no longer reaches this device".to_owned());
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn endpoint() -> webhook_endpoint::Model {
        webhook_endpoint::Model {
            id: 1,
            account_id: 7,
            key_id: 3,
            url: "https://hooks.example/in".to_owned(),
            description: String::new(),
            events: "*".to_owned(),
            format: "standard".to_owned(),
            secret: String::new(),
            previous_secret: None,
            previous_until: None,
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            created_at: at("2026-12-01T00:00:00Z"),
            updated_at: at("2026-12-01T00:00:00Z"),
        }
    }

    fn message(kind: &str, device: Option<i64>) -> webhook_message::Model {
        webhook_message::Model {
            id: 9,
            public_id: "msg_1".to_owned(),
            account_id: 7,
            device_id: device,
            event_type: kind.to_owned(),
            payload: "{}".to_owned(),
            created_at: at("2026-12-01T00:00:00Z"),
        }
    }

    fn key(scopes: &str) -> KeyFacts {
        KeyFacts {
            retired: false,
            expires: None,
            permissions: KeyPermissions::from_scopes(scopes),
            owner_disabled: false,
            owner_account: 7,
            owner_admin: false,
            owner: 5,
        }
    }

    const NOW: &str = "2026-12-06T12:00:00Z";

    /// Each reason a delivery is dropped, and the order they are checked in: the first that
    /// applies is the one the deliveries table shows.
    #[test]
    fn a_delivery_is_refused_for_each_thing_the_key_lost() {
        let e = endpoint();
        let stock = message("stock.below_min", Some(11));
        let order = message("order.created", Some(11));
        let full = key("stock:read orders:read webhooks:manage");
        let reaches = |k: i64, d: i64| k == 3 && d == 11;
        let nowhere = |_: i64, _: i64| false;
        let now = at(NOW);
        let why = |k: Option<&KeyFacts>,
                   m: &webhook_message::Model,
                   r: &dyn Fn(i64, i64) -> bool| { refusal(&e, m, k, r, now) };

        assert_eq!(why(Some(&full), &stock, &reaches), None);
        assert_eq!(why(Some(&full), &order, &reaches), None);
        assert_eq!(
            why(None, &stock, &reaches).as_deref(),
            Some("the key no longer exists")
        );
        let retired = KeyFacts {
            retired: true,
            expires: Some(at("2026-12-01T00:00:00Z")),
            ..full.clone()
        };
        assert_eq!(
            why(Some(&retired), &stock, &reaches).as_deref(),
            Some("the key is retired")
        );
        let expired = KeyFacts {
            expires: Some(now),
            ..full.clone()
        };
        assert_eq!(
            why(Some(&expired), &stock, &reaches).as_deref(),
            Some("the key has expired")
        );
        let later = KeyFacts {
            expires: Some(at("2026-12-06T12:00:01Z")),
            ..full.clone()
        };
        assert_eq!(why(Some(&later), &stock, &reaches), None);
        for gone in [
            KeyFacts {
                owner_disabled: true,
                ..full.clone()
            },
            KeyFacts {
                owner_account: 8,
                ..full.clone()
            },
        ] {
            assert_eq!(
                why(Some(&gone), &stock, &reaches).as_deref(),
                Some("the key's owner can no longer use it")
            );
        }
        let no_hooks = key("stock:read orders:read");
        assert_eq!(
            why(Some(&no_hooks), &stock, &reaches).as_deref(),
            Some("the key no longer has the webhooks:manage permission")
        );
        let no_orders = key("stock:read webhooks:manage");
        assert_eq!(
            why(Some(&no_orders), &order, &reaches).as_deref(),
            Some("the key no longer has the orders:read permission")
        );
        assert_eq!(why(Some(&no_orders), &stock, &reaches), None);
        assert_eq!(
            why(Some(&full), &stock, &nowhere).as_deref(),
            Some("the key no longer reaches this device")
        );
        // A test event goes whatever the key reaches; an event about no device, too.
        assert_eq!(
            why(Some(&full), &message("webhook.test", None), &nowhere),
            None
        );
        assert_eq!(
            why(Some(&full), &message("key.expiring", None), &nowhere),
            None
        );
        // But a test event still needs a key that may have endpoints.
        assert_eq!(
            why(Some(&retired), &message("webhook.test", None), &nowhere).as_deref(),
            Some("the key is retired")
        );
    }
}
