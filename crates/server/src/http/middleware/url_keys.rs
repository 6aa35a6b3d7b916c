//! Keys in URLs: the bounded percent-decoder, the key-lookalike scanner, redaction for the logs,
//! and the guard that refuses any `/api` request carrying a key in its URL.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::ApiError;
use crate::keys;

/// How many rounds of percent-decoding a URL gets. Three undo `%25255F` (`_` encoded three
/// times over), more than any honest client sends; each round costs one pass over the text, so
/// a request costs a small constant per byte however deeply its URL is nested.
pub const DECODE_ROUNDS: usize = 3;

/// The longest request target (path and query) the server reads, in bytes: several times what
/// the longest honest URL here needs (a page link with every filter set is under 300 bytes).
/// Longer ones are refused with 414 before anything decodes them.
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// Text percent-decoded at most [`DECODE_ROUNDS`] times (invalid UTF-8 replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text after the rounds.
    pub text: String,
    /// Whether decoding had ended: nothing in `text` would decode further. When it had not,
    /// the text hides something behind more layers than are undone, and is treated as hiding
    /// a key.
    pub complete: bool,
}

/// `text` percent-decoded until it stops changing, or [`DECODE_ROUNDS`] times, whichever comes
/// first, so no depth of encoding (`%255F`, `%2525255F`, …) hides a `_` from the key scanner
/// unnoticed: what is still encoded after the last round says so in [`Decoded::complete`].
pub fn decode_bounded(text: &str) -> Decoded {
    let mut current = std::borrow::Cow::Borrowed(text);
    for _ in 0..DECODE_ROUNDS {
        if !has_escape(&current) {
            return Decoded {
                text: current.into_owned(),
                complete: true,
            };
        }
        current = percent_encoding::percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned()
            .into();
    }
    Decoded {
        complete: !has_escape(&current),
        text: current.into_owned(),
    }
}

/// Whether `text` holds a `%` followed by two hex digits: something one more round would decode.
fn has_escape(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// A request path as the logs may show it: decoded, anything key-shaped redacted. A path over
/// the size cap, or still encoded after the rounds, is not decoded further but replaced by a
/// placeholder (the request is refused anyway under `/api`).
pub fn path_for_log(path: &str) -> std::borrow::Cow<'static, str> {
    if path.len() > MAX_URL_BYTES {
        return "[path over the size cap]".into();
    }
    let decoded = decode_bounded(path);
    if !decoded.complete {
        return "[path still percent-encoded after decoding]".into();
    }
    redact_keys(&decoded.text).into()
}

/// Parameter names that mean "here is my key" in the wild, compared without case, `-` or `_`.
const KEY_PARAM_NAMES: &[&str] = &[
    "xapikey",
    "apikey",
    "key",
    "token",
    "accesstoken",
    "authorization",
    "auth",
    "secret",
];

/// How many characters after `pl_` make something look like a key (a real one has 49).
const KEY_LOOKALIKE_CHARS: usize = 20;

/// Byte ranges of everything in `text` that looks like a PartLogic key: `pl_` followed by at
/// least 20 letters and digits, and every letter, digit and `_` after those. Ranges never
/// overlap and come in order: the search resumes after each match (`pl_aaaa…apl_bbbb…` is one
/// lookalike, not two that cross).
fn key_lookalikes(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let prefix = keys::PREFIX.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at + prefix.len() <= bytes.len() {
            let start = at;
            if bytes[start..].starts_with(prefix) {
                let body = start + prefix.len();
                let run = bytes[body..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .count();
                if run >= KEY_LOOKALIKE_CHARS {
                    // The match runs on through every letter, digit and `_` after it, so a key
                    // glued to a lookalike (`pl_aaaa…pl_<key>`) goes with it, never half.
                    at = body + run;
                    while at < bytes.len()
                        && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_')
                    {
                        at += 1;
                    }
                    return Some((start, at));
                }
            }
            at += 1;
        }
        None
    })
}

/// Whether `text` contains something that looks like a PartLogic key.
pub fn looks_like_key(text: &str) -> bool {
    key_lookalikes(text).next().is_some()
}

/// `text` with anything that looks like a key replaced by `pl_[redacted]`.
pub fn redact_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in key_lookalikes(text) {
        out.push_str(&text[last..start]);
        out.push_str("pl_[redacted]");
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Whether a query string carries an API key: under a key-like name, or something shaped like a
/// PartLogic key anywhere (as a value, or as a bare name: `?pl_…`), or something encoded more
/// deeply than [`DECODE_ROUNDS`] undo (it could hide a key, and no honest client sends it).
pub fn query_has_key(query: &str) -> bool {
    let decoded = decode_bounded(query);
    !decoded.complete
        || looks_like_key(&decoded.text)
        || form_urlencoded::parse(query.as_bytes()).any(|(name, value)| {
            let folded: String = name
                .chars()
                .filter(|c| *c != '-' && *c != '_')
                .flat_map(char::to_lowercase)
                .collect();
            KEY_PARAM_NAMES.contains(&folded.as_str())
                || looks_like_key(&name)
                || looks_like_key(&value)
        })
}

/// Refuses any request under `/api` (the docs and the OpenAPI document included) with a key in
/// its URL (query string or path), even if its header is valid: the key is already in
/// somebody's logs and its owner needs to hear that.
pub async fn refuse_key_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let api = req.path() == "/api" || req.path().starts_with("/api/");
    if api && (query_has_key(req.query_string()) || path_has_key(req.path())) {
        return Err(ApiError::ApiKeyInQuery.into());
    }
    next.call(req).await
}

/// Whether a path carries something key-shaped, at any depth of encoding that is undone, or
/// is encoded more deeply than that.
pub fn path_has_key(path: &str) -> bool {
    let decoded = decode_bounded(path);
    !decoded.complete || looks_like_key(&decoded.text)
}

/// The most header bytes (names and values) a request may carry: far above what any browser or
/// tool sends (a few KiB with cookies), far below what would cost the server to read.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses, before anything else reads them, a request whose target (path and query) is longer
/// than [`MAX_URL_BYTES`] (414) or whose headers hold more than [`MAX_HEADER_BYTES`] (431). The
/// HTTP layer itself closes heads over 128 KiB or 96 headers with a bare 431.
pub async fn bound_request_heads(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let target = req.path().len() + req.query_string().len();
    if target > MAX_URL_BYTES {
        return Err(ApiError::UriTooLong(MAX_URL_BYTES).into());
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(MAX_HEADER_BYTES).into());
    }
    next.call(req).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::query_has_key;

    #[test]
    fn finds_keys_under_any_spelling() {
        assert!(query_has_key("X-API-Key=abc"));
        assert!(query_has_key("api_key=abc"));
        assert!(query_has_key("sku=1&ApiKey=abc"));
        assert!(query_has_key("x=pl_0123456789abcdefghijklmnop"));
        assert!(query_has_key("pl_0123456789abcdefghijklmnop"));
        assert!(query_has_key("pl_0123456789abcdefghijklmnop=1"));
        assert!(!query_has_key("sku=ABC&limit=10"));
        assert!(!query_has_key("sku=pl_short"));
        assert!(!query_has_key(""));
    }

    #[test]
    fn overlapping_lookalikes_are_one_match() {
        let path = "/pl_aaaaaaaaaaaaaaaaaaaapl_bbbbbbbbbbbbbbbbbbbb";
        assert_eq!(super::redact_keys(path), "/pl_[redacted]");
        assert!(super::looks_like_key(path));
    }

    #[test]
    fn percent_encoded_keys_are_found() {
        let key = "pl_0123456789abcdefghijklmnop";
        let encoded = "/api/pl%5F0123456789abcdefghijklmnop";
        assert!(super::looks_like_key(&super::decode_bounded(encoded).text));
        let twice = "/api/pl%255F0123456789abcdefghijklmnop";
        assert!(super::looks_like_key(&super::decode_bounded(twice).text));
        assert!(!super::redact_keys(&super::decode_bounded(encoded).text).contains(&key[3..]));
        assert!(query_has_key("x=pl%255F0123456789abcdefghijklmnop"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// No path, however odd, can panic the scanner, and nothing key-shaped survives redaction.
        #[test]
        fn the_scanner_never_panics_and_always_redacts(
            path in proptest::string::string_regex("(/|pl_|[a-zA-Z0-9]{1,25}|%5F|%|_|\\PC){0,40}").unwrap()
        ) {
            let decoded = super::decode_bounded(&path);
            let redacted = super::redact_keys(&decoded.text);
            proptest::prop_assert!(!super::looks_like_key(&redacted));
            let _ = super::query_has_key(&path);
        }
    }

    #[test]
    fn nesting_past_the_rounds_counts_as_a_key() {
        // Three layers are undone and scanned...
        let three = "/api/pl%25255F0123456789abcdefghijklmnop";
        assert!(super::decode_bounded(three).complete);
        assert!(super::path_has_key(three));
        // ...a fourth is not decoded, but refused all the same.
        let four = "/api/pl%2525255F0123456789abcdefghijklmnop";
        assert!(!super::decode_bounded(four).complete);
        assert!(super::path_has_key(four));
        assert!(query_has_key("sku=%2525252541"));
        // Honest percent signs are fine: `50%` sent as `50%25`.
        assert!(!query_has_key("sku=50%25&limit=10"));
        assert!(!super::path_has_key("/api/stock/100%25"));
        assert_eq!(
            super::path_for_log("/api/%252525252541"),
            "[path still percent-encoded after decoding]"
        );
        assert_eq!(super::path_for_log("/api/a%2541"), "/api/aA");
    }

    /// The finding: `/%2525…2541` cost one round per layer over the whole text, so n² for an
    /// n-byte path. Now the work is a fixed number of passes: a path of 64 KiB of nesting costs
    /// about what 64 KiB of plain text costs (counted in bytes touched, not timed).
    #[test]
    fn decoding_is_linear_however_deep_the_nesting() {
        let nested = format!("/api/%{}41", "25".repeat(32_000));
        let d = super::decode_bounded(&nested);
        assert!(!d.complete);
        // Each round shortens the text by two bytes per layer it undoes: exactly the rounds ran.
        assert_eq!(d.text.len(), nested.len() - 2 * super::DECODE_ROUNDS);
    }

    #[test]
    fn redacts_key_lookalikes() {
        assert_eq!(
            super::redact_keys("/api/pl_0123456789abcdefghijklmnop/stock"),
            "/api/pl_[redacted]/stock"
        );
        assert_eq!(super::redact_keys("/api/stock"), "/api/stock");
    }
}
