//! `GET /metrics` in the Prometheus text format, on an address of its own (`--metrics-bind`;
//! off by default), so that it is never served to the internet by accident.
//!
//! Series are labelled with route templates (`/portal/api/keys/{id}`), methods and statuses
//! only: never a path as sent, a key, a prefix, an account or an address.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::http::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Requests of one route, method and status.
#[derive(Default)]
struct Series {
    count: AtomicU64,
    micros: AtomicU64,
    /// Non-cumulative: requests that fell in each bucket (the last one: above every bound).
    buckets: [AtomicU64; BUCKETS.len() + 1],
}

/// A route's series, by method and status.
type ByAnswer = HashMap<(&'static str, u16), Arc<Series>>;

/// Request counts and latencies, per route template, method and status.
#[derive(Default)]
pub struct Metrics {
    series: RwLock<HashMap<String, ByAnswer>>,
}

/// The methods counted by name; any other is `OTHER` (a client must not mint series).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    /// Counts a request to `route` (a template, or `None` when no route matched).
    pub fn record(&self, route: Option<&str>, method: &Method, status: u16, took: Duration) {
        // Unmatched paths are whatever a client sent: one series for all of them.
        let route = route.unwrap_or("unmatched");
        let key = (method_label(method), status);
        let found = self
            .series
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(route)
            .and_then(|by| by.get(&key).cloned());
        let series = match found {
            Some(s) => s,
            None => self
                .series
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entry(route.to_owned())
                .or_default()
                .entry(key)
                .or_default()
                .clone(),
        };
        let secs = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        series.count.fetch_add(1, Ordering::Relaxed);
        series
            .micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        if let Some(b) = series.buckets.get(bucket) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn write_requests(&self, out: &mut String) {
        let series = self.series.read().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<(&String, &(&'static str, u16), &Arc<Series>)> = series
            .iter()
            .flat_map(|(route, by)| by.iter().map(move |(k, s)| (route, k, s)))
            .collect();
        rows.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        out.push_str("# HELP partlogic_http_requests_total Requests answered, by route template, method and status.\n");
        out.push_str("# TYPE partlogic_http_requests_total counter\n");
        for (route, (method, status), s) in &rows {
            let _ = writeln!(
                out,
                "partlogic_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {}",
                escape(route),
                s.count.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP partlogic_http_request_duration_seconds Time to the response head (streamed bodies continue after it).\n");
        out.push_str("# TYPE partlogic_http_request_duration_seconds histogram\n");
        for (route, (method, status), s) in &rows {
            let labels = format!(
                "route=\"{}\",method=\"{method}\",status=\"{status}\"",
                escape(route)
            );
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "partlogic_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "partlogic_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "partlogic_http_request_duration_seconds_sum{{{labels}}} {}",
                s.micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "partlogic_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
    }
}

/// A label value as the text format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

/// Everything `/metrics` shows, as text.
pub fn render(state: &AppState) -> String {
    let mut out = String::with_capacity(8 * 1024);
    if let Some(m) = &state.metrics {
        m.write_requests(&mut out);
    }
    let (hits, misses) = state.keys.stats();
    metric(
        &mut out,
        "partlogic_key_cache_hits_total",
        "counter",
        "Key checks answered from memory.",
        &[("", hits as f64)],
    );
    metric(
        &mut out,
        "partlogic_key_cache_misses_total",
        "counter",
        "Key checks that read the database (unknown keys, first use, after a change).",
        &[("", misses as f64)],
    );
    metric(
        &mut out,
        "partlogic_key_cache_entries",
        "gauge",
        "Keys held in memory (unknown keys are never held).",
        &[("", state.keys.len() as f64)],
    );
    metric(
        &mut out,
        "partlogic_key_cache_listening",
        "gauge",
        "1 while changes made elsewhere can be heard; 0 while the cache is bypassed.",
        &[("", f64::from(u8::from(state.keys.is_listening())))],
    );
    let (size, idle, max) = crate::db::pool_status(&state.db);
    metric(
        &mut out,
        "partlogic_db_pool_connections",
        "gauge",
        "Open database connections of the pool, in use or idle.",
        &[
            (
                "state=\"in_use\"",
                (size as usize).saturating_sub(idle) as f64,
            ),
            ("state=\"idle\"", idle as f64),
        ],
    );
    metric(
        &mut out,
        "partlogic_db_pool_max_connections",
        "gauge",
        "The pool's size limit.",
        &[("", f64::from(max))],
    );
    metric(
        &mut out,
        "partlogic_db_pool_waiting",
        "gauge",
        "Stock reads waiting for a pooled connection (PostgreSQL; SQLite reads need none).",
        &[("", state.store.waiting() as f64)],
    );
    metric(
        &mut out,
        "partlogic_export_streams_open",
        "gauge",
        "Unpaged stock exports running on this instance.",
        &[("", state.streams.running() as f64)],
    );
    let w = crate::webhooks::deliver::stats();
    let n = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed) as f64;
    metric(
        &mut out,
        "partlogic_webhook_attempts_total",
        "counter",
        "Webhook delivery attempts by this instance, by outcome (dropped: not sent, the key may no longer see the event).",
        &[
            ("outcome=\"delivered\"", n(&w.delivered)),
            ("outcome=\"failed\"", n(&w.failed)),
            ("outcome=\"gone\"", n(&w.gone)),
            ("outcome=\"dropped\"", n(&w.dropped)),
        ],
    );
    metric(
        &mut out,
        "partlogic_webhook_in_flight",
        "gauge",
        "Webhook deliveries this instance is making now.",
        &[("", n(&w.in_flight))],
    );
    metric(
        &mut out,
        "partlogic_webhook_queue_age_seconds",
        "gauge",
        "How long the oldest due webhook delivery has waited (0 when none waits).",
        &[("", n(&w.oldest_due_ms) / 1000.0)],
    );
    out
}

async fn get_metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(render(&state))
}

/// The metrics server on `listener`: one worker, `GET /metrics` only, stopped with the main
/// server (it handles no signals itself).
pub fn serve(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(get_metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
}
