//! Reading fields of a JSON body by dotted path (`repository.owner.login`), with refusals that
//! name the path: 422 `… is required`, `… must be a string`, `… is not a time`.

use crate::Rejection;
use serde_json::{Map, Value};

/// The value at `path`.
pub fn field<'a>(o: &'a Map<String, Value>, path: &str) -> Result<&'a Value, Rejection> {
    let missing = || Rejection::unprocessable(format!("{path} is required"));
    let mut keys = path.split('.');
    let mut v = o.get(keys.next().unwrap_or_default()).ok_or_else(missing)?;
    for key in keys {
        v = v.get(key).ok_or_else(missing)?;
    }
    Ok(v)
}

/// The string at `path`.
pub fn text<'a>(o: &'a Map<String, Value>, path: &str) -> Result<&'a str, Rejection> {
    field(o, path)?
        .as_str()
        .ok_or_else(|| Rejection::unprocessable(format!("{path} must be a string")))
}

/// The time at `path` (any form [`crate::time::unix_seconds`] reads), in unix seconds.
pub fn timestamp(o: &Map<String, Value>, path: &str) -> Result<f64, Rejection> {
    let t = text(o, path)?;
    crate::time::unix_seconds(t)
        .map(|s| s as f64)
        .ok_or_else(|| Rejection::unprocessable(format!("{path}: {t:?} is not a time")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_path() {
        let body = serde_json::json!({ "a": { "b": "2019-05-15T15:20:41Z", "n": 1 } });
        let o = body.as_object().expect("object");
        assert_eq!(timestamp(o, "a.b").ok(), Some(1_557_933_641.0));
        assert_eq!(
            text(o, "a.x").expect_err("missing").message,
            "a.x is required"
        );
        assert_eq!(
            text(o, "a.n").expect_err("number").message,
            "a.n must be a string"
        );
        assert!(timestamp(o, "a.b.c").is_err());
    }
}
