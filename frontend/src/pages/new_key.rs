//! New API Key: the form, then the one-time view of the created key.

use std::collections::HashSet;

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use partlogic_types::{CreateKeyRequest, CreatedKey, PortalDevice, Problem};

use crate::api::{self, field_error};
use crate::browser;
use crate::components::{DevicePicker, Explain, ProblemAlert, Term, UseKeyPanel};
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
    spawn_local(async move {
        match api::devices().await {
            Ok(d) => devices.set(d),
            Err(p) => {
                load_error.set(Some(p.detail));
            }
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
    let valid = Memo::new(move |_| name_ok.get() && date_ok.get() && devices_ok.get());

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
    let copied = RwSignal::new(None::<bool>);
    let input = NodeRef::<Input>::new();
    let secret = key.secret.clone();
    let copy = move |_| {
        let secret = secret.clone();
        spawn_local(async move {
            let ok = browser::copy(&secret).await.is_ok();
            if !ok && let Some(i) = input.get_untracked() {
                // No clipboard access: select the key so Ctrl+C / long-press copies it.
                let _ = i.focus();
                i.select();
            }
            copied.set(Some(ok));
        });
    };
    let back = move |_| {
        // Forget the secret before leaving: nothing keeps it once this page is gone.
        created.set(None);
        navigate(&Page::Integrations.path(), NavigateOptions::default());
    };
    let name = key.key.summary.name.clone();
    // The Generate button is gone: put focus on the key, ready to copy.
    Effect::new(move |_| {
        if let Some(i) = input.get() {
            let _ = i.focus();
        }
    });
    view! {
        <section class="page">
            <h1>"API key created"</h1>
            <p class="success" role="status">{format!("Your API key \u{201c}{name}\u{201d} was created.")}</p>
            <label for="secret">"Your new API key"</label>
            <div class="secret-row">
                <input id="secret" node_ref=input type="text" readonly value=key.secret.clone()
                    spellcheck="false" autocomplete="off" on:focus=move |ev| {
                        if let Some(i) = input.get_untracked() { i.select(); }
                        let _ = ev;
                    } />
                <button type="button" on:click=copy>
                    {move || if copied.get() == Some(true) { "Copied" } else { "Copy" }}
                </button>
            </div>
            {move || (copied.get() == Some(false)).then(|| view! {
                <p class="hint" role="status">"Your browser did not allow copying: the key is selected, press Ctrl+C (or \u{2318}C) to copy it."</p>
            })}
            <p class="warning" role="note">
                <strong>"Copy this key now. "</strong>
                "It will not be shown again: PartLogic stores only a fingerprint of it. If you lose it, retire it and create a new one."
            </p>
            <UseKeyPanel secret=key.secret.clone()/>
            <div class="actions">
                <button type="button" on:click=back>"Return"</button>
            </div>
        </section>
    }
}
