//! Code with a Copy button and, for recipes, a download link.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::{api, browser};

/// A block of code to copy (and download, when it is a recipe file).
#[component]
pub fn CodeBlock(
    /// What the block is, for screen readers and the Copy button's name.
    #[prop(into)]
    label: String,
    /// The code.
    #[prop(into)]
    code: Signal<String>,
    /// The recipe file to download (`/recipes/<file>`); empty for none.
    #[prop(optional)]
    download: &'static str,
) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let copy = move |_| {
        let text = code.get_untracked();
        spawn_local(async move {
            copied.set(Some(browser::copy(&text).await.is_ok()));
        });
    };
    let copy_label = format!("Copy {label}");
    view! {
        <figure class="code">
            <figcaption>{label.clone()}</figcaption>
            <pre tabindex="0"><code>{move || code.get()}</code></pre>
            <div class="code-actions">
                <button type="button" class="small secondary" aria-label=copy_label on:click=copy>
                    {move || match copied.get() { Some(true) => "Copied", Some(false) => "Press Ctrl+C", None => "Copy" }}
                </button>
                {(!download.is_empty()).then(|| view! {
                    <a class="button small secondary" href=format!("/recipes/{download}") download=download>{format!("Download {download}")}</a>
                })}
            </div>
        </figure>
    }
}

/// A recipe as the server serves it (with this server's base URL filled in).
#[component]
pub fn RecipeBlock(file: &'static str, #[prop(into)] label: String) -> impl IntoView {
    let text = RwSignal::new(String::from("Loading…"));
    spawn_local(async move {
        text.set(match api::recipe(file).await {
            Ok(t) => t,
            Err(p) => format!("Could not load {file}: {}", p.detail),
        });
    });
    view! { <CodeBlock label=label code=text download=file/> }
}
