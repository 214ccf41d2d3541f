//! `Authorization: Bearer <secret>`, `Authorization: Basic base64(<secret>)` (the secret
//! being `user:password`) and `X-Gitlab-Token: <secret>`, for senders that authenticate
//! instead of signing (Alertmanager, GitLab). Compared in constant time.

use super::VerifyError;
use crate::config::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const HEADER: &str = "Authorization";

/// Compares without stopping at the first difference.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Splits `Authorization: <scheme> <value>` with the scheme matched case-insensitively.
fn credentials<'h>(header: Option<&'h str>, scheme: &str) -> Result<&'h str, VerifyError> {
    let value = header.ok_or(VerifyError::Missing(HEADER))?.trim();
    match value.split_once(' ') {
        Some((given, rest)) if given.eq_ignore_ascii_case(scheme) => Ok(rest.trim()),
        _ => Err(VerifyError::Malformed(HEADER)),
    }
}

/// The secret itself, given in `value` (a token header or path segment).
fn expect(secret: &Secret, value: &str) -> Result<(), VerifyError> {
    if same(value.as_bytes(), secret.expose()) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

pub fn verify_bearer(secret: &Secret, header: Option<&str>) -> Result<(), VerifyError> {
    expect(secret, credentials(header, "Bearer")?)
}

pub fn verify_basic(secret: &Secret, header: Option<&str>) -> Result<(), VerifyError> {
    let encoded = credentials(header, "Basic")?;
    let decoded = STANDARD
        .decode(encoded)
        .map_err(|_| VerifyError::Malformed(HEADER))?;
    if same(&decoded, secret.expose()) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

pub fn verify_token(secret: &Secret, header: Option<&str>) -> Result<(), VerifyError> {
    expect(
        secret,
        header.ok_or(VerifyError::Missing("X-Gitlab-Token"))?,
    )
}

pub fn verify_path_token(secret: &Secret, token: Option<&str>) -> Result<(), VerifyError> {
    expect(secret, token.ok_or(VerifyError::Missing("path token"))?)
}

pub fn header_value(scheme: &str, secret: &Secret) -> String {
    match scheme {
        "Basic" => format!("Basic {}", STANDARD.encode(secret.expose())),
        _ => format!("Bearer {}", String::from_utf8_lossy(secret.expose())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_basic() {
        let token = Secret::new("t0ken");
        assert_eq!(verify_bearer(&token, Some("Bearer t0ken")), Ok(()));
        assert_eq!(verify_bearer(&token, Some("bearer  t0ken ")), Ok(()));
        assert_eq!(
            verify_bearer(&token, Some("Bearer t0kem")),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_bearer(&token, Some("t0ken")),
            Err(VerifyError::Malformed(HEADER))
        );
        assert_eq!(
            verify_bearer(&token, None),
            Err(VerifyError::Missing(HEADER))
        );
        let user = Secret::new("am:pa55");
        let good = header_value("Basic", &user);
        assert_eq!(good, "Basic YW06cGE1NQ==");
        assert_eq!(verify_basic(&user, Some(&good)), Ok(()));
        assert_eq!(
            verify_basic(&Secret::new("am:other"), Some(&good)),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_basic(&user, Some("Basic !!")),
            Err(VerifyError::Malformed(HEADER))
        );
    }

    #[test]
    fn gitlab_tokens() {
        let s = Secret::new("gl-t0ken");
        assert_eq!(verify_token(&s, Some("gl-t0ken")), Ok(()));
        assert_eq!(
            verify_token(&s, Some("gl-t0kem")),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_token(&s, None),
            Err(VerifyError::Missing("X-Gitlab-Token"))
        );
    }
}
