//! An endpoint's fields, parsed: a URL that may be called, known events the key may receive,
//! a description, a format. Every broken rule is named by its field.

use partlogic_types::{
    CreateWebhookRequest, EventType, FieldError, KeyPermissions, Permission, UpdateWebhookRequest,
    WebhookFormat,
};

use crate::domain::{field_error, has_control_chars};
use crate::error::ApiError;

/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// A new endpoint's fields.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Where to post.
    pub url: String,
    /// What it receives.
    pub events: Vec<EventType>,
    /// What it is for.
    pub description: String,
    /// How bodies are written.
    pub format: WebhookFormat,
}

/// The fields a `PATCH` changes.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// A new URL.
    pub url: Option<String>,
    /// New events.
    pub events: Option<Vec<EventType>>,
    /// A new description.
    pub description: Option<String>,
    /// A new format.
    pub format: Option<WebhookFormat>,
    /// Enable or pause.
    pub enabled: Option<bool>,
}

fn events(list: &[String], perms: &KeyPermissions, errors: &mut Vec<FieldError>) -> Vec<EventType> {
    if list.is_empty() {
        errors.push(field_error(
            "events",
            format!(
                "name at least one event: {}",
                EventType::ALL.map(EventType::as_str).join(", ")
            ),
        ));
    }
    let mut out: Vec<EventType> = Vec::new();
    for (i, name) in list.iter().enumerate() {
        match EventType::parse(name) {
            None => errors.push(field_error(
                &format!("events[{i}]"),
                format!(
                    "is not an event; events are {}",
                    EventType::ALL.map(EventType::as_str).join(", ")
                ),
            )),
            Some(e) if e.needs_orders_read() && !perms.allows(Permission::OrdersRead) => errors
                .push(field_error(
                    &format!("events[{i}]"),
                    format!(
                        "{} needs the key's orders:read permission, which it does not have",
                        e.as_str()
                    ),
                )),
            Some(e) if !out.contains(&e) => out.push(e),
            Some(_) => {}
        }
    }
    out.sort();
    out
}

fn description(text: &str, errors: &mut Vec<FieldError>) -> String {
    let t = text.trim();
    if t.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.push(field_error(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    } else if has_control_chars(t) {
        errors.push(field_error(
            "description",
            "must not hold control characters",
        ));
    }
    t.to_owned()
}

fn format(text: &str, errors: &mut Vec<FieldError>) -> WebhookFormat {
    WebhookFormat::parse(text).unwrap_or_else(|| {
        errors.push(field_error("format", "must be standard or slack"));
        WebhookFormat::Standard
    })
}

/// The URL `raw`, checked ([`super::url::check`]); a refused one is `webhook_url_not_allowed`.
async fn url(raw: &str, allow_private: bool) -> Result<String, ApiError> {
    super::url::check(raw, allow_private)
        .await
        .map(|u| u.to_string())
        .map_err(ApiError::WebhookUrlNotAllowed)
}

fn done<T>(value: T, errors: Vec<FieldError>) -> Result<T, ApiError> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::Validation(errors))
    }
}

impl NewEndpoint {
    /// `req` for a key holding `perms`.
    pub async fn parse(
        req: &CreateWebhookRequest,
        perms: &KeyPermissions,
        allow_private: bool,
    ) -> Result<NewEndpoint, ApiError> {
        let mut errors = Vec::new();
        let events = events(&req.events, perms, &mut errors);
        let description = description(req.description.as_deref().unwrap_or(""), &mut errors);
        let format = format(req.format.as_deref().unwrap_or("standard"), &mut errors);
        let url = url(&req.url, allow_private).await?;
        done(
            NewEndpoint {
                url,
                events,
                description,
                format,
            },
            errors,
        )
    }
}

impl Change {
    /// `req` for a key holding `perms`.
    pub async fn parse(
        req: &UpdateWebhookRequest,
        perms: &KeyPermissions,
        allow_private: bool,
    ) -> Result<Change, ApiError> {
        let mut errors = Vec::new();
        let events = req.events.as_ref().map(|e| events(e, perms, &mut errors));
        let description = req
            .description
            .as_ref()
            .map(|d| description(d, &mut errors));
        let format = req.format.as_ref().map(|f| format(f, &mut errors));
        let url = match &req.url {
            Some(u) => Some(url(u, allow_private).await?),
            None => None,
        };
        done(
            Change {
                url,
                events,
                description,
                format,
                enabled: req.enabled,
            },
            errors,
        )
    }
}

/// Events as stored: space-separated.
pub fn events_text(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Stored events, read back (unknown words, from a newer server, are left out).
pub fn events_from(text: &str) -> Vec<EventType> {
    text.split_ascii_whitespace()
        .filter_map(EventType::parse)
        .collect()
}
