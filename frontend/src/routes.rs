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
    /// One key's details.
    Key(i64),
}

impl Page {
    /// The page's path.
    pub fn path(self) -> String {
        match self {
            Page::Login => "/login".to_owned(),
            Page::Integrations => "/integrations".to_owned(),
            Page::NewKey => "/integrations/new".to_owned(),
            Page::Key(id) => format!("/integrations/keys/{id}"),
        }
    }
}

/// Where to go after logging in: `next` if it is a portal page, else Integrations. Only plain
/// paths under `/integrations` pass, with no whitespace, control characters or backslashes:
/// browsers drop tabs and newlines from URLs, so `/\t/evil.example` would otherwise become
/// `//evil.example`, another site, and the login page an open redirect.
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(p)
            if (p == "/integrations"
                || p.starts_with("/integrations/")
                || p.starts_with("/integrations?"))
                && !p
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            p
        }
        _ => Page::Integrations.path(),
    }
}
