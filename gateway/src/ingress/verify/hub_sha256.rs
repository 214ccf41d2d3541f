//! `X-Hub-Signature-256: sha256=<hex>` (GitHub, Pelorus), with constant-time comparison.

use super::{VerifyError, json_forms};
use crate::config::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-hub-signature-256";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &Secret) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    HmacSha256::new_from_slice(secret.expose())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

pub fn header_value(secret: &Secret, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

pub fn verify(
    secret: &Secret,
    header: Option<&str>,
    body: &[u8],
    json_forms: bool,
) -> Result<(), VerifyError> {
    let value = header.ok_or(VerifyError::Missing("X-Hub-Signature-256"))?;
    let expected = value
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|d| d.len() == 32)
        .ok_or(VerifyError::Malformed("X-Hub-Signature-256"))?;
    let matches = |bytes: &[u8]| {
        let mut m = mac(secret);
        m.update(bytes);
        m.verify_slice(&expected).is_ok()
    };
    if matches(body) {
        return Ok(());
    }
    if json_forms
        && json_forms::candidates(body)
            .iter()
            .any(|form| matches(form))
    {
        return Ok(());
    }
    Err(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "My Secret Token";
    /// The seed's `mongo_committime.json` as `curl -d @file` sends it (newlines removed).
    const CURL_BODY: &str = concat!(
        "{",
        r#"  "app": "mongo-todolist","#,
        r#"  "commit_hash": "5379bad65a3f83853a75aabec9e0e43c75fd18fc","#,
        r#"  "image_sha": "sha256:af4092ccbfa99a3ec1ea93058fe39b8ddfd8db1c7a18081db397c50a0b8ec77d","#,
        r#"  "namespace": "mongo-persistent","#,
        r#"  "timestamp": 1678105701"#,
        "}"
    );
    /// The signatures the Pelorus docs print for that file (`echo -n $(cat f)` and `jq -c`).
    const ECHO_SIG: &str =
        "sha256=29a4606fccb6976cd43cb8a6cf210d402294e08fffda86f87c96fdb39d9fbc3c";
    const JQ_SIG: &str = "sha256=9f6140a622159a4e1d379603afe6a0d288d45bc9ad99943c29ec77e3f2cf1cee";

    fn secret() -> Secret {
        Secret::new(SECRET)
    }

    #[test]
    fn raw_body_signature_verifies() {
        let body = br#"{"a":1}"#;
        let sig = header_value(&secret(), body);
        assert_eq!(verify(&secret(), Some(&sig), body, false), Ok(()));
        assert_eq!(
            verify(
                &secret(),
                Some(&sig.to_uppercase().replace("SHA256=", "sha256=")),
                body,
                false
            ),
            Ok(())
        );
    }

    #[test]
    fn pelorus_documented_signatures_need_json_forms() {
        for sig in [ECHO_SIG, JQ_SIG] {
            assert_eq!(
                verify(&secret(), Some(sig), CURL_BODY.as_bytes(), true),
                Ok(()),
                "{sig}"
            );
            assert_eq!(
                verify(&secret(), Some(sig), CURL_BODY.as_bytes(), false),
                Err(VerifyError::Mismatch),
                "strict hub-sha256 checks raw bytes only"
            );
        }
    }

    #[test]
    fn raw_signature_over_pretty_body_passes_json_mode_too() {
        let pretty = "{\n  \"a\": 1,\n  \"b\": [1, 2]\n}\n";
        let sig = header_value(&secret(), pretty.as_bytes());
        assert_eq!(
            verify(&secret(), Some(&sig), pretty.as_bytes(), true),
            Ok(())
        );
    }

    #[test]
    fn failures_are_typed() {
        let body = CURL_BODY.as_bytes();
        assert_eq!(
            verify(&secret(), None, body, true),
            Err(VerifyError::Missing("X-Hub-Signature-256"))
        );
        for bad in [
            "",
            "sha256=",
            "sha1=abcd",
            "sha256=zz",
            "29a4606fccb6976cd43cb8a6cf210d402294e08fffda86f87c96fdb39d9fbc3c",
        ] {
            assert_eq!(
                verify(&secret(), Some(bad), body, true),
                Err(VerifyError::Malformed("X-Hub-Signature-256")),
                "{bad:?}"
            );
        }
        let wrong = ECHO_SIG.replace("29a4", "29a5");
        assert_eq!(
            verify(&secret(), Some(&wrong), body, true),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&Secret::new("other"), Some(ECHO_SIG), body, true),
            Err(VerifyError::Mismatch)
        );
    }
}
