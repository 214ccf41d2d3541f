//! Standard Webhooks (standardwebhooks.com): the `v1` signature over `{id}.{timestamp}.{body}`
//! with a `whsec_` key, used to sign deliveries and to verify senders that sign this way.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A signing key, from a `whsec_<base64>` secret.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// Decodes `whsec_<base64>` (the prefix is optional).
    pub fn from_secret(secret: &[u8]) -> Result<Self, String> {
        let text =
            std::str::from_utf8(secret).map_err(|_| "signing secret is not UTF-8".to_string())?;
        let encoded = text.strip_prefix("whsec_").unwrap_or(text);
        let key = STANDARD
            .decode(encoded)
            .map_err(|e| format!("signing secret is not whsec_ followed by base64: {e}"))?;
        if key.len() < 16 {
            return Err("signing secret must decode to at least 16 bytes".into());
        }
        Ok(SigningKey(key))
    }

    /// A key of these bytes as they are.
    pub fn raw(key: &[u8]) -> Self {
        SigningKey(key.to_vec())
    }

    /// `v1,<base64 signature>` of one message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_secrets_are_refused() {
        assert!(SigningKey::from_secret(b"whsec_!!!").is_err());
        assert!(SigningKey::from_secret(b"whsec_c2hvcnQ=").is_err());
        assert_eq!(format!("{:?}", SigningKey(vec![1; 32])), "SigningKey(***)");
    }
}
