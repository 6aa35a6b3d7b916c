//! A key's name.

use partlogic_types::FieldError;

use crate::domain::trimmed_name;

/// The longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A key name: 1 to 100 characters once the spaces around it are gone, with no control,
/// invisible or direction-changing characters (so "Zapier\u{202e}" cannot pose as another key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyName(String);

impl KeyName {
    /// Parses the `name` field.
    pub(crate) fn parse(raw: &str) -> Result<Self, FieldError> {
        trimmed_name(raw, "name", MAX_NAME_CHARS, "give the key a name").map(Self)
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub(crate) fn into_inner(self) -> String {
        self.0
    }
}
