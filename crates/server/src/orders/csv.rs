//! Orders as CSV: one row per line, text cells neutralised like stock CSV's.

use partlogic_types::Order;

use crate::stock::encode::neutralise;

/// The CSV header line.
pub const ORDERS_CSV_HEADER: &str = "OrderId,Number,Status,DeviceId,DeviceName,Customer,Reference,SKU,Description,Quantity,Received,Outstanding,CreatedBy,CreatedAt\n";

/// `orders` as CSV with its header line.
pub fn body(orders: &[Order]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(ORDERS_CSV_HEADER.as_bytes().to_vec());
    for o in orders {
        let created_by = match &o.created_by {
            partlogic_types::OrderActor::Key { name, prefix } => format!("{name} ({prefix})"),
            partlogic_types::OrderActor::User { name, email } => format!("{name} <{email}>"),
        };
        let at = partlogic_types::rfc3339_millis::format(&o.created_at);
        for l in &o.lines {
            let _ = w.write_record([
                o.id.to_string().as_str(),
                &o.number,
                o.status.as_str(),
                &o.device.id.to_string(),
                &neutralise(&o.device.name),
                &neutralise(&o.device.customer),
                &neutralise(o.reference.as_deref().unwrap_or_default()),
                &neutralise(&l.sku),
                &neutralise(&l.description),
                &l.quantity.to_string(),
                &l.received.to_string(),
                &l.outstanding.to_string(),
                &neutralise(&created_by),
                &at,
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}
