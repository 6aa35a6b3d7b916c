//! The body a `slack` endpoint receives: Slack's incoming-webhook message (`{"text": …}`), a
//! sentence a person reads in a channel, with a link back to the portal. Built at delivery
//! time from the stored event, so the event is stored once whatever the formats.

use serde_json::Value;

/// Slack's own escaping for message text: `&`, `<` and `>` (the rest is taken literally).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => esc(s),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The lines of an order as `SKU ×qty, …` (at most five, then how many more).
fn lines(order: &Value) -> String {
    let Some(lines) = order.get("lines").and_then(Value::as_array) else {
        return String::new();
    };
    let mut words: Vec<String> = lines
        .iter()
        .take(5)
        .map(|l| format!("{} ×{}", text(l, "sku"), text(l, "quantity")))
        .collect();
    if lines.len() > 5 {
        words.push(format!("and {} more", lines.len() - 5));
    }
    words.join(", ")
}

/// The Slack body for the standard event `payload`; `portal` is the portal's base URL.
pub fn body(payload: &str, portal: &str) -> String {
    let v: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let data = v.get("data").cloned().unwrap_or(Value::Null);
    let portal = portal.trim_end_matches('/');
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    let message = match kind {
        "stock.below_min" => format!(
            ":warning: *{}* ({}): {} {} is at *{}*, below its minimum of {} (fill up to {}). <{portal}/|Open PartLogic>",
            text(&data, "DeviceName"),
            text(&data, "Customer"),
            text(&data, "SKU"),
            text(&data, "Description"),
            text(&data, "Physical"),
            text(&data, "MinQty"),
            text(&data, "MaxQty"),
        ),
        "stock.restocked" => format!(
            ":white_check_mark: *{}* ({}): {} {} is back at *{}* (minimum {}). <{portal}/|Open PartLogic>",
            text(&data, "DeviceName"),
            text(&data, "Customer"),
            text(&data, "SKU"),
            text(&data, "Description"),
            text(&data, "Physical"),
            text(&data, "MinQty"),
        ),
        "order.created" | "order.received" | "order.cancelled" => {
            let device = data.get("device").cloned().unwrap_or(Value::Null);
            let by = data
                .get("created_by")
                .map(|a| text(a, "name"))
                .unwrap_or_default();
            let what = match kind {
                "order.created" => format!("created by {by}"),
                "order.received" => format!("received ({})", text(&data, "status")),
                _ => "cancelled".to_owned(),
            };
            format!(
                ":package: Order *{}* for *{}* ({}) {what}: {}. <{portal}/orders/{}|Open the order>",
                text(&data, "number"),
                text(&device, "name"),
                text(&device, "customer"),
                lines(&data),
                text(&data, "id"),
            )
        }
        "key.expiring" => format!(
            ":hourglass: The PartLogic API key *{}* ({}) expires on {}. <{portal}/integrations|Make a new key>",
            text(&data, "name"),
            text(&data, "prefix"),
            text(&data, "expires_on"),
        ),
        _ => format!(
            ":wave: A test event from PartLogic: this channel will receive the events chosen for it. <{portal}/integrations|Open PartLogic>"
        ),
    };
    serde_json::json!({ "text": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_stock_reads_as_a_sentence_with_slack_escaping() {
        let payload = r#"{"type":"stock.below_min","timestamp":"2026-12-06T10:00:00.000Z","data":{"DeviceName":"Crib <1>","Customer":"A&B","SKU":"BRG-6204","Description":"Bearing","Physical":2,"MinQty":5,"MaxQty":20}}"#;
        let b: Value =
            serde_json::from_str(&body(payload, "https://pl.example/")).unwrap_or_default();
        let t = b["text"].as_str().unwrap_or_default();
        assert!(
            t.contains(
                "*Crib &lt;1&gt;* (A&amp;B): BRG-6204 Bearing is at *2*, below its minimum of 5"
            ),
            "{t}"
        );
        assert!(t.contains("<https://pl.example/|Open PartLogic>"), "{t}");
    }
}
