//! Pieces the pages share.

mod code;
mod device_picker;
mod key_history;
mod one_time_secret;
mod permissions;
mod retire_dialog;
mod roll_dialog;
mod term;
mod usage_chart;
mod use_key;
mod webhooks;

pub use code::{CodeBlock, RecipeBlock};
pub use device_picker::DevicePicker;
pub use key_history::KeyHistory;
pub use one_time_secret::{CopyableSecret, OneTimeSecret};
pub use permissions::PermissionsPicker;
pub use retire_dialog::{RetireDialog, RetireTarget};
pub use roll_dialog::RollDialog;
pub use term::{Explain, Term};
pub use usage_chart::UsageChart;
pub use use_key::UseKeyPanel;
pub use webhooks::{ShownSecret, WebhooksSection};

use leptos::prelude::*;
use partlogic_types::{KeyStatus, KeySummary};

use crate::browser;

/// The coloured status label of a key.
#[component]
pub fn StatusBadge(status: KeyStatus) -> impl IntoView {
    let (class, text) = match status {
        KeyStatus::Active => ("badge active", "Active"),
        KeyStatus::ExpiringSoon => ("badge soon", "Expires soon"),
        KeyStatus::Expired => ("badge expired", "Expired"),
        KeyStatus::Retired => ("badge retired", "Retired"),
    };
    view! { <span class=class>{text}</span> }
}

/// "Never", or the last day the key works (with its zone when it is not the browser's).
pub fn expiry_text(k: &KeySummary) -> String {
    match k.expires_on {
        None => "Never".to_owned(),
        Some(d) if k.time_zone == browser::time_zone() => browser::long_date(d),
        Some(d) => format!("{} ({})", browser::long_date(d), k.time_zone),
    }
}

/// "Never used", or how long ago the key was last used.
pub fn last_used_text(k: &KeySummary) -> String {
    k.last_used_at
        .as_ref()
        .map_or_else(|| "Never used".to_owned(), browser::relative)
}

/// Whether the text of a rate limit field is one the server takes: empty (the account's default)
/// or a whole number from 1 to 100,000.
pub fn rate_limit_ok(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.parse::<i64>().is_ok_and(|n| (1..=100_000).contains(&n))
}

/// A problem's detail in an alert box, when there is one.
#[component]
pub fn ProblemAlert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message
            .get()
            .map(|m| view! { <p class="error" role="alert">{m}</p> })
    }
}
