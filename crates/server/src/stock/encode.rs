//! Stock rows as JSON or CSV.

use actix_web::HttpRequest;
use actix_web::http::header;
use partlogic_types::{StockAlert, StockRow};

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

    /// Appends `rows`; `first` tracks whether a JSON separator is due.
    pub fn write_rows(self, rows: &[StockRow], first: &mut bool, out: &mut Vec<u8>) {
        match self {
            Self::Json => {
                for row in rows {
                    if !*first {
                        out.push(b',');
                    }
                    *first = false;
                    // Serialising these plain structs cannot fail.
                    let _ = serde_json::to_writer(&mut *out, row);
                }
            }
            Self::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::new());
                for row in rows {
                    let updated = partlogic_types::rfc3339_millis::format(&row.updated_at);
                    let _ = w.write_record([
                        row.id.to_string().as_str(),
                        &neutralise(&row.device_name),
                        &neutralise(&row.sku),
                        &neutralise(&row.description),
                        &row.min_qty.to_string(),
                        &row.max_qty.to_string(),
                        &row.physical.to_string(),
                        &row.device_id.to_string(),
                        &neutralise(&row.customer),
                        &neutralise(&row.location),
                        &updated,
                    ]);
                }
                if let Ok(bytes) = w.into_inner() {
                    out.extend_from_slice(&bytes);
                }
            }
        }
    }
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
/// "this is text" and do not display. Numeric columns are never touched, and JSON never is.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

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
}
