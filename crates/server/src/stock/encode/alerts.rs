//! Low-stock alerts as a whole body: JSON, or CSV with formula cells neutralised.

use partlogic_types::StockAlert;

use super::{Format, neutralise};

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
