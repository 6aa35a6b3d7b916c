//! "Roll key": a new secret for the same key, the old one working for an overlap the user picks.

use leptos::html::Dialog;
use leptos::prelude::*;
use leptos::task::spawn_local;
use partlogic_types::{CreatedKey, ProblemCode, RollOverlap};

use crate::api;

/// Asks how long the old secret should keep working, then rolls the key `id` (as the version
/// `etag` names); `on_rolled` gets the answer with the new secret.
#[component]
pub fn RollDialog(
    open: RwSignal<bool>,
    id: i64,
    name: String,
    etag: Option<String>,
    on_rolled: Callback<CreatedKey>,
) -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    let overlap = RwSignal::new(RollOverlap::Day);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let want = open.get();
        if let Some(d) = dialog.get() {
            if want && !d.open() {
                error.set(None);
                let _ = d.show_modal();
            } else if !want && d.open() {
                d.close();
            }
        }
    });
    let etag = StoredValue::new(etag);
    let confirm = move |_| {
        pending.set(true);
        error.set(None);
        let chosen = overlap.get_untracked();
        spawn_local(async move {
            match api::roll_key(id, etag.get_value().as_deref(), chosen).await {
                Ok(k) => {
                    open.set(false);
                    on_rolled.run(k);
                }
                Err(p) if p.code == ProblemCode::PreconditionFailed => error.set(Some(
                    "Someone changed this key since you opened it. Close this, reload the page, and roll it again.".to_owned(),
                )),
                Err(p) => error.set(Some(p.detail)),
            }
            pending.set(false);
        });
    };
    view! {
        <dialog node_ref=dialog class="confirm" aria-labelledby="roll-title" on:close=move |_| open.set(false)>
            <h2 id="roll-title">{format!("Roll \u{201c}{name}\u{201d}?")}</h2>
            <p>
                "The key gets a new secret, shown once. Its name, devices, expiry and history stay. "
                "Give the new secret to the integration; the old one keeps working for:"
            </p>
            <fieldset class="choices">
                <legend class="visually-hidden">"How long the old secret keeps working"</legend>
                {RollOverlap::ALL.into_iter().map(|o| view! {
                    <label class="inline">
                        <input type="radio" name="overlap" value=o.as_str()
                            prop:checked=move || overlap.get() == o
                            on:change=move |_| overlap.set(o) />
                        " " {o.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" on:click=confirm disabled=move || pending.get()>
                    {move || if pending.get() { "Rolling…" } else { "Roll key" }}
                </button>
            </div>
        </dialog>
    }
}
