//! One order: its lines, what arrived, its history; Receive and Cancel.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use partlogic_types::{
    Order, OrderAction, OrderLineRequest, OrderStatus, ProblemCode, ReceiveOrderRequest,
};

use super::orders::{actor_text, status_label};
use crate::api;
use crate::browser;
use crate::routes::Page;

/// The order page.
#[component]
pub fn OrderDetails() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    // Bumped after a change, to load the order again.
    let reload = RwSignal::new(0u32);
    let order = LocalResource::new(move || {
        let (id, _) = (id(), reload.get());
        async move {
            match id {
                Some(id) => api::order(id).await,
                None => Err(partlogic_types::Problem {
                    type_uri: "about:blank".to_owned(),
                    title: "Not found".to_owned(),
                    status: 404,
                    detail: "There is no such order.".to_owned(),
                    code: ProblemCode::NotFound,
                    errors: Vec::new(),
                }),
            }
        }
    });
    view! {
        <section class="page">
            <p><A href=Page::Orders.path()>"← Orders"</A></p>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the order…"</p> }>
                {move || order.get().map(|r| match r {
                    Err(p) => view! { <p class="error" role="alert">{p.detail}</p> }.into_any(),
                    Ok((o, etag)) => view! { <OrderView order=o etag=etag reload=reload/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn OrderView(order: Order, etag: Option<String>, reload: RwSignal<u32>) -> impl IntoView {
    let id = order.id;
    let open = order.status == OrderStatus::Open;
    let nothing_received = order.lines.iter().all(|l| l.received == 0);
    let (word, class) = status_label(order.status);
    // What the person says arrived, per SKU; starts at what is outstanding.
    let amounts: HashMap<String, RwSignal<String>> = order
        .lines
        .iter()
        .map(|l| (l.sku.clone(), RwSignal::new(l.outstanding.to_string())))
        .collect();
    let amounts = StoredValue::new(amounts);
    let message = RwSignal::new(None::<String>);
    let stale = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let etag = StoredValue::new(etag);

    let receive = Action::new_local(move |lines: &Vec<OrderLineRequest>| {
        let body = ReceiveOrderRequest {
            lines: Some(lines.clone()),
        };
        let tag = etag.get_value();
        async move { api::receive_order(id, tag, body).await }
    });
    let cancel = Action::new_local(move |_: &()| {
        let tag = etag.get_value();
        async move { api::cancel_order(id, tag).await }
    });
    // One place reacts to both outcomes: a change reloads the order, a refusal says why.
    Effect::new(move |_| {
        for result in [receive.value().get(), cancel.value().get()]
            .into_iter()
            .flatten()
        {
            match result {
                Ok(_) => {
                    message.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(p) => {
                    stale.set(p.code == ProblemCode::PreconditionFailed);
                    message.set(Some(p.detail));
                }
            }
        }
    });
    let pending = move || receive.pending().get() || cancel.pending().get();
    let submit_receive = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut lines = Vec::new();
        let mut bad = false;
        amounts.with_value(|a| {
            for (sku, amount) in a {
                let text = amount.get_untracked();
                match text.trim().parse::<i64>() {
                    Ok(0) => {}
                    Ok(n) if n > 0 => lines.push(OrderLineRequest {
                        sku: Some(serde_json::Value::String(sku.clone())),
                        quantity: Some(serde_json::Value::from(n)),
                    }),
                    _ if text.trim().is_empty() => {}
                    _ => bad = true,
                }
            }
        });
        if bad {
            message.set(Some("Quantities are whole numbers, 0 or more.".to_owned()));
        } else if lines.is_empty() {
            message.set(Some("Enter what arrived on at least one line.".to_owned()));
        } else {
            message.set(None);
            receive.dispatch(lines);
        }
    };

    view! {
        <div class="page-head">
            <h1>{format!("Order {}", order.number)}</h1>
            <span class=class>{word}</span>
        </div>
        <dl class="facts">
            <dt>"Device"</dt><dd>{format!("{} ({})", order.device.name, order.device.customer)}</dd>
            <dt>"Created by"</dt><dd>{actor_text(&order.created_by)}</dd>
            <dt>"Created"</dt><dd>{browser::date_time(&order.created_at)}</dd>
            {order.reference.clone().map(|r| view! { <dt>"Reference"</dt><dd><code>{r}</code></dd> })}
            {order.note.clone().map(|n| view! { <dt>"Note"</dt><dd class="note">{n}</dd> })}
        </dl>
        {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        <Show when=move || stale.get()>
            <div class="error" role="alert">
                <p>"Someone else changed this order since you opened it, so nothing was changed. Reload to see it as it is now."</p>
                <button type="button" on:click=move |_| { stale.set(false); message.set(None); reload.update(|n| *n += 1); }>"Reload"</button>
            </div>
        </Show>
        <form on:submit=submit_receive novalidate>
            <table class="lines">
                <thead>
                    <tr>
                        <th scope="col">"SKU"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Ordered"</th>
                        <th scope="col">"Received"</th>
                        <th scope="col">"Outstanding"</th>
                        {open.then(|| view! { <th scope="col">"Receive now"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {order.lines.iter().map(|l| {
                        let amount = amounts.with_value(|a| a.get(&l.sku).copied());
                        let label = format!("Receive now: {}", l.sku);
                        let outstanding = l.outstanding;
                        view! {
                            <tr>
                                <td><code>{l.sku.clone()}</code></td>
                                <td>{l.description.clone()}</td>
                                <td>{l.quantity}</td>
                                <td>{l.received}</td>
                                <td>{l.outstanding}</td>
                                {(open && outstanding > 0).then(|| amount.map(|amount| view! {
                                    <td><input type="number" min="0" max=outstanding.to_string() inputmode="numeric" aria-label=label
                                        prop:value=move || amount.get() on:input=move |ev| amount.set(event_target_value(&ev)) /></td>
                                }))}
                                {(open && outstanding == 0).then(|| view! { <td>"\u{2014}"</td> })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {open.then(|| view! {
                <div class="actions">
                    <button type="submit" disabled=pending>"Receive"</button>
                    {nothing_received.then(|| view! {
                        <button type="button" class="secondary" disabled=pending on:click=move |_| confirming.set(true)>"Cancel order"</button>
                    })}
                </div>
            })}
        </form>
        <Show when=move || confirming.get()>
            <div class="confirm" role="alertdialog" aria-labelledby="cancel-title">
                <p id="cancel-title"><strong>{format!("Cancel order {}?", order.number)}</strong>" It can no longer be received; integrations see it as cancelled."</p>
                <div class="actions">
                    <button type="button" class="danger" on:click=move |_| { confirming.set(false); cancel.dispatch(()); }>"Yes, cancel the order"</button>
                    <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Keep it"</button>
                </div>
            </div>
        </Show>
        <h2>"History"</h2>
        <ol class="history">
            {order.events.iter().rev().map(|e| {
                let what = match e.action {
                    OrderAction::Created => "Created",
                    OrderAction::Received => "Received",
                    OrderAction::Cancelled => "Cancelled",
                };
                view! {
                    <li>
                        <strong>{what}</strong>
                        {format!(" by {} \u{00b7} {}", actor_text(&e.actor), browser::date_time(&e.at))}
                        {e.detail.clone().map(|d| format!(" \u{00b7} {d}"))}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}
