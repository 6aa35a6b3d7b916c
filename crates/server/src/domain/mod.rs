//! The rules every feature's parsed input shares. Each feature keeps its own parsed types next to
//! it (`keys::name::KeyName`, `keys::expiry::Expiry`, `accounts::email::Email`, …): a type that
//! can only hold a value that passed its rules, so code that receives one never checks again.
//! Parsers report every broken rule as a [`FieldError`] for the field at fault, gathered here
//! into one 422; text rules, secret digests and `cells` (one value written as JSON or CSV text,
//! straight into a buffer, as the Stock API's hand-made encoders write them) are here too.
//!
//! Foundation: uses nothing of this crate but `partlogic-types`.

pub mod cells;
pub mod digest;
mod text;

pub(crate) use text::{has_control_chars, trimmed_name};

use partlogic_types::FieldError;

/// Collects field errors from several parsers, so a form with three bad fields hears about all
/// three at once.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// The value if `parsed` succeeded; otherwise notes its error and returns `None`.
    pub(crate) fn take<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// Notes an error directly.
    pub(crate) fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// `Err` with every collected error, or `Ok` when there were none.
    pub(crate) fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Whether a request's `If-Match` allows a change to the version tagged `current`: when it has
/// none, or names that tag (or `*`). A proxy that compresses may weaken the tag (`W/"…"`); it
/// still names the version. A value that is not text names no version.
pub(crate) fn if_match(headers: &actix_web::http::header::HeaderMap, current: &str) -> bool {
    let mut values = headers
        .get_all(actix_web::http::header::IF_MATCH)
        .peekable();
    if values.peek().is_none() {
        return true;
    }
    let mut matched = false;
    for value in values {
        let Ok(text) = value.to_str() else {
            return false;
        };
        matched |= text
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current);
    }
    matched
}

/// A field error for `field`.
pub(crate) fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}
