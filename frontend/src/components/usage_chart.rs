//! A key's use as a bar chart (SVG drawn here) with the same numbers as a table: requests
//! answered and refused, the last 24 hours by hour or the last 30 days by day.

use leptos::prelude::*;
use leptos::task::spawn_local;
use partlogic_types::{KeyUsage, UsageBucket};

use crate::api;
use crate::browser;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 160.0;
const AXIS: f64 = 18.0;

/// The chart for key `id`, loaded on mount and whenever `reload` changes.
#[component]
pub fn UsageChart(id: i64, #[prop(into)] reload: Signal<u32>) -> impl IntoView {
    let usage = RwSignal::new(None::<Result<KeyUsage, String>>);
    let by_day = RwSignal::new(false);
    Effect::new(move |_| {
        reload.track();
        spawn_local(async move {
            usage.set(Some(
                api::key_usage(id, &browser::time_zone())
                    .await
                    .map_err(|p| p.detail),
            ));
        });
    });
    view! {
        <section class="usage" aria-labelledby="usage-title">
            <div class="usage-head">
                <h2 id="usage-title">"Usage"</h2>
                <div class="tabs" role="group" aria-label="Period">
                    <button type="button" class="tab" aria-pressed=move || (!by_day.get()).to_string()
                        on:click=move |_| by_day.set(false)>"24 hours"</button>
                    <button type="button" class="tab" aria-pressed=move || by_day.get().to_string()
                        on:click=move |_| by_day.set(true)>"30 days"</button>
                </div>
            </div>
            {move || match usage.get() {
                None => view! { <p class="loading" role="status">"Loading usage…"</p> }.into_any(),
                Some(Err(m)) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
                Some(Ok(u)) => {
                    let days = by_day.get();
                    let buckets = if days { u.days } else { u.hours };
                    view! { <Chart buckets=buckets days=days/> }.into_any()
                }
            }}
        </section>
    }
}

fn refused(b: &UsageBucket) -> u64 {
    b.refused.values().sum()
}

fn label(b: &UsageBucket, days: bool) -> String {
    if days {
        browser::short_day(&b.start)
    } else {
        browser::hour(&b.start)
    }
}

#[component]
fn Chart(buckets: Vec<UsageBucket>, days: bool) -> impl IntoView {
    let max = buckets
        .iter()
        .map(|b| b.ok + refused(b))
        .max()
        .unwrap_or(0)
        .max(1);
    let (ok_total, refused_total, rows_total) = buckets.iter().fold((0, 0, 0), |t, b| {
        (t.0 + b.ok, t.1 + refused(b), t.2 + b.rows)
    });
    let n = buckets.len().max(1) as f64;
    let slot = WIDTH / n;
    let scale = (HEIGHT - AXIS) / max as f64;
    let period = if days { "30 days" } else { "24 hours" };
    let summary = format!(
        "Requests over the last {period}: {ok_total} answered, {refused_total} refused, {rows_total} stock rows returned; busiest {} {max}.",
        if days { "day" } else { "hour" }
    );
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = i as f64 * slot + slot * 0.1;
            let w = slot * 0.8;
            let ok_h = b.ok as f64 * scale;
            let bad_h = refused(b) as f64 * scale;
            let base = HEIGHT - AXIS;
            let tip = format!("{}: {} answered, {} refused", label(b, days), b.ok, refused(b));
            let show_label = if days { i % 5 == 4 } else { i % 4 == 3 };
            // The last label ends at its bar, so the chart's edge does not cut it.
            let last = i + 1 == buckets.len();
            let (label_x, anchor) = if last { (x + w, "end") } else { (x + w / 2.0, "middle") };
            view! {
                <g>
                    <title>{tip}</title>
                    <rect class="bar-ok" x=format!("{x:.1}") y=format!("{:.1}", base - ok_h) width=format!("{w:.1}") height=format!("{ok_h:.1}")/>
                    <rect class="bar-refused" x=format!("{x:.1}") y=format!("{:.1}", base - ok_h - bad_h) width=format!("{w:.1}") height=format!("{bad_h:.1}")/>
                    {show_label.then(|| view! {
                        <text class="axis" x=format!("{label_x:.1}") y=format!("{:.1}", HEIGHT - 4.0) text-anchor=anchor>{label(b, days)}</text>
                    })}
                </g>
            }
        })
        .collect_view();
    let rows = buckets
        .iter()
        .rev()
        .filter(|b| b.ok + refused(b) + b.rows > 0)
        .map(|b| {
            let why = b
                .refused
                .iter()
                .map(|(code, n)| format!("{code}: {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <tr>
                    <td>{if days { browser::long_day(&b.start) } else { browser::date_time(&b.start) }}</td>
                    <td>{b.ok}</td>
                    <td>{refused(b)}{(!why.is_empty()).then(|| format!(" ({why})"))}</td>
                    <td>{b.rows}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="usage-summary">{summary.clone()}</p>
        <svg class="usage-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary>
            <line class="axis-line" x1="0" x2=WIDTH.to_string() y1=format!("{:.1}", HEIGHT - AXIS) y2=format!("{:.1}", HEIGHT - AXIS)/>
            {bars}
        </svg>
        <p class="legend"><span class="swatch ok"></span>" answered "<span class="swatch refused"></span>" refused"</p>
        <details class="usage-table">
            <summary>"Show the numbers"</summary>
            <table aria-label=format!("Usage over the last {period}")>
                <thead><tr>
                    <th scope="col">{if days { "Day" } else { "Hour" }}</th>
                    <th scope="col">"Answered"</th>
                    <th scope="col">"Refused"</th>
                    <th scope="col">"Stock rows"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}
