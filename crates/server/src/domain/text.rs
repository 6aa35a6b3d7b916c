//! Rules shared by every free-text field.

use partlogic_types::{FieldError, is_forbidden_in_names};

use super::field_error;

/// `raw` without the spaces around it, if it holds 1 to `max` characters and none of the
/// control, invisible or direction-changing characters that let a name pose as another
/// ([`partlogic_types::FORBIDDEN_IN_NAMES`]). `empty` is the message for an empty value.
pub(crate) fn trimmed_name(
    raw: &str,
    field: &str,
    max: usize,
    empty: &str,
) -> Result<String, FieldError> {
    if raw.chars().any(is_forbidden_in_names) {
        return Err(field_error(
            field,
            "must not contain control, invisible or direction-changing characters",
        ));
    }
    // With those gone, `trim` removes exactly Unicode's space separators, as the spec says.
    let value = raw.trim();
    if value.is_empty() {
        return Err(field_error(field, empty));
    }
    if value.chars().count() > max {
        return Err(field_error(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Whether `text` holds a control character (NUL and the like). PostgreSQL refuses NUL in text
/// outright, so such input is refused before it reaches any query, on both databases alike.
pub(crate) fn has_control_chars(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn trims_spaces_and_refuses_hidden_characters() {
        assert_eq!(trimmed_name("  a b\u{a0}", "f", 5, "e").unwrap(), "a b");
        for bad in [
            "a\u{202e}b",
            "a\u{200b}",
            "\u{feff}a",
            "a\u{0}",
            "\ta",
            "a\u{2066}",
        ] {
            assert!(trimmed_name(bad, "f", 5, "e").is_err(), "{bad:?}");
        }
        assert_eq!(
            trimmed_name("   ", "f", 5, "empty").unwrap_err().message,
            "empty"
        );
        assert!(trimmed_name("abcdef", "f", 5, "e").is_err());
        assert!(trimmed_name(" abcde ", "f", 5, "e").is_ok());
    }
}
