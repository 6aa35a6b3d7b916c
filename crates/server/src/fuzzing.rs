//! Fuzz entry points: one function per parser that takes what an attacker controls, runs the
//! parser as the server does, and panics when a property the server relies on breaks. The
//! libFuzzer targets in `crates/server/fuzz/` call these, and the unit tests below replay every
//! committed corpus file through them, so a finding once fixed stays fixed in `cargo test` too.
//!
//! Each asserts more than "no panic": a round trip or an equivalence wherever one exists.
//! Time per byte is bounded by the fuzzer's own timeout over inputs up to its `-max_len`.
#![allow(clippy::panic)]

use std::sync::OnceLock;

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::http::middleware::{
    decode_bounded, looks_like_key, path_for_log, path_has_key, query_has_key, redact_keys,
};

/// The key format and checksum: whatever is accepted has the key's shape; a key built from
/// the input's letters and digits with its checksum is accepted, and changing any one of its
/// characters makes it refused.
pub fn key_format(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if crate::keys::is_well_formed(&text) {
        assert_eq!(text.len(), crate::keys::KEY_LEN);
        assert!(text.starts_with(crate::keys::PREFIX));
        assert!(text[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    let body: String = data
        .iter()
        .map(|b| char::from(crate::keys::format::ALPHABET[usize::from(*b) % 62]))
        .take(crate::keys::format::BODY_LEN)
        .collect();
    if body.len() < crate::keys::format::BODY_LEN {
        return;
    }
    let key = format!(
        "{}{body}{}",
        crate::keys::PREFIX,
        crate::keys::format::checksum(&body)
    );
    assert!(crate::keys::is_well_formed(&key), "{key}");
    // One character changed anywhere past the prefix: CRC-32 catches every such change.
    let at = crate::keys::PREFIX.len() + usize::from(data[0]) % (key.len() - 3);
    let mut changed = key.clone().into_bytes();
    let alphabet = crate::keys::format::ALPHABET;
    let now = alphabet
        .iter()
        .position(|c| *c == changed[at])
        .unwrap_or_default();
    changed[at] = alphabet[(now + 1 + usize::from(data[1]) % 61) % 62];
    let changed = String::from_utf8(changed).unwrap_or_default();
    assert!(!crate::keys::is_well_formed(&changed), "{key} → {changed}");
}

/// The credential headers: any mix of `X-API-Key` and `Authorization` values (Basic, Bearer,
/// other schemes, bytes that are not text). Whatever key is found was sent, in one of the ways
/// the server reads; one key sent every way at once is that key, never a conflict.
pub fn credentials(data: &[u8]) {
    let mut req = TestRequest::default();
    let mut sent: Vec<Vec<u8>> = Vec::new();
    for part in data.split(|b| *b == 0xff).take(8) {
        let Some((kind, value)) = part.split_first() else {
            continue;
        };
        let Ok(header) = actix_web::http::header::HeaderValue::from_bytes(value) else {
            continue;
        };
        let name = if kind % 2 == 0 {
            "x-api-key"
        } else {
            "authorization"
        };
        req = req.append_header((name, header));
        sent.push(value.to_vec());
    }
    let req = req.to_http_request();
    if let Ok(key) = crate::keys::credential::presented_key(&req) {
        let found = sent.iter().any(|v| {
            let text = String::from_utf8_lossy(v);
            text.contains(key.as_str())
                || text.split_whitespace().any(|word| {
                    STANDARD.decode(word).is_ok_and(|d| {
                        String::from_utf8_lossy(&d)
                            .split(':')
                            .any(|part| part.contains(key.as_str()))
                    })
                })
        });
        assert!(found, "{key:?} was not sent");
    }
    // The same key every way at once.
    let key = String::from_utf8_lossy(data)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(crate::keys::KEY_LEN - 3)
        .collect::<String>();
    let key = format!("pl_{key}");
    let basic = STANDARD.encode(format!("{key}:"));
    let req = TestRequest::default()
        .append_header(("x-api-key", key.as_str()))
        .append_header(("authorization", format!("Bearer {key}")))
        .append_header(("authorization", format!("Basic {basic}")))
        .to_http_request();
    match crate::keys::credential::presented_key(&req) {
        Ok(found) => assert_eq!(found, key),
        Err(e) => panic!("{key}: {e}"),
    }
}

/// The URL decoder and key-lookalike scanner: decoding is a fixed number of rounds and says
/// truthfully whether it finished; what it finished equals decoding until nothing changes;
/// nothing key-shaped survives redaction; a key under any encoding that is undone is found,
/// and one under more is refused all the same.
pub fn url_decoder(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let decoded = decode_bounded(&text);
    let escaped = |t: &str| {
        t.as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
    };
    assert_eq!(decoded.complete, !escaped(&decoded.text));
    if decoded.complete {
        // Decoding until nothing changes gets the same (it needs no more rounds than these).
        let mut naive = text.to_string();
        for _ in 0..=crate::http::middleware::DECODE_ROUNDS {
            naive = percent_encoding::percent_decode_str(&naive)
                .decode_utf8_lossy()
                .into_owned();
        }
        assert_eq!(naive, decoded.text);
    }
    assert!(!looks_like_key(&redact_keys(&decoded.text)));
    assert_eq!(
        path_has_key(&text),
        !decoded.complete || looks_like_key(&decoded.text)
    );
    let logged = path_for_log(&text);
    assert!(!looks_like_key(&logged), "{logged}");
    let _ = query_has_key(&text);

    // A key in the text, its `_` encoded 0 to 5 times over: always refused.
    let key = "pl_0123456789abcdefghijABCDEFGHIJ0123456789abcdefg";
    let depth = data.first().map_or(0, |b| usize::from(*b) % 6);
    let mut underscore = "_".to_owned();
    for _ in 0..depth {
        underscore = underscore.replace('%', "%25").replace('_', "%5F");
    }
    let hidden = key.replacen('_', &underscore, 1);
    let cut = text.len() / 2;
    let cut = (0..=cut)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let path = format!("{}{hidden}{}", &text[..cut], &text[cut..]);
    assert!(path_has_key(&path), "{path}");
    assert!(query_has_key(&format!("x={hidden}")), "{hidden}");
    // Whatever stands around a key, no 20 characters of its secret part survive redaction.
    let glued = format!("{}{key}{}", &text[..cut], &text[cut..]);
    let logged = redact_keys(&decode_bounded(&glued).text);
    let around = format!("{text}\u{0}{}", decoded.text);
    for window in key.as_bytes()[3..].windows(20) {
        let window = String::from_utf8_lossy(window);
        // (Unless the text around the key, as sent or decoded, holds those characters itself.)
        if !around.contains(window.as_ref()) {
            assert!(
                !logged.contains(window.as_ref()),
                "{glued:?} logged as {logged:?}"
            );
        }
    }
}

/// `/api/stock` and `/api/stock/alerts` query strings: accepted or refused with the names of the
/// parameters at fault, never a panic; an accepted page size is within its bounds.
pub fn stock_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match crate::stock::StockFilters::parse(&text) {
        Ok(f) => {
            if let Some(limit) = f.limit {
                assert!(
                    (1..=crate::stock::filters::MAX_LIMIT).contains(&limit),
                    "{limit}"
                );
            }
        }
        Err(crate::error::ApiError::InvalidParameters(errors)) => assert!(!errors.is_empty()),
        Err(other) => panic!("unexpected refusal {other:?}"),
    }
    match crate::stock::alerts::AlertFilters::parse(&text) {
        Ok(f) => assert!((1..=crate::stock::alerts::MAX_LIMIT).contains(&f.limit)),
        Err(crate::error::ApiError::InvalidParameters(errors)) => assert!(!errors.is_empty()),
        Err(other) => panic!("unexpected refusal {other:?}"),
    }
}

/// The JSON bodies the portal accepts, read as the server reads them (an object first, then the
/// request type) and then through the domain types. What a domain type accepts keeps its rule.
pub fn portal_bodies(data: &[u8]) {
    use partlogic_types::{CreateKeyRequest, LoginRequest, RollKeyRequest, UpdateKeyRequest};
    let Some((kind, body)) = data.split_first() else {
        return;
    };
    let Ok(object) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
    else {
        return;
    };
    let value = serde_json::Value::Object(object);
    let now = fixed_now();
    match kind % 4 {
        0 => {
            if let Ok(b) = serde_json::from_value::<LoginRequest>(value) {
                if let Ok(e) = crate::accounts::email::Email::parse(&b.email) {
                    assert!(!crate::domain::has_control_chars(e.as_str()));
                }
                let _ = crate::accounts::email::Password::parse(&b.password);
            }
        }
        1 => {
            if let Ok(b) = serde_json::from_value::<CreateKeyRequest>(value) {
                check_name(&b.name);
                check_devices(&b.device_ids);
                if let Some(n) = b.rate_limit_per_minute {
                    check_rate(n);
                }
                let _ = crate::keys::expiry::Expiry::parse(
                    b.expires_on.as_deref(),
                    b.time_zone.as_deref(),
                    now,
                );
            }
        }
        2 => {
            if let Ok(b) = serde_json::from_value::<UpdateKeyRequest>(value) {
                if let Some(n) = &b.name {
                    check_name(n);
                }
                if let Some(ids) = &b.device_ids {
                    check_devices(ids);
                }
                if let Some(Some(n)) = b.rate_limit_per_minute {
                    check_rate(n);
                }
            }
        }
        _ => {
            if let Ok(b) = serde_json::from_value::<RollKeyRequest>(value)
                && let Ok(o) = crate::keys::settings::Overlap::parse(&b.overlap)
            {
                assert!(o.duration() >= chrono::Duration::zero());
                assert!(o.duration() <= chrono::Duration::days(7));
            }
        }
    }
}

fn check_name(raw: &str) {
    if let Ok(name) = crate::keys::name::KeyName::parse(raw) {
        let n = name.as_str();
        assert!(!n.is_empty() && n.trim() == n, "{n:?}");
        assert!(!crate::domain::has_control_chars(n), "{n:?}");
    }
}

fn check_devices(ids: &[i64]) {
    if let Ok(sel) = crate::keys::devices::DeviceSelection::parse(ids) {
        assert!(!sel.ids().is_empty());
        assert!(
            sel.ids().windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeats"
        );
    }
}

fn check_rate(n: i64) {
    if let Ok(r) = crate::keys::settings::RateLimit::parse(n) {
        assert!((1..=100_000).contains(&r.get()));
        assert_eq!(i64::from(r.get()), n);
    }
}

fn fixed_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_796_472_000, 0).unwrap_or_default()
}

/// `Expires On` with its time zone: an accepted date ends after now and at most five years
/// ahead; any real date written `YYYY-MM-DD` in a real zone is never refused as malformed.
pub fn expires_on(data: &[u8]) {
    use crate::keys::expiry::{Expiry, ExpiryError};
    let text = String::from_utf8_lossy(data);
    let (date, zone) = text.split_once('\u{0}').unwrap_or((&text, ""));
    let zone = (!zone.is_empty()).then_some(zone);
    let now = fixed_now();
    if let Ok(e) = Expiry::parse(Some(date), zone, now)
        && let Some(end) = e.ends_at()
    {
        assert!(end > now);
        assert!(end < now + chrono::Duration::days(5 * 366 + 2));
    }
    let _ = Expiry::parse(None, zone, now);
    // Round trip: a real date and zone always read as a date (maybe out of range, never bad).
    let Some(day) = data.get(..4) else { return };
    let n = u32::from_le_bytes([day[0], day[1], day[2], day[3]]);
    // From ten days ago to about five years and two months ahead: both sides of each bound.
    let offset = i64::from(n % 1_920) - 10;
    let Some(real) = now
        .date_naive()
        .checked_add_signed(chrono::Duration::days(offset))
    else {
        return;
    };
    let zones = [
        "Europe/London",
        "America/St_Johns",
        "Pacific/Kiritimati",
        "UTC",
    ];
    let zone = zones[usize::from(day[0]) % zones.len()];
    match Expiry::parse(Some(&real.format("%Y-%m-%d").to_string()), Some(zone), now) {
        Ok(e) => assert_eq!(e.date(), Some(real)),
        // Only the dates outside the range: before tomorrow-ish, or past five years.
        Err(ExpiryError::OutOfRange(_)) => assert!(
            offset <= 1 || offset >= 5 * 365,
            "{real} in {zone} refused as out of range"
        ),
        Err(ExpiryError::Invalid(errors)) => panic!("{real} in {zone}: {errors:?}"),
    }
}

/// The CSV import parser: rows it accepts keep the template's rules, in file order.
pub fn import_csv(data: &[u8]) {
    if let Ok(rows) = crate::stock::import::parse_csv(data, |name| !name.starts_with('?')) {
        let mut last = 0;
        for r in rows {
            assert!(!r.sku.is_empty() && !r.description.is_empty() && !r.storeroom.is_empty());
            assert!(r.quantity >= 0);
            assert!(!r.storeroom.starts_with('?'));
            assert!(r.line > last, "rows in file order");
            last = r.line;
        }
    }
}

/// The secret-scanning (leak report) body and its signature headers: nothing but a signature
/// by a known key over the exact body verifies, and a body so signed always does; the body is
/// read as reports or refused, never a panic.
pub fn leak_report(data: &[u8]) {
    use p256::ecdsa::signature::Signer;
    let (signer, keys) = scanning_pair();
    let mut parts = data.splitn(3, |b| *b == 0xff);
    let (id, sig, body) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let id = String::from_utf8_lossy(id);
    let sig = String::from_utf8_lossy(sig);
    assert!(keys.verify(Some(&id), Some(&sig), body).is_err());
    let _ = serde_json::from_slice::<Vec<partlogic_types::LeakReport>>(body);
    let signature: p256::ecdsa::Signature = signer.sign(body);
    let b64 = STANDARD.encode(signature.to_der().as_bytes());
    assert!(keys.verify(Some("fuzz"), Some(&b64), body).is_ok());
    // The same signature over any other body does not.
    let mut other = body.to_vec();
    other.push(b' ');
    assert!(keys.verify(Some("fuzz"), Some(&b64), &other).is_err());
}

fn scanning_pair() -> &'static (p256::ecdsa::SigningKey, crate::keys::leaks::ScanningKeys) {
    use p256::pkcs8::{EncodePublicKey, LineEnding};
    static PAIR: OnceLock<(p256::ecdsa::SigningKey, crate::keys::leaks::ScanningKeys)> =
        OnceLock::new();
    PAIR.get_or_init(|| {
        let Ok(sk) = p256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()) else {
            panic!("a fixed signing key");
        };
        let pem = sk
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default();
        let file = serde_json::json!({"public_keys": [
            {"key_identifier": "fuzz", "key": pem, "is_current": true}
        ]});
        match crate::keys::leaks::ScanningKeys::parse(&file.to_string()) {
            Ok(keys) => (sk, keys),
            Err(e) => panic!("{e}"),
        }
    })
}

/// A fuzz entry point.
pub type Target = fn(&[u8]);

/// The targets by name, as `crates/server/fuzz/` names them.
pub const TARGETS: &[(&str, Target)] = &[
    ("key_format", key_format),
    ("credentials", credentials),
    ("url_decoder", url_decoder),
    ("stock_query", stock_query),
    ("portal_bodies", portal_bodies),
    ("expires_on", expires_on),
    ("import_csv", import_csv),
    ("leak_report", leak_report),
];

#[cfg(test)]
mod tests {
    /// Every committed corpus file and every crash once found, through its target: what the
    /// fuzzers found stays fixed without running them.
    #[test]
    fn committed_corpora_pass() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut ran = 0;
        for (name, target) in super::TARGETS {
            for dir in ["corpus", "regressions"] {
                let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                    continue;
                };
                for entry in entries.flatten() {
                    if let Ok(data) = std::fs::read(entry.path()) {
                        target(&data);
                        ran += 1;
                    }
                }
            }
            // And a few fixed inputs, so each target runs here even with no corpus.
            for data in [
                &b""[..],
                b"\xff",
                b"pl_%255F%25%0A\xff\x00",
                b"Item Code,Description*",
            ] {
                target(data);
            }
        }
        assert!(ran > 0, "no corpus found under {}", root.display());
    }
}
