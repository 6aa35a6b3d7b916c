//! The device picker: a filter box (device or customer name), Select All / Clear for what the
//! filter shows, a live count, and a tick per device labelled with its customer. It keeps one
//! pre-lowered search string per device so filtering thousands of devices is a plain scan.

use std::collections::HashSet;

use leptos::prelude::*;
use partlogic_types::PortalDevice;

#[derive(Clone, PartialEq)]
struct Row {
    device: PortalDevice,
    haystack: String,
}

/// Ticks devices into `selected`.
#[component]
pub fn DevicePicker(
    /// Every device the user may tick.
    #[prop(into)]
    devices: Signal<Vec<PortalDevice>>,
    /// The ticked device ids.
    selected: RwSignal<HashSet<i64>>,
    /// The server's complaint about the device list, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// Read-only (a retired key).
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let rows = Memo::new(move |_| {
        devices.with(|ds| {
            ds.iter()
                .map(|d| Row {
                    haystack: format!("{}\u{1f}{}", d.name, d.customer_name).to_lowercase(),
                    device: d.clone(),
                })
                .collect::<Vec<_>>()
        })
    });
    let needle = Memo::new(move |_| filter.with(|f| f.trim().to_lowercase()));
    // Ids the filter shows, for Select All / Clear and the counts.
    let shown = Memo::new(move |_| {
        needle.with(|n| {
            rows.with(|rs| {
                rs.iter()
                    .filter(|r| n.is_empty() || r.haystack.contains(n.as_str()))
                    .map(|r| r.device.id)
                    .collect::<Vec<_>>()
            })
        })
    });
    let select_all = move |_| {
        shown.with_untracked(|ids| selected.update(|s| s.extend(ids.iter().copied())));
    };
    let clear = move |_| {
        shown.with_untracked(|ids| {
            selected.update(|s| {
                for id in ids {
                    s.remove(id);
                }
            })
        });
    };
    let total = move || devices.with(Vec::len);
    // Ticks of devices the user can no longer see are not counted: they cannot be sent.
    let count = move || {
        devices.with(|ds| selected.with(|s| ds.iter().filter(|d| s.contains(&d.id)).count()))
    };

    view! {
        <fieldset class="devices" aria-describedby="device-count" disabled=move || disabled.get()>
            <legend>"Devices"</legend>
            <div class="picker-tools">
                <label for="device-filter" class="visually-hidden">"Filter devices"</label>
                <input
                    id="device-filter"
                    type="search"
                    placeholder="Filter by device or customer"
                    autocomplete="off"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        // Enter in the filter must not submit the whole form.
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                        }
                    }
                />
                <button type="button" class="secondary" on:click=select_all>"Select All"</button>
                <button type="button" class="secondary" on:click=clear>"Clear"</button>
            </div>
            <p id="device-count" class="count" aria-live="polite">
                {move || format!("{} of {} devices selected", count(), total())}
                {move || {
                    let (n, t) = (shown.with(Vec::len), total());
                    (n != t).then(|| format!(" · {n} shown"))
                }}
            </p>
            {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            // Every row is rendered once and the filter only hides rows: with thousands of
            // devices, toggling `hidden` is far cheaper than removing and re-creating elements.
            <ul class="device-list" role="list">
                <For each=move || rows.get() key=|r| r.device.id let:r>
                    {
                        let d = r.device;
                        let id = d.id;
                        let input_id = format!("device-{id}");
                        let haystack = r.haystack;
                        let hidden = move || needle.with(|n| !n.is_empty() && !haystack.contains(n.as_str()));
                        view! {
                            <li prop:hidden=hidden>
                                <input
                                    type="checkbox"
                                    id=input_id.clone()
                                    prop:checked=move || selected.with(|s| s.contains(&id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selected.update(|s| {
                                            if on {
                                                s.insert(id);
                                            } else {
                                                s.remove(&id);
                                            }
                                        });
                                    }
                                />
                                <label for=input_id>
                                    <span class="device-name">{d.name.clone()}</span>
                                    <span class="customer">{d.customer_name.clone()}</span>
                                </label>
                            </li>
                        }
                    }
                </For>
            </ul>
            <Show when=move || shown.with(Vec::is_empty)>
                <p class="muted">
                    {move || if total() == 0 { "You have no devices to choose from." } else { "No device or customer matches the filter." }}
                </p>
            </Show>
        </fieldset>
    }
}
