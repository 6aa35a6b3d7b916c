//! Writing when keys were last used, off the request path: requests hand a use to one writer
//! task and answer at once; at shutdown the writer takes no more and writes what it holds
//! before the process ends (see `Application::run_until_stopped`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use partlogic_entity::{api_key, audit_event};
use partlogic_types::AuditAction;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use tokio::sync::{Notify, mpsc};

/// Uses waiting to be written before new ones are dropped (each key writes at most once a
/// minute per instance, so this is thousands of distinct keys in a burst).
const QUEUE: usize = 4096;

/// A use of a key to write.
#[derive(Debug)]
pub struct Use {
    /// The key.
    pub key_id: i64,
    /// Its account (for the first-use event).
    pub account_id: i64,
    /// Whether the key had never been used, as far as this instance knew.
    pub first: bool,
    /// The client's address.
    pub ip: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Hands uses to the writer. Cloning shares it.
#[derive(Clone)]
pub struct UseWriter {
    tx: mpsc::Sender<Use>,
}

impl UseWriter {
    /// Queues `u`; a full queue drops it (with a warning) rather than slow the request.
    pub fn record(&self, u: Use) {
        if let Err(e) = self.tx.try_send(u) {
            tracing::warn!(error = %e, "key use not recorded: the writer is behind or stopped");
        }
    }
}

/// Stops the writer once it has written everything queued.
pub struct UseFlusher {
    stop: Arc<Notify>,
    done: tokio::task::JoinHandle<()>,
}

impl UseFlusher {
    /// Takes no more uses, writes those queued, and waits for that for at most `within`.
    pub async fn flush(self, within: Duration) {
        self.stop.notify_one();
        if tokio::time::timeout(within, self.done).await.is_err() {
            tracing::warn!("gave up writing the last key uses at shutdown");
        }
    }
}

/// Starts the writer on `db`.
pub fn spawn(db: DatabaseConnection) -> (UseWriter, UseFlusher) {
    let (tx, mut rx) = mpsc::channel::<Use>(QUEUE);
    let stop = Arc::new(Notify::new());
    let stopping = stop.clone();
    let done = tokio::spawn(async move {
        loop {
            tokio::select! {
                next = rx.recv() => match next {
                    Some(u) => write(&db, u).await,
                    None => return,
                },
                () = stopping.notified() => {
                    rx.close();
                    let mut left = 0;
                    while let Some(u) = rx.recv().await {
                        write(&db, u).await;
                        left += 1;
                    }
                    tracing::info!(written = left, "key uses written at shutdown");
                    return;
                }
            }
        }
    });
    (UseWriter { tx }, UseFlusher { stop, done })
}

async fn write(db: &DatabaseConnection, u: Use) {
    if let Err(e) = try_write(db, &u).await {
        tracing::warn!(key_id = u.key_id, error = %e, "could not record key use");
    }
}

async fn try_write(db: &DatabaseConnection, u: &Use) -> Result<(), DbErr> {
    // The cached record may say "never used" after the first write; the conditional update
    // below is what decides, so a stale "never" costs one update that changes nothing.
    if u.first {
        // Only the use that flips NULL → time writes the event, even with several server
        // instances racing on the key's first calls.
        let flipped = api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(u.at))
            .col_expr(api_key::Column::LastUsedIp, Expr::value(u.ip.clone()))
            .filter(api_key::Column::Id.eq(u.key_id))
            .filter(api_key::Column::LastUsedAt.is_null())
            .exec(db)
            .await?;
        if flipped.rows_affected == 1 {
            audit_event::Entity::insert(audit_event::ActiveModel {
                account_id: Set(u.account_id),
                key_id: Set(u.key_id),
                actor_id: Set(None),
                action: Set(AuditAction::FirstUsed.as_str().to_owned()),
                ip: Set(u.ip.clone()),
                detail: Set(None),
                at: Set(u.at),
                ..Default::default()
            })
            .exec(db)
            .await?;
            return Ok(());
        }
    }
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(u.at))
        .col_expr(api_key::Column::LastUsedIp, Expr::value(u.ip.clone()))
        .filter(api_key::Column::Id.eq(u.key_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Remembers when each key's "last used" was last written, so that a busy key costs one write a
/// minute instead of one per request.
#[derive(Clone, Default)]
pub struct LastUsedThrottle {
    seen: Arc<Mutex<HashMap<i64, Instant>>>,
}

impl LastUsedThrottle {
    /// How often at most a key's last use is written.
    pub const PERIOD: Duration = Duration::from_secs(60);

    /// Whether the caller should write `key_id`'s last use now (and records that it will).
    pub fn should_write(&self, key_id: i64) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(&key_id) {
            Some(at) if now.duration_since(*at) < Self::PERIOD => false,
            _ => {
                // Keep the map from growing without bound on a long-running server.
                if seen.len() > 100_000 {
                    seen.retain(|_, at| now.duration_since(*at) < Self::PERIOD);
                }
                seen.insert(key_id, now);
                true
            }
        }
    }
}
