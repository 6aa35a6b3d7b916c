//! Leak reports: GitHub's secret-scanning partner contract. GitHub posts the tokens it found in
//! public, signed with ECDSA P-256 over the raw body; the key that signed is named in
//! `GITHUB-PUBLIC-KEY-IDENTIFIER` and the DER signature, base64, is in
//! `GITHUB-PUBLIC-KEY-SIGNATURE`. This server cannot fetch GitHub's keys, so they come from a
//! file in the format GitHub publishes them.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;

/// The public keys reports may be signed with, by identifier.
#[derive(Debug)]
pub struct ScanningKeys {
    keys: HashMap<String, VerifyingKey>,
}

#[derive(Deserialize)]
struct File {
    public_keys: Vec<PublicKey>,
}

#[derive(Deserialize)]
struct PublicKey {
    key_identifier: String,
    key: String,
}

impl ScanningKeys {
    /// Reads the keys file at `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("secret-scanning keys {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("secret-scanning keys {}: {e}", path.display()))
    }

    /// Parses `{"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}`. Keys no
    /// longer current still verify: GitHub may sign with one until its successor is published.
    pub fn parse(json: &str) -> Result<Self, String> {
        let file: File =
            serde_json::from_str(json).map_err(|e| format!("not the expected JSON: {e}"))?;
        let mut keys = HashMap::new();
        for k in file.public_keys {
            let key = VerifyingKey::from_public_key_pem(&k.key).map_err(|e| {
                format!(
                    "key {} is not a P-256 public key in PEM: {e}",
                    k.key_identifier
                )
            })?;
            keys.insert(k.key_identifier, key);
        }
        if keys.is_empty() {
            return Err("no public keys".to_owned());
        }
        Ok(Self { keys })
    }

    /// Whether `body` was signed by the key `identifier` with `signature` (base64 DER).
    pub fn verify(
        &self,
        identifier: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<(), &'static str> {
        let (Some(identifier), Some(signature)) = (identifier, signature) else {
            return Err("send GITHUB-PUBLIC-KEY-IDENTIFIER and GITHUB-PUBLIC-KEY-SIGNATURE");
        };
        let key = self
            .keys
            .get(identifier.trim())
            .ok_or("the signing key is not one this server knows")?;
        let der = STANDARD
            .decode(signature.trim())
            .map_err(|_| "the signature is not base64")?;
        let sig =
            Signature::from_der(&der).map_err(|_| "the signature is not an ECDSA signature")?;
        key.verify(body, &sig)
            .map_err(|_| "the signature does not match the body")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::{EncodePublicKey, LineEnding};

    fn pair(seed: u8) -> (SigningKey, String) {
        let sk = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let pem = sk
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        (sk, pem)
    }

    #[test]
    fn only_the_named_key_over_the_exact_body_verifies() {
        let (sk, pem) = pair(7);
        let (other, other_pem) = pair(9);
        let keys = ScanningKeys::parse(
            &serde_json::json!({"public_keys": [
                {"key_identifier": "a", "key": pem, "is_current": true},
                {"key_identifier": "b", "key": other_pem, "is_current": false},
            ]})
            .to_string(),
        )
        .unwrap();
        let body = br#"[{"token":"x","type":"partlogic_api_key","url":"u","source":"content"}]"#;
        let sig: Signature = sk.sign(body);
        let b64 = STANDARD.encode(sig.to_der().as_bytes());
        assert!(keys.verify(Some("a"), Some(&b64), body).is_ok());
        assert!(keys.verify(Some("b"), Some(&b64), body).is_err());
        assert!(keys.verify(Some("a"), Some(&b64), b"[]").is_err());
        assert!(keys.verify(Some("c"), Some(&b64), body).is_err());
        assert!(keys.verify(Some("a"), Some("***"), body).is_err());
        assert!(keys.verify(None, Some(&b64), body).is_err());
        let sig2: Signature = other.sign(body);
        let b64 = STANDARD.encode(sig2.to_der().as_bytes());
        assert!(keys.verify(Some("b"), Some(&b64), body).is_ok());
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(ScanningKeys::parse("{}").is_err());
        assert!(ScanningKeys::parse(r#"{"public_keys": []}"#).is_err());
        assert!(
            ScanningKeys::parse(r#"{"public_keys": [{"key_identifier": "a", "key": "nope"}]}"#)
                .is_err()
        );
    }
}
