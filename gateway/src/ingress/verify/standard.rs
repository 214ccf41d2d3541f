//! Inbound Standard Webhooks: `webhook-id`, `webhook-timestamp` (within five minutes of now,
//! against replays) and `webhook-signature` holding one or more space-separated `v1,<base64>`;
//! one match is enough (senders rotating their secret send two).

use super::VerifyError;
use super::credentials::same;
use crate::config::Secret;
use crate::standard_webhooks::SigningKey;

/// How far a timestamp may be from now.
const TOLERANCE_S: i64 = 300;

pub fn verify<'h>(
    secret: &Secret,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    now_s: i64,
) -> Result<(), VerifyError> {
    let id = header("webhook-id").ok_or(VerifyError::Missing("webhook-id"))?;
    let timestamp = header("webhook-timestamp").ok_or(VerifyError::Missing("webhook-timestamp"))?;
    let signatures =
        header("webhook-signature").ok_or(VerifyError::Missing("webhook-signature"))?;
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::Malformed("webhook-timestamp"))?;
    if (now_s - timestamp).abs() > TOLERANCE_S {
        return Err(VerifyError::Expired);
    }
    // A secret that is not whsec_/base64 is used as raw key bytes.
    let key = SigningKey::from_secret(secret.expose())
        .unwrap_or_else(|_| SigningKey::raw(secret.expose()));
    let expected = key.sign(id, timestamp, body);
    let matched = signatures
        .split(' ')
        .filter(|s| s.starts_with("v1,"))
        .fold(false, |any, s| {
            any | same(s.as_bytes(), expected.as_bytes())
        });
    if matched {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn check(signature: &str, now: i64) -> Result<(), VerifyError> {
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let ts = TS.to_string();
        let header = |name: &str| match name {
            "webhook-id" => Some(ID),
            "webhook-timestamp" => Some(ts.as_str()),
            "webhook-signature" => Some(signature),
            _ => None,
        };
        verify(&secret, header, BODY, now)
    }

    #[test]
    fn the_specifications_example_verifies_within_the_window() {
        assert_eq!(check(SIG, TS), Ok(()));
        assert_eq!(
            check(&format!("v1,b3RoZXI= {SIG}"), TS + 299),
            Ok(()),
            "any of several"
        );
        assert_eq!(check(SIG, TS + 301), Err(VerifyError::Expired));
        assert_eq!(check(SIG, TS - 301), Err(VerifyError::Expired));
        assert_eq!(check("v1,b3RoZXI=", TS), Err(VerifyError::Mismatch));
        assert_eq!(
            check(&SIG.replace("v1,", "v2,"), TS),
            Err(VerifyError::Mismatch)
        );
    }
}
