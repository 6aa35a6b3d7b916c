//! Writes through the Stock API: their JSON bodies (read whole, size-capped, so that the bytes a
//! client sent can be compared on a retry) and their `Idempotency-Key` (`orders::idempotency`):
//! a handler starts an [`Idempotent`] write, replays a stored answer if there is one, does its
//! work in a transaction, and hands the outcome to [`Idempotent::complete`], which commits the
//! work together with its stored answer.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, without_values};
use std::sync::Arc;

use crate::http::state::AppState;
use crate::orders::idempotency::{self, Attempt, Begin, Claim, Found, Recalled, Replays, Stored};

/// Reads a JSON body of at most `cap` bytes: 413 beyond (at once when `Content-Length` says
/// so), 415 unless it is `application/json`.
pub(crate) async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    cap: usize,
) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        });
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(ApiError::PayloadTooLarge(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::InvalidBody(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > cap {
            return Err(ApiError::PayloadTooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a body read by [`read_body`] as a JSON object of type `T` (400 `invalid_body`
/// otherwise; an empty body is `{}`).
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::InvalidBody(format!(
                "the body is not JSON: {}",
                without_values(&e.to_string())
            ))
        })?
    };
    if !value.is_object() {
        return Err(ApiError::InvalidBody(
            "the body must be a JSON object".to_owned(),
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        ApiError::InvalidBody(format!(
            "the body is not valid JSON for this request: {}",
            without_values(&e.to_string())
        ))
    })
}

/// What a write answers when it succeeds.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// 200 or 201.
    pub status: StatusCode,
    /// The JSON body.
    pub body: String,
    /// `Location`, for a creation.
    pub location: Option<String>,
}

impl Outcome {
    /// What is kept for this answer under an `Idempotency-Key`.
    pub(crate) fn stored(&self) -> Stored {
        Stored {
            status: self.status.as_u16(),
            body: self.body.clone(),
            location: self.location.clone(),
        }
    }

    /// `value` as JSON with `status`.
    pub(crate) fn json(
        status: StatusCode,
        value: &impl serde::Serialize,
        location: Option<String>,
    ) -> Result<Outcome, ApiError> {
        Ok(Outcome {
            status,
            body: serde_json::to_string(value)
                .map_err(|e| ApiError::Internal(format!("encoding an answer: {e}")))?,
            location,
        })
    }
}

fn respond(status: u16, body: String, location: Option<&str>, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::build(status);
    res.insert_header((
        header::CONTENT_TYPE,
        if status.is_success() {
            "application/json"
        } else {
            "application/problem+json"
        },
    ))
    .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(l) = location {
        res.insert_header((header::LOCATION, l.to_owned()));
    }
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    res.body(body)
}

/// How a write starts: the stored answer of its key's first request, or the work to do.
pub(crate) enum Started {
    /// Answer this (the first request's answer, again).
    Replay(HttpResponse),
    /// Do the work in this transaction, then [`Idempotent::complete`] it.
    Run(Idempotent, DatabaseTransaction),
}

/// Starts a write by `caller` to `endpoint` with `body`: looks at its `Idempotency-Key` and,
/// unless that holds a stored answer, opens the write transaction.
pub(crate) async fn begin(
    state: &AppState,
    req: &HttpRequest,
    caller: &crate::keys::ApiCaller,
    endpoint: String,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Started, ApiError> {
    match Idempotent::start(state, req, caller, endpoint, body, now).await? {
        Idempotent::Replay(res) => Ok(Started::Replay(res)),
        write => {
            let txn = write.open(state).await?;
            Ok(Started::Run(write, txn))
        }
    }
}

/// What this instance remembers about a write's `Idempotency-Key`.
pub(crate) enum Recall {
    /// Answer this (the first request's answer, again).
    Replay(HttpResponse),
    /// Nothing remembered: ask the database (`None`: no key was sent).
    Unknown(Option<Attempt>),
}

/// Looks at the request's `Idempotency-Key` in this instance's memory only, for writes that read
/// the key's record together with their own first query (creating an order on PostgreSQL).
pub(crate) fn recall(
    state: &AppState,
    req: &HttpRequest,
    caller: &crate::keys::ApiCaller,
    endpoint: String,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Recall, ApiError> {
    let Some(key) = idempotency::header(req)? else {
        return Ok(Recall::Unknown(None));
    };
    let attempt = Attempt::new(caller.account_id(), caller.key_id(), key, endpoint, body);
    match state.replays.recall(&attempt, now) {
        Recalled::Replay(stored) => Ok(Recall::Replay(replayed(stored))),
        Recalled::Reused => Err(ApiError::IdempotencyKeyReused),
        Recalled::Unknown => Ok(Recall::Unknown(Some(attempt))),
    }
}

/// The answer `found` gives `attempt`: the stored answer again, or a refusal; `None` when the
/// key is held without a result or expired (then [`Idempotent::start`] decides: "in use", or
/// the key taken over) or free.
pub(crate) fn answer(
    state: &AppState,
    attempt: &Attempt,
    found: Found,
) -> Result<Option<HttpResponse>, ApiError> {
    match found {
        Found::Replay(stored, expires_at) => {
            state.replays.remember(attempt, &stored, expires_at);
            Ok(Some(replayed(stored)))
        }
        Found::Reused => Err(ApiError::IdempotencyKeyReused),
        Found::Nothing | Found::Held | Found::Expired => Ok(None),
    }
}

/// The answer to a write that was refused with `e` before any work began: `e`, kept as the
/// answer to `attempt` (if a key was sent) unless it is one a retry may not meet (a 5xx, 409,
/// 412). If another request's record for the key got there first, that record answers instead
/// (its stored answer, or `idempotency_key_reused`, or "in use").
pub(crate) async fn refused(
    state: &AppState,
    attempt: Option<&Attempt>,
    e: ApiError,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HttpResponse, ApiError> {
    use actix_web::ResponseError;
    let Some(attempt) = attempt else {
        return Err(e);
    };
    let status = e.status_code();
    if status.is_server_error() || status == 409 || status == 412 {
        return Err(e);
    }
    let body = serde_json::to_string(&e.problem())
        .map_err(|x| ApiError::Internal(format!("encoding a problem: {x}")))?;
    let stored = Stored {
        status: status.as_u16(),
        body,
        location: None,
    };
    if idempotency::keep_refusal(&state.db, attempt, &stored, now).await? {
        state
            .replays
            .remember(attempt, &stored, idempotency::remember_until(now));
        return Err(e);
    }
    match idempotency::look(&state.db, attempt, now).await? {
        Found::Held => Err(ApiError::IdempotencyKeyInUse),
        found => answer(state, attempt, found)?.ok_or(e),
    }
}

/// The response to a write that succeeded with `outcome`, kept for `attempt` (if a key was sent)
/// in the statement that did the work.
pub(crate) fn succeeded(
    state: &AppState,
    attempt: Option<&Attempt>,
    outcome: Outcome,
    now: chrono::DateTime<chrono::Utc>,
) -> HttpResponse {
    if let Some(attempt) = attempt {
        state
            .replays
            .remember(attempt, &outcome.stored(), idempotency::remember_until(now));
    }
    respond(
        outcome.status.as_u16(),
        outcome.body,
        outcome.location.as_deref(),
        false,
    )
}

/// The answer after a write in one statement found a record for `attempt`'s key that appeared
/// since it was read: that record's answer, or why not.
pub(crate) async fn after_race(
    state: &AppState,
    attempt: &Attempt,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HttpResponse, ApiError> {
    let found = idempotency::look(&state.db, attempt, now).await?;
    answer(state, attempt, found)?.ok_or(ApiError::IdempotencyKeyInUse)
}

fn replayed(stored: Stored) -> HttpResponse {
    respond(stored.status, stored.body, stored.location.as_deref(), true)
}

/// A write in progress, with the `Idempotency-Key` it holds (if the client sent one).
pub(crate) enum Idempotent {
    /// No key sent: an ordinary write.
    Plain,
    /// The key is this request's (claimed at the given time).
    Claimed(Claim, Attempt, Arc<Replays>, chrono::DateTime<chrono::Utc>),
    /// The key's first request already answered: this is that answer again.
    Replay(HttpResponse),
}

impl Idempotent {
    /// Looks at the request's `Idempotency-Key` for `account_id`'s write to `endpoint` with
    /// `body`: answers a retry from this instance's memory or the database, claims a new key,
    /// or refuses (reused with another request, or still in use).
    pub(crate) async fn start(
        state: &AppState,
        req: &HttpRequest,
        caller: &crate::keys::ApiCaller,
        endpoint: String,
        body: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Idempotent, ApiError> {
        let attempt = match recall(state, req, caller, endpoint, body, now)? {
            Recall::Replay(res) => return Ok(Idempotent::Replay(res)),
            Recall::Unknown(None) => return Ok(Idempotent::Plain),
            Recall::Unknown(Some(attempt)) => attempt,
        };
        Ok(match idempotency::begin(&state.db, &attempt, now).await? {
            Begin::Run(claim) => Idempotent::Claimed(claim, attempt, state.replays.clone(), now),
            Begin::Replay(stored, expires_at) => {
                state.replays.remember(&attempt, &stored, expires_at);
                Idempotent::Replay(replayed(stored))
            }
        })
    }

    /// Opens the write's transaction; if that fails (the pool is exhausted, the database is
    /// down), the key is let go at once, so the client's retry runs instead of hearing "in use".
    pub(crate) async fn open(&self, state: &AppState) -> Result<DatabaseTransaction, ApiError> {
        match crate::db::begin_write(&state.db).await {
            Ok(txn) => Ok(txn),
            Err(e) => Err(self.abandon(state, e.into()).await),
        }
    }

    /// Lets the key go after `e`, a failure before the work began; returns `e`.
    pub(crate) async fn abandon(&self, state: &AppState, e: ApiError) -> ApiError {
        if let Idempotent::Claimed(claim, ..) = self {
            let _ = idempotency::release(&state.db, claim).await;
        }
        e
    }

    /// Finishes the write: on success the work in `txn` commits with its stored answer; a 4xx
    /// rolls the work back and stores the refusal; a 5xx rolls back and lets the key go, so the
    /// client may retry it. A stored answer is remembered for the retries.
    pub(crate) async fn complete(
        self,
        db: &DatabaseConnection,
        txn: DatabaseTransaction,
        result: Result<Outcome, ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        let claim = match self {
            Idempotent::Replay(res) => return Ok(res),
            Idempotent::Plain => None,
            Idempotent::Claimed(c, attempt, replays, at) => Some((c, attempt, replays, at)),
        };
        // A little before the database's own record expires (claimed at `at`).
        let keep_until = claim
            .as_ref()
            .map(|(_, _, _, at)| idempotency::remember_until(*at));
        match result {
            Ok(outcome) => {
                let stored = Stored {
                    status: outcome.status.as_u16(),
                    body: outcome.body.clone(),
                    location: outcome.location.clone(),
                };
                if let Some((claim, ..)) = &claim
                    && let Err(e) = idempotency::finish(&txn, claim, &stored).await
                {
                    drop(txn);
                    let _ = idempotency::release(db, claim).await;
                    return Err(e);
                }
                if let Err(e) = txn.commit().await {
                    if let Some((claim, ..)) = &claim {
                        let _ = idempotency::release(db, claim).await;
                    }
                    return Err(e.into());
                }
                if let (Some((_, attempt, replays, _)), Some(until)) = (&claim, keep_until) {
                    replays.remember(attempt, &stored, until);
                }
                Ok(respond(
                    outcome.status.as_u16(),
                    outcome.body,
                    outcome.location.as_deref(),
                    false,
                ))
            }
            Err(e) => {
                drop(txn);
                if let Some((claim, attempt, replays, _)) = &claim {
                    use actix_web::ResponseError;
                    // Not kept: a 5xx (the client may retry), and a conflict with another
                    // request of the moment (409, 412), which a retry may well not meet.
                    let status = e.status_code();
                    if status.is_server_error() || status == 409 || status == 412 {
                        idempotency::release(db, claim).await?;
                    } else {
                        let body = serde_json::to_string(&e.problem())
                            .map_err(|x| ApiError::Internal(format!("encoding a problem: {x}")))?;
                        let stored = Stored {
                            status: e.status_code().as_u16(),
                            body,
                            location: None,
                        };
                        idempotency::finish(db, claim, &stored).await?;
                        if let Some(until) = keep_until {
                            replays.remember(attempt, &stored, until);
                        }
                    }
                }
                Err(e)
            }
        }
    }
}
