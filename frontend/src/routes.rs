//! The portal's pages and their URLs, in one place: links and redirects build paths from here.

/// A page of the portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// Log in.
    Login,
    /// The API keys list.
    Integrations,
    /// The New API Key form.
    NewKey,
    /// The New API Key form, filled in from key `id`.
    NewKeyLike(i64),
    /// One key's details.
    Key(i64),
    /// The orders list.
    Orders,
    /// One order.
    Order(i64),
    /// The Help area: its index, or one guide.
    Help(Option<HelpTopic>),
}

/// A guide in the Help area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelpTopic {
    /// Getting an API key.
    GettingStarted,
    /// Authentication: header, Basic, Bearer, and every refusal.
    Authentication,
    /// Zapier.
    Zapier,
    /// Google Sheets.
    GoogleSheets,
    /// Creating orders from a spreadsheet.
    OrdersFromASpreadsheet,
    /// Excel and Power BI.
    Excel,
    /// Low-stock alerts in Slack, by webhook.
    SlackAlerts,
    /// Instant Zapier triggers, by webhook to a Catch Hook.
    ZapierTriggers,
    /// Postman.
    Postman,
    /// curl and Python.
    Scripts,
}

impl HelpTopic {
    /// Every guide, in reading order.
    pub const ALL: [HelpTopic; 10] = [
        HelpTopic::GettingStarted,
        HelpTopic::Authentication,
        HelpTopic::Zapier,
        HelpTopic::GoogleSheets,
        HelpTopic::OrdersFromASpreadsheet,
        HelpTopic::Excel,
        HelpTopic::SlackAlerts,
        HelpTopic::ZapierTriggers,
        HelpTopic::Postman,
        HelpTopic::Scripts,
    ];

    /// The guide's part of the URL.
    pub fn slug(self) -> &'static str {
        match self {
            HelpTopic::GettingStarted => "getting-an-api-key",
            HelpTopic::Authentication => "authentication",
            HelpTopic::Zapier => "zapier",
            HelpTopic::GoogleSheets => "google-sheets",
            HelpTopic::OrdersFromASpreadsheet => "orders-from-a-spreadsheet",
            HelpTopic::Excel => "excel-and-power-bi",
            HelpTopic::SlackAlerts => "low-stock-alerts-in-slack",
            HelpTopic::ZapierTriggers => "instant-zapier-triggers",
            HelpTopic::Postman => "postman",
            HelpTopic::Scripts => "scripts",
        }
    }

    /// The guide's title.
    pub fn title(self) -> &'static str {
        match self {
            HelpTopic::GettingStarted => "Getting an API key",
            HelpTopic::Authentication => "Authentication",
            HelpTopic::Zapier => "Zapier",
            HelpTopic::GoogleSheets => "Google Sheets",
            HelpTopic::OrdersFromASpreadsheet => "Orders from a spreadsheet",
            HelpTopic::Excel => "Excel & Power BI",
            HelpTopic::SlackAlerts => "Low-stock alerts in Slack",
            HelpTopic::ZapierTriggers => "Instant Zapier triggers",
            HelpTopic::Postman => "Postman",
            HelpTopic::Scripts => "Scripts (curl, Python)",
        }
    }

    /// The guide at `slug`, if there is one.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.slug() == slug)
    }
}

impl Page {
    /// The page's path.
    pub fn path(self) -> String {
        match self {
            Page::Login => "/login".to_owned(),
            Page::Integrations => "/integrations".to_owned(),
            Page::NewKey => "/integrations/new".to_owned(),
            Page::NewKeyLike(id) => format!("/integrations/new?like={id}"),
            Page::Key(id) => format!("/integrations/keys/{id}"),
            Page::Orders => "/orders".to_owned(),
            Page::Order(id) => format!("/orders/{id}"),
            Page::Help(None) => "/help".to_owned(),
            Page::Help(Some(t)) => format!("/help/{}", t.slug()),
        }
    }
}

/// Where to go after logging in: `next` if it is a portal page, else Integrations. Only plain
/// paths under `/integrations`, `/orders` and `/help` pass, with no whitespace, control characters or backslashes:
/// browsers drop tabs and newlines from URLs, so `/\t/evil.example` would otherwise become
/// `//evil.example`, another site, and the login page an open redirect.
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(p)
            if (p == "/integrations"
                || p.starts_with("/integrations/")
                || p.starts_with("/integrations?")
                || p == "/help"
                || p.starts_with("/help/")
                || p == "/orders"
                || p.starts_with("/orders/")
                || p.starts_with("/orders?"))
                && !p
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            p
        }
        _ => Page::Integrations.path(),
    }
}
