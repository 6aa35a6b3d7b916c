//! What the portal asks of the browser: its time zone, today's date, local date formatting and
//! the clipboard.

use chrono::{DateTime, NaiveDate, Utc};
use wasm_bindgen::JsValue;

/// The browser's IANA time zone (`Europe/London`), or `UTC` if it will not say.
pub fn time_zone() -> String {
    let opts = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&opts, &JsValue::from_str("timeZone"))
        .ok()
        .and_then(|v| v.as_string())
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| "UTC".to_owned())
}

/// Today in the browser's time zone, as `YYYY-MM-DD` (the earliest "Expires On").
pub fn today() -> String {
    let d = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date()
    )
}

/// The latest "Expires On" the server accepts: five years from today (`YYYY-MM-DD`).
pub fn latest_expiry() -> String {
    let d = js_sys::Date::new_0();
    let (month, day) = (d.get_month() + 1, d.get_date());
    // 29 February five years on does not exist; the 28th does.
    let day = if month == 2 && day == 29 { 28 } else { day };
    format!("{:04}-{:02}-{:02}", d.get_full_year() + 5, month, day)
}

/// `31 Dec 2026`.
pub fn long_date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn js_date(t: &DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64))
}

/// A timestamp in the browser's time zone: `26 Nov 2026, 16:05`.
pub fn date_time(t: &DateTime<Utc>) -> String {
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"short".into());
    js_date(t).to_locale_string("en-GB", &opts).into()
}

fn local(t: &DateTime<Utc>, options: &[(&str, &str)]) -> String {
    let opts = js_sys::Object::new();
    for (k, v) in options {
        let _ = js_sys::Reflect::set(&opts, &(*k).into(), &(*v).into());
    }
    js_date(t).to_locale_string("en-GB", &opts).into()
}

/// The local hour a time falls in: `16:00`.
pub fn hour(t: &DateTime<Utc>) -> String {
    local(t, &[("hour", "2-digit"), ("minute", "2-digit")])
}

/// A day, short: `26 Nov`.
pub fn short_day(t: &DateTime<Utc>) -> String {
    local(t, &[("day", "numeric"), ("month", "short")])
}

/// A day, in full: `Thu, 26 Nov 2026`.
pub fn long_day(t: &DateTime<Utc>) -> String {
    local(
        t,
        &[
            ("weekday", "short"),
            ("day", "numeric"),
            ("month", "short"),
            ("year", "numeric"),
        ],
    )
}

/// `just now`, `5 minutes ago`, `3 days ago`, or the date for older times.
pub fn relative(t: &DateTime<Utc>) -> String {
    let seconds = ((js_sys::Date::now() - t.timestamp_millis() as f64) / 1000.0).max(0.0) as i64;
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match seconds {
        0..=59 => "just now".to_owned(),
        60..=3599 => plural(seconds / 60, "minute"),
        3600..=86_399 => plural(seconds / 3600, "hour"),
        86_400..=2_591_999 => plural(seconds / 86_400, "day"),
        _ => date_time(t),
    }
}

/// Writes `text` to the clipboard; `Err` when the browser refuses (no permission, not secure).
pub async fn copy(text: &str) -> Result<(), ()> {
    let window = web_sys::window().ok_or(())?;
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|_| ())
}

/// Offers `text` as a file named `name` (a download the browser saves).
pub fn download_text(name: &str, text: &str) -> Result<(), JsValue> {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/plain;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url)
}
