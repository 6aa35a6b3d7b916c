//! One key: rename it, change its devices, read its history, retire it.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use partlogic_types::{
    KeyDetail, KeyStatus, PortalDevice, Problem, ProblemCode, RetiredReason, Role, UpdateKeyRequest,
};

use crate::api::{self, field_error};
use crate::app::Auth;
use crate::browser;
use crate::components::{
    DevicePicker, KeyHistory, OneTimeSecret, PermissionsPicker, ProblemAlert, RetireDialog,
    RetireTarget, RollDialog, StatusBadge, UsageChart, UseKeyPanel, WebhooksSection, expiry_text,
    last_used_text, rate_limit_ok,
};
use crate::routes::Page;

/// The key details page.
#[component]
pub fn KeyDetails() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok())));
    let key = RwSignal::new(None::<Result<Loaded, String>>);
    // Lives here, not in Details: a save re-renders Details with the key as saved.
    let saved = RwSignal::new(None::<String>);
    // A rolled key's new secret, shown once above the key until the user is done with it.
    let rolled = RwSignal::new(None::<String>);
    // Likewise a webhook endpoint's new signing secret.
    let webhook_secret = RwSignal::new(None::<(String, String)>);
    let reload = RwSignal::new(0u32);
    // A new secret belongs to the key it was made for: another key's page starts without it.
    Effect::new(move |previous: Option<Option<i64>>| {
        let now = id.get();
        if previous.is_some_and(|p| p != now) {
            rolled.set(None);
            webhook_secret.set(None);
        }
        now
    });
    Effect::new(move |_| {
        reload.track();
        let Some(id) = id.get() else {
            key.set(Some(Err("There is no such key.".to_owned())));
            return;
        };
        spawn_local(async move {
            key.set(Some(api::key(id).await.map_err(|p| p.detail)));
        });
    });
    view! {
        <section class="page">
            <div class="page-head">
                <h1>"API key"</h1>
                <span class="head-links">
                    <A href=Page::Help(None).path()>"Help: connecting tools"</A>
                    <A href=Page::Integrations.path()>"Back to Integrations"</A>
                </span>
            </div>
            {move || rolled.get().map(|secret| view! {
                <div class="rolled" role="region" aria-label="The new secret">
                    <p class="success" role="status">"The key was rolled. Give the integration its new secret:"</p>
                    <OneTimeSecret secret=secret/>
                    <div class="actions">
                        <button type="button" on:click=move |_| rolled.set(None)>"Done"</button>
                    </div>
                </div>
            })}
            {move || match key.get() {
                None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
                Some(Err(m)) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
                Some(Ok((k, etag))) => view! { <Details detail=k etag=etag key=key saved=saved reload=reload rolled=rolled webhook_secret=webhook_secret/> }.into_any(),
            }}
        </section>
    }
}

/// A key as loaded, with its version (`ETag`) for changing it.
type Loaded = (KeyDetail, Option<String>);

#[component]
fn Details(
    detail: KeyDetail,
    etag: Option<String>,
    key: RwSignal<Option<Result<Loaded, String>>>,
    saved: RwSignal<Option<String>>,
    reload: RwSignal<u32>,
    rolled: RwSignal<Option<String>>,
    webhook_secret: RwSignal<crate::components::ShownSecret>,
) -> impl IntoView {
    let s = detail.summary.clone();
    let auth = expect_context::<Auth>();
    let is_admin = auth
        .user
        .with_untracked(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin));
    // Someone else changed the key since it was loaded: saving would overwrite their change.
    let stale = RwSignal::new(false);
    let id = s.id;
    let retired = s.status == KeyStatus::Retired;
    let name = RwSignal::new(s.name.clone());
    let selected = RwSignal::new(
        detail
            .devices
            .iter()
            .map(|d| d.id)
            .collect::<HashSet<i64>>(),
    );
    let available = RwSignal::new(Vec::<PortalDevice>::new());
    let problem = RwSignal::new(None::<Problem>);
    let pending = RwSignal::new(false);
    spawn_local(async move {
        match api::devices().await {
            Ok(ds) => available.set(ds),
            Err(p) => {
                problem.set(Some(p));
            }
        }
    });

    let etag_for_save = StoredValue::new(etag.clone());
    let save = move |body: UpdateKeyRequest, what: &'static str| {
        pending.set(true);
        problem.set(None);
        saved.set(None);
        let etag = etag_for_save.get_value();
        spawn_local(async move {
            match api::update_key(id, etag.as_deref(), body).await {
                Ok(k) => {
                    saved.set(Some(format!("{what} saved.")));
                    key.set(Some(Ok(k)));
                }
                Err(p) => {
                    stale.set(p.code == ProblemCode::PreconditionFailed);
                    problem.set(Some(p));
                }
            }
            pending.set(false);
        });
    };
    let save_name = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save(
            UpdateKeyRequest {
                name: Some(name.get_untracked().trim().to_owned()),
                ..Default::default()
            },
            "Name",
        );
    };
    let save_devices = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Ticks on devices the viewer can no longer see (taken away since) are dropped: they
        // could not be saved, and the key cannot read them anyway.
        let mut ids: Vec<i64> = available.with_untracked(|ds| {
            selected.with_untracked(|s| {
                ds.iter()
                    .map(|d| d.id)
                    .filter(|id| s.contains(id))
                    .collect()
            })
        });
        ids.sort_unstable();
        save(
            UpdateKeyRequest {
                device_ids: Some(ids),
                ..Default::default()
            },
            "Devices",
        );
    };
    let to_retire = RwSignal::new(None::<RetireTarget>);
    // Retiring changes the version: load the key afresh (history and ETag included).
    let on_retired = Callback::new(move |_: KeyDetail| reload.update(|n| *n += 1));
    let err = move |field: &'static str| move || problem.with(|p| field_error(p, field));
    let general = Signal::derive(move || {
        problem.with(|p| {
            p.as_ref()
                .filter(|p| p.errors.is_empty() && !stale.get())
                .map(|p| p.detail.clone())
        })
    });
    let reload_now = move |_| {
        saved.set(None);
        reload.update(|n| *n += 1);
    };
    let retire_name = s.name.clone();
    let retire_etag = etag.clone();
    let rate_limit = RwSignal::new(
        s.rate_limit_per_minute
            .map(|n| n.to_string())
            .unwrap_or_default(),
    );
    let rate_ok = Memo::new(move |_| rate_limit.with(|r| rate_limit_ok(r)));
    let save_rate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save(
            UpdateKeyRequest {
                // Empty: back to the account's default.
                rate_limit_per_minute: Some(rate_limit.get_untracked().trim().parse().ok()),
                ..Default::default()
            },
            "Rate limit",
        );
    };
    let orders_access = RwSignal::new(s.permissions.orders);
    let saved_orders = s.permissions.orders;
    let webhooks_access = RwSignal::new(s.permissions.webhooks);
    let saved_webhooks = s.permissions.webhooks;
    let save_permissions = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save(
            UpdateKeyRequest {
                permissions: Some(partlogic_types::PermissionsRequest {
                    orders: Some(orders_access.get_untracked()),
                    webhooks: Some(webhooks_access.get_untracked()),
                }),
                ..Default::default()
            },
            "Permissions",
        );
    };
    let rolling = RwSignal::new(false);
    let rollable = !retired && s.status != KeyStatus::Expired;
    let on_rolled = Callback::new(move |k: partlogic_types::CreatedKey| {
        rolled.set(Some(k.secret));
        reload.update(|n| *n += 1);
    });
    let unreachable: Vec<PortalDevice> = detail
        .devices
        .iter()
        .filter(|d| detail.unreachable_device_ids.contains(&d.id))
        .cloned()
        .collect();
    let previous = s.previous_prefix.clone().zip(s.previous_until);
    let leaked = s.leaked_at.map(|_| {
        let place = s
            .leaked_url
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "a public place".to_owned());
        (place, s.retired_at.is_some())
    });

    view! {
        <div class="details">
            <dl class="facts">
                <dt>"Status"</dt><dd><StatusBadge status=s.status/></dd>
                <dt>"Key"</dt><dd><code>{format!("{}\u{2026}", s.prefix)}</code></dd>
                <dt>"Created by"</dt><dd>{format!("{} <{}>", s.owner.name, s.owner.email)}</dd>
                <dt>"Created"</dt><dd>{browser::date_time(&s.created_at)}</dd>
                <dt>"Expires"</dt><dd>{expiry_text(&s)}</dd>
                <dt>"Last used"</dt><dd>{last_used_text(&s)}{detail.last_used_ip.clone().map(|ip| format!(" from {ip}"))}</dd>
                {previous.map(|(prefix, until)| {
                    let running = until.timestamp_millis() as f64 > js_sys::Date::now();
                    view! {
                        <dt>"Previous key"</dt>
                        <dd>
                            <code>{format!("{prefix}\u{2026}")}</code>
                            {if running {
                                format!(" works until {}", browser::date_time(&until))
                            } else {
                                format!(" stopped {}", browser::date_time(&until))
                            }}
                        </dd>
                    }
                })}
                <dt>"Reaches"</dt>
                <dd class="reach">{reach_text(detail.reachable_device_count, detail.devices.len())}</dd>
                <dt>"Rate limit"</dt>
                <dd>{format!("{} requests a minute{}", s.effective_rate_limit_per_minute,
                    if s.rate_limit_per_minute.is_none() { " (the account's default)" } else { "" })}</dd>
                <dt>"Requests (7 days)"</dt><dd>{s.requests_7d}</dd>
                {detail.retired_by.clone().map(|u| view! {
                    <dt>"Retired by"</dt>
                    <dd>{format!("{} on {}", u.name, s.retired_at.as_ref().map(browser::date_time).unwrap_or_default())}</dd>
                })}
                {(detail.retired_by.is_none() && s.retired_at.is_some()).then(|| view! {
                    <dt>"Retired"</dt>
                    <dd>{format!("{} ({})", s.retired_at.as_ref().map(browser::date_time).unwrap_or_default(),
                        match s.retired_reason { Some(RetiredReason::SelfRetired) => "with the key itself", Some(RetiredReason::Leaked) => "reported leaked", _ => "retired" })}</dd>
                })}
            </dl>
            {leaked.map(|(place, retired)| if retired {
                view! {
                    <div class="banner danger" role="alert">
                        <strong>"This key was found in public; it is retired. "</strong>
                        {format!("It was reported at {place}. Anyone could have used it: check its history below, then give the integration a new key.")}
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="banner danger" role="alert">
                        <strong>"A previous secret of this key was found in public and stopped at once. "</strong>
                        {format!("It was reported at {place}. The current secret still works; if it could have leaked the same way, roll the key again.")}
                    </div>
                }.into_any()
            })}
            {(!unreachable.is_empty()).then(|| view! {
                <div class="banner warning unreachable" role="note">
                    <p>"Ticked, but not reachable (owner lost access):"</p>
                    <ul>{unreachable.iter().map(|d| view! {
                        <li>{format!("{} ({}) \u{2014} not reachable (owner lost access)", d.name, d.customer_name)}</li>
                    }).collect_view()}</ul>
                    <p class="hint">"The key returns no stock for these until its owner can see them again."</p>
                </div>
            })}
            {move || saved.get().map(|m| view! { <p class="success" role="status">{m}</p> })}
            <ProblemAlert message=general/>
            <Show when=move || stale.get()>
                <div class="error" role="alert">
                    <p>"Someone else changed this key since you opened it, so your change was not saved. Reload to see the key as it is now, then make your change again."</p>
                    <button type="button" on:click=reload_now>"Reload"</button>
                </div>
            </Show>
            <form class="inline-form" on:submit=save_name novalidate>
                <div class="field">
                    <label for="key-name">"Key name"</label>
                    <input id="key-name" type="text" maxlength="100" disabled=retired
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    <p class="field-error" role="alert">{err("name")}</p>
                </div>
                <button type="submit" disabled=move || retired || pending.get() || name.with(|n| n.trim().is_empty())>"Save name"</button>
            </form>
            <form on:submit=save_devices novalidate>
                <DevicePicker devices=available selected=selected error=Signal::derive(err("device_ids")) disabled=Signal::derive(move || retired)/>
                <div class="actions">
                    <button type="submit" disabled=move || retired || pending.get() || selected.with(HashSet::is_empty)>"Save devices"</button>
                </div>
            </form>
            <form on:submit=save_permissions novalidate>
                <PermissionsPicker orders=orders_access webhooks=webhooks_access disabled=Signal::derive(move || retired)/>
                <div class="actions">
                    <button type="submit" disabled=move || retired || pending.get() || (orders_access.get() == saved_orders && webhooks_access.get() == saved_webhooks)>"Save permissions"</button>
                </div>
            </form>
            {(is_admin && !retired).then(|| view! {
                <form class="inline-form" on:submit=save_rate novalidate>
                    <div class="field">
                        <label for="rate-limit">"Rate limit (requests a minute)"</label>
                        <input id="rate-limit" type="number" min="1" max="100000" inputmode="numeric"
                            placeholder="the account's default"
                            prop:value=move || rate_limit.get() on:input=move |ev| rate_limit.set(event_target_value(&ev)) />
                        <p class="field-error" role="alert">
                            {err("rate_limit_per_minute")}
                            {move || (!rate_ok.get()).then_some("A whole number from 1 to 100000, or empty for the account's default.")}
                        </p>
                    </div>
                    <button type="submit" disabled=move || pending.get() || !rate_ok.get()>"Save rate limit"</button>
                </form>
            })}
            <div class="actions">
                // An expired key would roll into an expired secret: make a key like it instead.
                {rollable.then(|| view! {
                    <button type="button" on:click=move |_| rolling.set(true)>"Roll key"</button>
                })}
                <A href=Page::NewKeyLike(id).path() attr:class="button secondary">"Create a key like this one"</A>
            </div>
            {(!retired).then(|| view! { <UseKeyPanel/> })}
            // Keyed by the saved permissions: ticking Webhooks and saving shows the Add button.
            <WebhooksSection key_id=id can_manage=saved_webhooks
                orders_read=saved_orders != partlogic_types::Access::None retired=retired fresh=webhook_secret/>
            <UsageChart id=id reload=reload/>
            <KeyHistory events=detail.events.clone()/>
            {(!retired).then(|| view! {
                <div class="actions danger-zone">
                    <button type="button" class="danger" on:click=move |_| to_retire.set(Some(RetireTarget { id, name: retire_name.clone(), etag: retire_etag.clone() }))>"Retire key"</button>
                </div>
            })}
            <RetireDialog target=to_retire on_retired=on_retired/>
            {rollable.then(|| view! {
                <RollDialog open=rolling id=id name=s.name.clone() etag=etag.clone() on_rolled=on_rolled/>
            })}
        </div>
    }
}

/// "All 3 devices", "2 of 3 devices".
fn reach_text(reachable: u64, ticked: usize) -> String {
    let ticked = ticked as u64;
    let unit = if ticked == 1 { "device" } else { "devices" };
    if reachable == ticked {
        format!("{ticked} {unit} (all ticked)")
    } else {
        format!("{reachable} of {ticked} ticked {unit}")
    }
}
