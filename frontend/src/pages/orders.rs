//! Orders: the list, with filters by status and by device or customer.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::components::A;
use partlogic_types::{Order, OrderActor, OrderStatus};

use crate::api;
use crate::browser;
use crate::routes::Page;

/// The words and class of an order's status.
pub fn status_label(s: OrderStatus) -> (&'static str, &'static str) {
    match s {
        OrderStatus::Open => ("Open", "status-open"),
        OrderStatus::Received => ("Received", "status-received"),
        OrderStatus::Cancelled => ("Cancelled", "status-cancelled"),
    }
}

/// Who created or changed an order, in a few words.
pub fn actor_text(a: &OrderActor) -> String {
    match a {
        OrderActor::Key { name, prefix } => {
            format!("API key \u{201c}{name}\u{201d} ({prefix}\u{2026})")
        }
        OrderActor::User { name, .. } => name.clone(),
    }
}

/// "2 lines, 1 outstanding".
fn lines_text(o: &Order) -> String {
    let n = o.lines.len();
    let open = o.lines.iter().filter(|l| l.outstanding > 0).count();
    let lines = if n == 1 {
        "1 line".to_owned()
    } else {
        format!("{n} lines")
    };
    if o.status == OrderStatus::Open && open > 0 {
        format!("{lines}, {open} outstanding")
    } else {
        lines
    }
}

/// The Orders page.
#[component]
pub fn Orders() -> impl IntoView {
    let status = RwSignal::new(String::new());
    // "", "device=ID" or "customer=ID".
    let place = RwSignal::new(String::new());
    let devices = LocalResource::new(|| async { api::devices().await });
    // Older pages, loaded with "Show older orders" (the list asks for 100 at a time).
    let before = RwSignal::new(None::<i64>);
    let orders = LocalResource::new(move || {
        let mut query = Vec::new();
        if let Some(b) = before.get() {
            query.push(format!("before={b}"));
        }
        let s = status.get();
        if !s.is_empty() {
            query.push(format!("status={s}"));
        }
        let p = place.get();
        if !p.is_empty() {
            query.push(p);
        }
        async move { api::orders(&query.join("&")).await }
    });
    let places = move || {
        devices.get().and_then(Result::ok).map(|ds| {
            let mut customers: BTreeMap<String, i64> = BTreeMap::new();
            for d in &ds {
                customers.insert(d.customer_name.clone(), d.customer_id);
            }
            (customers, ds)
        })
    };

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Orders"</h1>
            </div>
            <p class="lead">
                "Replenishment orders for your devices, from integrations (a key with the Orders permission) and from people. "
                "Open an order to receive what arrived, line by line, or to cancel it."
            </p>
            <div class="orders-filters">
                <div class="field">
                    <label for="order-status">"Status"</label>
                    <select id="order-status" on:change=move |ev| { before.set(None); status.set(event_target_value(&ev)); }>
                        <option value="">"All"</option>
                        {OrderStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str()>{status_label(s).0}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="order-place">"Device or customer"</label>
                    <select id="order-place" on:change=move |ev| { before.set(None); place.set(event_target_value(&ev)); }>
                        <option value="">"All devices"</option>
                        {move || places().map(|(customers, ds)| view! {
                            <optgroup label="Customers">
                                {customers.into_iter().map(|(name, id)| view! {
                                    <option value=format!("customer={id}")>{name}</option>
                                }).collect_view()}
                            </optgroup>
                            <optgroup label="Devices">
                                {ds.into_iter().map(|d| view! {
                                    <option value=format!("device={}", d.id)>{format!("{} ({})", d.name, d.customer_name)}</option>
                                }).collect_view()}
                            </optgroup>
                        })}
                    </select>
                </div>
            </div>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading orders…"</p> }>
                {move || orders.get().map(|r| match r {
                    Err(p) => view! { <p class="error" role="alert">{p.detail}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty">
                            <h2>"No orders"</h2>
                            <p>"Orders appear here when an integration creates them with a key that may create orders, or when none match the filters."</p>
                        </div>
                    }.into_any(),
                    Ok(list) => {
                        // A full page means there may be older ones.
                        let older = (list.len() >= 100).then(|| list.last().map(|o| o.id)).flatten();
                        view! {
                            <OrderTable list=list/>
                            <div class="actions">
                                {move || before.get().is_some().then(|| view! {
                                    <button type="button" class="secondary" on:click=move |_| before.set(None)>"Newest orders"</button>
                                })}
                                {older.map(|id| view! {
                                    <button type="button" class="secondary" on:click=move |_| before.set(Some(id))>"Show older orders"</button>
                                })}
                            </div>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn OrderTable(list: Vec<Order>) -> impl IntoView {
    view! {
        <table class="orders">
            <thead>
                <tr>
                    <th scope="col">"Number"</th>
                    <th scope="col">"Device"</th>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Lines"</th>
                    <th scope="col">"Created by"</th>
                    <th scope="col">"Created"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|o| {
                    let (word, class) = status_label(o.status);
                    let (lines, by, at) = (lines_text(&o), actor_text(&o.created_by), browser::date_time(&o.created_at));
                    let href = Page::Order(o.id).path();
                    view! {
                        <tr>
                            <td><A href=href>{o.number}</A></td>
                            <td>{o.device.name}</td>
                            <td>{o.device.customer}</td>
                            <td><span class=class>{word}</span></td>
                            <td>{lines}</td>
                            <td>{by}</td>
                            <td>{at}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
