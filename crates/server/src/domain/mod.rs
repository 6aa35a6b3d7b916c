//! Parsed input: each type here can only hold a value that passed its rules, so code that
//! receives a `KeyName` or an `Expiry` never checks again. Parsers report every broken rule as a
//! [`FieldError`] for the field at fault, and callers gather them into one 422.

mod device_ids;
mod email;
mod expiry;
mod key_name;
mod lifecycle;
mod text;

pub(crate) use device_ids::DeviceSelection;
pub(crate) use email::{Email, Password};
pub use expiry::MAX_LIFETIME_DAYS;
pub(crate) use expiry::{Expiry, ExpiryError};
pub(crate) use key_name::KeyName;
pub use key_name::MAX_NAME_CHARS;
pub use lifecycle::MAX_RATE_LIMIT;
pub(crate) use lifecycle::{Overlap, RateLimit};
pub(crate) use text::has_control_chars;

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

/// A field error for `field`.
pub(crate) fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}
