//! The Permissions section of New API Key and a key's page: what the key may do besides
//! reading stock, in the words a person uses.

use leptos::prelude::*;
use partlogic_types::{Access, describe_orders};

/// Radio buttons for one key's orders access (each inside its label), and a tick for managing
/// webhook endpoints.
#[component]
pub fn PermissionsPicker(
    orders: RwSignal<Access>,
    webhooks: RwSignal<bool>,
    #[prop(into, optional)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <fieldset class="permissions">
            <legend>"Permissions"</legend>
            <p class="resource"><strong>"Stock: "</strong>"read (stock, devices, alerts): every key can."</p>
            <div class="resource" role="radiogroup" aria-label="Orders">
                <strong>"Orders"</strong>
                <div class="levels">
                    {Access::ALL.into_iter().map(|level| {
                        view! {
                            <label class="inline">
                                <input type="radio" name="orders-access" value=level.as_str()
                                    disabled=move || disabled.get()
                                    prop:checked=move || orders.get() == level
                                    on:change=move |_| orders.set(level) />
                                {describe_orders(level)}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </div>
            <div class="resource">
                <strong>"Webhooks"</strong>
                <div class="levels">
                    <label class="inline">
                        <input type="checkbox" name="webhooks-manage"
                            disabled=move || disabled.get()
                            prop:checked=move || webhooks.get()
                            on:change=move |ev| webhooks.set(event_target_checked(&ev)) />
                        "add and change endpoints that receive this key's events (low stock, restocks, orders) as they happen"
                    </label>
                </div>
            </div>
        </fieldset>
    }
}
