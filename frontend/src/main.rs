//! The PartLogic portal SPA: log in, then manage device-scoped API keys under Integrations.
//! Client-side rendered with Leptos; talks only to the portal JSON API through [`api`].

mod api;
mod app;
mod browser;
mod components;
mod pages;
mod routes;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
