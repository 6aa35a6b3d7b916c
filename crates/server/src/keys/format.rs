//! The API key format, generation, checking and digests.
//!
//! A key is `pl_` + 43 base62 characters of randomness (43 × log2 62 ≈ 256 bits, from the OS via
//! getrandom) + 6 base62 characters of CRC-32 over the random part: 52 characters in all.
//! Base62 has no `-` or `.`, so a double-click selects the whole key; the prefix lets secret
//! scanners and people recognise it; the checksum lets us refuse typos and random strings
//! before touching the database.

use crate::domain::digest::digest;

/// The brand prefix every key starts with.
pub const PREFIX: &str = "pl_";
/// Characters of randomness after the prefix.
pub(crate) const BODY_LEN: usize = 43;
const CHECK_LEN: usize = 6;
/// The length of every key.
pub const KEY_LEN: usize = PREFIX.len() + BODY_LEN + CHECK_LEN;
/// How many characters of a key are shown in lists (`pl_` + 4).
pub const DISPLAY_PREFIX_LEN: usize = PREFIX.len() + 4;
/// The characters of a key after its prefix (base62).
pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A key's secret. It has no `Debug` or `Display` that shows it: only [`Secret::expose`] does,
/// so it cannot slip into a log line or panic message by accident.
pub struct Secret(String);

impl Secret {
    /// The full key, to hand to the user once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first characters, safe to store and show.
    pub fn display_prefix(&self) -> String {
        self.0[..DISPLAY_PREFIX_LEN].to_owned()
    }

    /// The SHA-256 digest that is stored instead of the key.
    pub fn digest(&self) -> String {
        digest(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Makes a new key from the operating system's random source.
pub fn generate() -> Result<Secret, getrandom::Error> {
    let mut body = String::with_capacity(KEY_LEN);
    body.push_str(PREFIX);
    let mut buf = [0u8; 64];
    while body.len() < PREFIX.len() + BODY_LEN {
        getrandom::fill(&mut buf)?;
        // Rejection sampling: 248 = 4 × 62, so `b % 62` is uniform for b < 248.
        for b in buf.iter().copied().filter(|b| *b < 248) {
            if body.len() == PREFIX.len() + BODY_LEN {
                break;
            }
            body.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    let check = checksum(&body[PREFIX.len()..]);
    body.push_str(&check);
    Ok(Secret(body))
}

/// The six base62 characters of CRC-32 over `random_part` that end a key.
pub(crate) fn checksum(random_part: &str) -> String {
    let mut n = u64::from(crc32fast::hash(random_part.as_bytes()));
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|b| char::from(*b)).collect()
}

/// Whether `candidate` has the shape of a PartLogic key: prefix, length, alphabet and checksum.
/// Costs no database read, so garbage is refused cheaply.
pub fn is_well_formed(candidate: &str) -> bool {
    if candidate.len() != KEY_LEN || !candidate.starts_with(PREFIX) {
        return false;
    }
    let rest = &candidate[PREFIX.len()..];
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random_part, check) = rest.split_at(BODY_LEN);
    checksum(random_part) == check
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.expose().len(), KEY_LEN);
        assert!(a.expose().starts_with("pl_"));
        assert!(is_well_formed(a.expose()));
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.display_prefix().len(), 7);
        assert_eq!(format!("{a:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn one_changed_character_breaks_the_checksum() {
        let key = generate().unwrap().expose().to_owned();
        let mut bytes = key.clone().into_bytes();
        bytes[10] = if bytes[10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(bytes).unwrap();
        assert!(!is_well_formed(&typo));
        assert!(!is_well_formed(&key[..KEY_LEN - 1]));
        assert!(!is_well_formed(&key.replacen("pl_", "pk_", 1)));
        assert!(!is_well_formed(&format!("{}-", &key[..KEY_LEN - 1])));
    }
}
