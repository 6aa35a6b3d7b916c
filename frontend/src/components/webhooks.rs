//! A key's Webhooks section: its endpoints with their state, adding one (the signing secret
//! shown once), and per endpoint Send test event, deliveries with Replay, Enable or Pause,
//! Rotate secret and Delete. Everything goes through the portal API (`/portal/api/keys/{id}/
//! webhooks…`), so what the page shows is what the server holds.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use partlogic_types::{
    CreateWebhookRequest, EventType, Problem, UpdateWebhookRequest, WebhookDelivery,
    WebhookEndpoint, WebhookFormat,
};

use crate::api::{self, field_error};
use crate::browser;
use crate::components::CopyableSecret;
use crate::routes::{HelpTopic, Page};

/// The events a person may tick (a test event is sent on demand, never subscribed to).
const CHOOSABLE: [EventType; 6] = [
    EventType::StockBelowMin,
    EventType::StockRestocked,
    EventType::OrderCreated,
    EventType::OrderReceived,
    EventType::OrderCancelled,
    EventType::KeyExpiring,
];

/// A signing secret shown once, with what it is: ("Endpoint added: …", "whsec_…").
pub type ShownSecret = Option<(String, String)>;

/// The Webhooks section of key `key_id`'s page. `can_manage`: the key holds Webhooks: manage
/// (without it nothing is delivered, so nothing can be added); `orders_read`: it may receive
/// order events; `retired`: it takes no new endpoints. `fresh`: a secret just made (a new
/// endpoint's or a rotated one), owned by the page so that it outlives this section's
/// re-renders (saving the key's name re-renders it) until the user presses Done.
#[component]
pub fn WebhooksSection(
    key_id: i64,
    can_manage: bool,
    orders_read: bool,
    retired: bool,
    fresh: RwSignal<ShownSecret>,
) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let endpoints = LocalResource::new(move || {
        reload.track();
        api::webhooks(key_id)
    });
    let adding = RwSignal::new(false);
    let can_add = can_manage && !retired;
    view! {
        <section class="webhooks" aria-labelledby="webhooks-heading">
            <h2 id="webhooks-heading">"Webhooks"</h2>
            <p class="hint">
                "PartLogic posts this key's events to these URLs as they happen (within a second), signed so the receiver can check they came from PartLogic. "
                <A href=Page::Help(Some(HelpTopic::SlackAlerts)).path()>"Low-stock alerts in Slack"</A>
                " \u{b7} "
                <A href=Page::Help(Some(HelpTopic::ZapierTriggers)).path()>"Instant Zapier triggers"</A>
            </p>
            {(!can_manage && !retired).then(|| view! {
                <p class="banner warning" role="note">
                    "To add endpoints, tick "<strong>"Webhooks"</strong>" under Permissions above and save: a key without it sends no events."
                </p>
            })}
            {move || fresh.get().map(|(what, secret)| view! {
                <div class="rolled" role="region" aria-label="The signing secret">
                    <p class="success" role="status">{what}</p>
                    <SigningSecret secret=secret/>
                    <div class="actions">
                        <button type="button" on:click=move |_| fresh.set(None)>"Done"</button>
                    </div>
                </div>
            })}
            // Transition: a reload keeps the list on screen instead of flashing "Loading".
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading endpoints…"</p> }>
                {move || endpoints.get().map(|r| match r {
                    Err(p) => view! { <p class="error" role="alert">{p.detail}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No endpoints yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="endpoints">
                            {list.into_iter().map(|e| view! { <EndpointCard key_id=key_id endpoint=e reload=reload fresh=fresh/> }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
            {can_add.then(|| view! {
                <Show when=move || adding.get() fallback=move || view! {
                    <div class="actions">
                        <button type="button" on:click=move |_| adding.set(true)>"Add endpoint"</button>
                    </div>
                }>
                    <AddEndpoint key_id=key_id orders_read=orders_read
                        on_added=Callback::new(move |(url, secret): (String, String)| {
                            fresh.set(Some((format!("Endpoint added: {url}"), secret)));
                            adding.set(false);
                            reload.update(|n| *n += 1);
                        })
                        on_cancel=Callback::new(move |_| adding.set(false))/>
                </Show>
            })}
        </section>
    }
}

/// A signing secret with its Copy button, and the warning that it is shown once.
#[component]
fn SigningSecret(secret: String) -> impl IntoView {
    view! {
        <CopyableSecret id="webhook-secret" label="Signing secret" secret=secret/>
        <p class="warning" role="note">
            <strong>"Copy this secret now. "</strong>
            "It will not be shown again. The receiver uses it to check each delivery's webhook-signature (any Standard Webhooks library does); Slack and Zapier Catch Hooks do not need it. If you lose it, rotate it."
        </p>
    }
}

/// The add-an-endpoint form.
#[component]
fn AddEndpoint(
    key_id: i64,
    orders_read: bool,
    on_added: Callback<(String, String)>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let format = RwSignal::new(WebhookFormat::Standard);
    let events = RwSignal::new(BTreeSet::from([
        EventType::StockBelowMin,
        EventType::StockRestocked,
    ]));
    let problem = RwSignal::new(None::<Problem>);
    let add = Action::new_local(move |body: &CreateWebhookRequest| {
        let body = body.clone();
        async move { api::create_webhook(key_id, body).await }
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(created)) => {
            problem.set(None);
            on_added.run((created.endpoint.url.clone(), created.secret.clone()));
        }
        Some(Err(p)) => problem.set(Some(p)),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let description = description.get_untracked().trim().to_owned();
        add.dispatch(CreateWebhookRequest {
            url: url.get_untracked().trim().to_owned(),
            events: events.with_untracked(|e| e.iter().map(|e| e.as_str().to_owned()).collect()),
            description: (!description.is_empty()).then_some(description),
            format: Some(format.get_untracked().as_str().to_owned()),
        });
    };
    let err = move |field: &'static str| move || problem.with(|p| field_error(p, field));
    let events_err = move || {
        problem.with(|p| {
            p.as_ref().and_then(|p| {
                p.errors
                    .iter()
                    .find(|e| e.field.starts_with("events"))
                    .map(|e| e.message.clone())
            })
        })
    };
    let general = move || {
        problem.with(|p| {
            p.as_ref()
                .filter(|p| p.errors.is_empty())
                .map(|p| p.detail.clone())
        })
    };
    view! {
        <form class="add-endpoint" on:submit=submit novalidate aria-label="Add endpoint">
            <div class="field">
                <label for="webhook-url">"Endpoint URL"</label>
                <input id="webhook-url" type="url" inputmode="url" autocomplete="off" spellcheck="false"
                    placeholder="https://hooks.slack.com/services/… or https://hooks.zapier.com/hooks/catch/…"
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev)) />
                <p class="field-error" role="alert">{err("url")}</p>
            </div>
            <fieldset class="events">
                <legend>"Send these events"</legend>
                {CHOOSABLE.into_iter().map(|e| {
                    let allowed = orders_read || !e.needs_orders_read();
                    view! {
                        <label class="inline">
                            <input type="checkbox" name="webhook-events" value=e.as_str() disabled=!allowed
                                prop:checked=move || events.with(|s| s.contains(&e))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    events.update(|s| { if on { s.insert(e); } else { s.remove(&e); } });
                                } />
                            {e.label()}
                            {(!allowed).then_some(" (needs Orders: read)")}
                        </label>
                    }
                }).collect_view()}
                <p class="field-error" role="alert">{events_err}</p>
            </fieldset>
            <fieldset class="format" role="radiogroup">
                <legend>"Format"</legend>
                <label class="inline">
                    <input type="radio" name="webhook-format" value="standard"
                        prop:checked=move || format.get() == WebhookFormat::Standard
                        on:change=move |_| format.set(WebhookFormat::Standard) />
                    "Standard: the event as signed JSON (Zapier, your own code)"
                </label>
                <label class="inline">
                    <input type="radio" name="webhook-format" value="slack"
                        prop:checked=move || format.get() == WebhookFormat::Slack
                        on:change=move |_| format.set(WebhookFormat::Slack) />
                    "Slack: a message in a channel (a Slack incoming-webhook URL)"
                </label>
                <p class="field-error" role="alert">{err("format")}</p>
            </fieldset>
            <div class="field">
                <label for="webhook-description">"Description (optional)"</label>
                <input id="webhook-description" type="text" maxlength="200"
                    prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev)) />
                <p class="field-error" role="alert">{err("description")}</p>
            </div>
            {move || general().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <div class="actions">
                <button type="submit" disabled=move || add.pending().get() || url.with(|u| u.trim().is_empty()) || events.with(BTreeSet::is_empty)>
                    {move || if add.pending().get() { "Adding…" } else { "Add endpoint" }}
                </button>
                <button type="button" class="secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

/// What a person reads for an endpoint's state.
fn state_badge(e: &WebhookEndpoint) -> (&'static str, String) {
    if !e.enabled {
        ("badge retired", "Disabled".to_owned())
    } else if let Some(since) = e.failing_since {
        (
            "badge soon",
            format!("Failing since {}", browser::date_time(&since)),
        )
    } else {
        ("badge active", "Active".to_owned())
    }
}

/// One endpoint with its actions.
#[component]
fn EndpointCard(
    key_id: i64,
    endpoint: WebhookEndpoint,
    reload: RwSignal<u32>,
    fresh: RwSignal<ShownSecret>,
) -> impl IntoView {
    let id = endpoint.id;
    let enabled = endpoint.enabled;
    let (badge_class, badge_text) = state_badge(&endpoint);
    let message = RwSignal::new(None::<Result<String, String>>);
    let confirm_delete = RwSignal::new(false);
    let confirm_rotate = RwSignal::new(false);
    let show_deliveries = RwSignal::new(false);
    let deliveries_reload = RwSignal::new(0u32);
    let pending = RwSignal::new(false);
    let say = move |r: Result<String, Problem>| message.set(Some(r.map_err(|p| p.detail)));

    let send_test = move |_| {
        pending.set(true);
        spawn_local(async move {
            let r = api::test_webhook(key_id, id).await;
            say(r.map(|q| {
                format!(
                    "Test event {} queued; it shows in the deliveries below.",
                    q.message_id
                )
            }));
            show_deliveries.set(true);
            deliveries_reload.update(|n| *n += 1);
            pending.set(false);
        });
    };
    let set_enabled = move |on: bool| {
        pending.set(true);
        spawn_local(async move {
            let body = UpdateWebhookRequest {
                enabled: Some(on),
                ..Default::default()
            };
            match api::update_webhook(key_id, id, body).await {
                Ok(_) => reload.update(|n| *n += 1),
                Err(p) => say(Err(p)),
            }
            pending.set(false);
        });
    };
    let url = StoredValue::new(endpoint.url.clone());
    let rotate = move |_| {
        pending.set(true);
        spawn_local(async move {
            match api::rotate_webhook_secret(key_id, id).await {
                Ok(s) => {
                    confirm_rotate.set(false);
                    fresh.set(Some((
                        format!(
                            "New signing secret for {}. The previous one keeps signing beside it until {}.",
                            url.get_value(),
                            browser::date_time(&s.previous_secret_until)
                        ),
                        s.secret,
                    )));
                    // Shows "Previous secret … until" on the endpoint.
                    reload.update(|n| *n += 1);
                }
                Err(p) => say(Err(p)),
            }
            pending.set(false);
        });
    };
    let delete = move |_| {
        pending.set(true);
        spawn_local(async move {
            match api::delete_webhook(key_id, id).await {
                Ok(()) => reload.update(|n| *n += 1),
                Err(p) => say(Err(p)),
            }
            pending.set(false);
        });
    };
    let events_text = endpoint
        .events
        .iter()
        .map(|e| e.label())
        .collect::<Vec<_>>()
        .join("; ");
    let format_text = match endpoint.format {
        WebhookFormat::Standard => "Standard (signed JSON)",
        WebhookFormat::Slack => "Slack message",
    };
    view! {
        <li class="endpoint" data-endpoint-id=id.to_string()>
            <div class="endpoint-head">
                <code class="endpoint-url">{endpoint.url.clone()}</code>
                <span class=badge_class>{badge_text}</span>
            </div>
            {(!endpoint.description.is_empty()).then(|| view! { <p class="endpoint-description">{endpoint.description.clone()}</p> })}
            <dl class="facts">
                <dt>"Events"</dt><dd>{events_text}</dd>
                <dt>"Format"</dt><dd>{format_text}</dd>
                <dt>"Added"</dt><dd>{browser::date_time(&endpoint.created_at)}</dd>
                {endpoint.previous_secret_until.map(|u| view! {
                    <dt>"Previous secret"</dt><dd>{format!("signs too until {}", browser::date_time(&u))}</dd>
                })}
            </dl>
            {(!enabled).then(|| view! {
                <div class="banner danger" role="note">
                    <strong>"Disabled: "</strong>
                    {endpoint.disabled_reason.clone().unwrap_or_else(|| "no deliveries are made".to_owned())}
                    ". Events wait while it is disabled; Enable sends them."
                </div>
            })}
            {(enabled && endpoint.failing_since.is_some()).then(|| view! {
                <div class="banner warning" role="note">
                    "Deliveries to this URL fail and are retried. After 5 days of failures the endpoint is disabled. See the deliveries for what the receiver answered."
                </div>
            })}
            <div class="actions">
                <button type="button" on:click=send_test disabled=move || pending.get()>"Send test event"</button>
                <button type="button" class="secondary" aria-expanded=move || show_deliveries.get().to_string()
                    on:click=move |_| show_deliveries.update(|s| *s = !*s)>
                    {move || if show_deliveries.get() { "Hide deliveries" } else { "Deliveries" }}
                </button>
                {if enabled {
                    view! { <button type="button" class="secondary" on:click=move |_| set_enabled(false) disabled=move || pending.get()>"Pause"</button> }.into_any()
                } else {
                    view! { <button type="button" on:click=move |_| set_enabled(true) disabled=move || pending.get()>"Enable"</button> }.into_any()
                }}
                <button type="button" class="secondary" on:click=move |_| confirm_rotate.set(true) disabled=move || pending.get()>"Rotate secret"</button>
                <button type="button" class="danger" on:click=move |_| confirm_delete.set(true) disabled=move || pending.get()>"Delete"</button>
            </div>
            <Show when=move || confirm_rotate.get()>
                <div class="confirm-inline" role="group" aria-label="Rotate the secret?">
                    <p>"Make a new signing secret? The current one keeps signing beside it for 24 hours, so the receiver can switch without missing a delivery."</p>
                    <button type="button" on:click=rotate disabled=move || pending.get()>"Make a new secret"</button>
                    <button type="button" class="secondary" on:click=move |_| confirm_rotate.set(false)>"Cancel"</button>
                </div>
            </Show>
            <Show when=move || confirm_delete.get()>
                <div class="confirm-inline" role="group" aria-label="Delete the endpoint?">
                    <p>"Delete this endpoint? It receives nothing more, and its deliveries are forgotten."</p>
                    <button type="button" class="danger" on:click=delete disabled=move || pending.get()>"Delete endpoint"</button>
                    <button type="button" class="secondary" on:click=move |_| confirm_delete.set(false)>"Cancel"</button>
                </div>
            </Show>
            {move || message.get().map(|m| match m {
                Ok(t) => view! { <p class="success" role="status">{t}</p> }.into_any(),
                Err(t) => view! { <p class="error" role="alert">{t}</p> }.into_any(),
            })}
            <Show when=move || show_deliveries.get()>
                <Deliveries key_id=key_id id=id reload=deliveries_reload say=Callback::new(say)/>
            </Show>
        </li>
    }
}

/// The endpoint's last 100 deliveries, refreshed every few seconds while shown.
#[component]
fn Deliveries(
    key_id: i64,
    id: i64,
    reload: RwSignal<u32>,
    say: Callback<Result<String, Problem>>,
) -> impl IntoView {
    let rows = LocalResource::new(move || {
        reload.track();
        api::webhook_deliveries(key_id, id)
    });
    // New deliveries come from the worker, not from this page: look again while it is open.
    if let Ok(handle) =
        set_interval_with_handle(move || reload.update(|n| *n += 1), Duration::from_secs(2))
    {
        on_cleanup(move || handle.clear());
    }
    let replay = move |message_id: String| {
        spawn_local(async move {
            let r = api::replay_webhook(key_id, id, &message_id).await;
            say.run(r.map(|q| format!("{} queued again, with the same webhook-id.", q.message_id)));
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <div class="deliveries">
            <h3>"Deliveries (the last 100)"</h3>
            // Transition keeps the table while it refreshes instead of flashing "Loading".
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading deliveries…"</p> }>
                {move || rows.get().map(|r| match r {
                    Err(p) => view! { <p class="error" role="alert">{p.detail}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Nothing sent yet."</p> }.into_any(),
                    Ok(_) => view! {
                        <table class="deliveries-table">
                            <thead><tr>
                                <th scope="col">"Time"</th><th scope="col">"Event"</th><th scope="col">"Attempts"</th>
                                <th scope="col">"Status"</th><th scope="col">"Latency"</th><th scope="col">"Result"</th><th scope="col"></th>
                            </tr></thead>
                            <tbody>
                                // Keyed by what a row shows: a refresh replaces only rows that
                                // changed, so focus on a Replay button survives it.
                                <For
                                    each=move || rows.get().and_then(Result::ok).unwrap_or_default()
                                    key=|d| (d.message_id.clone(), d.state, d.attempts, d.last_attempt_at)
                                    children=move |d| delivery_row(d, replay)
                                />
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </div>
    }
}

fn delivery_row(d: WebhookDelivery, replay: impl Fn(String) + Copy + 'static) -> impl IntoView {
    let when = d.last_attempt_at.unwrap_or(d.created_at);
    let result = match d.state {
        partlogic_types::DeliveryState::Delivered => "Delivered".to_owned(),
        partlogic_types::DeliveryState::Pending => match d.next_attempt_at {
            Some(t) if d.attempts > 0 => format!("Retrying {}", browser::date_time(&t)),
            _ => "Sending".to_owned(),
        },
        partlogic_types::DeliveryState::Failed => "Failed".to_owned(),
        partlogic_types::DeliveryState::Dropped => "Not sent".to_owned(),
    };
    let detail = d.last_error.clone();
    let message_id = d.message_id.clone();
    view! {
        <tr data-message-id=d.message_id.clone()>
            <td>{browser::date_time(&when)}</td>
            <td title=d.event_type.as_str()>{d.event_type.label()}</td>
            <td>{d.attempts}</td>
            <td>{d.last_status.map(|s| s.to_string()).unwrap_or_else(|| "\u{2014}".to_owned())}</td>
            <td>{d.last_latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "\u{2014}".to_owned())}</td>
            <td class="result">{result}{detail.map(|e| view! { <span class="hint">{format!(" ({e})")}</span> })}</td>
            <td><button type="button" class="secondary small" aria-label=format!("Replay {}", d.message_id)
                on:click=move |_| replay(message_id.clone())>"Replay"</button></td>
        </tr>
    }
}
