//! The device picker: a filter box (device or customer name), Select All / Clear for what the
//! filter shows, a live count, and a tick per device labelled with its customer.
//!
//! Built for accounts of tens of thousands of devices: each device keeps one pre-lowered search
//! string, so filtering is a plain scan, and past a few hundred shown devices only the rows in
//! view (and a few either side) are in the page, at a fixed height, inside a scroll box sized
//! for all of them. A keystroke, Select All or Clear then touches a few dozen elements instead
//! of one per device (measured in Chromium at 10,000 devices: see e2e/tests/portal.spec.ts).
//! Arrow keys, Page Up/Down, Home and End move between ticks and scroll the list with them.

use std::collections::HashSet;

use leptos::html::Div;
use leptos::prelude::*;
use partlogic_types::PortalDevice;

/// The height of one row, in CSS pixels (`ul.device-list li` in style.css says the same).
const ROW_PX: usize = 40;
/// Rows the scroll box shows at once.
const VIEW_ROWS: usize = 9;
/// Rows rendered beyond each edge of the view, so fast scrolling shows no gap.
const OVERSCAN: usize = 8;
/// Up to this many shown devices, every one is in the page (the browser's own find works, and
/// there is nothing to save).
const RENDER_ALL: usize = 200;

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
    // Positions (in `rows`) of the devices the filter shows.
    let shown = Memo::new(move |_| {
        needle.with(|n| {
            rows.with(|rs| {
                rs.iter()
                    .enumerate()
                    .filter(|(_, r)| n.is_empty() || r.haystack.contains(n.as_str()))
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>()
            })
        })
    });
    let select_all = move |_| {
        rows.with_untracked(|rs| {
            shown.with_untracked(|shown| {
                selected.update(|s| s.extend(shown.iter().map(|i| rs[*i].device.id)));
            })
        });
    };
    let clear = move |_| {
        rows.with_untracked(|rs| {
            shown.with_untracked(|shown| {
                selected.update(|s| {
                    for i in shown {
                        s.remove(&rs[*i].device.id);
                    }
                })
            })
        });
    };
    let total = move || devices.with(Vec::len);
    // Ticks of devices the user can no longer see are not counted: they cannot be sent.
    let count = move || {
        devices.with(|ds| selected.with(|s| ds.iter().filter(|d| s.contains(&d.id)).count()))
    };

    let scroller = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0usize);
    // A new filter starts at the top of what it shows.
    Effect::new(move |_| {
        needle.track();
        scroll_top.set(0);
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(0);
        }
    });
    // The rows in the page: (position among those shown, row).
    let window = Memo::new(move |_| {
        let top = scroll_top.get();
        shown.with(|shown| {
            let (first, last) = if shown.len() <= RENDER_ALL {
                (0, shown.len())
            } else {
                let first = (top / ROW_PX).saturating_sub(OVERSCAN).min(shown.len());
                (first, (first + VIEW_ROWS + 2 * OVERSCAN).min(shown.len()))
            };
            rows.with(|rs| {
                (first..last)
                    .map(|pos| (pos, rs[shown[pos]].clone()))
                    .collect::<Vec<_>>()
            })
        })
    });
    let virtual_list = move || shown.with(Vec::len) > RENDER_ALL;
    // Set through the CSSOM (`style:`), which the Content-Security-Policy allows, unlike a
    // `style` attribute. The list is as tall as all its rows; those above the window are padding.
    let list_height =
        move || virtual_list().then(|| format!("{}px", shown.with(Vec::len) * ROW_PX));
    let list_padding = move || {
        virtual_list().then(|| {
            let first = window.with(|w| w.first().map_or(0, |(pos, _)| *pos));
            format!("{}px", first * ROW_PX)
        })
    };
    // Moves the focus to the tick at `pos` among those shown, scrolling it into view first.
    let focus_at = move |pos: usize| {
        let Some(id) = rows.with_untracked(|rs| {
            shown.with_untracked(|shown| shown.get(pos).map(|i| rs[*i].device.id))
        }) else {
            return;
        };
        if let Some(el) = scroller.get_untracked() {
            let (top, height) = (el.scroll_top().max(0) as usize, VIEW_ROWS * ROW_PX);
            let row_top = pos * ROW_PX;
            let new_top = if row_top < top {
                row_top
            } else if row_top + ROW_PX > top + height {
                row_top + ROW_PX - height
            } else {
                top
            };
            if new_top != top {
                el.set_scroll_top(new_top as i32);
                scroll_top.set(new_top);
            }
        }
        // After the rows for the new scroll position are in the page.
        request_animation_frame(move || {
            if let Some(input) = document().get_element_by_id(&format!("device-{id}")) {
                use wasm_bindgen::JsCast;
                if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                    let _ = input.focus();
                }
            }
        });
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent, pos: usize| {
        let last = shown.with_untracked(Vec::len).saturating_sub(1);
        let target = match ev.key().as_str() {
            "ArrowDown" => (pos + 1).min(last),
            "ArrowUp" => pos.saturating_sub(1),
            "PageDown" => (pos + VIEW_ROWS).min(last),
            "PageUp" => pos.saturating_sub(VIEW_ROWS),
            "Home" => 0,
            "End" => last,
            _ => return,
        };
        ev.prevent_default();
        focus_at(target);
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
            <div
                class="device-scroll"
                node_ref=scroller
                hidden=move || shown.with(Vec::is_empty)
                on:scroll=move |_| {
                    if let Some(el) = scroller.get_untracked() {
                        scroll_top.set(el.scroll_top().max(0) as usize);
                    }
                }
            >
                <ul
                    class="device-list"
                    role="list"
                    style:height=list_height
                    style:padding-top=list_padding
                >
                    // Keyed by device and position: a row moves only when the filter changes.
                    <For each=move || window.get() key=|(pos, r)| (*pos, r.device.id) let:item>
                        {
                            let (pos, r) = item;
                            let d = r.device;
                            let id = d.id;
                            let input_id = format!("device-{id}");
                            let title = format!("{} ({})", d.name, d.customer_name);
                            view! {
                                <li
                                    aria-posinset=pos + 1
                                    aria-setsize=move || shown.with(Vec::len)
                                    title=title
                                >
                                    <input
                                        type="checkbox"
                                        id=input_id.clone()
                                        prop:checked=move || selected.with(|s| s.contains(&id))
                                        on:keydown=move |ev| on_key(ev, pos)
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
            </div>
            <Show when=move || shown.with(Vec::is_empty)>
                <p class="muted">
                    {move || if total() == 0 { "You have no devices to choose from." } else { "No device or customer matches the filter." }}
                </p>
            </Show>
        </fieldset>
    }
}
