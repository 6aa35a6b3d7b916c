//! The log-in page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use partlogic_types::ProblemCode;

use crate::api;
use crate::app::Auth;
use crate::routes::safe_next;

/// Email and password; on success, on to where the user was going.
#[component]
pub fn Login() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let query = use_query_map();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    Effect::new(move |_| {
        if auth.user.with(Option::is_some) {
            let next = safe_next(query.with_untracked(|q| q.get("next")));
            navigate(
                &next,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            match api::login(email.get_untracked(), password.get_untracked()).await {
                Ok(user) => auth.user.set(Some(user)),
                Err(p) => {
                    password.set(String::new());
                    error.set(Some(if p.code == ProblemCode::TooManyAttempts {
                        format!("Too many failed attempts: {}.", p.detail)
                    } else {
                        p.detail
                    }));
                }
            }
            pending.set(false);
        });
    };

    view! {
        <section class="card narrow">
            <h1>"Log in"</h1>
            <form on:submit=submit novalidate>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required
                    prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
        </section>
    }
}
