//! One attempt: the body in the endpoint's format, signed with its secrets, posted without
//! following redirects; the answer read up to [`MAX_BODY`] and turned into an [`Outcome`].

use std::time::Instant;

use chrono::{DateTime, Utc};
use partlogic_entity::webhook_endpoint;
use partlogic_types::WebhookFormat;
use sea_orm::DbErr;

use super::{Job, MAX_BODY, Outcome, TIMEOUT, Worker};
use crate::webhooks::secrets::signature_header;

impl Worker {
    pub(super) async fn attempt(&self, job: &Job) -> Result<Outcome, DbErr> {
        let now = self.clock.now();
        let Some(endpoint) = &job.endpoint else {
            return Ok(Outcome::Dropped("the endpoint was deleted".to_owned()));
        };
        let Some(message) = &job.message else {
            return Ok(Outcome::Dropped("the event is gone".to_owned()));
        };
        if let Some(why) = &job.refusal {
            return Ok(Outcome::Dropped(why.clone()));
        }
        let Some(vault) = &self.vault else {
            return Ok(Outcome::Internal(
                "this server has no webhook key".to_owned(),
            ));
        };
        let mut secrets = Vec::new();
        match vault.open(&endpoint.secret) {
            Some(s) => secrets.push(s),
            None => {
                return Ok(Outcome::Internal(
                    "the signing secret cannot be opened with this server's webhook key; rotate it"
                        .to_owned(),
                ));
            }
        }
        if endpoint.previous_until.is_some_and(|u| u > now)
            && let Some(old) = endpoint
                .previous_secret
                .as_deref()
                .and_then(|s| vault.open(s))
        {
            secrets.push(old);
        }
        let body = match WebhookFormat::parse(&endpoint.format).unwrap_or_default() {
            WebhookFormat::Standard => message.payload.clone(),
            WebhookFormat::Slack => {
                crate::webhooks::slack::body(&message.payload, &self.settings.portal_url)
            }
        };
        Ok(self
            .post(endpoint, &message.public_id, &secrets, body)
            .await)
    }

    async fn post(
        &self,
        endpoint: &webhook_endpoint::Model,
        id: &str,
        secrets: &[String],
        body: String,
    ) -> Outcome {
        let failed = |error: String| Outcome::Failed {
            status: None,
            ms: None,
            error,
            retry_after: None,
        };
        let Ok(url) = url::Url::parse(&endpoint.url) else {
            return failed("the URL cannot be read".to_owned());
        };
        if !self.settings.allow_private && crate::webhooks::url::literal_forbidden(&url) {
            return failed("the URL names an address that is not public".to_owned());
        }
        // The signature's time is the real one whatever the server's clock says: receivers
        // compare it with theirs.
        let timestamp = Utc::now().timestamp();
        let signature = signature_header(secrets, id, timestamp, body.as_bytes());
        let started = Instant::now();
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let mut res = match sent {
            Ok(r) => r,
            Err(e) => {
                let ms = started.elapsed().as_millis() as i64;
                let error = if e.is_timeout() {
                    format!("no answer within {} s", TIMEOUT.as_secs())
                } else if e.is_connect() {
                    format!("could not connect: {}", root_cause(&e))
                } else {
                    format!("the request failed: {}", root_cause(&e))
                };
                return Outcome::Failed {
                    status: None,
                    ms: Some(ms),
                    error,
                    retry_after: None,
                };
            }
        };
        let status = res.status().as_u16();
        let retry_after = if status == 429 || status == 503 {
            res.headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let v = v.trim();
                    v.parse::<i64>().ok().or_else(|| {
                        // Or an HTTP date.
                        DateTime::parse_from_rfc2822(v)
                            .ok()
                            .map(|at| (at.with_timezone(&Utc) - Utc::now()).num_seconds())
                    })
                })
                .map(|s| s.clamp(1, 24 * 3600))
        } else {
            None
        };
        // Read (and drop) at most MAX_BODY of the answer, so the connection can be reused
        // and a receiver streaming forever costs nothing (the client's timeout covers the
        // body too).
        let mut read = 0usize;
        while read < MAX_BODY {
            match res.chunk().await {
                Ok(Some(c)) => read += c.len(),
                _ => break,
            }
        }
        let ms = started.elapsed().as_millis() as i64;
        match status {
            200..=299 => Outcome::Delivered { status, ms },
            410 => Outcome::Gone { ms },
            300..=399 => Outcome::Failed {
                status: Some(status),
                ms: Some(ms),
                error: "answered a redirect, which is not followed; use the final URL".to_owned(),
                retry_after: None,
            },
            _ => Outcome::Failed {
                status: Some(status),
                ms: Some(ms),
                error: format!("answered {status}"),
                retry_after,
            },
        }
    }
}

/// The innermost cause of a request error, for the delivery's `last_error` (never the URL,
/// whose path may hold a secret).
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
