//! Field rules of the Pelorus payload models, with the same coercions as the exporter's
//! pydantic (v1) models: numbers are accepted where strings are expected and vice versa.

use serde_json::{Map, Value};

/// Lowest and highest accepted timestamps (2010-01-01 and 2060-01-01, as in Pelorus).
pub const TIMESTAMP_MIN: i64 = 1_262_307_661;
pub const TIMESTAMP_MAX: i64 = 2_840_144_461;
/// Deploy and failure events may be at most this old when they arrive.
pub const MAX_AGE_SECONDS: i64 = 30 * 60;

/// One broken rule: which field, and what the rule says.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Reads fields of one JSON object, collecting every broken rule (pydantic reports all).
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    pub errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(object: &'a Map<String, Value>) -> Self {
        Fields {
            object,
            errors: Vec::new(),
        }
    }

    fn fail(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field,
            message: message.into(),
        });
    }

    fn present(&mut self, field: &'static str) -> Option<&'a Value> {
        match self.object.get(field) {
            None => {
                self.fail(field, "field required");
                None
            }
            Some(Value::Null) => {
                self.fail(field, "none is not an allowed value");
                None
            }
            Some(v) => Some(v),
        }
    }

    /// A string field; numbers and booleans are turned into text as Python's `str()` does.
    pub fn string(&mut self, field: &'static str) -> Option<String> {
        let text = match self.present(field)? {
            Value::String(s) => s.clone(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Number(n) => python_number_text(n),
            _ => {
                self.fail(field, "str type expected");
                return None;
            }
        };
        Some(text)
    }

    /// A string of at most `max` characters.
    pub fn string_max(&mut self, field: &'static str, max: usize) -> Option<String> {
        let text = self.string(field)?;
        if text.chars().count() > max {
            self.fail(
                field,
                format!("ensure this value has at most {max} characters"),
            );
            return None;
        }
        Some(text)
    }

    /// `sha256:` followed by 64 lower-case hex characters.
    pub fn image_sha(&mut self, field: &'static str) -> Option<String> {
        let text = self.string(field)?;
        // Python's `$` also matches before one trailing newline.
        let core = text.strip_suffix('\n').unwrap_or(&text);
        let ok = core.strip_prefix("sha256:").is_some_and(|hex| {
            hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        });
        if !ok {
            self.fail(
                field,
                r#"string does not match regex "^sha256:[a-f0-9]{64}$" ('sha256:' and 64 lower-case hex characters)"#,
            );
            return None;
        }
        Some(text)
    }

    /// A git commit hash: 7 (short) or 40 (long) characters.
    pub fn commit_hash(&mut self, field: &'static str) -> Option<String> {
        let text = self.string(field)?;
        match text.chars().count() {
            7 | 40 => Some(text),
            n if n < 7 => {
                self.fail(field, "ensure this value has at least 7 characters");
                None
            }
            n if n > 40 => {
                self.fail(field, "ensure this value has at most 40 characters");
                None
            }
            _ => {
                self.fail(
                    field,
                    "Git SHA-1 hash must be either 7 (short) or 40 (long) characters long",
                );
                None
            }
        }
    }

    /// One of the allowed string values.
    pub fn one_of(
        &mut self,
        field: &'static str,
        allowed: &[&'static str],
    ) -> Option<&'static str> {
        let value = self.present(field)?;
        let found = value
            .as_str()
            .and_then(|s| allowed.iter().copied().find(|a| *a == s));
        if found.is_none() {
            let permitted = allowed
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(", ");
            self.fail(
                field,
                format!("value is not a valid enumeration member; permitted: {permitted}"),
            );
        }
        found
    }

    /// An EPOCH timestamp in seconds between 2010 and 2060; with `now`, also at most 30
    /// minutes old. Accepts integers, floats (truncated) and integer strings, as Pelorus does.
    pub fn timestamp(&mut self, field: &'static str, now: Option<i64>) -> Option<i64> {
        let value = self.present(field)?;
        let Some(ts) = python_int(value) else {
            self.fail(field, "value is not a valid integer");
            return None;
        };
        if ts < TIMESTAMP_MIN {
            self.fail(
                field,
                format!("ensure this value is greater than or equal to {TIMESTAMP_MIN}"),
            );
            return None;
        }
        if ts > TIMESTAMP_MAX {
            self.fail(
                field,
                format!("ensure this value is less than or equal to {TIMESTAMP_MAX}"),
            );
            return None;
        }
        if now.is_some_and(|now| ts < now - MAX_AGE_SECONDS) {
            self.fail(field, "Timestamp cannot be older than 30 minutes");
            return None;
        }
        Some(ts)
    }
}

/// Python's `int(v)` for the JSON values pydantic v1 would pass to it.
fn python_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| f.trunc() as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// `str()` of a number as Python prints it (`1.0`, not `1`, for floats).
fn python_number_text(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        (_, _, Some(f)) => format!("{f:?}"),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check<T>(
        value: Value,
        read: impl FnOnce(&mut Fields<'_>) -> Option<T>,
    ) -> Result<T, String> {
        let object = json!({ "f": value });
        let object = object.as_object().expect("object");
        let mut fields = Fields::new(object);
        read(&mut fields).ok_or_else(|| fields.errors[0].message.clone())
    }

    #[test]
    fn strings_coerce_like_pydantic() {
        assert_eq!(check(json!("todo"), |f| f.string("f")), Ok("todo".into()));
        assert_eq!(check(json!(42), |f| f.string("f")), Ok("42".into()));
        assert_eq!(check(json!(1.5), |f| f.string("f")), Ok("1.5".into()));
        assert_eq!(check(json!(true), |f| f.string("f")), Ok("True".into()));
        assert_eq!(
            check(json!(["x"]), |f| f.string("f")),
            Err("str type expected".into())
        );
        assert_eq!(
            check(Value::Null, |f| f.string("f")),
            Err("none is not an allowed value".into())
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check(json!("é".repeat(63)), |f| f.string_max("f", 63)).is_ok());
        assert!(check(json!("a".repeat(64)), |f| f.string_max("f", 63)).is_err());
    }

    #[test]
    fn commit_hash_is_7_or_40_characters() {
        assert!(check(json!("5379bad"), |f| f.commit_hash("f")).is_ok());
        assert!(
            check(json!("5379bad65a3f83853a75aabec9e0e43c75fd18fc"), |f| f
                .commit_hash("f"))
            .is_ok()
        );
        assert_eq!(
            check(json!("5379bad6"), |f| f.commit_hash("f")),
            Err("Git SHA-1 hash must be either 7 (short) or 40 (long) characters long".into())
        );
        assert_eq!(
            check(json!("5379ba"), |f| f.commit_hash("f")),
            Err("ensure this value has at least 7 characters".into())
        );
        assert!(check(json!("x".repeat(41)), |f| f.commit_hash("f")).is_err());
    }

    #[test]
    fn image_sha_pattern() {
        let good = format!("sha256:{}", "a1".repeat(32));
        assert!(check(json!(good), |f| f.image_sha("f")).is_ok());
        assert!(check(json!(format!("{good}\n")), |f| f.image_sha("f")).is_ok());
        assert!(check(json!(good.to_uppercase()), |f| f.image_sha("f")).is_err());
        assert!(
            check(json!(format!("sha256:{}", "a".repeat(63))), |f| f
                .image_sha("f"))
            .is_err()
        );
        assert!(
            check(json!(format!("md5:{}", "a".repeat(64))), |f| f
                .image_sha("f"))
            .is_err()
        );
    }

    #[test]
    fn timestamps_coerce_and_range_check() {
        let now = 1_700_000_000;
        assert_eq!(check(json!(now), |f| f.timestamp("f", Some(now))), Ok(now));
        assert_eq!(
            check(json!("1700000000"), |f| f.timestamp("f", Some(now))),
            Ok(now)
        );
        assert_eq!(
            check(json!(1_700_000_000.9), |f| f.timestamp("f", Some(now))),
            Ok(now)
        );
        assert_eq!(
            check(json!("17e8"), |f| f.timestamp("f", None)),
            Err("value is not a valid integer".into())
        );
        assert!(check(json!(TIMESTAMP_MIN - 1), |f| f.timestamp("f", None)).is_err());
        assert!(check(json!(TIMESTAMP_MAX + 1), |f| f.timestamp("f", None)).is_err());
        assert!(check(json!(true), |f| f.timestamp("f", None)).is_err());
        // Exactly 30 minutes old is accepted, one second more is not.
        assert!(check(json!(now - 1800), |f| f.timestamp("f", Some(now))).is_ok());
        assert_eq!(
            check(json!(now - 1801), |f| f.timestamp("f", Some(now))),
            Err("Timestamp cannot be older than 30 minutes".into())
        );
        // Future timestamps (within range) pass, as in Pelorus.
        assert!(check(json!(now + 86_400), |f| f.timestamp("f", Some(now))).is_ok());
    }

    #[test]
    fn enumerations_are_exact() {
        assert_eq!(
            check(json!("created"), |f| f
                .one_of("f", &["created", "resolved"])),
            Ok("created")
        );
        assert!(
            check(json!("Created"), |f| f
                .one_of("f", &["created", "resolved"]))
            .is_err()
        );
        assert!(check(json!(1), |f| f.one_of("f", &["created", "resolved"])).is_err());
    }
}
