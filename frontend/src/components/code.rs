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
    /// The recipe file to download (`/recipes/<file>`); empty: the block's own text is offered
    /// as `snippet.txt`.
    #[prop(optional)]
    download: &'static str,
) -> impl IntoView {
    let save_text = move |_| {
        let _ = browser::download_text("snippet.txt", &code.get_untracked());
    };
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
                {if download.is_empty() {
                    view! { <button type="button" class="small secondary" on:click=save_text>"Download snippet.txt"</button> }.into_any()
                } else {
                    view! { <a class="button small secondary" href=format!("/recipes/{download}") download=download>{format!("Download {download}")}</a> }.into_any()
                }}
                // Said aloud: the button's name stays "Copy …" for screen readers.
                <span class="visually-hidden" role="status">
                    {move || match copied.get() { Some(true) => "Copied to the clipboard", Some(false) => "Could not copy: select the text and press Ctrl+C", None => "" }}
                </span>
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
