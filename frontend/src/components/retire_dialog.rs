//! The retire confirmation: a modal `<dialog>` that names the key. Escape or Cancel closes it.

use leptos::html::Dialog;
use leptos::prelude::*;
use leptos::task::spawn_local;
use partlogic_types::KeyDetail;

use crate::api;

/// The key a retire dialog asks about.
#[derive(Clone, Debug, PartialEq)]
pub struct RetireTarget {
    /// The key's id.
    pub id: i64,
    /// Its name, to say which key is meant.
    pub name: String,
    /// Its version as the page shows it: retiring then fails if it has changed since.
    pub etag: Option<String>,
}

/// Asks before retiring `target`; calls `on_retired` with the retired key.
#[component]
pub fn RetireDialog(
    target: RwSignal<Option<RetireTarget>>,
    on_retired: Callback<KeyDetail>,
) -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let open = target.with(Option::is_some);
        if let Some(d) = dialog.get() {
            if open && !d.open() {
                error.set(None);
                let _ = d.show_modal();
            } else if !open && d.open() {
                d.close();
            }
        }
    });
    let confirm = move |_| {
        let Some(RetireTarget { id, etag, .. }) = target.get_untracked() else {
            return;
        };
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            match api::retire_key(id, etag.as_deref()).await {
                Ok(k) => {
                    target.set(None);
                    on_retired.run(k);
                }
                Err(p) => {
                    error.set(Some(p.detail));
                }
            }
            pending.set(false);
        });
    };
    let name = move || target.with(|t| t.as_ref().map(|t| t.name.clone()).unwrap_or_default());
    view! {
        <dialog node_ref=dialog class="confirm" aria-labelledby="retire-title" on:close=move |_| target.set(None)>
            <h2 id="retire-title">{move || format!("Retire \u{201c}{}\u{201d}?", name())}</h2>
            <p>
                "Integrations using this key stop working at their next request. "
                "The key stays in the list as retired. This cannot be undone."
            </p>
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| target.set(None)>"Cancel"</button>
                <button type="button" class="danger" on:click=confirm disabled=move || pending.get()>
                    {move || if pending.get() { "Retiring…" } else { "Retire key" }}
                </button>
            </div>
        </dialog>
    }
}
