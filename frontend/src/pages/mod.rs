//! One module per page.

mod help;
mod key_details;
mod key_list;
mod login;
mod new_key;
mod order_details;
mod orders;

pub use help::{HelpIndex, HelpPage};
pub use key_details::KeyDetails;
pub use key_list::KeyList;
pub use login::Login;
pub use new_key::NewKey;
pub use order_details::OrderDetails;
pub use orders::Orders;

use leptos::prelude::*;
use leptos_router::components::A;

/// Any path the portal does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href="/integrations">"Go to Integrations"</A>
        </section>
    }
}
