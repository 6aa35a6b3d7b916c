//! The fields of order requests, parsed once into types that can only hold valid values, every
//! broken rule reported at once and named by its place in the body (`lines[3].quantity`).

use std::collections::HashMap;

use partlogic_types::{CreateOrderRequest, FieldError, OrderLineRequest, ReceiveOrderRequest};
use serde_json::Value;

use crate::domain::{FieldErrors, field_error, has_control_chars};

/// The most lines an order may have.
pub const MAX_LINES: usize = 200;
/// The largest quantity of a line.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// The longest `reference`, in characters.
pub const MAX_REFERENCE_CHARS: usize = 100;
/// The longest `note`, in characters.
pub const MAX_NOTE_CHARS: usize = 1_000;
/// The largest order request body, in bytes (200 lines fit in a tenth of it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A valid new order (whether its SKUs are stocked at its device is the store's to say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The device.
    pub device_id: i64,
    /// 1 to [`MAX_LINES`] lines with distinct SKUs, in the order sent.
    pub lines: Vec<NewLine>,
    /// The client's own id for it.
    pub reference: Option<String>,
    /// A note.
    pub note: Option<String>,
}

/// One valid line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// The item code.
    pub sku: String,
    /// 1 to [`MAX_QUANTITY`].
    pub quantity: i64,
}

/// A whole number from `min` to `max` (JSON may write it `5` or `5.0`; `5.5`, `"5"` and
/// anything else are refused).
fn whole(v: Option<&Value>, field: &str, min: i64, max: i64) -> Result<i64, FieldError> {
    let n = match v {
        None | Some(Value::Null) => return Err(field_error(field, "required")),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| field_error(field, "must be a whole number"))?,
        Some(_) => return Err(field_error(field, "must be a whole number")),
    };
    if n < min || n > max {
        return Err(field_error(
            field,
            format!("must be from {min} to {}", group(max)),
        ));
    }
    Ok(n)
}

/// `1000000` as `1,000,000`.
fn group(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An item code: text of 1 to 100 characters without control characters.
fn sku(v: Option<&Value>, field: &str) -> Result<String, FieldError> {
    match v {
        None | Some(Value::Null) => Err(field_error(field, "required")),
        Some(Value::String(s)) if s.is_empty() => Err(field_error(field, "must not be empty")),
        Some(Value::String(s)) if s.chars().count() > 100 => {
            Err(field_error(field, "must be at most 100 characters"))
        }
        Some(Value::String(s)) if has_control_chars(s) => {
            Err(field_error(field, "must not contain control characters"))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(field_error(field, "must be text")),
    }
}

/// Optional text of 1 to `max` characters; `allow_newlines` for notes.
fn text(
    v: Option<&String>,
    field: &str,
    max: usize,
    allow_newlines: bool,
) -> Result<Option<String>, FieldError> {
    let Some(s) = v else { return Ok(None) };
    if s.is_empty() {
        return Err(field_error(
            field,
            "must not be empty (leave it out instead)",
        ));
    }
    if s.chars().count() > max {
        return Err(field_error(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let bad = if allow_newlines {
        has_control_chars(&s.replace(['\n', '\r'], ""))
    } else {
        has_control_chars(s)
    };
    if bad {
        return Err(field_error(field, "must not contain control characters"));
    }
    Ok(Some(s.clone()))
}

/// Each line's SKU and quantity (1 to [`MAX_QUANTITY`]), with its index; a SKU twice is an
/// error at its second line.
fn parse_lines(ls: &[OrderLineRequest], errors: &mut FieldErrors) -> Vec<(usize, String, i64)> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, line) in ls.iter().enumerate() {
        let sku = errors.take(sku(line.sku.as_ref(), &format!("lines[{i}].sku")));
        let quantity = errors.take(whole(
            line.quantity.as_ref(),
            &format!("lines[{i}].quantity"),
            1,
            MAX_QUANTITY,
        ));
        if let Some(s) = &sku
            && let Some(first) = seen.insert(s.clone(), i)
        {
            errors.push(field_error(
                &format!("lines[{i}].sku"),
                format!("{s} is already on lines[{first}]; give each item one line"),
            ));
        }
        if let (Some(sku), Some(quantity)) = (sku, quantity) {
            out.push((i, sku, quantity));
        }
    }
    out
}

impl NewOrder {
    /// Parses `POST /api/orders`.
    pub fn parse(req: &CreateOrderRequest) -> Result<NewOrder, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let device_id = errors.take(whole(req.device_id.as_ref(), "device_id", 1, i64::MAX));
        let reference = errors
            .take(text(
                req.reference.as_ref(),
                "reference",
                MAX_REFERENCE_CHARS,
                false,
            ))
            .flatten();
        let note = errors
            .take(text(req.note.as_ref(), "note", MAX_NOTE_CHARS, true))
            .flatten();
        let mut lines = Vec::new();
        match req.lines.as_deref() {
            None => errors.push(field_error("lines", "required: 1 to 200 lines")),
            Some([]) => errors.push(field_error("lines", "an order needs at least one line")),
            Some(ls) if ls.len() > MAX_LINES => errors.push(field_error(
                "lines",
                format!("at most {MAX_LINES} lines (this has {})", ls.len()),
            )),
            Some(ls) => {
                lines = parse_lines(ls, &mut errors)
                    .into_iter()
                    .map(|(_, sku, quantity)| NewLine { sku, quantity })
                    .collect();
            }
        }
        errors.finish()?;
        match device_id {
            Some(device_id) => Ok(NewOrder {
                device_id,
                lines,
                reference,
                note,
            }),
            None => Err(vec![field_error("device_id", "required")]),
        }
    }
}

/// What arrived: quantities per SKU, or everything outstanding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Everything still outstanding, on every line.
    Everything,
    /// These quantities (distinct SKUs, each at least 1), with their index in the body.
    Lines(Vec<(usize, String, i64)>),
}

impl Receipt {
    /// Parses a receive request.
    pub fn parse(req: &ReceiveOrderRequest) -> Result<Receipt, Vec<FieldError>> {
        let Some(ls) = req.lines.as_deref() else {
            return Ok(Receipt::Everything);
        };
        let mut errors = FieldErrors::default();
        if ls.is_empty() {
            errors.push(field_error(
                "lines",
                "name at least one line (or leave lines out to receive everything outstanding)",
            ));
        }
        if ls.len() > MAX_LINES {
            errors.push(field_error("lines", format!("at most {MAX_LINES} lines")));
        }
        let out = parse_lines(&ls[..ls.len().min(MAX_LINES)], &mut errors);
        errors.finish()?;
        Ok(Receipt::Lines(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(v: Value) -> Result<NewOrder, Vec<FieldError>> {
        NewOrder::parse(&serde_json::from_value(v).unwrap())
    }

    fn fields(r: Result<NewOrder, Vec<FieldError>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_order_parses() {
        let o = order(json!({"device_id": 3, "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1.0}], "reference": "row-7"})).unwrap();
        assert_eq!(o.device_id, 3);
        assert_eq!(o.lines[1].quantity, 1);
        assert_eq!(o.reference.as_deref(), Some("row-7"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let f = fields(order(json!({"lines": [
            {"sku": "A", "quantity": 0},
            {"sku": "B", "quantity": -1},
            {"sku": "C", "quantity": 1.5},
            {"sku": "D", "quantity": 1000001},
            {"sku": "A", "quantity": 1},
            {"sku": "x\u{7}", "quantity": "3"},
            {"quantity": 1}
        ], "reference": "", "note": "ok\nfine\u{0}"})));
        for want in [
            "device_id",
            "lines[0].quantity",
            "lines[1].quantity",
            "lines[2].quantity",
            "lines[3].quantity",
            "lines[4].sku",
            "lines[5].sku",
            "lines[5].quantity",
            "lines[6].sku",
            "reference",
            "note",
        ] {
            assert!(f.contains(&want.to_owned()), "{want} missing from {f:?}");
        }
        let many: Vec<Value> = (0..201)
            .map(|i| json!({"sku": format!("S{i}"), "quantity": 1}))
            .collect();
        assert_eq!(
            fields(order(json!({"device_id": 1, "lines": many}))),
            vec!["lines"]
        );
        assert_eq!(
            fields(order(json!({"device_id": 1, "lines": []}))),
            vec!["lines"]
        );
    }

    #[test]
    fn receipts() {
        let r = |v: Value| Receipt::parse(&serde_json::from_value(v).unwrap());
        assert_eq!(r(json!({})).unwrap(), Receipt::Everything);
        assert_eq!(
            r(json!({"lines": [{"sku": "A", "quantity": 2}]})).unwrap(),
            Receipt::Lines(vec![(0, "A".into(), 2)])
        );
        assert!(r(json!({"lines": []})).is_err());
        assert!(r(json!({"lines": [{"sku": "A", "quantity": 0}]})).is_err());
    }
}
