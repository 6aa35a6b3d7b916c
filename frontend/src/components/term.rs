//! Technical terms with their explanation on hover and on keyboard focus, as PartLogic's own
//! docs do: a dotted underline, focusable, the explanation tied to it with `aria-describedby`
//! (so screen readers read it), and Escape closes it.

use std::sync::atomic::{AtomicU32, Ordering};

use leptos::prelude::*;

/// The terms the guides explain, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// API key.
    ApiKey,
    /// Device.
    Device,
    /// Customer (site).
    Customer,
    /// Expires On.
    ExpiresOn,
    /// Retire.
    Retire,
    /// HTTP header.
    Header,
    /// 401.
    Status401,
    /// 403.
    Status403,
    /// 429.
    Status429,
    /// Paging.
    Paging,
    /// Basic authentication.
    Basic,
    /// Bearer token.
    Bearer,
    /// Base URL.
    BaseUrl,
    /// Alert.
    Alert,
}

impl Term {
    /// The words shown when no other text is given.
    pub fn label(self) -> &'static str {
        match self {
            Term::ApiKey => "API key",
            Term::Device => "device",
            Term::Customer => "customer",
            Term::ExpiresOn => "Expires On",
            Term::Retire => "retire",
            Term::Header => "header",
            Term::Status401 => "401",
            Term::Status403 => "403",
            Term::Status429 => "429",
            Term::Paging => "paging",
            Term::Basic => "Basic authentication",
            Term::Bearer => "Bearer token",
            Term::BaseUrl => "base URL",
            Term::Alert => "alert",
        }
    }

    /// What it means, in a sentence or two.
    pub fn explanation(self) -> &'static str {
        match self {
            Term::ApiKey => {
                "A secret (pl_ followed by 49 letters and digits) that lets a tool read stock from the devices you ticked. Anyone holding it can read that stock, so keep it like a password."
            }
            Term::Device => {
                "A store room, tool crib or vending machine whose stock PartLogic tracks. A key reads only the devices ticked on it."
            }
            Term::Customer => {
                "The site a device belongs to (North Plant, Harbour Depot). The device filter matches customer names too."
            }
            Term::ExpiresOn => {
                "The last day a key works, in your time zone. From the next midnight on, it is refused. Leave it empty for a key that does not expire."
            }
            Term::Retire => {
                "Switching a key off for good: it fails from its very next request and stays listed as retired, so you can see who retired it and when."
            }
            Term::Header => {
                "A named value sent along with a web request, such as X-API-Key: pl_…. Tools have a place for headers; the key never goes in the address."
            }
            Term::Status401 => {
                "401 Unauthorized: the key is missing, mistyped, unknown, expired or retired. The answer's code says which."
            }
            Term::Status403 => {
                "403 Forbidden: the key is fine but asked for a device it may not read."
            }
            Term::Status429 => {
                "429 Too Many Requests: slow down; the Retry-After header says how many seconds to wait."
            }
            Term::Paging => {
                "Reading a long list in pieces: ask for limit=1000, then ask again with after= the last id you got, until a piece comes back short."
            }
            Term::Basic => {
                "A standard way to send a user name and password. PartLogic takes the key as the user name and ignores the password, for tools that only offer Basic."
            }
            Term::Bearer => {
                "A standard way to send a token: Authorization: Bearer pl_…. PartLogic accepts the key this way too."
            }
            Term::BaseUrl => {
                "The address of this PartLogic server, which every request starts with."
            }
            Term::Alert => {
                "A record that a stock row fell below its minimum (below_min) or came back (restocked). Each crossing gets its own id, so a polling tool fires once per crossing."
            }
        }
    }
}

static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// A term with its explanation on hover and on focus. `text` replaces the term's own words.
#[component]
pub fn Explain(term: Term, #[prop(optional, into)] text: Option<String>) -> impl IntoView {
    let id = format!("term-tip-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    // Open while hovered or focused, until Escape dismisses it (WCAG 1.4.13: dismissable
    // without moving the pointer or the focus); hovering or focusing again brings it back.
    let hovered = RwSignal::new(false);
    let focused = RwSignal::new(false);
    let dismissed = RwSignal::new(false);
    let open = Memo::new(move |_| (hovered.get() || focused.get()) && !dismissed.get());
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && open.get_untracked() {
            dismissed.set(true);
        }
    });
    on_cleanup(move || escape.remove());
    let label = text.unwrap_or_else(|| term.label().to_owned());
    let described_by = id.clone();
    view! {
        <span class="term" tabindex="0" aria-describedby=described_by
            on:mouseenter=move |_| { dismissed.set(false); hovered.set(true) }
            on:mouseleave=move |_| hovered.set(false)
            on:focus=move |_| { dismissed.set(false); focused.set(true) }
            on:blur=move |_| focused.set(false)>
            {label}
            <span role="tooltip" id=id class="tip" class:open=move || open.get()>{term.explanation()}</span>
        </span>
    }
}
