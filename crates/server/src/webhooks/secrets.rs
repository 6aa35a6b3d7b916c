//! Signing secrets and signatures.
//!
//! A secret is `whsec_` and 32 random bytes in base64, as Standard Webhooks writes them; the
//! signature of a delivery is `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under
//! those bytes. Secrets are stored sealed (ChaCha20-Poly1305) with the server's webhook key,
//! which is not in the database: a dump alone cannot sign as PartLogic.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix every signing secret carries.
pub const SECRET_PREFIX: &str = "whsec_";
/// The prefix of a sealed secret as stored (the version of the sealing).
const SEALED_PREFIX: &str = "v1:";

/// The server's webhook key (`PARTLOGIC_WEBHOOK_KEY`): 32 bytes that never print.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WebhookKey(pub [u8; 32]);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(..)")
    }
}

/// Seals and opens stored signing secrets with the server's webhook key.
pub struct Vault {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// A vault for the 32-byte webhook key.
    pub fn new(key: &[u8; 32]) -> Self {
        Vault {
            cipher: ChaCha20Poly1305::new(key.into()),
        }
    }

    /// The webhook key written as `PARTLOGIC_WEBHOOK_KEY` takes it: 32 bytes, base64 (either
    /// alphabet, padded or not).
    pub fn parse_key(text: &str) -> Option<[u8; 32]> {
        let t = text.trim().trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
            .ok()?;
        bytes.try_into().ok()
    }

    /// A new random webhook key, base64url.
    pub fn new_key_text() -> Result<String, getrandom::Error> {
        Ok(URL_SAFE_NO_PAD.encode(random::<32>()?))
    }

    /// `secret`, sealed for storage.
    pub fn seal(&self, secret: &str) -> Result<String, getrandom::Error> {
        let nonce = random::<12>()?;
        // Encryption with a fresh nonce cannot fail for inputs this small.
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// The secret sealed in `stored`, or `None` when it was sealed with another key or changed.
    pub fn open(&self, stored: &str) -> Option<String> {
        let raw = URL_SAFE_NO_PAD
            .decode(stored.strip_prefix(SEALED_PREFIX)?)
            .ok()?;
        if raw.len() < 12 {
            return None;
        }
        let (nonce, sealed) = raw.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), sealed).ok()?;
        String::from_utf8(plain).ok()
    }
}

fn random<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)?;
    Ok(b)
}

/// A new signing secret (`whsec_…`).
pub fn new_secret() -> Result<String, getrandom::Error> {
    Ok(format!(
        "{SECRET_PREFIX}{}",
        STANDARD.encode(random::<32>()?)
    ))
}

/// A new message id (`msg_…`), unguessable, the same on every attempt of one message.
pub fn new_message_id() -> Result<String, getrandom::Error> {
    Ok(format!("msg_{}", URL_SAFE_NO_PAD.encode(random::<16>()?)))
}

/// The `v1,…` signature of one delivery under `secret` (`whsec_…`).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret that signs now, space-separated
/// (the new secret's first after a rotation).
pub fn signature_header(secrets: &[String], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let v = Vault::new(&[7; 32]);
        let s = new_secret().unwrap();
        let sealed = v.seal(&s).unwrap();
        assert!(!sealed.contains(&s[SECRET_PREFIX.len()..]));
        assert_eq!(v.open(&sealed).as_deref(), Some(s.as_str()));
        assert_eq!(Vault::new(&[8; 32]).open(&sealed), None);
        assert_eq!(v.open("v1:AAAA"), None);
        assert_ne!(v.seal(&s).unwrap(), sealed, "a fresh nonce each time");
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        let key = Vault::new_key_text().unwrap();
        assert_eq!(Vault::parse_key(&key).map(|k| k.len()), Some(32));
        assert_eq!(Vault::parse_key("short"), None);
    }
}
