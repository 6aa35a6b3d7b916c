//! `Idempotency-Key`, with Stripe's semantics: the first request's result (status and body,
//! success or 4xx) is kept 24 hours for the API key that sent it; the same key with the same body
//! gets that result again, marked `Idempotent-Replayed: true`; the same key with another body or
//! endpoint is `422 idempotency_key_reused`; while the first is still running,
//! `409 idempotency_key_in_use`. A 5xx or a conflict (409, 412) is not kept, so the client may
//! retry.
//!
//! The database decides who is first, not a lock in memory: taking a key is one insert under
//! a unique index, which holds across instances on one PostgreSQL. Two ways:
//!
//! - A claim ([`begin`]), committed at once (that is what lets a second request see "in use"
//!   instead of waiting); the result is then written in the same transaction as the work it
//!   reports, so a crash between them cannot leave an order without its record or the reverse.
//!   A claim whose holder died (no result after [`STALE_AFTER`]) is taken over by the next
//!   request with the key. Receipts, cancellations, and creates on SQLite.
//! - Creating an order on PostgreSQL (`orders::create`): the record is inserted, answer and
//!   all, in the one statement that writes the order, under a transaction-scoped advisory lock
//!   ([`lock_id`]) that makes a concurrent request with the key hear "in use".

use chrono::{DateTime, Duration, Utc};
use partlogic_entity::idempotency_key as idem;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// How long a result is kept.
pub const KEEP_FOR: Duration = Duration::hours(24);
/// A claim older than this without a result belongs to a request that died; the next request
/// with the key takes it over.
pub const STALE_AFTER: Duration = Duration::seconds(60);
/// The longest key, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// The `Idempotency-Key` header, if sent: 1 to 255 printable ASCII characters.
pub fn header(req: &actix_web::HttpRequest) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all("idempotency-key");
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bad = |message: &str| {
        ApiError::InvalidParameters(vec![crate::domain::field_error("Idempotency-Key", message)])
    };
    if values.next().is_some() {
        return Err(bad("send one Idempotency-Key"));
    }
    let text = value
        .to_str()
        .ok()
        .filter(|s| s.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .ok_or_else(|| bad("must be printable ASCII characters"))?;
    if text.is_empty() || text.len() > MAX_KEY_CHARS {
        return Err(bad("must be 1 to 255 characters"));
    }
    Ok(Some(text.to_owned()))
}

/// A request that carried a key: what identifies it and what it must match.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The caller's account.
    pub account_id: i64,
    /// The caller's API key.
    pub api_key_id: i64,
    /// The header's value.
    pub key: String,
    /// Method and route (`POST /api/orders/{id}/receive` with the id filled in).
    pub endpoint: String,
    /// Hex SHA-256 of the body as sent.
    pub digest: String,
}

impl Attempt {
    /// An attempt by API key `api_key_id` at `endpoint` with `body`.
    pub fn new(
        account_id: i64,
        api_key_id: i64,
        key: String,
        endpoint: String,
        body: &[u8],
    ) -> Attempt {
        Attempt {
            account_id,
            api_key_id,
            key,
            endpoint,
            digest: hex(&Sha256::digest(body)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// This request holds the key: its result must be stored with [`finish`] or the claim let go
/// with [`release`].
#[derive(Debug, Clone)]
pub struct Claim {
    id: i64,
    token: String,
}

/// A result kept from the first request.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its status.
    pub status: u16,
    /// Its body.
    pub body: String,
    /// Its `Location`, if it had one.
    pub location: Option<String>,
}

/// What to do with a request carrying a key.
#[derive(Debug)]
pub enum Begin {
    /// Do the work; this request holds the key.
    Run(Claim),
    /// Answer the first request's result again (kept until the given time).
    Replay(Stored, DateTime<Utc>),
}

fn token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(hex(&bytes))
}

/// What the database holds for an attempt's key, read without writing anything.
#[derive(Debug)]
pub enum Found {
    /// Nothing: the key is free.
    Nothing,
    /// The first request's result, kept until the given time.
    Replay(Stored, DateTime<Utc>),
    /// A record for another request: `422 idempotency_key_reused`.
    Reused,
    /// A request holds the key without a result yet (running, or dead: [`begin`] tells which
    /// and takes a dead one over).
    Held,
    /// A record kept long enough: [`begin`] clears it and takes the key.
    Expired,
}

/// A record's columns, as read.
#[derive(Debug)]
pub struct Record {
    /// The endpoint of its first request.
    pub endpoint: String,
    /// The digest of that request's body.
    pub request_digest: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// Its result's status, once there is one.
    pub response_status: Option<i32>,
    /// Its result's body.
    pub response_body: Option<String>,
    /// Its result's `Location`.
    pub response_location: Option<String>,
}

impl Record {
    /// What this record (of `attempt`'s key) means for `attempt` at `now`.
    pub fn judge(self, attempt: &Attempt, now: DateTime<Utc>) -> Found {
        if self.expires_at <= now {
            return Found::Expired;
        }
        if self.endpoint != attempt.endpoint || self.request_digest != attempt.digest {
            return Found::Reused;
        }
        match (self.response_status, self.response_body) {
            (Some(status), Some(body)) => Found::Replay(
                Stored {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                    location: self.response_location,
                },
                self.expires_at,
            ),
            _ => Found::Held,
        }
    }
}

/// Reads what the database holds for `attempt`'s key at `now`.
pub async fn look(
    db: &impl ConnectionTrait,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<Found, ApiError> {
    let found = idem::Entity::find()
        .filter(idem::Column::AccountId.eq(attempt.account_id))
        .filter(idem::Column::ApiKeyId.eq(attempt.api_key_id))
        .filter(idem::Column::IdemKey.eq(attempt.key.as_str()))
        .one(db)
        .await?;
    Ok(match found {
        None => Found::Nothing,
        Some(row) => Record {
            endpoint: row.endpoint,
            request_digest: row.request_digest,
            expires_at: row.expires_at,
            response_status: row.response_status,
            response_body: row.response_body,
            response_location: row.response_location,
        }
        .judge(attempt, now),
    })
}

/// The transaction-scoped PostgreSQL advisory lock `(class, id)` that a write taking `attempt`'s
/// key in one statement holds while it runs, so that a concurrent request with the same key
/// hears "in use" instead of waiting on the unique index. The class ("PLIK") keeps these apart
/// from other advisory locks; the id is 32 bits of the key's digest (two keys sharing them
/// only means one of them may hear a needless 409 with `Retry-After: 1`).
pub fn lock_id(attempt: &Attempt) -> (i32, i32) {
    let mut h = Sha256::new();
    h.update(attempt.account_id.to_be_bytes());
    h.update(attempt.api_key_id.to_be_bytes());
    h.update(attempt.key.as_bytes());
    let d = h.finalize();
    (0x504c_494b, i32::from_be_bytes([d[0], d[1], d[2], d[3]]))
}

/// A record inserted for a key that has one already is not written: the unique index on
/// account, API key and `Idempotency-Key` decides who was first.
fn first_record_stays() -> OnConflict {
    OnConflict::columns([
        idem::Column::AccountId,
        idem::Column::ApiKeyId,
        idem::Column::IdemKey,
    ])
    .do_nothing()
    .to_owned()
}

/// How long this instance remembers an answer stored at `at`: a little less than the
/// database keeps it.
pub fn remember_until(at: DateTime<Utc>) -> DateTime<Utc> {
    at + KEEP_FOR - Duration::minutes(1)
}

/// Keeps `result`, a refusal that happened before any work began, as the answer to `attempt`
/// (a record of its own). `false` when another request's record got there first: that one
/// stays, and answers instead.
pub async fn keep_refusal(
    db: &impl ConnectionTrait,
    attempt: &Attempt,
    result: &Stored,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    // An expired record in the way would make this a no-op: clear it first.
    idem::Entity::delete_many()
        .filter(idem::Column::AccountId.eq(attempt.account_id))
        .filter(idem::Column::ApiKeyId.eq(attempt.api_key_id))
        .filter(idem::Column::IdemKey.eq(attempt.key.as_str()))
        .filter(idem::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let inserted = idem::Entity::insert(idem::ActiveModel {
        account_id: Set(attempt.account_id),
        api_key_id: Set(attempt.api_key_id),
        idem_key: Set(attempt.key.clone()),
        endpoint: Set(attempt.endpoint.clone()),
        request_digest: Set(attempt.digest.clone()),
        token: Set(None),
        locked_at: Set(now),
        expires_at: Set(now + KEEP_FOR),
        response_status: Set(Some(i32::from(result.status))),
        response_body: Set(Some(result.body.clone())),
        response_location: Set(result.location.clone()),
        ..Default::default()
    })
    .on_conflict(first_record_stays())
    .exec_without_returning(db)
    .await;
    match inserted {
        Ok(n) => Ok(n == 1),
        Err(sea_orm::DbErr::RecordNotInserted) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Claims the key for `attempt`, or says why not. The record is read first: a retry (the common
/// case after the first request) answers from it without writing anything; only a key not seen
/// yet is inserted, and the unique index decides between requests racing to do that.
pub async fn begin(
    db: &impl ConnectionTrait,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<Begin, ApiError> {
    // Three times at most: after a lost race to insert, and after clearing an expired record.
    for _ in 0..3 {
        let found = idem::Entity::find()
            .filter(idem::Column::AccountId.eq(attempt.account_id))
            .filter(idem::Column::ApiKeyId.eq(attempt.api_key_id))
            .filter(idem::Column::IdemKey.eq(attempt.key.as_str()))
            .one(db)
            .await?;
        let Some(row) = found else {
            let mine = token()?;
            let inserted = idem::Entity::insert(idem::ActiveModel {
                account_id: Set(attempt.account_id),
                api_key_id: Set(attempt.api_key_id),
                idem_key: Set(attempt.key.clone()),
                endpoint: Set(attempt.endpoint.clone()),
                request_digest: Set(attempt.digest.clone()),
                token: Set(Some(mine.clone())),
                locked_at: Set(now),
                expires_at: Set(now + KEEP_FOR),
                ..Default::default()
            })
            .on_conflict(first_record_stays())
            .exec_with_returning(db)
            .await;
            match inserted {
                Ok(row) => {
                    return Ok(Begin::Run(Claim {
                        id: row.id,
                        token: mine,
                    }));
                }
                // Another request inserted it first: read what it holds.
                Err(sea_orm::DbErr::RecordNotInserted | sea_orm::DbErr::RecordNotFound(_)) => {
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        };
        if row.expires_at <= now {
            // Kept long enough: the key is free again.
            idem::Entity::delete_many()
                .filter(idem::Column::Id.eq(row.id))
                .filter(idem::Column::ExpiresAt.lte(now))
                .exec(db)
                .await?;
            continue;
        }
        if row.endpoint != attempt.endpoint || row.request_digest != attempt.digest {
            return Err(ApiError::IdempotencyKeyReused);
        }
        if let (Some(status), Some(body)) = (row.response_status, row.response_body) {
            return Ok(Begin::Replay(
                Stored {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                    location: row.response_location,
                },
                row.expires_at,
            ));
        }
        if row.locked_at > now - STALE_AFTER {
            return Err(ApiError::IdempotencyKeyInUse);
        }
        // Its holder died without a result: take it over, if no one else just did.
        let mine = token()?;
        let taken = idem::Entity::update_many()
            .col_expr(idem::Column::Token, Expr::value(mine.clone()))
            .col_expr(idem::Column::LockedAt, Expr::value(now))
            .filter(idem::Column::Id.eq(row.id))
            .filter(idem::Column::Token.eq(row.token.clone()))
            .filter(idem::Column::ResponseStatus.is_null())
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Begin::Run(Claim {
                id: row.id,
                token: mine,
            }));
        }
        return Err(ApiError::IdempotencyKeyInUse);
    }
    Err(ApiError::IdempotencyKeyInUse)
}

/// Stores the result of the claimed request; in the transaction of the work it reports.
/// Fails (and so rolls that work back) if the claim was taken over meanwhile.
pub async fn finish(
    db: &impl ConnectionTrait,
    claim: &Claim,
    result: &Stored,
) -> Result<(), ApiError> {
    let done = idem::Entity::update_many()
        .col_expr(idem::Column::Token, Expr::value(Option::<String>::None))
        .col_expr(
            idem::Column::ResponseStatus,
            Expr::value(i32::from(result.status)),
        )
        .col_expr(idem::Column::ResponseBody, Expr::value(result.body.clone()))
        .col_expr(
            idem::Column::ResponseLocation,
            Expr::value(result.location.clone()),
        )
        .filter(idem::Column::Id.eq(claim.id))
        .filter(idem::Column::Token.eq(claim.token.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(ApiError::IdempotencyKeyInUse)
    }
}

/// Lets the key go without a result (the request failed on the server's side: the client may
/// retry with the same key).
pub async fn release(db: &impl ConnectionTrait, claim: &Claim) -> Result<(), ApiError> {
    idem::Entity::delete_many()
        .filter(idem::Column::Id.eq(claim.id))
        .filter(idem::Column::Token.eq(claim.token.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes records kept long enough.
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, ApiError> {
    Ok(idem::Entity::delete_many()
        .filter(idem::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// A stored answer remembered by this instance, with what its request must match.
#[derive(Debug, Clone)]
struct Remembered {
    endpoint: String,
    digest: String,
    expires_at: DateTime<Utc>,
    stored: Stored,
}

/// The stored answers this instance has seen, so that a retry is answered from memory: a stored
/// answer never changes once written (only its expiry ends it), so keeping a copy is safe on any
/// number of instances. Bounded: answers up to [`Replays::MAX_BODY`] bytes, and past
/// [`Replays::CAPACITY`] entries it starts afresh (at most about 200 MB).
#[derive(Debug, Default)]
pub struct Replays {
    map: std::sync::Mutex<std::collections::HashMap<(i64, i64, String), Remembered>>,
}

/// What the memory says about an attempt.
#[derive(Debug)]
pub enum Recalled {
    /// Nothing known here: ask the database.
    Unknown,
    /// The same request was answered: this is its answer.
    Replay(Stored),
    /// The key was used with another request.
    Reused,
}

impl Replays {
    /// The most answers remembered.
    pub const CAPACITY: usize = 50_000;
    /// The largest answer remembered, in bytes.
    pub const MAX_BODY: usize = 4096;

    /// What is remembered about `attempt` at `now`.
    pub fn recall(&self, attempt: &Attempt, now: DateTime<Utc>) -> Recalled {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&(attempt.account_id, attempt.api_key_id, attempt.key.clone())) {
            Some(r) if r.expires_at > now => {
                if r.endpoint == attempt.endpoint && r.digest == attempt.digest {
                    Recalled::Replay(r.stored.clone())
                } else {
                    Recalled::Reused
                }
            }
            _ => Recalled::Unknown,
        }
    }

    /// Remembers `stored` as the answer to `attempt`, kept until `expires_at`.
    pub fn remember(&self, attempt: &Attempt, stored: &Stored, expires_at: DateTime<Utc>) {
        // Big answers (orders of many lines) stay in the database only: the memory holds at
        // most CAPACITY × MAX_BODY bytes of them.
        if stored.body.len() > Self::MAX_BODY {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(
            (attempt.account_id, attempt.api_key_id, attempt.key.clone()),
            Remembered {
                endpoint: attempt.endpoint.clone(),
                digest: attempt.digest.clone(),
                expires_at,
                stored: stored.clone(),
            },
        );
    }
}
