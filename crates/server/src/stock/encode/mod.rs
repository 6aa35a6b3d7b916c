//! Stock rows as JSON or CSV, written straight into the response buffer. How one text cell is
//! escaped (and neutralised for spreadsheets) is in `cells`; alerts are in `alerts`.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::db::store::RowView;
use crate::keys::ApiCaller;

mod alerts;
use crate::domain::cells;

pub use alerts::ALERTS_CSV_HEADER;
pub use cells::neutralise;
use cells::{csv_text, int, json_str};

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::db::store::{KeyRecord, ReachDevice};
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
                secret: crate::db::store::SecretKind::Current,
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
                permissions: Default::default(),
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
}
