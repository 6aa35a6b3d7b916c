//! Integrations: the API keys list.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use partlogic_types::{KeyStatus, KeySummary, Role};

use crate::api;
use crate::app::Auth;
use crate::browser;
use crate::components::{
    Explain, RetireDialog, RetireTarget, StatusBadge, Term, expiry_text, last_used_text,
};
use crate::routes::Page;

/// The list of keys with New API Key, per-key Retire, and (admins) an "only mine" filter.
#[component]
pub fn KeyList() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let is_admin = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin))
    };
    let mine = RwSignal::new(false);
    let keys = RwSignal::new(None::<Result<Vec<KeySummary>, String>>);
    let reload = RwSignal::new(0u32);
    Effect::new(move |_| {
        let (only_mine, _) = (mine.get(), reload.get());
        spawn_local(async move {
            let result = api::keys(only_mine).await.map_err(|p| p.detail);
            keys.set(Some(result));
        });
    });
    let to_retire = RwSignal::new(None::<RetireTarget>);
    let heading = NodeRef::<leptos::html::H1>::new();
    let on_retired = Callback::new(move |_| {
        reload.update(|n| *n += 1);
        // The Retire button that had focus is gone with the old list: give focus a home.
        if let Some(h) = heading.get_untracked() {
            let _ = h.focus();
        }
    });

    view! {
        <section class="page">
            <div class="page-head">
                <h1 node_ref=heading tabindex="-1">"Integrations"</h1>
                <A href=Page::NewKey.path() attr:class="button">"New API Key"</A>
            </div>
            <p class="lead">
                <Explain term=Term::ApiKey text="API keys"/>" let partners, Zapier, Google Sheets, Excel and scripts read stock from the "
                <Explain term=Term::Device text="devices"/>" you choose. "
                <A href=Page::Help(None).path()>"Connecting a tool, step by step"</A>
                " (Zapier, Google Sheets, Excel, Postman, scripts); the "<a href="/api/docs/">"API docs"</a>" for developers."
            </p>
            <Show when=is_admin>
                <label class="inline">
                    <input type="checkbox" prop:checked=move || mine.get() on:change=move |ev| mine.set(event_target_checked(&ev)) />
                    " Only my keys"
                </label>
            </Show>
            {move || keys.with(|k| match k {
                Some(Ok(list)) => Some(view! { <Banners list=list.clone()/> }),
                _ => None,
            })}
            {move || match keys.get() {
                None => view! { <p class="loading" role="status">"Loading keys…"</p> }.into_any(),
                Some(Err(m)) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <div class="empty">
                        <h2>"No API keys yet"</h2>
                        <p>
                            "Create a key for each integration (a partner, a Zapier zap, a spreadsheet) and tick only "
                            "the devices it needs. You can retire a key at any time; the others keep working."
                        </p>
                        <A href=Page::NewKey.path() attr:class="button">"New API Key"</A>
                    </div>
                }.into_any(),
                Some(Ok(list)) => view! { <KeyTable list=list show_owner=is_admin() to_retire=to_retire/> }.into_any(),
            }}
            <RetireDialog target=to_retire on_retired=on_retired/>
        </section>
    }
}

/// What needs attention: keys found leaked in public, keys that stop working within the week.
#[component]
fn Banners(list: Vec<KeySummary>) -> impl IntoView {
    let leaked: Vec<(i64, String, String, bool)> = list
        .iter()
        .filter(|k| k.leaked_at.is_some())
        .map(|k| {
            (
                k.id,
                k.name.clone(),
                k.leaked_url.clone().unwrap_or_default(),
                k.status == KeyStatus::Retired,
            )
        })
        .collect();
    let soon: Vec<(i64, String)> = list
        .iter()
        .filter(|k| k.status == KeyStatus::ExpiringSoon)
        .map(|k| (k.id, k.name.clone()))
        .collect();
    view! {
        {(!leaked.is_empty()).then(|| view! {
            <div class="banner danger leaked" role="alert">
                <strong>{if leaked.len() == 1 { "1 key was found in public and stopped".to_owned() } else { format!("{} keys were found in public and stopped", leaked.len()) }}</strong>
                <ul>{leaked.into_iter().map(|(id, name, url, retired)| view! {
                    <li>
                        <A href=Page::Key(id).path()>{name}</A>
                        {(!url.is_empty()).then(|| format!(" \u{2014} reported at {url}"))}
                        {if retired { " (retired)" } else { " (its previous secret stopped; the current one still works)" }}
                    </li>
                }).collect_view()}</ul>
                <p>"Give those integrations new keys; check each key's history for uses you do not expect."</p>
            </div>
        })}
        {(!soon.is_empty()).then(|| view! {
            <div class="banner warning expiring" role="status">
                <strong>{if soon.len() == 1 { "1 key expires this week".to_owned() } else { format!("{} keys expire this week", soon.len()) }}</strong>
                ": "
                {soon.into_iter().enumerate().map(|(i, (id, name))| view! {
                    {(i > 0).then_some(", ")}<A href=Page::Key(id).path()>{name}</A>
                }).collect_view()}
                ". Create a key like it before then, or roll it, so the integration keeps working."
            </div>
        })}
    }
}

#[component]
fn KeyTable(
    list: Vec<KeySummary>,
    show_owner: bool,
    to_retire: RwSignal<Option<RetireTarget>>,
) -> impl IntoView {
    view! {
        <table class="keys" aria-label="API keys">
            <thead>
                <tr>
                    <th scope="col">"Key name"</th>
                    <th scope="col">"Key"</th>
                    {show_owner.then(|| view! { <th scope="col">"Owner"</th> })}
                    <th scope="col">"Devices"</th>
                    <th scope="col">"Permissions"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Requests (7 days)"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|k| {
                    let (id, name) = (k.id, k.name.clone());
                    let retired = k.status == KeyStatus::Retired;
                    let (expires, last_used) = (expiry_text(&k), last_used_text(&k));
                    let permissions = permissions_text(&k);
                    view! {
                        <tr data-key-id=id.to_string()>
                            <td data-label="Key name"><A href=Page::Key(id).path()>{k.name.clone()}</A></td>
                            <td data-label="Key"><code>{format!("{}\u{2026}", k.prefix)}</code></td>
                            {show_owner.then(|| view! { <td data-label="Owner">{k.owner.name.clone()}</td> })}
                            <td data-label="Devices"><DeviceNames id=id count=k.device_count/></td>
                            <td data-label="Permissions">{permissions}</td>
                            <td data-label="Created">{browser::date_time(&k.created_at)}</td>
                            <td data-label="Expires">{expires}</td>
                            <td data-label="Last used">{last_used}</td>
                            <td data-label="Requests (7 days)" class="num">{k.requests_7d}</td>
                            <td data-label="Status"><StatusBadge status=k.status/></td>
                            <td class="row-actions">
                                {(!retired).then(|| {
                                    let name = name.clone();
                                    view! {
                                        <button type="button" class="danger small"
                                            aria-label=format!("Retire {name}")
                                            on:click=move |_| to_retire.set(Some(RetireTarget { id, name: name.clone(), etag: None }))>
                                            "Retire"
                                        </button>
                                    }
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// What a key may do, in a few words: "Stock" or "Stock, Orders (read)" or "Stock, Orders,
/// Webhooks".
fn permissions_text(k: &KeySummary) -> String {
    let mut text = match k.permissions.orders {
        partlogic_types::Access::None => "Stock",
        partlogic_types::Access::Read => "Stock, Orders (read)",
        partlogic_types::Access::Write => "Stock, Orders",
    }
    .to_owned();
    if k.permissions.webhooks {
        text.push_str(", Webhooks");
    }
    text
}

/// "3 devices", expanding to their names on demand.
#[component]
fn DeviceNames(id: i64, count: u64) -> impl IntoView {
    let open = RwSignal::new(false);
    let names = RwSignal::new(None::<Result<Vec<String>, String>>);
    let toggle = move |_| {
        open.update(|o| *o = !*o);
        if open.get_untracked() && names.get_untracked().is_none() {
            spawn_local(async move {
                let r = api::key(id).await.map(|(k, _)| {
                    k.devices
                        .into_iter()
                        .map(|d| format!("{} ({})", d.name, d.customer_name))
                        .collect()
                });
                names.set(Some(r.map_err(|p| p.detail)));
            });
        }
    };
    let label = if count == 1 {
        "1 device".to_owned()
    } else {
        format!("{count} devices")
    };
    view! {
        <button type="button" class="link" aria-expanded=move || open.get().to_string() on:click=toggle>{label}</button>
        <Show when=move || open.get()>
            {move || match names.get() {
                None => view! { <span class="muted">"Loading…"</span> }.into_any(),
                Some(Err(m)) => view! { <span class="error">{m}</span> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="names">{list.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                }.into_any(),
            }}
        </Show>
    }
}
