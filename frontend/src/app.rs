//! The app shell: who is logged in, the header, and the routes.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Redirect, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{NavigateOptions, path};
use partlogic_types::CurrentUser;
use wasm_bindgen::JsCast;

use crate::api;
use crate::pages::{
    HelpIndex, HelpPage, KeyDetails, KeyList, Login, NewKey, NotFound, OrderDetails, Orders,
};
use crate::routes::Page;

/// Who is logged in. `checked` turns true once the first "who am I?" has been answered, so pages
/// do not bounce to the login screen while that question is still in flight.
#[derive(Clone, Copy)]
pub struct Auth {
    /// The logged-in user.
    pub user: RwSignal<Option<CurrentUser>>,
    /// Whether the session check has finished.
    pub checked: RwSignal<bool>,
}

thread_local! {
    static AUTH: std::cell::Cell<Option<Auth>> = const { std::cell::Cell::new(None) };
}

/// The session ended (expired, logged out elsewhere, user disabled): forget the user, and the
/// route guard sends them to the login page. Called by the API client on `not_logged_in`.
pub fn session_ended() {
    AUTH.with(|a| {
        if let Some(auth) = a.get() {
            auth.user.set(None);
        }
    });
}

/// The whole portal.
#[component]
pub fn App() -> impl IntoView {
    let auth = Auth {
        user: RwSignal::new(None),
        checked: RwSignal::new(false),
    };
    provide_context(auth);
    AUTH.with(|a| a.set(Some(auth)));
    spawn_local(async move {
        if let Ok(u) = api::me().await {
            auth.user.set(Some(u));
        }
        auth.checked.set(true);
    });

    view! {
        <Router>
            <Header/>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=|| view! { <Redirect path="/integrations"/> }/>
                    <Route path=path!("/login") view=Login/>
                    <Route path=path!("/integrations") view=|| view! { <Protected><KeyList/></Protected> }/>
                    <Route path=path!("/integrations/new") view=|| view! { <Protected><NewKey/></Protected> }/>
                    <Route path=path!("/integrations/keys/:id") view=|| view! { <Protected><KeyDetails/></Protected> }/>
                    <Route path=path!("/orders") view=|| view! { <Protected><Orders/></Protected> }/>
                    <Route path=path!("/orders/:id") view=|| view! { <Protected><OrderDetails/></Protected> }/>
                    <Route path=path!("/help") view=|| view! { <Protected><HelpIndex/></Protected> }/>
                    <Route path=path!("/help/:topic") view=|| view! { <Protected><HelpPage/></Protected> }/>
                </Routes>
            </main>
        </Router>
    }
}

/// The top bar: brand, navigation, and the user with a log-out button (always reachable).
#[component]
fn Header() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let navigate = use_navigate();
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let logout = move |_| {
        let navigate = navigate.clone();
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            let result = api::logout().await;
            pending.set(false);
            match result {
                Ok(()) => {
                    // Leave the protected page first, so its guard does not offer a "next"
                    // back into it.
                    navigate(&Page::Login.path(), NavigateOptions::default());
                    auth.user.set(None);
                }
                // The server still holds the session: say so rather than pretend (on a shared
                // computer the next person would otherwise find themselves logged in).
                Err(p) => error.set(Some(format!("Could not log out: {}", p.detail))),
            }
        });
    };
    let skip = move |ev: leptos::ev::MouseEvent| {
        // The router would treat #main as a navigation; move focus to the content instead.
        ev.prevent_default();
        if let Some(main) = document().get_element_by_id("main") {
            let _ = main.unchecked_into::<web_sys::HtmlElement>().focus();
        }
    };
    view! {
        <header class="topbar">
            <a class="skip" href="#main" on:click=skip>"Skip to content"</a>
            <span class="brand">"PartLogic"</span>
            <Show when=move || auth.user.with(Option::is_some)>
                <nav aria-label="Main">
                    <A href="/integrations">"Integrations"</A>
                    <A href="/orders">"Orders"</A>
                    <A href="/help">"Help"</A>
                </nav>
                <div class="who">
                    <span class="user">
                        {move || auth.user.with(|u| u.as_ref().map(|u| format!("{} · {}", u.name, u.account_name)))}
                    </span>
                    <button type="button" class="secondary" on:click=logout.clone() disabled=move || pending.get()>
                        {move || if pending.get() { "Logging out…" } else { "Log out" }}
                    </button>
                    {move || error.get().map(|m| view! { <span class="error" role="alert">{m}</span> })}
                </div>
            </Show>
        </header>
    }
}

/// Shows `children` to logged-in users; sends everyone else to the login page with a `next`
/// link back here, so deep links survive logging in.
#[component]
fn Protected(children: ChildrenFn) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let navigate = use_navigate();
    let location = use_location();
    let logged_in = Memo::new(move |_| auth.user.with(Option::is_some));
    Effect::new(move |_| {
        if auth.checked.get()
            && !logged_in.get()
            && location.pathname.get_untracked() != Page::Login.path()
        {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            let next = String::from(js_sys::encode_uri_component(&here));
            navigate(
                &format!("{}?next={next}", Page::Login.path()),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    move || {
        if logged_in.get() {
            children().into_any()
        } else {
            view! { <p class="loading" role="status">"Loading…"</p> }.into_any()
        }
    }
}
