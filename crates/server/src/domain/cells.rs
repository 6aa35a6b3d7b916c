//! One cell at a time: numbers, JSON strings and CSV text (RFC 4180 quoting, and formulas
//! neutralised so that a spreadsheet shows a cell instead of running it).

pub(crate) fn int(out: &mut Vec<u8>, n: i64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(n).as_bytes());
}

// Text cells are scanned eight bytes at a time (exports spend a tenth of their time deciding
// whether a cell needs escaping or quotes; byte by byte the compiler emits a poor loop).

const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// Whether some byte of `w` is below `n` (exact for `n` ≤ 128).
fn less_than(w: u64, n: u8) -> bool {
    w.wrapping_sub(splat(n)) & !w & splat(0x80) != 0
}

/// Whether some byte of `w` is `b`.
fn has(w: u64, b: u8) -> bool {
    less_than(w ^ splat(b), 1)
}

/// Whether a byte of `bytes` is special: `word` judges eight at once, `byte` the tail.
fn any_byte(bytes: &[u8], word: impl Fn(u64) -> bool, byte: impl Fn(u8) -> bool) -> bool {
    let mut words = bytes.chunks_exact(8);
    for w in words.by_ref() {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(w);
        if word(u64::from_ne_bytes(eight)) {
            return true;
        }
    }
    words.remainder().iter().any(|&b| byte(b))
}

/// `s` as a JSON string: quotes, backslashes and control characters escaped, the rest as is.
pub(crate) fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Nearly every text needs no escaping: one quick pass, then one copy.
    let plain = !any_byte(
        bytes,
        |w| less_than(w, 0x20) | has(w, b'"') | has(w, b'\\'),
        |b| b < 0x20 || b == b'"' || b == b'\\',
    );
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            // As serde_json writes them.
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A text cell of CSV (RFC 4180), neutralised for spreadsheets: quoted when it holds a comma, a
/// quote or a line break (quotes doubled).
pub(crate) fn csv_text(out: &mut Vec<u8>, s: &str) {
    let cell = neutralise(s);
    let needs_quotes = any_byte(
        cell.as_bytes(),
        |w| has(w, b',') | has(w, b'"') | has(w, b'\n') | has(w, b'\r'),
        |b| matches!(b, b',' | b'"' | b'\n' | b'\r'),
    );
    if !needs_quotes {
        out.extend_from_slice(cell.as_bytes());
        return;
    }
    out.push(b'"');
    for b in cell.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// A text cell made safe for spreadsheets: a cell starting with `=`, `+`, `-`, `@`, TAB or CR
/// is a formula to Excel, Sheets and LibreOffice (`=HYPERLINK(…)` in a description would run
/// when someone opens the export), so such a cell gets a leading `'`, which spreadsheets read as
/// "this is text" and do not display. Excel in locales whose list separator is `;` (German,
/// French, Dutch, …) splits a `.csv` on `;` and takes a quote that is not at a field's start as
/// text, and anything may split on TAB, so every `;`, TAB and line break inside a cell starts a
/// field too: where what follows it (past spaces and quotes, which Excel skips there) would
/// start a formula, a `'` goes right after it. Numeric columns are never
/// touched, and JSON never is.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let bytes = cell.as_bytes();
    let at_start = starts_formula(bytes);
    let inside = any_byte(
        bytes,
        |w| has(w, b';') | has(w, b'\t') | has(w, b'\n') | has(w, b'\r'),
        is_field_start,
    );
    if !at_start && !inside {
        return cell.into();
    }
    let mut out = String::with_capacity(cell.len() + 2);
    if at_start {
        out.push('\'');
    }
    for (i, c) in cell.char_indices() {
        out.push(c);
        if c.is_ascii() && is_field_start(c as u8) && starts_formula(&bytes[i + 1..]) {
            out.push('\'');
        }
    }
    out.into()
}

/// The bytes after which some spreadsheet starts a new field: `;` (Excel where the list
/// separator is `;`), TAB, and line breaks (a quote that is not at a field's start is text to
/// such an Excel, so a quoted line break ends its row).
fn is_field_start(b: u8) -> bool {
    matches!(b, b';' | b'\t' | b'\n' | b'\r')
}

/// The bytes that make a spreadsheet field a formula when they come first.
fn is_trigger(b: u8) -> bool {
    matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
}

/// Whether a field starting at `rest` would be a formula: its first byte past spaces and quotes
/// is a trigger.
fn starts_formula(rest: &[u8]) -> bool {
    rest.iter()
        .find(|b| !matches!(b, b' ' | b'"'))
        .is_some_and(|b| is_trigger(*b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every control character, quote and backslash, alone and among others, exactly as
    /// serde_json writes them (`\b` and `\f` included).
    #[test]
    fn json_strings_are_serde_s() {
        let mut all: String = (0u8..0x20).map(char::from).collect();
        all.push_str("\"\\ é 😀 plain text long enough for the eight-byte scan");
        let mut cases: Vec<String> = (0u8..0x20).map(|b| char::from(b).to_string()).collect();
        cases.extend([
            all,
            String::new(),
            "\"".into(),
            "\\".into(),
            "a\u{8}b\u{c}c".into(),
        ]);
        for case in cases {
            let mut out = Vec::new();
            json_str(&mut out, &case);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&case).unwrap()
            );
        }
    }

    #[test]
    fn formula_cells_become_text() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for c in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(c), format!("'{c}"));
        }
        assert_eq!(neutralise("Bearing 6204"), "Bearing 6204");
        assert_eq!(neutralise(""), "");
        assert_eq!(neutralise("a=b"), "a=b");
    }

    /// Finding 4 of the trust review: Excel with `;` as its list separator split
    /// `x;=HYPERLINK(…);` into a live formula. Every `;` and TAB now starts a field as safe as
    /// the cell's own start, read back both ways: split on `,` (the file as written) and on `;`.
    #[test]
    fn formulas_after_semicolons_and_tabs_become_text() {
        let attack = "x;=HYPERLINK(\"http://evil.example\",\"click\");";
        assert_eq!(
            neutralise(attack),
            "x;'=HYPERLINK(\"http://evil.example\",\"click\");"
        );
        assert_eq!(neutralise("a;+1;-2;@x;\t=3"), "a;'+1;'-2;'@x;'\t'=3");
        assert_eq!(neutralise("a; =1"), "a;' =1");
        assert_eq!(neutralise("a;\"=1"), "a;'\"=1");
        assert_eq!(neutralise("=a;=b"), "'=a;'=b");
        assert_eq!(neutralise("Bolt M8; zinc"), "Bolt M8; zinc");
        assert_eq!(neutralise("a;b\tc"), "a;b\tc");
        assert_eq!(neutralise("x\n=1"), "x\n'=1");
        assert_eq!(neutralise("x\r\n@y"), "x\r\n'@y");
        assert_eq!(neutralise(" =1"), "' =1");

        for description in [
            attack,
            "p;@SUM(A1)",
            "tab\t=1+1",
            "x;=1;y;-2",
            "two\nlines\n+1",
        ] {
            let mut row = Vec::new();
            csv_text(&mut row, description);
            let line = String::from_utf8(row).unwrap();
            // Every field a `;`-locale Excel or a TAB splitter would see, quotes stripped as
            // Excel strips a quote that opens a field.
            for field in line.split([';', '\t', ',', '\n', '\r']) {
                let field = field.trim_start_matches([' ', '"']);
                assert!(
                    !field.starts_with(['=', '+', '-', '@']),
                    "{description:?} gave the live field {field:?} in {line:?}"
                );
            }
        }
    }

    proptest::proptest! {
        /// The eight-at-a-time scans find exactly the bytes a plain scan finds.
        #[test]
        fn word_scans_match_byte_scans(bytes in proptest::prop_oneof![
            // Mostly ordinary bytes (special ones rare, so both answers come up), or any bytes.
            proptest::collection::vec(0x1fu8..=0xff, 0..40),
            proptest::collection::vec(proptest::num::u8::ANY, 0..40),
        ]) {
            let json = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
            proptest::prop_assert_eq!(
                any_byte(&bytes, |w| less_than(w, 0x20) | has(w, b'"') | has(w, b'\\'), json),
                bytes.iter().any(|&b| json(b))
            );
            let csv = |b: u8| matches!(b, b',' | b'"' | b'\n' | b'\r');
            proptest::prop_assert_eq!(
                any_byte(&bytes, |w| has(w, b',') | has(w, b'"') | has(w, b'\n') | has(w, b'\r'), csv),
                bytes.iter().any(|&b| csv(b))
            );
        }
    }
}
