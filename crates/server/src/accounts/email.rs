//! Login fields.

use partlogic_types::FieldError;

use crate::domain::field_error;
use crate::domain::trimmed_name;

/// The longest email address (RFC 5321's path limit).
pub(crate) const MAX_EMAIL_CHARS: usize = 254;
/// The longest password accepted: enough for any passphrase, short enough that hashing it
/// cannot be turned into a denial of service.
pub(crate) const MAX_PASSWORD_CHARS: usize = 1024;

/// An email address as a login name: trimmed, lower-cased, 1 to 254 characters, no control or
/// invisible characters. Whether it belongs to anyone is the login's business, not the parser's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email(String);

impl Email {
    /// Parses the `email` field of a login.
    pub(crate) fn parse(raw: &str) -> Result<Self, FieldError> {
        trimmed_name(raw, "email", MAX_EMAIL_CHARS, "enter your email")
            .map(|e| Self(e.to_lowercase()))
    }

    /// The address.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 1 to 1024 characters, any characters (it is only ever hashed).
pub(crate) struct Password(String);

impl Password {
    /// Parses the `password` field of a login.
    pub(crate) fn parse(raw: &str) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n == 0 {
            Err(field_error("password", "enter your password"))
        } else if n > MAX_PASSWORD_CHARS {
            Err(field_error(
                "password",
                format!("a password has at most {MAX_PASSWORD_CHARS} characters"),
            ))
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    /// The password, to hash.
    pub(crate) fn into_inner(self) -> String {
        self.0
    }
}

// Hand-written: a password never reaches a log line.
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}
