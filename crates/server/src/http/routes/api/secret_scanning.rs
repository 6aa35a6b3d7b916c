//! `POST /api/secret-scanning`: leak reports from GitHub secret scanning.

use actix_web::{HttpRequest, HttpResponse, post, web};
use partlogic_types::{AuditAction, LeakLabel, LeakReport, LeakVerdict, Problem, RetiredReason};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys;
use crate::keys::lifecycle::{self, Retirement, Which};

/// The largest report taken (GitHub sends batches of a few hundred tokens at most).
const MAX_BODY: usize = 1024 * 1024;

/// Report leaked keys (GitHub secret scanning)
///
/// GitHub's secret-scanning partner endpoint. The body is a JSON array of `{token, type, url,
/// source}`, signed over its raw bytes with ECDSA P-256 by a key named in
/// `GITHUB-PUBLIC-KEY-IDENTIFIER` (signature, base64 DER, in `GITHUB-PUBLIC-KEY-SIGNATURE`).
/// A reported key that still works is retired at once (reason `leaked`, with the URL); a rolled
/// key's previous secret stops. The answer labels each token `true_positive` (a key of this
/// server) or `false_positive`. Answers 404 unless the server was given the public keys
/// (`PARTLOGIC_SECRET_SCANNING_KEYS`).
#[utoipa::path(
    tag = "secret-scanning",
    request_body = Vec<LeakReport>,
    params(
        ("GITHUB-PUBLIC-KEY-IDENTIFIER" = String, Header, description = "The key that signed the body"),
        ("GITHUB-PUBLIC-KEY-SIGNATURE" = String, Header, description = "ECDSA P-256 signature of the raw body, DER, base64"),
    ),
    responses(
        (status = 200, description = "What each token was", body = Vec<LeakVerdict>),
        (status = 400, description = "Not a JSON array of reports (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong signature (`invalid_signature`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Leak reports are not taken by this server (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/secret-scanning")]
pub async fn report_leaked_keys(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(scanning) = &state.scanning_keys else {
        return Err(ApiError::NotFound("resource"));
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let body = read_body(payload).await?;
    scanning
        .verify(
            header("github-public-key-identifier"),
            header("github-public-key-signature"),
            &body,
        )
        .map_err(ApiError::InvalidSignature)?;
    let reports: Vec<LeakReport> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::InvalidBody(format!(
            "the body is not a JSON array of {{token, type, url, source}}: {}",
            crate::error::without_values(&e.to_string())
        ))
    })?;
    let now = state.clock.now();
    let mut verdicts = Vec::with_capacity(reports.len());
    for r in reports {
        let ours = keys::is_well_formed(&r.token) && handle(&state, &r, now).await?;
        verdicts.push(LeakVerdict {
            token_raw: r.token,
            token_type: r.token_type,
            label: if ours {
                LeakLabel::TruePositive
            } else {
                LeakLabel::FalsePositive
            },
        });
    }
    Ok(HttpResponse::Ok().json(verdicts))
}

/// The body, up to [`MAX_BODY`] bytes (a longer one is refused as a problem document).
async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::InvalidBody(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::InvalidBody(format!(
                "the body is too large (at most {MAX_BODY} bytes)"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Acts on one well-formed reported token: whether it is one of this server's keys.
async fn handle(
    state: &AppState,
    r: &LeakReport,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, ApiError> {
    let txn = crate::db::begin_write(&state.db).await?;
    let Some((key, which)) =
        lifecycle::find_by_digest(&txn, &crate::domain::digest::digest(&r.token)).await?
    else {
        return Ok(false);
    };
    let place = if r.url.is_empty() {
        "in public".to_owned()
    } else {
        format!("at {}", r.url)
    };
    let why = format!("reported leaked {place} (secret scanning)");
    let key_id = key.id;
    match which {
        Which::Current if key.retired_at.is_some() => {
            // Dead already; the owner still learns where it turned up.
            let key = lifecycle::note_leak(&txn, key, &r.url, now).await?;
            let what = format!("{why}; it was already retired");
            lifecycle::record(&txn, &key, None, AuditAction::Edited, None, Some(what), now).await?;
        }
        Which::Current => {
            let key = lifecycle::note_leak(&txn, key, &r.url, now).await?;
            lifecycle::retire(
                &txn,
                key,
                Retirement {
                    reason: RetiredReason::Leaked,
                    detail: Some(r.url.clone()),
                    actor: None,
                    ip: None,
                    history: Some(&why),
                },
                now,
            )
            .await?;
        }
        Which::Previous => {
            let key = lifecycle::note_leak(&txn, key, &r.url, now).await?;
            lifecycle::end_overlap(&txn, key, None, &why, now).await?;
        }
        // Refused everywhere already: nothing to stop.
        Which::RolledPast => {}
    }
    txn.commit().await?;
    if which != Which::RolledPast {
        // Before the answer: this instance refuses the secret from now on (others hear it
        // from the database).
        state.keys.clear();
        tracing::warn!(key_id, "key reported leaked; stopped");
    }
    Ok(true)
}
