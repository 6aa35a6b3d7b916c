//! New API Key: the form, then the one-time view of the created key.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use partlogic_types::{CreateKeyRequest, CreatedKey, PortalDevice, Problem, Role};

use crate::api::{self, field_error};
use crate::app::Auth;
use crate::browser;
use crate::components::{
    DevicePicker, Explain, OneTimeSecret, PermissionsPicker, ProblemAlert, Term, rate_limit_ok,
};
use crate::routes::{HelpTopic, Page};

/// The longest key name the server accepts.
const MAX_NAME: usize = 100;

/// The form; after Generate, the created key (its secret lives only in this page's memory).
#[component]
pub fn NewKey() -> impl IntoView {
    let created = RwSignal::new(None::<CreatedKey>);
    move || match created.get() {
        None => view! { <KeyForm created=created/> }.into_any(),
        Some(k) => view! { <Created created=created key=k/> }.into_any(),
    }
}

#[component]
fn KeyForm(created: RwSignal<Option<CreatedKey>>) -> impl IntoView {
    let zone = browser::time_zone();
    let today = browser::today();
    let latest = browser::latest_expiry();
    let name = RwSignal::new(String::new());
    let expires_on = RwSignal::new(String::new());
    let selected = RwSignal::new(HashSet::<i64>::new());
    let devices = RwSignal::new(Vec::<PortalDevice>::new());
    let load_error = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<Problem>);
    let pending = RwSignal::new(false);
    let rate_limit = RwSignal::new(String::new());
    let orders_access = RwSignal::new(partlogic_types::Access::None);
    let webhooks_access = RwSignal::new(false);
    let auth = expect_context::<Auth>();
    let is_admin = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin))
    };
    let is_admin_now = move || {
        auth.user
            .with_untracked(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin))
    };
    // "Create a key like this one": the form starts as a copy of that key (retired ones too).
    let like =
        use_query_map().with_untracked(|q| q.get("like").and_then(|s| s.parse::<i64>().ok()));
    let like_name = RwSignal::new(None::<String>);
    let today_for_like = today.clone();
    let latest_for_like = latest.clone();
    spawn_local(async move {
        match api::devices().await {
            Ok(d) => devices.set(d),
            Err(p) => {
                load_error.set(Some(p.detail));
            }
        }
        let Some(id) = like else { return };
        match api::key(id).await {
            Ok((k, _)) => {
                let s = &k.summary;
                name.set(s.name.clone());
                // Only a date the form could take: an expiry already over starts empty.
                if let Some(d) = s.expires_on.map(|d| d.format("%Y-%m-%d").to_string())
                    && d.as_str() >= today_for_like.as_str()
                    && d.as_str() <= latest_for_like.as_str()
                {
                    expires_on.set(d);
                }
                selected.set(k.devices.iter().map(|d| d.id).collect());
                orders_access.set(s.permissions.orders);
                webhooks_access.set(s.permissions.webhooks);
                // Only admins set limits: a member's copy takes the account's default.
                if let Some(n) = s.rate_limit_per_minute.filter(|_| is_admin_now()) {
                    rate_limit.set(n.to_string());
                }
                like_name.set(Some(s.name.clone()));
            }
            Err(p) => load_error.set(Some(p.detail)),
        }
    });

    let today_for_valid = today.clone();
    let latest_for_valid = latest.clone();
    let name_ok = Memo::new(move |_| {
        let n = name.with(|n| n.trim().chars().count());
        (1..=MAX_NAME).contains(&n)
    });
    // ISO dates compare correctly as text.
    let date_ok = Memo::new(move |_| {
        expires_on.with(|d| {
            d.is_empty()
                || (d.as_str() >= today_for_valid.as_str()
                    && d.as_str() <= latest_for_valid.as_str())
        })
    });
    let devices_ok = Memo::new(move |_| {
        devices.with(|ds| selected.with(|s| ds.iter().any(|d| s.contains(&d.id))))
    });
    let rate_ok = Memo::new(move |_| rate_limit.with(|r| rate_limit_ok(r)));
    let valid =
        Memo::new(move |_| name_ok.get() && date_ok.get() && devices_ok.get() && rate_ok.get());

    let zone_for_submit = zone.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !valid.get_untracked() || pending.get_untracked() {
            return;
        }
        let visible: HashSet<i64> = devices.with_untracked(|ds| ds.iter().map(|d| d.id).collect());
        let mut device_ids: Vec<i64> =
            selected.with_untracked(|s| s.intersection(&visible).copied().collect());
        device_ids.sort_unstable();
        let expires = Some(expires_on.get_untracked()).filter(|d| !d.is_empty());
        let body = CreateKeyRequest {
            name: name.get_untracked().trim().to_owned(),
            // The zone only means something with a date.
            time_zone: expires.as_ref().map(|_| zone_for_submit.clone()),
            expires_on: expires,
            device_ids,
            rate_limit_per_minute: rate_limit
                .get_untracked()
                .trim()
                .parse()
                .ok()
                .filter(|_| is_admin_now()),
            permissions: Some(partlogic_types::PermissionsRequest {
                orders: Some(orders_access.get_untracked()),
                webhooks: Some(webhooks_access.get_untracked()),
            }),
        };
        pending.set(true);
        problem.set(None);
        spawn_local(async move {
            match api::create_key(body).await {
                Ok(k) => created.set(Some(k)),
                Err(p) => {
                    problem.set(Some(p));
                }
            }
            pending.set(false);
        });
    };

    let zone_for_hint = zone.clone();
    let expiry_hint = move || {
        let d = expires_on.get();
        match chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(date) => format!(
                "Works until the end of {}, {}.",
                browser::long_date(date),
                zone_for_hint
            ),
            Err(_) => "Leave empty for a key that never expires.".to_owned(),
        }
    };
    let err = move |field: &'static str| move || problem.with(|p| field_error(p, field));
    let general = Signal::derive(move || {
        problem.with(|p| {
            p.as_ref()
                .filter(|p| p.errors.is_empty())
                .map(|p| p.detail.clone())
        })
    });

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"New API Key"</h1>
                <A href=Page::Integrations.path()>"Back to Integrations"</A>
            </div>
            <p class="lead">
                "One "<Explain term=Term::ApiKey/>" per integration, reading only the "<Explain term=Term::Device text="devices"/>" it needs. "
                <A href=Page::Help(Some(HelpTopic::GettingStarted)).path()>"How keys work"</A>"."
            </p>
            <ProblemAlert message=load_error/>
            {move || like_name.get().map(|n| view! {
                <p class="hint" role="status">{format!("Filled in from the key \u{201c}{n}\u{201d}: change what you need, then Generate.")}</p>
            })}
            <form class="key-form" on:submit=submit novalidate>
                <div class="field">
                    <label for="key-name">"Key name"</label>
                    <input id="key-name" type="text" required maxlength=MAX_NAME.to_string() autocomplete="off"
                        placeholder="e.g. Zapier stock sync"
                        aria-describedby="key-name-error"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    <p id="key-name-error" class="field-error" role="alert">{err("name")}</p>
                </div>
                <div class="field">
                    <label for="expires-on">"Expires On"</label>
                    <p class="hint"><Explain term=Term::ExpiresOn text="What does Expires On mean?"/></p>
                    <input id="expires-on" type="date" min=today.clone() max=latest.clone() aria-describedby="expiry-hint expires-on-error"
                        prop:value=move || expires_on.get() on:input=move |ev| expires_on.set(event_target_value(&ev)) />
                    <p id="expiry-hint" class="hint">{expiry_hint}</p>
                    <p id="expires-on-error" class="field-error" role="alert">
                        {err("expires_on")}
                        {move || (!date_ok.get()).then_some("The date must be today or later, and at most five years ahead (leave it empty for a key that does not expire).")}
                        {err("time_zone")}
                    </p>
                </div>
                <DevicePicker devices=devices selected=selected error=Signal::derive(err("device_ids"))/>
                <PermissionsPicker orders=orders_access webhooks=webhooks_access/>
                <Show when=is_admin>
                    <div class="field">
                        <label for="rate-limit">"Rate limit (requests a minute)"</label>
                        <input id="rate-limit" type="number" min="1" max="100000" inputmode="numeric"
                            placeholder="the account's default" aria-describedby="rate-limit-error"
                            prop:value=move || rate_limit.get() on:input=move |ev| rate_limit.set(event_target_value(&ev)) />
                        <p id="rate-limit-error" class="field-error" role="alert">
                            {err("rate_limit_per_minute")}
                            {move || (!rate_ok.get()).then_some("A whole number from 1 to 100000, or empty for the account's default.")}
                        </p>
                    </div>
                </Show>
                <ProblemAlert message=general/>
                <div class="actions">
                    <button type="submit" disabled=move || !valid.get() || pending.get()>
                        {move || if pending.get() { "Generating…" } else { "Generate" }}
                    </button>
                    <A href=Page::Integrations.path() attr:class="button secondary">"Cancel"</A>
                </div>
            </form>
        </section>
    }
}

/// The created key, once: copy it now, then Return.
#[component]
fn Created(created: RwSignal<Option<CreatedKey>>, key: CreatedKey) -> impl IntoView {
    let navigate = use_navigate();
    let back = move |_| {
        // Forget the secret before leaving: nothing keeps it once this page is gone.
        created.set(None);
        navigate(&Page::Integrations.path(), NavigateOptions::default());
    };
    let name = key.key.summary.name.clone();
    view! {
        <section class="page">
            <h1>"API key created"</h1>
            <p class="success" role="status">{format!("Your API key \u{201c}{name}\u{201d} was created.")}</p>
            <OneTimeSecret secret=key.secret.clone()/>
            <div class="actions">
                <button type="button" on:click=back>"Return"</button>
            </div>
        </section>
    }
}
