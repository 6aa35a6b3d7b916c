//! "Use this key": ready-made snippets for each tool, for one key.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::{CodeBlock, Explain, Term};
use crate::api;
use crate::routes::{HelpTopic, Page};

/// The tools the panel has a tab for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Curl,
    Sheets,
    Excel,
    Zapier,
    Postman,
}

impl Tool {
    const ALL: [Tool; 5] = [
        Tool::Curl,
        Tool::Sheets,
        Tool::Excel,
        Tool::Zapier,
        Tool::Postman,
    ];

    fn name(self) -> &'static str {
        match self {
            Tool::Curl => "curl",
            Tool::Sheets => "Google Sheets",
            Tool::Excel => "Excel",
            Tool::Zapier => "Zapier",
            Tool::Postman => "Postman",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Tool::Curl => "curl",
            Tool::Sheets => "sheets",
            Tool::Excel => "excel",
            Tool::Zapier => "zapier",
            Tool::Postman => "postman",
        }
    }

    fn guide(self) -> HelpTopic {
        match self {
            Tool::Curl => HelpTopic::Scripts,
            Tool::Sheets => HelpTopic::GoogleSheets,
            Tool::Excel => HelpTopic::Excel,
            Tool::Zapier => HelpTopic::Zapier,
            Tool::Postman => HelpTopic::Postman,
        }
    }

    fn recipe(self) -> Option<&'static str> {
        match self {
            Tool::Curl => Some("curl.sh"),
            Tool::Sheets => Some("google-sheets.gs"),
            Tool::Excel => Some("excel-power-query-basic.pq"),
            Tool::Zapier => None,
            Tool::Postman => Some("postman_collection.json"),
        }
    }

    /// The snippet for `base` and `key`.
    fn snippet(self, base: &str, key: &str) -> String {
        match self {
            Tool::Curl => format!(
                "curl -H @- {base}/api/key <<< 'X-API-Key: {key}'\n\
                 curl -H @- \"{base}/api/stock?limit=1000\" <<< 'X-API-Key: {key}'\n\
                 curl -H @- -H \"Accept: text/csv\" {base}/api/stock -o stock.csv <<< 'X-API-Key: {key}'"
            ),
            Tool::Sheets => format!(
                "Paste google-sheets.gs into Extensions → Apps Script (it calls {base}),\n\
                 reload the spreadsheet, choose PartLogic → Set API key… and paste:\n\
                 {key}\n\n\
                 Then PartLogic → Refresh stock now. The key is kept in your own\n\
                 user properties: other editors of the spreadsheet cannot read it."
            ),
            Tool::Excel => format!(
                "Data → Get Data → From Other Sources → Blank Query → Advanced Editor:\n\
                 paste excel-power-query-basic.pq (it calls {base}).\n\n\
                 When Excel asks how to connect, choose Basic:\n\
                 User name: {key}\n\
                 Password:  anything (it is ignored)"
            ),
            Tool::Zapier => format!(
                "Low stock every hour (Schedule → Webhooks by Zapier: GET):\n\
                 URL:     {base}/api/stock?below_min=true\n\
                 Headers: X-API-Key | {key}\n\n\
                 One message per crossing of a minimum (Webhooks by Zapier: Retrieve Poll):\n\
                 URL:        {base}/api/stock/alerts?limit=1000\n\
                 Basic Auth: {key}|"
            ),
            Tool::Postman => format!(
                "Import postman_collection.json (it points at {base}),\n\
                 then set the collection variable:\n\
                 apiKey = {key}"
            ),
        }
    }
}

/// Snippets with this server's base URL for each tool. With `secret` (the Key created screen)
/// they show the key itself only after the user asks, so it is not on screen by accident;
/// without one (a key's page, where the secret is no longer known) they show a placeholder.
#[component]
pub fn UseKeyPanel(#[prop(optional)] secret: Option<String>) -> impl IntoView {
    let base = RwSignal::new(None::<String>);
    spawn_local(async move {
        let url = match api::connect().await {
            Ok(c) => c.base_url,
            Err(_) => window().location().origin().unwrap_or_default(),
        };
        base.set(Some(url));
    });
    let tool = RwSignal::new(Tool::Curl);
    let include = RwSignal::new(false);
    let has_secret = secret.is_some();
    let secret = StoredValue::new(secret);
    let code = Signal::derive(move || {
        let base = base.get().unwrap_or_else(|| "…".to_owned());
        let key = match secret.get_value() {
            Some(s) if include.get() => s,
            _ => "YOUR_API_KEY".to_owned(),
        };
        tool.get().snippet(&base, &key)
    });
    view! {
        <section class="use-key" aria-labelledby="use-key-title">
            <h2 id="use-key-title">"Use this key"</h2>
            <p class="muted">
                "Ready-made for your tool, with this server's "<Explain term=Term::BaseUrl/>" filled in. "
                {if has_secret {
                    "The key itself appears in the snippets only if you ask: "
                } else {
                    "PartLogic showed the key once, when it was made: put in the copy you saved for YOUR_API_KEY."
                }}
            </p>
            <Show when=move || has_secret>
                <label class="inline">
                    <input type="checkbox" prop:checked=move || include.get()
                        on:change=move |ev| include.set(event_target_checked(&ev)) />
                    " Include my key in the snippets"
                </label>
            </Show>
            // The WAI-ARIA tabs pattern: one tab in the tab order, arrows move between them.
            <div role="tablist" aria-label="Tools" class="tabs" on:keydown=move |ev| {
                let step: isize = match ev.key().as_str() {
                    "ArrowRight" => 1,
                    "ArrowLeft" => -1,
                    _ => return,
                };
                ev.prevent_default();
                let n = Tool::ALL.len() as isize;
                let at = Tool::ALL.iter().position(|t| *t == tool.get_untracked()).unwrap_or(0) as isize;
                let next = Tool::ALL[((at + step).rem_euclid(n)) as usize];
                tool.set(next);
                if let Some(el) = document().get_element_by_id(&format!("tab-{}", next.slug())) {
                    use wasm_bindgen::JsCast;
                    let _ = el.unchecked_into::<web_sys::HtmlElement>().focus();
                }
            }>
                {Tool::ALL.into_iter().map(|t| view! {
                    <button type="button" role="tab" id=format!("tab-{}", t.slug())
                        aria-controls="use-key-panel"
                        aria-selected=move || (tool.get() == t).to_string()
                        tabindex=move || if tool.get() == t { "0" } else { "-1" }
                        class:selected=move || tool.get() == t
                        on:click=move |_| tool.set(t)>{t.name()}</button>
                }).collect_view()}
            </div>
            <div role="tabpanel" id="use-key-panel" aria-labelledby=move || format!("tab-{}", tool.get().slug())>
                {move || {
                    let t = tool.get();
                    view! {
                        <CodeBlock label=format!("{} snippet", t.name()) code=code download=t.recipe().unwrap_or_default()/>
                        <p><A href=Page::Help(Some(t.guide())).path()>{format!("The {} guide, step by step", t.name())}</A></p>
                    }
                }}
            </div>
        </section>
    }
}
