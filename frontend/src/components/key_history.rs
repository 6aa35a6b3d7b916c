//! A key's history: what happened to it, newest first.

use leptos::prelude::*;
use partlogic_types::{AuditAction, AuditEvent};

use crate::browser;

/// The history table.
#[component]
pub fn KeyHistory(events: Vec<AuditEvent>) -> impl IntoView {
    view! {
        <h2>"History"</h2>
        <table class="events" aria-label="Key history">
            <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Who"</th><th scope="col">"From"</th></tr></thead>
            <tbody>
                {events.into_iter().map(|e| view! {
                    <tr class={if e.action == AuditAction::Refused { "refused" } else { "" }}>
                        <td data-label="When">{browser::date_time(&e.at)}</td>
                        <td data-label="What">{action_text(e.action)}{e.detail.clone().map(|d| format!(": {d}"))}</td>
                        <td data-label="Who">{e.actor.as_ref().map_or_else(|| "the key itself".to_owned(), |u| u.name.clone())}</td>
                        <td data-label="From">{e.ip.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn action_text(action: AuditAction) -> &'static str {
    match action {
        AuditAction::Created => "Created",
        AuditAction::Edited => "Edited",
        AuditAction::Retired => "Retired",
        AuditAction::FirstUsed => "First used",
        AuditAction::Rolled => "Rolled",
        AuditAction::Refused => "Refused",
        AuditAction::WebhookDisabled => "Webhook disabled",
    }
}
