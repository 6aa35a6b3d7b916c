//! Logging. Lines name keys and users by id only; the access log leaves out query strings; and
//! every line is written through [`Escaping`], so no request data (a path, a header, a message
//! quoting a body) can end a line early and forge one that reads like a real event.

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,actix_server=warn";

/// Installs a subscriber writing to `writer` (stderr in the binary, a buffer in tests).
pub fn init<W>(writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours are escape sequences, and escape sequences are what [`Escaping`] escapes.
        .with_ansi(false)
        .with_writer(Escaping(writer))
        .try_init();
}

/// A writer maker whose writers escape control characters (C0, DEL, C1), Unicode line and
/// paragraph separators and bidirectional overrides as `\u{…}`: one event stays one line,
/// whatever its fields hold. The formatter hands each event over in one piece ending in its
/// newline, which alone is kept.
#[derive(Clone, Debug)]
pub struct Escaping<M>(pub M);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for Escaping<M>
{
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter(self.0.make_writer())
    }
}

/// The writer of [`Escaping`].
#[derive(Debug)]
pub struct EscapingWriter<W>(W);

impl<W: std::io::Write> std::io::Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (body, newline) = match buf.split_last() {
            Some((b'\n', body)) => (body, true),
            _ => (buf, false),
        };
        // Plain printable ASCII, the usual case, goes through untouched.
        if body.iter().all(|b| (0x20..0x7f).contains(b)) {
            self.0.write_all(buf)?;
        } else {
            let mut line = escape_line(&String::from_utf8_lossy(body));
            if newline {
                line.push('\n');
            }
            self.0.write_all(line.as_bytes())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// `text` with every character that could break or disguise a log line escaped as `\u{…}`.
pub fn escape_line(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let disguises = c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c);
        if disguises {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Replaces the default panic hook, which prints the panic's message, with one that logs only
/// where the panic happened. A message can quote request data (a key in a path, a password in
/// a body), and no request data may reach a log.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown".to_owned());
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned();
        tracing::error!(%location, %thread, "panic (its message is withheld: it may quote request data)");
    }));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    #[test]
    fn one_event_stays_one_line() {
        let mut out = Vec::new();
        let mut w = super::EscapingWriter(&mut out);
        w.write_all(b"INFO request path=/x\nINFO key retired by its holder key_id=3\r\n")
            .unwrap();
        w.write_all("plain line\n".as_bytes()).unwrap();
        w.write_all("bidi \u{202e}txt.exe nel \u{85} ls \u{2028}\n".as_bytes())
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "INFO request path=/x\\u{a}INFO key retired by its holder key_id=3\\u{d}",
                "plain line",
                "bidi \\u{202e}txt.exe nel \\u{85} ls \\u{2028}",
            ]
        );
    }
}
