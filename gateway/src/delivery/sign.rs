//! Standard Webhooks signatures for outbound requests: `webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.

use crate::standard_webhooks::SigningKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A fresh `whsec_` secret: 32 random bytes.
pub fn generate_secret() -> Result<String, String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("no randomness for a signing secret: {e}"))?;
    Ok(format!("whsec_{}", STANDARD.encode(key)))
}

/// One secret a target signs with: the current one, or an old one still inside its rotation
/// window.
#[derive(Debug, Clone)]
pub struct SigningSecret {
    /// `whsec_…`, shown to the operator on request.
    pub text: String,
    key: SigningKey,
    /// Unix ms after which it is no longer sent; `None` for the current secret.
    pub expires_ms: Option<i64>,
}

impl SigningSecret {
    /// Parses `whsec_…`.
    pub fn new(text: String, expires_ms: Option<i64>) -> Result<Self, String> {
        let key = SigningKey::from_secret(text.as_bytes())?;
        Ok(SigningSecret {
            text,
            key,
            expires_ms,
        })
    }
}

/// The three Standard Webhooks headers for one attempt, signed with every secret that is
/// current at `now_ms` (several after a rotation: receivers accept any that matches).
pub fn headers(
    secrets: &[SigningSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
    now_ms: i64,
) -> [(&'static str, String); 3] {
    let signatures: Vec<String> = secrets
        .iter()
        .filter(|s| s.expires_ms.is_none_or(|e| e > now_ms))
        .map(|s| s.key.sign(id, timestamp, body))
        .collect();
    [
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signatures.join(" ")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn matches_the_specifications_example() {
        // The example in the Standard Webhooks specification.
        let secret = SigningSecret::new(SPEC.into(), None).expect("key");
        let [_, _, (_, signature)] = headers(
            &[secret],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
            0,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn old_secrets_sign_until_their_window_closes() {
        let current = SigningSecret::new(generate_secret().expect("secret"), None).expect("key");
        let old = SigningSecret::new(SPEC.into(), Some(1_000)).expect("key");
        let both = [current, old];
        let [_, _, (_, inside)] = headers(&both, "msg_1", 1, b"{}", 999);
        let [_, _, (_, after)] = headers(&both, "msg_1", 1, b"{}", 1_000);
        assert_eq!(inside.split(' ').count(), 2, "{inside}");
        assert!(inside.starts_with(&after), "current first: {inside}");
        assert_eq!(after.split(' ').count(), 1, "{after}");
    }
}
