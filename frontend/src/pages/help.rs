//! The Help area: how to get a key and connect it to each tool. Code shows this server's real
//! base URL (from `/portal/api/connect`), and recipes come from `/recipes/` as the server serves
//! them, so what is shown is what works.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::components::{CodeBlock, Explain, RecipeBlock, Term};
use crate::routes::{HelpTopic, Page};

/// This server's base URL, once known.
fn base_url() -> RwSignal<String> {
    let base = RwSignal::new(String::from("…"));
    spawn_local(async move {
        let url = match api::connect().await {
            Ok(c) => c.base_url,
            Err(_) => window().location().origin().unwrap_or_default(),
        };
        base.set(url);
    });
    base
}

/// Code made from the base URL.
fn with_base(base: RwSignal<String>, make: fn(&str) -> String) -> Signal<String> {
    Signal::derive(move || base.with(|b| make(b)))
}

/// The list of guides.
#[component]
pub fn HelpIndex() -> impl IntoView {
    view! {
        <section class="page help">
            <h1>"Help: connecting your tools"</h1>
            <p class="lead">
                "An "<Explain term=Term::ApiKey/>" lets a tool read stock from the "<Explain term=Term::Device text="devices"/>
                " you choose. Start with getting a key, then follow the guide for your tool."
            </p>
            <ul class="guides">
                {HelpTopic::ALL.into_iter().map(|t| view! {
                    <li><A href=Page::Help(Some(t)).path()>{t.title()}</A></li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// One guide, chosen by the URL.
#[component]
pub fn HelpPage() -> impl IntoView {
    let params = use_params_map();
    let topic =
        Memo::new(move |_| params.with(|p| p.get("topic").and_then(|s| HelpTopic::from_slug(&s))));
    move || match topic.get() {
        None => view! {
            <section class="page help">
                <h1>"No such guide"</h1>
                <p><A href=Page::Help(None).path()>"All guides"</A></p>
            </section>
        }
        .into_any(),
        Some(t) => view! {
            <section class="page help">
                <nav class="crumbs" aria-label="Breadcrumb">
                    <A href=Page::Help(None).path()>"Help"</A>" › "{t.title()}
                </nav>
                <h1>{t.title()}</h1>
                {guide(t)}
                <nav class="guide-nav" aria-label="Other guides">
                    {HelpTopic::ALL.into_iter().filter(|o| *o != t).map(|o| view! {
                        <A href=Page::Help(Some(o)).path()>{o.title()}</A>
                    }).collect_view()}
                </nav>
            </section>
        }
        .into_any(),
    }
}

fn guide(t: HelpTopic) -> AnyView {
    match t {
        HelpTopic::GettingStarted => getting_started().into_any(),
        HelpTopic::Authentication => authentication().into_any(),
        HelpTopic::Zapier => zapier().into_any(),
        HelpTopic::GoogleSheets => google_sheets().into_any(),
        HelpTopic::OrdersFromASpreadsheet => orders_from_a_spreadsheet().into_any(),
        HelpTopic::Excel => excel().into_any(),
        HelpTopic::SlackAlerts => slack_alerts().into_any(),
        HelpTopic::ZapierTriggers => zapier_triggers().into_any(),
        HelpTopic::Postman => postman().into_any(),
        HelpTopic::Scripts => scripts().into_any(),
    }
}

fn getting_started() -> impl IntoView {
    let integrations = Signal::derive(|| {
        format!(
            "{}{}",
            window().location().origin().unwrap_or_default(),
            Page::Integrations.path()
        )
    });
    view! {
        <ol class="steps">
            <li>"Open "<A href=Page::Integrations.path()>"Integrations"</A>" and choose "<strong>"New API Key"</strong>"."</li>
            <li>"Give the key a name that says what uses it (\u{201c}Zapier stock sync\u{201d}): one key per integration, so you can "
                <Explain term=Term::Retire/>" one without touching the others."</li>
            <li>"Optionally pick an "<Explain term=Term::ExpiresOn/>" date: the key works through that whole day in your time zone."</li>
            <li>"Tick the "<Explain term=Term::Device text="devices"/>" the key may read. Type part of a device or "
                <Explain term=Term::Customer/>" name to filter; "<strong>"Select All"</strong>" and "<strong>"Clear"</strong>" act on what the filter shows."</li>
            <li>"Choose "<strong>"Generate"</strong>". The key is shown "<strong>"once"</strong>": press "<strong>"Copy"</strong>
                " and put it in your tool (or a password manager) now. PartLogic keeps only a fingerprint of it."</li>
            <li>"Choose "<strong>"Return"</strong>". The key is listed with its first characters, devices, expiry and when it was last used."</li>
        </ol>
        <p>"Send this page's link to whoever creates keys in your team:"</p>
        <CodeBlock label="Link to Integrations" code=integrations/>
        <p>"Next: "<A href=Page::Help(Some(HelpTopic::Authentication)).path()>"how tools send the key"</A>"."</p>
    }
}

/// What each refusal means and what to do about it.
const REFUSALS: &[(&str, &str, &str)] = &[
    (
        "401",
        "missing_api_key",
        "No key was sent. Put it in the X-API-Key header (or Basic, or Bearer).",
    ),
    (
        "401",
        "malformed_api_key",
        "What was sent is not a whole PartLogic key: copy it again (pl_ and 49 letters and digits, 52 in all).",
    ),
    (
        "401",
        "invalid_api_key",
        "No such key, or its owner can no longer log in. Create a new key.",
    ),
    (
        "401",
        "api_key_expired",
        "Past its Expires On date. Create a new key and update the tool.",
    ),
    (
        "401",
        "api_key_retired",
        "Someone retired it in the portal. Create a new key and update the tool.",
    ),
    (
        "400",
        "api_key_in_query",
        "The key was in the address, where logs keep it. Retire that key, make a new one, and send it in a header.",
    ),
    (
        "400",
        "conflicting_api_keys",
        "Two different keys in one request. Send one.",
    ),
    (
        "400",
        "invalid_parameters",
        "A parameter is wrong; the answer's errors say which.",
    ),
    (
        "403",
        "device_not_in_scope",
        "The key may not read that device. Tick it on the key, or ask for a key that has it.",
    ),
    (
        "429",
        "too_many_streams",
        "This key already runs two full exports. Wait for one, or read pages (limit and after).",
    ),
    (
        "503",
        "server_busy",
        "Busy for a moment: wait the Retry-After seconds and try again.",
    ),
    (
        "503",
        "service_unavailable",
        "PartLogic cannot reach its database for a moment: wait the Retry-After seconds and try again.",
    ),
];

fn authentication() -> impl IntoView {
    let base = base_url();
    view! {
        <p>"Every request except "<code>"/api/ping"</code>" needs your "<Explain term=Term::ApiKey/>
            ", sent in one of three ways. Never put it in the address: the address ends up in logs, and PartLogic refuses such requests."</p>
        <h2>"1. The X-API-Key header (recommended)"</h2>
        <p>"Any tool with a place for a "<Explain term=Term::Header/>" (Zapier, Apps Script, Postman, curl)."</p>
        <CodeBlock label="X-API-Key header" code=with_base(base, |b| format!("curl -H @- {b}/api/key <<< 'X-API-Key: YOUR_API_KEY'"))/>
        <p class="muted">"These examples hand curl the key on its standard input ("<code>"-H @-"</code>", "<code>"-K -"</code>"), never as an argument: "
            "every user of a machine can see the arguments of its running programs ("<code>"ps"</code>")."</p>
        <h2>"2. Basic authentication"</h2>
        <p>"For tools that only offer "<Explain term=Term::Basic/>" (Zapier's Retrieve Poll, Excel's credential store): the key is the user name, the password is ignored."</p>
        <CodeBlock label="Basic authentication" code=with_base(base, |b| format!("curl -K - {b}/api/key <<< 'user = \"YOUR_API_KEY:\"'"))/>
        <h2>"3. A Bearer token"</h2>
        <p>"For tools that send a "<Explain term=Term::Bearer/>"."</p>
        <CodeBlock label="Bearer token" code=with_base(base, |b| format!("curl -H @- {b}/api/key <<< 'Authorization: Bearer YOUR_API_KEY'"))/>
        <p><code>"GET /api/key"</code>" is the \u{201c}test connection\u{201d} call: it names the key, says when it expires and lists the devices it reaches now. "
            "Every answer to a key with an expiry carries a PartLogic-Key-Expires header."</p>
        <h2>"When a request is refused"</h2>
        <p>"Refusals come as a small JSON document with a stable "<code>"code"</code>". A "<Explain term=Term::Status401/>" is about the key, a "
            <Explain term=Term::Status403/>" about a device, a "<Explain term=Term::Status429/>" about pace."</p>
        <table class="refusals">
            <thead><tr><th scope="col">"Status"</th><th scope="col">"code"</th><th scope="col">"What to do"</th></tr></thead>
            <tbody>
                {REFUSALS.iter().map(|(status, code, todo)| view! {
                    <tr><td data-label="Status">{*status}</td><td data-label="code"><code>{*code}</code></td><td data-label="What to do">{*todo}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn zapier() -> impl IntoView {
    let base = base_url();
    view! {
        <p>"Zapier's "<strong>"Webhooks by Zapier"</strong>" app sends your key in a "<Explain term=Term::Header/>" or as "
            <Explain term=Term::Basic/>". Four zaps cover most needs."</p>
        <h2>"(a) Every hour, post the items below their minimum to Slack"</h2>
        <ol class="steps">
            <li>"Trigger: "<strong>"Schedule by Zapier"</strong>" → Every Hour."</li>
            <li>"Action: "<strong>"Webhooks by Zapier"</strong>" → "<strong>"GET"</strong>", with this URL and header:"</li>
        </ol>
        <CodeBlock label="Webhooks GET settings" code=with_base(base, |b| format!("URL:     {b}/api/stock?below_min=true\nHeaders: X-API-Key | YOUR_API_KEY"))/>
        <ol class="steps" start="3">
            <li>"Action: "<strong>"Slack"</strong>" → Send Channel Message, mapping DeviceName, SKU, Description, Physical and MinQty."</li>
        </ol>
        <h2>"(b) One Slack message per low-stock event"</h2>
        <p>"Each "<Explain term=Term::Alert/>" has its own id, and Zapier's Retrieve Poll fires once per new id: one message when an item falls below its minimum, one when it is restocked, and again if it falls once more. "
            "The list comes newest first, as Retrieve Poll wants; ask for 1,000 so that a big import between two polls loses none."</p>
        <ol class="steps">
            <li>"Trigger: "<strong>"Webhooks by Zapier"</strong>" → "<strong>"Retrieve Poll"</strong>", with:"</li>
        </ol>
        <CodeBlock label="Retrieve Poll settings" code=with_base(base, |b| format!("URL:        {b}/api/stock/alerts?limit=1000\nBasic Auth: YOUR_API_KEY|\nKey:        (leave empty: the answer is a list)\nDeduplication Key: id"))/>
        <ol class="steps" start="2">
            <li>"Test the trigger. The first poll after you switch the zap on only records the ids already there; only later events fire."</li>
            <li>"Action: "<strong>"Slack"</strong>" → Send Channel Message: \u{201c}{{DeviceName}}: {{SKU}} {{Kind}}: {{Physical}} now, minimum {{MinQty}}\u{201d}. "
                "(Only want the bad news? Add "<code>"&kind=below_min"</code>" to the URL.)"</li>
        </ol>
        <h2>"(c) Keep a Google Sheet in sync"</h2>
        <p>"For every row, use the "<A href=Page::Help(Some(HelpTopic::GoogleSheets)).path()>"Google Sheets script"</A>
            " (it pages through any number of rows). For a small device, a zap works too:"</p>
        <ol class="steps">
            <li>"Trigger: Schedule by Zapier → Every Day."</li>
            <li>"Action: Webhooks by Zapier → GET "<code>"/api/stock?limit=1000"</code>" with the header above."</li>
            <li>"Action: Google Sheets → Create Multiple Spreadsheet Rows, mapping the fields."</li>
        </ol>
        <h2>"(d) Create a PartLogic order when a row is added"</h2>
        <p>"For a sheet with one row per order line: columns Device ID, SKU and Quantity. The key needs Orders "
            "\u{201c}read and create, cancel, receive\u{201d} (under Permissions when you create it). For orders of several lines, "
            "or rows that may be edited, use the "<A href=Page::Help(Some(HelpTopic::OrdersFromASpreadsheet)).path()>"orders script"</A>" instead."</p>
        <ol class="steps">
            <li>"Trigger: "<strong>"Google Sheets"</strong>" → New Spreadsheet Row."</li>
            <li>"Action: "<strong>"Webhooks by Zapier"</strong>" → "<strong>"Custom Request"</strong>", method "<strong>"POST"</strong>", with:"</li>
        </ol>
        <CodeBlock label="Webhooks POST settings" code=with_base(base, |b| format!(concat!(
            "Method:  POST\n",
            "URL:     {b}/api/orders\n",
            "Data:    {{\"device_id\": {{{{Device ID}}}},\n",
            "          \"lines\": [{{\"sku\": \"{{{{SKU}}}}\", \"quantity\": {{{{Quantity}}}}}}],\n",
            "          \"reference\": \"row-{{{{Row ID}}}}\"}}\n",
            "Headers: X-API-Key       | YOUR_API_KEY\n",
            "         Idempotency-Key | orders-sheet-{{{{Row ID}}}}\n",
            "         Content-Type    | application/json"
        ), b = b))/>
        <p>"Map Device ID, SKU, Quantity and Row ID from the trigger where the braces are. The plain "<strong>"POST"</strong>" action cannot be used here: "
            "it sends every value as text and cannot send a list of lines, and PartLogic wants numbers and a list."</p>
        <ul>
            <li><strong>"Idempotency-Key"</strong>" is the row's id: when Zapier replays a zap, or retries after a time-out, PartLogic answers with the order it already made for that row instead of making a second one. "
                "Give each zap its own prefix ("<code>"orders-sheet-"</code>")."</li>
            <li>"A refused row (an item the device does not stock, a quantity that is not a whole number) shows in the zap's history with the refusal's "<code>"code"</code>" and the field at fault."</li>
        </ul>
    }
}

fn google_sheets() -> impl IntoView {
    view! {
        <p><code>"IMPORTDATA"</code>" cannot send a key, and a key typed into a cell stays in the sheet's version history. "
            "This Apps Script keeps the key in your own user properties instead, and fills sheet "<strong>"Stock"</strong>" with every row, "
            "1,000 at a time ("<Explain term=Term::Paging/>")."</p>
        <ol class="steps">
            <li>"In your spreadsheet: "<strong>"Extensions → Apps Script"</strong>". Replace the editor's contents with the script below and save."</li>
            <li>"Reload the spreadsheet. A "<strong>"PartLogic"</strong>" menu appears: choose "<strong>"Set API key…"</strong>" and paste your key "
                "(Google asks you to allow the script the first time)."</li>
            <li><strong>"Refresh stock now"</strong>", "<strong>"Refresh alerts now"</strong>", or "<strong>"Refresh every hour"</strong>" (a trigger that runs as you)."</li>
            <li>"Sheet "<strong>"PartLogic"</strong>" says how the last refresh went; if the key was refused, it says why and what to do."</li>
        </ol>
        <h2>"Who can see the key"</h2>
        <ul>
            <li><strong>"Not other editors of the spreadsheet."</strong>" The key is kept in your user properties, which only scripts running as you can read. "
                "(Script Properties, under Project Settings, are readable by every editor: the script refuses a key it finds there until you set it with Set API key…, which deletes it there.)"</li>
            <li><strong>"Everyone who can open the spreadsheet sees the data"</strong>" the script writes: stock, alerts and the status sheet."</li>
            <li><strong>"Editors can change the script"</strong>", and a changed script runs as you the next time your hourly trigger fires, "
                "so it could read your key then. Give edit access only to people you would trust with the key; view or comment access to everyone else."</li>
        </ul>
        <RecipeBlock file="google-sheets.gs" label="google-sheets.gs (Apps Script)"/>
        <p class="muted">"Google's limits: about 20,000 fetches a day, 50 MB per answer, 6 minutes per run: enough for hundreds of thousands of rows an hour."</p>
        <p>"To send replenishment orders from a sheet, see "<A href=Page::Help(Some(HelpTopic::OrdersFromASpreadsheet)).path()>"Orders from a spreadsheet"</A>"."</p>
    }
}

fn orders_from_a_spreadsheet() -> impl IntoView {
    view! {
        <p>"This Apps Script turns the rows of sheet "<strong>"Orders"</strong>" into PartLogic replenishment orders, one line per row, "
            "and writes each order's number and status back next to its rows."</p>
        <ol class="steps">
            <li>"Open "<A href=Page::Integrations.path()>"Integrations"</A>" → "<strong>"New API Key"</strong>". Tick the "
                <Explain term=Term::Device text="devices"/>" the sheet may order for, and under "<strong>"Permissions"</strong>" set Orders to "
                <strong>"read and create, cancel, receive"</strong>". Generate it and copy the key."</li>
            <li>"In your spreadsheet: "<strong>"Extensions → Apps Script"</strong>". Replace the editor's contents with the script below and save. "
                "(A spreadsheet has one script: if it already runs the "<A href=Page::Help(Some(HelpTopic::GoogleSheets)).path()>"stock script"</A>", use another spreadsheet for orders.)"</li>
            <li>"Reload the spreadsheet. In the "<strong>"PartLogic"</strong>" menu choose "<strong>"Set API key…"</strong>" and paste your key "
                "(Google asks you to allow the script the first time)."</li>
            <li>"Choose "<strong>"Send new orders"</strong>" once: it makes sheet "<strong>"Orders"</strong>" with its header row. Fill in one row per item:"
                <ul>
                    <li><strong>"Device"</strong>": the device's id, or its name exactly as PartLogic lists it."</li>
                    <li><strong>"SKU"</strong>": the item code, stocked at that device."</li>
                    <li><strong>"Quantity"</strong>": a whole number."</li>
                    <li><strong>"Reference"</strong>" (optional): your own name for the order. Rows with the same Device and Reference become one order with a line each; a row without a Reference is an order of its own."</li>
                    <li>"Leave "<strong>"Order"</strong>" and "<strong>"Status"</strong>" empty: the script fills them in."</li>
                </ul>
            </li>
            <li>"Choose "<strong>"Send new orders"</strong>", or "<strong>"Send new orders every 10 minutes"</strong>" (a trigger that runs as you; "
                <strong>"Stop sending every 10 minutes"</strong>" removes it). Each sent row gets its order number (PO-000123) and status. "
                "A refused row says why, as \u{201c}Refused: code: what is wrong\u{201d}, and keeps an empty Order: correct it and send again. "
                "Sheet "<strong>"PartLogic"</strong>" says how the last run went."</li>
        </ol>
        <h2>"A row is never ordered twice"</h2>
        <p>"Each order goes to PartLogic with an "<strong>"Idempotency-Key"</strong>": a label made from what its rows say (the device, the Reference, the items and quantities), "
            "not from where they are in the sheet. If a run is interrupted before the answer comes back (a time-out, a closed laptop), the order may already exist. "
            "The next run sends the same request with the same label, and PartLogic answers with the order it already made instead of making a second one. "
            "Sorting or moving the rows changes nothing."</p>
        <ul>
            <li>"An edited row is a new request: once corrected, a refused row becomes a new order. If the fix was made in PartLogic instead (the item stocked, the device ticked on the key), change the row's Reference: the same row unchanged gets the same answer for 24 hours."</li>
            <li>"Two rows that say exactly the same thing without a Reference are the same order within a day: give each its own Reference to order the same items twice."</li>
        </ul>
        <h2>"Who can see the key"</h2>
        <ul>
            <li><strong>"Not other editors of the spreadsheet."</strong>" The key is kept in your user properties, which only scripts running as you can read."</li>
            <li><strong>"Editors can place orders"</strong>": a row they add is ordered with your key the next time you or your trigger send. "
                "Give edit access only to people who may order, and tick only the devices the sheet orders for."</li>
        </ul>
        <RecipeBlock file="google-sheets-orders.gs" label="google-sheets-orders.gs (Apps Script)"/>
    }
}

fn excel() -> impl IntoView {
    view! {
        <p>"Power Query reads the Stock API in Excel and Power BI. It cannot read the Link header, so these queries page with "
            <code>"after="</code>" the last id ("<Explain term=Term::Paging/>")."</p>
        <h2>"Recommended: the key in Excel's credential store"</h2>
        <ol class="steps">
            <li><strong>"Data → Get Data → From Other Sources → Blank Query"</strong>", then "<strong>"Advanced Editor"</strong>": paste the query below."</li>
            <li>"When asked how to connect, choose "<strong>"Basic"</strong>": User name = your key, Password = anything. "
                "Excel keeps it in its credential store, not in the workbook ("<Explain term=Term::Basic/>")."</li>
            <li><strong>"Close & Load"</strong>". Refresh whenever you like; in the Power BI service, scheduled refresh works because the base URL is fixed."</li>
        </ol>
        <RecipeBlock file="excel-power-query-basic.pq" label="excel-power-query-basic.pq (Power Query M)"/>
        <h2>"Alternative: the key in a header"</h2>
        <p>"A custom header makes Power Query use the Anonymous credential, so the key sits in the query text and the workbook. Prefer the query above."</p>
        <RecipeBlock file="excel-power-query.pq" label="excel-power-query.pq (Power Query M)"/>
    }
}

/// The steps both push guides share: a key that may manage webhooks.
fn webhook_key_steps() -> impl IntoView {
    view! {
        <li>"In PartLogic, open "<A href=Page::Integrations.path()>"Integrations"</A>" and the key whose devices the alerts are about (or create one with just those devices)."</li>
        <li>"Under "<strong>"Permissions"</strong>", tick "<strong>"Webhooks"</strong>" and press "<strong>"Save permissions"</strong>"."</li>
    }
}

fn slack_alerts() -> impl IntoView {
    view! {
        <p>"PartLogic posts a message to a Slack channel within a second of an item falling below its minimum, and again when it is restocked. "
            "No zap and no polling: Slack's own "<strong>"incoming webhook"</strong>" receives it."</p>
        <h2>"1. In Slack: an incoming-webhook URL"</h2>
        <ol class="steps">
            <li>"Go to "<strong>"api.slack.com/apps"</strong>" → "<strong>"Create New App"</strong>" → From scratch, name it \u{201c}PartLogic\u{201d}, pick your workspace."</li>
            <li>"Under "<strong>"Incoming Webhooks"</strong>", switch them on, press "<strong>"Add New Webhook to Workspace"</strong>" and choose the channel."</li>
            <li>"Copy the "<strong>"Webhook URL"</strong>" ("<code>"https://hooks.slack.com/services/T…/B…/…"</code>"). Treat it as a password: anyone holding it can post to the channel."</li>
        </ol>
        <h2>"2. In PartLogic: an endpoint with format Slack"</h2>
        <ol class="steps">
            {webhook_key_steps()}
            <li>"In its "<strong>"Webhooks"</strong>" section, press "<strong>"Add endpoint"</strong>" and paste the Slack URL as "<strong>"Endpoint URL"</strong>"."</li>
            <li>"Keep "<strong>"Stock fell below its minimum"</strong>" ticked (untick the restock one if you only want bad news), choose "<strong>"Format: Slack"</strong>", press "<strong>"Add endpoint"</strong>". "
                "The signing secret shown is not needed for Slack: press Done."</li>
            <li>"Press "<strong>"Send test event"</strong>": \u{201c}A test event from PartLogic\u{201d} appears in the channel, and "<strong>"Deliveries"</strong>" shows it with status 200."</li>
        </ol>
        <p>"From then on each low-stock event posts a line like: "<em>"\u{26a0}\u{fe0f} NP Main Stores (North Plant): BRG-6204 Deep-groove bearing is at 2, below its minimum of 5 (fill up to 20). Open PartLogic"</em>"."</p>
        <h2>"If messages stop"</h2>
        <ul>
            <li>"Open the endpoint's "<strong>"Deliveries"</strong>": each shows Slack's answer. Failed deliveries are retried for about three days; after five days of failures the endpoint is disabled and the page says why."</li>
            <li>"When the Slack app or its webhook is removed, Slack answers "<code>"404 no_service"</code>": the deliveries fail, are retried, and after five days the endpoint is disabled. "
                "When the channel is archived Slack answers "<code>"410"</code>" and the endpoint is disabled at once. Either way: make a new webhook URL, add it, and delete the old endpoint. "
                "After fixing a problem on the receiving side, "<strong>"Enable"</strong>" sends the events that waited."</li>
            <li>"Only the key's devices send messages, and only while its owner may still see them."</li>
        </ul>
    }
}

fn zapier_triggers() -> impl IntoView {
    view! {
        <p>"A zap that starts from PartLogic's push fires within seconds of the change, on any Zapier plan, instead of on the next poll (every 1 to 15 minutes). "
            "Zapier's "<strong>"Webhooks by Zapier"</strong>" app catches it; the "<A href=Page::Help(Some(HelpTopic::Zapier)).path()>"polling zaps"</A>" keep working too."</p>
        <h2>"1. In Zapier: a Catch Hook URL"</h2>
        <ol class="steps">
            <li>"Create a zap. Trigger: "<strong>"Webhooks by Zapier"</strong>" → "<strong>"Catch Hook"</strong>" (leave \u{201c}Pick off a Child Key\u{201d} empty)."</li>
            <li>"Copy the "<strong>"webhook URL"</strong>" Zapier shows ("<code>"https://hooks.zapier.com/hooks/catch/…/…/"</code>")."</li>
        </ol>
        <h2>"2. In PartLogic: an endpoint for it"</h2>
        <ol class="steps">
            {webhook_key_steps()}
            <li>"In its "<strong>"Webhooks"</strong>" section, press "<strong>"Add endpoint"</strong>", paste the Catch Hook URL, tick the events the zap is for, keep "<strong>"Format: Standard"</strong>", press "<strong>"Add endpoint"</strong>"."</li>
            <li>"Press "<strong>"Send test event"</strong>", then "<strong>"Test trigger"</strong>" in Zapier: it finds the request."</li>
        </ol>
        <h2>"3. Use the fields"</h2>
        <p>"Each request is "<code>"{\"type\", \"timestamp\", \"data\"}"</code>". Zapier shows "<code>"type"</code>" (for example "<code>"stock.below_min"</code>") and the event's fields under "<strong>"Data"</strong>": "
            "for stock events the row's "<code>"DeviceName"</code>", "<code>"Customer"</code>", "<code>"SKU"</code>", "<code>"Description"</code>", "<code>"Physical"</code>", "<code>"MinQty"</code>", "<code>"MaxQty"</code>" and "<code>"Kind"</code>"; "
            "for order events the order (number, device, lines). Add a "<strong>"Filter by Zapier"</strong>" step on "<code>"type"</code>" when one endpoint sends several kinds."</p>
        <ul>
            <li>"Turning the zap off makes Zapier answer "<code>"410 Gone"</code>": PartLogic disables the endpoint at once. When you turn the zap on again, press "<strong>"Enable"</strong>" on the endpoint."</li>
            <li>"Every request carries "<code>"webhook-id"</code>" (the same on every retry), "<code>"webhook-timestamp"</code>" and "<code>"webhook-signature"</code>" (Standard Webhooks, made with the endpoint's signing secret) for code that wants to check them; Zapier does not need them."</li>
        </ul>
    }
}

fn postman() -> impl IntoView {
    let base = base_url();
    view! {
        <ol class="steps">
            <li>"Download the collection below and "<strong>"Import"</strong>" it in Postman."</li>
            <li>"Open the collection → "<strong>"Variables"</strong>": set "<code>"apiKey"</code>" to your key ("<code>"baseUrl"</code>" is already this server). "
                "The collection sends it in the X-API-Key "<Explain term=Term::Header/>" (Authorization → API Key → Add to Header)."</li>
            <li><strong>"Run"</strong>" the collection: each request checks its answer (status and shape), and a refusal says its code."</li>
        </ol>
        <RecipeBlock file="postman_collection.json" label="postman_collection.json (Postman collection v2.1)"/>
        <p>"Postman can also import the whole Stock API from its OpenAPI document ("<strong>"Import"</strong>" → paste the URL; under "<strong>"Generate parameters from"</strong>" choose "<strong>"Example"</strong>", so each request sends example values: change or untick "<code>"device"</code>" and "<code>"sku"</code>" for your own devices):"</p>
        <CodeBlock label="OpenAPI document URL" code=with_base(base, |b| format!("{b}/api/openapi.json"))/>
        <p>"In the collection's variables check "<code>"baseUrl"</code>" and add "<code>"apiKey"</code>" with your key. The two requests that change keys come last: "<strong>"Retire the key making this request"</strong>" retires the key you send, and "<strong>"Report leaked keys"</strong>" is for GitHub. A run reads everything first; delete those two from the collection if a run should leave your key working."</p>
    }
}

fn scripts() -> impl IntoView {
    view! {
        <p>"Put the key in an environment variable, not in the script: "<code>"export PARTLOGIC_API_KEY=pl_…"</code>"."</p>
        <RecipeBlock file="curl.sh" label="curl.sh (shell)"/>
        <p>"Python with requests, following the Link header page by page ("<Explain term=Term::Paging/>"):"</p>
        <RecipeBlock file="python.py" label="python.py (Python 3, requests)"/>
    }
}
