//! The text rules shared by server and portal: which characters a name may not hold, which
//! spaces are trimmed, and those rules as regular-expression character classes.

/// The characters a name may not hold, as inclusive ranges: control characters, and the
/// invisible and direction-changing ones that make a name read as something it is not
/// (zero-width spaces and joiners, the combining grapheme joiner, bidi embeddings, overrides and
/// isolates, variation selectors, Mongolian selectors, the BOM, Hangul fillers, shorthand format
/// controls, musical-symbol format controls, and the tag characters). The OpenAPI document
/// states the rules with [`forbidden_class`]; [`is_forbidden_in_names`] applies them.
pub const FORBIDDEN_IN_NAMES: &[(char, char)] = &[
    ('\u{0}', '\u{1f}'),
    ('\u{7f}', '\u{9f}'),
    ('\u{ad}', '\u{ad}'),
    ('\u{34f}', '\u{34f}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{115f}', '\u{1160}'),
    ('\u{17b4}', '\u{17b5}'),
    ('\u{180b}', '\u{180f}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{2028}', '\u{202e}'),
    ('\u{2060}', '\u{206f}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{fe00}', '\u{fe0f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{ffa0}', '\u{ffa0}'),
    ('\u{fff9}', '\u{fffb}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0000}', '\u{e007f}'),
    ('\u{e0100}', '\u{e01ef}'),
];

/// The spaces trimmed from both ends of a name (Unicode's space separators), as ranges.
pub const NAME_SPACES: &[(char, char)] = &[
    (' ', ' '),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// Whether `c` may not appear in a name or other text field (see [`FORBIDDEN_IN_NAMES`]).
pub fn is_forbidden_in_names(c: char) -> bool {
    FORBIDDEN_IN_NAMES
        .iter()
        .any(|(from, to)| (*from..=*to).contains(&c))
}

/// `ranges` as the body of a regular expression character class that Python, Rust and
/// ECMAScript (with the `u` flag) read alike: characters of the Basic Multilingual Plane as
/// `\uXXXX` escapes, others as themselves.
pub fn character_class(ranges: &[(char, char)]) -> String {
    fn one(c: char) -> String {
        if (c as u32) <= 0xffff {
            format!("\\u{:04x}", c as u32)
        } else {
            c.to_string()
        }
    }
    ranges
        .iter()
        .map(|(from, to)| {
            if from == to {
                one(*from)
            } else {
                format!("{}-{}", one(*from), one(*to))
            }
        })
        .collect()
}

/// [`FORBIDDEN_IN_NAMES`] as a character class body.
pub fn forbidden_class() -> String {
    character_class(FORBIDDEN_IN_NAMES)
}
