//! A secret shown once (a new key, a rolled key): Copy, a fallback when the clipboard is not
//! allowed, and the warning that it will not be shown again.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::components::UseKeyPanel;

/// A secret in a read-only field with its Copy button, ready to copy (focus goes to it); when
/// the browser refuses the clipboard, the field is selected for Ctrl+C instead.
#[component]
pub fn CopyableSecret(
    /// The field's id.
    id: &'static str,
    /// What the field is called.
    label: &'static str,
    /// The secret.
    secret: String,
) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let input = NodeRef::<Input>::new();
    let to_copy = secret.clone();
    let copy = move |_| {
        let secret = to_copy.clone();
        spawn_local(async move {
            let ok = browser::copy(&secret).await.is_ok();
            if !ok && let Some(i) = input.get_untracked() {
                // No clipboard access: select the secret so Ctrl+C / long-press copies it.
                let _ = i.focus();
                i.select();
            }
            copied.set(Some(ok));
        });
    };
    // The button that made the secret is gone: put focus on the secret, ready to copy.
    Effect::new(move |_| {
        if let Some(i) = input.get() {
            let _ = i.focus();
        }
    });
    view! {
        <label for=id>{label}</label>
        <div class="secret-row">
            <input id=id node_ref=input type="text" readonly value=secret
                spellcheck="false" autocomplete="off" on:focus=move |_| {
                    if let Some(i) = input.get_untracked() { i.select(); }
                } />
            <button type="button" on:click=copy>
                {move || if copied.get() == Some(true) { "Copied" } else { "Copy" }}
            </button>
        </div>
        {move || (copied.get() == Some(false)).then(|| view! {
            <p class="hint" role="status">"Your browser did not allow copying: it is selected, press Ctrl+C (or \u{2318}C) to copy it."</p>
        })}
    }
}

/// A new key's secret with its Copy button, the warning that it is shown once, and how to use it.
#[component]
pub fn OneTimeSecret(secret: String) -> impl IntoView {
    view! {
        <CopyableSecret id="secret" label="Your new API key" secret=secret.clone()/>
        <p class="warning" role="note">
            <strong>"Copy this key now. "</strong>
            "It will not be shown again: PartLogic stores only a fingerprint of it. If you lose it, retire it and create a new one."
        </p>
        <UseKeyPanel secret=secret/>
    }
}
