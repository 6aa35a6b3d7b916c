//! One key: rename it, change its devices, read its history, retire it.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use partlogic_types::{
    AuditAction, KeyDetail, KeyStatus, PortalDevice, Problem, ProblemCode, UpdateKeyRequest,
};

use crate::api::{self, field_error};
use crate::browser;
use crate::components::{
    DevicePicker, ProblemAlert, RetireDialog, RetireTarget, StatusBadge, UseKeyPanel, expiry_text,
    last_used_text,
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
    let reload = RwSignal::new(0u32);
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
            {move || match key.get() {
                None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
                Some(Err(m)) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
                Some(Ok((k, etag))) => view! { <Details detail=k etag=etag key=key saved=saved reload=reload/> }.into_any(),
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
) -> impl IntoView {
    let s = detail.summary.clone();
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
                device_ids: None,
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
                name: None,
                device_ids: Some(ids),
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

    view! {
        <div class="details">
            <dl class="facts">
                <dt>"Status"</dt><dd><StatusBadge status=s.status/></dd>
                <dt>"Key"</dt><dd><code>{format!("{}\u{2026}", s.prefix)}</code></dd>
                <dt>"Created by"</dt><dd>{format!("{} <{}>", s.owner.name, s.owner.email)}</dd>
                <dt>"Created"</dt><dd>{browser::date_time(&s.created_at)}</dd>
                <dt>"Expires"</dt><dd>{expiry_text(&s)}</dd>
                <dt>"Last used"</dt><dd>{last_used_text(&s)}{detail.last_used_ip.clone().map(|ip| format!(" from {ip}"))}</dd>
                {detail.retired_by.clone().map(|u| view! {
                    <dt>"Retired by"</dt>
                    <dd>{format!("{} on {}", u.name, s.retired_at.as_ref().map(browser::date_time).unwrap_or_default())}</dd>
                })}
            </dl>
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
            {(!retired).then(|| view! { <UseKeyPanel/> })}
            <h2>"History"</h2>
            <table class="events" aria-label="Key history">
                <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Who"</th><th scope="col">"From"</th></tr></thead>
                <tbody>
                    {detail.events.iter().map(|e| view! {
                        <tr>
                            <td data-label="When">{browser::date_time(&e.at)}</td>
                            <td data-label="What">{action_text(e.action)}{e.detail.clone().map(|d| format!(": {d}"))}</td>
                            <td data-label="Who">{e.actor.as_ref().map_or_else(|| "the key itself".to_owned(), |u| u.name.clone())}</td>
                            <td data-label="From">{e.ip.clone().unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {(!retired).then(|| view! {
                <div class="actions danger-zone">
                    <button type="button" class="danger" on:click=move |_| to_retire.set(Some(RetireTarget { id, name: retire_name.clone(), etag: retire_etag.clone() }))>"Retire key"</button>
                </div>
            })}
            <RetireDialog target=to_retire on_retired=on_retired/>
        </div>
    }
}

fn action_text(action: AuditAction) -> &'static str {
    match action {
        AuditAction::Created => "Created",
        AuditAction::Edited => "Edited",
        AuditAction::Retired => "Retired",
        AuditAction::FirstUsed => "First used",
    }
}
