//! Stock rows as JSON or CSV.

use actix_web::HttpRequest;
use actix_web::http::header;
use partlogic_types::StockAlert;

use crate::auth::ApiCaller;
use crate::store::RowView;

/// The CSV header line: the legacy names first, exactly as integrations map them.
pub const CSV_HEADER: &str =
    "id,DeviceName,SKU,Description,MinQty,MaxQty,Physical,DeviceId,Customer,Location,UpdatedAt\n";

/// The response format the client asked for through `Accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/json` (the default).
    Json,
    /// `text/csv` with a header line.
    Csv,
}

impl Format {
    /// The format `req`'s `Accept` header prefers: CSV when it ranks `text/csv` at least as high
    /// as `application/json`, JSON otherwise.
    pub fn negotiate(req: &HttpRequest) -> Self {
        let Some(accept) = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
        else {
            return Self::Json;
        };
        let (mut csv_q, mut json_q) = (0.0f32, 0.0f32);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "text/csv" => csv_q = csv_q.max(q),
                "application/json" => json_q = json_q.max(q),
                _ => {}
            }
        }
        if csv_q > 0.0 && csv_q >= json_q {
            Self::Csv
        } else {
            Self::Json
        }
    }

    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    /// What opens a body: `[` or the CSV header line.
    pub fn open(self, out: &mut Vec<u8>) {
        match self {
            Self::Json => out.push(b'['),
            Self::Csv => out.extend_from_slice(CSV_HEADER.as_bytes()),
        }
    }

    /// What closes a body: `]` for JSON.
    pub fn close(self, out: &mut Vec<u8>) {
        if self == Self::Json {
            out.push(b']');
        }
    }

    /// Appends one row, named from `caller`'s reach; `first` tracks whether a JSON separator
    /// is due. Written by hand rather than through serde: exports spend their time here, and
    /// the shape never changes (`encodes_like_serde` holds it to the `StockRow` type).
    pub fn write_row(
        self,
        row: &RowView<'_>,
        names: &mut Names<'_>,
        first: &mut bool,
        out: &mut Vec<u8>,
    ) {
        let (device, customer) = names.get(row.device_id);
        match self {
            Self::Json => {
                if !*first {
                    out.push(b',');
                }
                *first = false;
                out.extend_from_slice(b"{\"id\":");
                int(out, row.id);
                out.extend_from_slice(b",\"DeviceName\":");
                json_str(out, device);
                out.extend_from_slice(b",\"SKU\":");
                json_str(out, row.sku);
                out.extend_from_slice(b",\"Description\":");
                json_str(out, row.description);
                out.extend_from_slice(b",\"MinQty\":");
                int(out, row.min_qty);
                out.extend_from_slice(b",\"MaxQty\":");
                int(out, row.max_qty);
                out.extend_from_slice(b",\"Physical\":");
                int(out, row.physical);
                out.extend_from_slice(b",\"DeviceId\":");
                int(out, row.device_id);
                out.extend_from_slice(b",\"Customer\":");
                json_str(out, customer);
                out.extend_from_slice(b",\"Location\":");
                json_str(out, row.location);
                out.extend_from_slice(b",\"UpdatedAt\":\"");
                out.extend_from_slice(row.updated_at.as_bytes());
                out.extend_from_slice(b"\"}");
            }
            Self::Csv => {
                int(out, row.id);
                out.push(b',');
                csv_text(out, device);
                out.push(b',');
                csv_text(out, row.sku);
                out.push(b',');
                csv_text(out, row.description);
                out.push(b',');
                int(out, row.min_qty);
                out.push(b',');
                int(out, row.max_qty);
                out.push(b',');
                int(out, row.physical);
                out.push(b',');
                int(out, row.device_id);
                out.push(b',');
                csv_text(out, customer);
                out.push(b',');
                csv_text(out, row.location);
                out.push(b',');
                out.extend_from_slice(row.updated_at.as_bytes());
                out.push(b'\n');
            }
        }
    }
}

/// The device and customer names rows are shown with, from the key's reach (remembering the
/// last device, since rows come in runs per device).
pub struct Names<'a> {
    caller: &'a ApiCaller,
    last: Option<(i64, &'a str, &'a str)>,
}

impl<'a> Names<'a> {
    /// Names from `caller`'s reach.
    pub fn of(caller: &'a ApiCaller) -> Self {
        Self { caller, last: None }
    }

    fn get(&mut self, device_id: i64) -> (&'a str, &'a str) {
        if let Some((id, d, c)) = self.last
            && id == device_id
        {
            return (d, c);
        }
        let (d, c) = self
            .caller
            .reached(device_id)
            .map_or(("", ""), |d| (d.name.as_str(), d.customer.as_str()));
        self.last = Some((device_id, d, c));
        (d, c)
    }
}

fn int(out: &mut Vec<u8>, n: i64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(n).as_bytes());
}

// Text cells are scanned eight bytes at a time (exports spend a tenth of their time deciding
// whether a cell needs escaping or quotes; byte by byte the compiler emits a poor loop).

const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// Whether some byte of `w` is below `n` (exact for `n` ≤ 128).
fn less_than(w: u64, n: u8) -> bool {
    w.wrapping_sub(splat(n)) & !w & splat(0x80) != 0
}

/// Whether some byte of `w` is `b`.
fn has(w: u64, b: u8) -> bool {
    less_than(w ^ splat(b), 1)
}

/// Whether a byte of `bytes` is special: `word` judges eight at once, `byte` the tail.
fn any_byte(bytes: &[u8], word: impl Fn(u64) -> bool, byte: impl Fn(u8) -> bool) -> bool {
    let mut words = bytes.chunks_exact(8);
    for w in words.by_ref() {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(w);
        if word(u64::from_ne_bytes(eight)) {
            return true;
        }
    }
    words.remainder().iter().any(|&b| byte(b))
}

/// `s` as a JSON string: quotes, backslashes and control characters escaped, the rest as is.
fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Nearly every text needs no escaping: one quick pass, then one copy.
    let plain = !any_byte(
        bytes,
        |w| less_than(w, 0x20) | has(w, b'"') | has(w, b'\\'),
        |b| b < 0x20 || b == b'"' || b == b'\\',
    );
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A text cell of CSV (RFC 4180), neutralised for spreadsheets: quoted when it holds a comma, a
/// quote or a line break (quotes doubled).
fn csv_text(out: &mut Vec<u8>, s: &str) {
    let cell = neutralise(s);
    let needs_quotes = any_byte(
        cell.as_bytes(),
        |w| has(w, b',') | has(w, b'"') | has(w, b'\n') | has(w, b'\r'),
        |b| matches!(b, b',' | b'"' | b'\n' | b'\r'),
    );
    if !needs_quotes {
        out.extend_from_slice(cell.as_bytes());
        return;
    }
    out.push(b'"');
    for b in cell.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// The CSV header line of alerts.
pub const ALERTS_CSV_HEADER: &str = "id,StockId,DeviceId,DeviceName,Customer,SKU,Description,MinQty,MaxQty,Physical,PreviousPhysical,Kind,At\n";

impl Format {
    /// Alerts as a whole body: a JSON array, or CSV with its header line (formula cells
    /// neutralised, as in stock CSV).
    pub fn alerts_body(self, alerts: &[StockAlert]) -> Vec<u8> {
        match self {
            Self::Json => serde_json::to_vec(alerts).unwrap_or_else(|_| b"[]".to_vec()),
            Self::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(ALERTS_CSV_HEADER.as_bytes().to_vec());
                for a in alerts {
                    let at = partlogic_types::rfc3339_millis::format(&a.at);
                    let _ = w.write_record([
                        a.id.to_string().as_str(),
                        &a.stock_id.to_string(),
                        &a.device_id.to_string(),
                        &neutralise(&a.device_name),
                        &neutralise(&a.customer),
                        &neutralise(&a.sku),
                        &neutralise(&a.description),
                        &a.min_qty.to_string(),
                        &a.max_qty.to_string(),
                        &a.physical.to_string(),
                        &a.previous_physical.to_string(),
                        a.kind.as_str(),
                        &at,
                    ]);
                }
                w.into_inner().unwrap_or_default()
            }
        }
    }
}

/// A text cell made safe for spreadsheets: a cell starting with `=`, `+`, `-`, `@`, TAB or CR
/// is a formula to Excel, Sheets and LibreOffice (`=HYPERLINK(…)` in a description would run
/// when someone opens the export), so such a cell gets a leading `'`, which spreadsheets read as
/// "this is text" and do not display. Excel in locales whose list separator is `;` (German,
/// French, Dutch, …) splits a `.csv` on `;` and takes a quote that is not at a field's start as
/// text, and anything may split on TAB, so every `;`, TAB and line break inside a cell starts a
/// field too: where what follows it (past spaces and quotes, which Excel skips there) would
/// start a formula, a `'` goes right after it. Numeric columns are never
/// touched, and JSON never is.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let bytes = cell.as_bytes();
    let at_start = starts_formula(bytes);
    let inside = any_byte(
        bytes,
        |w| has(w, b';') | has(w, b'\t') | has(w, b'\n') | has(w, b'\r'),
        is_field_start,
    );
    if !at_start && !inside {
        return cell.into();
    }
    let mut out = String::with_capacity(cell.len() + 2);
    if at_start {
        out.push('\'');
    }
    for (i, c) in cell.char_indices() {
        out.push(c);
        if c.is_ascii() && is_field_start(c as u8) && starts_formula(&bytes[i + 1..]) {
            out.push('\'');
        }
    }
    out.into()
}

/// The bytes after which some spreadsheet starts a new field: `;` (Excel where the list
/// separator is `;`), TAB, and line breaks (a quote that is not at a field's start is text to
/// such an Excel, so a quoted line break ends its row).
fn is_field_start(b: u8) -> bool {
    matches!(b, b';' | b'\t' | b'\n' | b'\r')
}

/// The bytes that make a spreadsheet field a formula when they come first.
fn is_trigger(b: u8) -> bool {
    matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
}

/// Whether a field starting at `rest` would be a formula: its first byte past spaces and quotes
/// is a trigger.
fn starts_formula(rest: &[u8]) -> bool {
    rest.iter()
        .find(|b| !matches!(b, b' ' | b'"'))
        .is_some_and(|b| is_trigger(*b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::{KeyRecord, ReachDevice};
    use std::sync::Arc;

    fn caller() -> ApiCaller {
        ApiCaller {
            key: Arc::new(KeyRecord {
                id: 1,
                account_id: 1,
                owner_id: 1,
                name: "k".into(),
                prefix: "pl_x".into(),
                digest: String::new(),
                secret: crate::store::SecretKind::Current,
                previous_until: None,
                rate_limit: 600,
                created_at: chrono::Utc::now(),
                expires_on: None,
                time_zone: "UTC".into(),
                expires_at: None,
                retired_at: None,
                used_before: true,
                owner_is_admin: true,
                owner_disabled: false,
                owner_account_id: 1,
                reach: vec![ReachDevice {
                    id: 7,
                    name: "Tab\there \"quoted\" \\ é \u{1}".into(),
                    customer: "=North, Plant\nsite".into(),
                }],
                devices_json: Default::default(),
            }),
            digest: [0; 32],
        }
    }

    /// The hand-written JSON is what serde writes for the wire type, tricky text included.
    #[test]
    fn encodes_like_serde() {
        let caller = caller();
        let row = RowView {
            id: 42,
            device_id: 7,
            sku: "A\"B\\C",
            description: "line\nbreak\u{1f}\u{7f} ünï ✓",
            min_qty: -1,
            max_qty: i64::MAX,
            physical: 0,
            location: "",
            updated_at: "2026-01-01T12:00:00.000Z",
        };
        let mut out = Vec::new();
        Format::Json.open(&mut out);
        let mut names = Names::of(&caller);
        let mut first = true;
        Format::Json.write_row(&row, &mut names, &mut first, &mut out);
        Format::Json.write_row(&row, &mut names, &mut first, &mut out);
        Format::Json.close(&mut out);
        let ours: Vec<partlogic_types::StockRow> = serde_json::from_slice(&out).unwrap();
        let wire = partlogic_types::StockRow {
            id: 42,
            device_name: caller.key.reach[0].name.clone(),
            sku: row.sku.into(),
            description: row.description.into(),
            min_qty: -1,
            max_qty: i64::MAX,
            physical: 0,
            device_id: 7,
            customer: caller.key.reach[0].customer.clone(),
            location: String::new(),
            updated_at: chrono::DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        };
        assert_eq!(ours, vec![wire.clone(), wire.clone()]);
        assert_eq!(
            serde_json::to_value(&ours[0]).unwrap(),
            serde_json::to_value(&wire).unwrap()
        );
        // CSV: quoted where needed, formulas neutralised, read back by a CSV reader.
        let mut csv_out = Vec::new();
        Format::Csv.open(&mut csv_out);
        Format::Csv.write_row(&row, &mut Names::of(&caller), &mut true, &mut csv_out);
        let mut reader = csv::Reader::from_reader(csv_out.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[1], caller.key.reach[0].name.as_str());
        assert_eq!(&record[2], "A\"B\\C");
        assert_eq!(&record[8], "'=North, Plant\nsite");
        assert_eq!(&record[4], "-1");
    }

    proptest::proptest! {
        /// The eight-at-a-time scans find exactly the bytes a plain scan finds.
        #[test]
        fn word_scans_match_byte_scans(bytes in proptest::prop_oneof![
            // Mostly ordinary bytes (special ones rare, so both answers come up), or any bytes.
            proptest::collection::vec(0x1fu8..=0xff, 0..40),
            proptest::collection::vec(proptest::num::u8::ANY, 0..40),
        ]) {
            let json = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
            proptest::prop_assert_eq!(
                any_byte(&bytes, |w| less_than(w, 0x20) | has(w, b'"') | has(w, b'\\'), json),
                bytes.iter().any(|&b| json(b))
            );
            let csv = |b: u8| matches!(b, b',' | b'"' | b'\n' | b'\r');
            proptest::prop_assert_eq!(
                any_byte(&bytes, |w| has(w, b',') | has(w, b'"') | has(w, b'\n') | has(w, b'\r'), csv),
                bytes.iter().any(|&b| csv(b))
            );
        }
    }

    #[test]
    fn formula_cells_become_text() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for c in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(c), format!("'{c}"));
        }
        assert_eq!(neutralise("Bearing 6204"), "Bearing 6204");
        assert_eq!(neutralise(""), "");
        assert_eq!(neutralise("a=b"), "a=b");
    }

    /// Finding 4 of the trust review: Excel with `;` as its list separator split
    /// `x;=HYPERLINK(…);` into a live formula. Every `;` and TAB now starts a field as safe as
    /// the cell's own start, read back both ways: split on `,` (the file as written) and on `;`.
    #[test]
    fn formulas_after_semicolons_and_tabs_become_text() {
        let attack = "x;=HYPERLINK(\"http://evil.example\",\"click\");";
        assert_eq!(
            neutralise(attack),
            "x;'=HYPERLINK(\"http://evil.example\",\"click\");"
        );
        assert_eq!(neutralise("a;+1;-2;@x;\t=3"), "a;'+1;'-2;'@x;'\t'=3");
        assert_eq!(neutralise("a; =1"), "a;' =1");
        assert_eq!(neutralise("a;\"=1"), "a;'\"=1");
        assert_eq!(neutralise("=a;=b"), "'=a;'=b");
        assert_eq!(neutralise("Bolt M8; zinc"), "Bolt M8; zinc");
        assert_eq!(neutralise("a;b\tc"), "a;b\tc");
        assert_eq!(neutralise("x\n=1"), "x\n'=1");
        assert_eq!(neutralise("x\r\n@y"), "x\r\n'@y");
        assert_eq!(neutralise(" =1"), "' =1");

        for description in [
            attack,
            "p;@SUM(A1)",
            "tab\t=1+1",
            "x;=1;y;-2",
            "two\nlines\n+1",
        ] {
            let mut row = Vec::new();
            csv_text(&mut row, description);
            let line = String::from_utf8(row).unwrap();
            // Every field a `;`-locale Excel or a TAB splitter would see, quotes stripped as
            // Excel strips a quote that opens a field.
            for field in line.split([';', '\t', ',', '\n', '\r']) {
                let field = field.trim_start_matches([' ', '"']);
                assert!(
                    !field.starts_with(['=', '+', '-', '@']),
                    "{description:?} gave the live field {field:?} in {line:?}"
                );
            }
        }
    }
}
