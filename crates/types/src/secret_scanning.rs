//! Secret-scanning reports (GitHub's partner contract): the tokens reported found in public and
//! the server's verdict on each, with `Debug` that never prints a token.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// One token in a secret-scanning report (GitHub's partner contract).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LeakReport {
    /// The token found.
    pub token: String,
    /// The token type the scanner matched.
    #[serde(rename = "type")]
    pub token_type: String,
    /// Where it was found.
    #[serde(default)]
    pub url: String,
    /// What kind of place that is (`content`, `commit`, …).
    #[serde(default)]
    pub source: String,
}

/// What the server made of one reported token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LeakVerdict {
    /// The token as reported.
    pub token_raw: String,
    /// The token type as reported.
    pub token_type: String,
    /// `true_positive` (a PartLogic key, now retired if it was live) or `false_positive`.
    pub label: LeakLabel,
}

// Hand-written, like `CreatedKey`'s: a reported token may be a live key, and a stray `{:?}`
// must not print it.
impl std::fmt::Debug for LeakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakReport")
            .field("token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("url", &self.url)
            .field("source", &self.source)
            .finish()
    }
}

impl std::fmt::Debug for LeakVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakVerdict")
            .field("token_raw", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("label", &self.label)
            .finish()
    }
}

/// Whether a reported token was one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeakLabel {
    /// A key this server issued (live or not).
    TruePositive,
    /// Not a key of this server.
    FalsePositive,
}

#[cfg(test)]
mod debug_redaction {
    use super::*;

    #[test]
    fn reported_tokens_never_show_in_debug() {
        let token = "pl_secretsecretsecretsecretsecretsecretsecret0123456";
        let report = LeakReport {
            token: token.to_owned(),
            token_type: "partlogic_api_key".to_owned(),
            url: "https://example.com".to_owned(),
            source: "content".to_owned(),
        };
        let verdict = LeakVerdict {
            token_raw: token.to_owned(),
            token_type: "partlogic_api_key".to_owned(),
            label: LeakLabel::TruePositive,
        };
        for text in [format!("{report:?}"), format!("{verdict:?}")] {
            assert!(!text.contains(token), "{text}");
            assert!(text.contains("<redacted>"));
        }
    }
}
