//! Unpaged exports: every matching row, read in keyset batches and written as it goes.
//!
//! A slow reader must not cost anyone else: the exporter holds a database connection only for
//! the few milliseconds each batch query takes (no cursor, no transaction, no pinned SQLite
//! snapshot while it waits on the client), each key (and account) may run only a few exports at
//! once, and a client that reads slower than the minimum rate (counted over the time the
//! exporter waits on it, after a grace period), stops reading, or overruns the deadline has its
//! export cut off, as has an export whose key is retired, expires, loses its owner, or no longer
//! reaches a device the export reads (unticked, or taken from the key's owner) midway. A
//! cut export ends in a broken body: only an export that handed over its last piece ends
//! cleanly, so a truncated export never passes as whole.
//!
//! Consistency: rows come in id order with no repeats or gaps among rows that did not change
//! during the export; a row changed mid-export is sent as it was when its batch was read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use futures_util::stream;
use tokio::sync::mpsc;

use super::encode::Names;
use super::slots::{StreamLimits, StreamSlot};
use super::{Format, StockFilters, query};
use crate::clock::Clock;
use crate::db::store::Store;
use crate::keys::ApiCaller;
use crate::keys::cache::KeyCache;
use crate::keys::usage::Usage;

/// Rows read per batch query.
const BATCH_ROWS: u64 = 1000;
/// Body bytes gathered before they are handed to the connection.
const FLUSH_BYTES: usize = 32 * 1024;

type Chunk = Result<Bytes, actix_web::Error>;

/// What an export reads through: the store for its batches, the key cache to check the key
/// between them, the usage counters for the rows it sends, and the clock.
#[derive(Clone)]
pub struct Exporter {
    /// The hot reads.
    pub store: Store,
    /// Verified keys, to check the caller's again between batches.
    pub keys: KeyCache,
    /// Counts the rows sent.
    pub usage: Usage,
    /// "Now".
    pub clock: Clock,
}

/// The export as a response body. `slot` is held until the export ends.
pub fn export(
    state: Exporter,
    slot: StreamSlot,
    caller: ApiCaller,
    filters: StockFilters,
    format: Format,
    limits: StreamLimits,
) -> impl futures_util::Stream<Item = Chunk> {
    let (tx, rx) = mpsc::channel::<Chunk>(2);
    // Set only once the last piece is handed over; a producer that stops any other way (cut
    // off, failed, panicked, cancelled) leaves it unset and the body ends broken.
    let completed = Arc::new(AtomicBool::new(false));
    let done = completed.clone();
    actix_web::rt::spawn(async move {
        let _slot = slot;
        let mut out = Sender {
            tx,
            limits,
            started: Instant::now(),
            waited: Duration::ZERO,
            sent: 0,
        };
        match produce(&state, &caller, &filters, format, &mut out).await {
            Ok(Delivery::Complete) => done.store(true, Ordering::SeqCst),
            Ok(Delivery::Cut(why)) => {
                tracing::warn!(key_id = caller.key_id(), why, "stock export cut off");
            }
            Err(e) => tracing::error!(error = %e, "stock export failed"),
        }
    });
    stream::unfold(
        (rx, completed, false),
        |(mut rx, completed, ended)| async move {
            if ended {
                return None;
            }
            match rx.recv().await {
                Some(item) => Some((item, (rx, completed, false))),
                None if completed.load(Ordering::SeqCst) => None,
                // The status line is gone already; cutting the body short is the only signal
                // left (and a JSON parser will notice the missing `]`).
                None => Some((
                    Err(actix_web::error::ErrorInternalServerError("export cut off")),
                    (rx, completed, true),
                )),
            }
        },
    )
}

/// How an export ended.
enum Delivery {
    /// Every row was handed over.
    Complete,
    /// The client was too slow, went away, or the deadline passed.
    Cut(&'static str),
}

/// Hands body pieces to the connection and keeps the client to the limits.
struct Sender {
    tx: mpsc::Sender<Chunk>,
    limits: StreamLimits,
    started: Instant,
    /// Time spent waiting for the client to take pieces: the client's pace is judged on this
    /// alone, never on the server's own query time.
    waited: Duration,
    sent: u64,
}

impl Sender {
    /// Hands `bytes` over; `last` when nothing follows (a complete export is never cut for
    /// its pace once its final piece is handed over).
    async fn send(&mut self, bytes: Vec<u8>, last: bool) -> Result<(), &'static str> {
        let n = bytes.len() as u64;
        // A client that takes longer than the grace period to accept one piece is not reading.
        let wait = self.limits.grace.max(Duration::from_millis(100));
        let asked = Instant::now();
        let sent = tokio::time::timeout(wait, self.tx.send(Ok(Bytes::from(bytes)))).await;
        self.waited += asked.elapsed();
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err("the client went away"),
            Err(_) => return Err("the client stopped reading"),
        }
        self.sent += n;
        if last {
            return Ok(());
        }
        if self.started.elapsed() > self.limits.deadline {
            return Err("the export ran past its deadline");
        }
        if self.waited > self.limits.grace
            && (self.sent as f64) < self.limits.min_bytes_per_sec as f64 * self.waited.as_secs_f64()
        {
            return Err("the client reads slower than the minimum rate");
        }
        Ok(())
    }
}

async fn produce(
    state: &Exporter,
    caller: &ApiCaller,
    filters: &StockFilters,
    format: Format,
    out: &mut Sender,
) -> Result<Delivery, crate::error::ApiError> {
    let mut buf = Vec::with_capacity(FLUSH_BYTES * 2);
    format.open(&mut buf);
    let mut first = true;
    let mut after = filters.after;
    let reading = query::devices(caller, filters);
    loop {
        let page = batch(state, caller, filters, format, after, &mut first, &mut buf).await?;
        state
            .usage
            .rows(caller.key_id(), state.clock.now(), page.rows);
        after = page.last_id.or(after);
        // The key was good when the export began; it must still be, batch after batch, and
        // still reach every device the export reads (a device unticked, or taken from its
        // owner, is taken from a running export too).
        let Some(now) =
            crate::keys::caller::current(&state.keys, &state.store, caller, state.clock.now())
                .await?
        else {
            return Ok(Delivery::Cut(
                "the key was retired, expired or lost its owner",
            ));
        };
        if !reaches_all(&now.reach, &reading) {
            return Ok(Delivery::Cut(
                "the key no longer reaches every device the export reads",
            ));
        }
        // Checked before the last batch goes too: it was read with the reach the export began
        // with.
        if !page.full {
            break;
        }
        if buf.len() >= FLUSH_BYTES
            && let Err(why) = out.send(std::mem::take(&mut buf), false).await
        {
            return Ok(Delivery::Cut(why));
        }
    }
    format.close(&mut buf);
    Ok(match out.send(buf, true).await {
        Ok(()) => Delivery::Complete,
        Err(why) => Delivery::Cut(why),
    })
}

/// Whether `reach` (sorted by id) holds every device of `reading`.
fn reaches_all(reach: &[crate::db::store::ReachDevice], reading: &[i64]) -> bool {
    reading
        .iter()
        .all(|id| reach.binary_search_by_key(id, |d| d.id).is_ok())
}

/// Reads the batch after `after` onto the end of `buf`. SQLite reads run on a blocking thread:
/// an export reads without pause, and on the HTTP worker's own thread each batch (a millisecond
/// or two) would hold up every other request of that worker (measured: 100-row pages beside
/// back-to-back exports had a p99 of 69 ms). PostgreSQL reads wait on the network instead.
async fn batch(
    state: &Exporter,
    caller: &ApiCaller,
    filters: &StockFilters,
    format: Format,
    after: Option<i64>,
    first: &mut bool,
    buf: &mut Vec<u8>,
) -> Result<crate::db::store::PageEnd, sea_orm::DbErr> {
    let Some(reads) = state.store.sqlite() else {
        let mut names = Names::of(caller);
        return query::page(
            &state.store,
            caller,
            filters,
            after,
            BATCH_ROWS,
            &mut |row| format.write_row(row, &mut names, first, buf),
        )
        .await;
    };
    let (reads, caller, filters) = (reads.clone(), caller.clone(), filters.clone());
    let (mut out, mut now_first) = (std::mem::take(buf), *first);
    let (end, out, now_first) = tokio::task::spawn_blocking(move || {
        let devices = query::devices(&caller, &filters);
        let mut names = Names::of(&caller);
        let end = if devices.is_empty() {
            Ok(crate::db::store::PageEnd::default())
        } else {
            reads.stock_page(&devices, &filters, after, BATCH_ROWS, &mut |row| {
                format.write_row(row, &mut names, &mut now_first, &mut out)
            })
        };
        (end, out, now_first)
    })
    .await
    .map_err(|e| sea_orm::DbErr::Custom(format!("export batch stopped: {e}")))?;
    *buf = out;
    *first = now_first;
    end
}
