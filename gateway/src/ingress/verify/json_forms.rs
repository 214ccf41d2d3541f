//! The re-serialisations of a JSON body that the Pelorus exporter signs-checks against:
//! Python's `json.dumps` (key order kept, `ensure_ascii`) with five separator pairs, each with
//! and without `{ ` / ` }` padding and a trailing newline. They cover `echo -n $(cat f)`
//! (spaces collapsed) and `jq -c` (compact, with newline).

use serde_json::Value;

const SEPARATORS: [(&str, &str); 5] = [
    (", ", ": "),
    (",", ":"),
    (", ", ":"),
    (",", " :"),
    (", ", " :"),
];

/// Every candidate form of `body`; empty if it is not JSON.
pub fn candidates(body: &[u8]) -> Vec<Vec<u8>> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(SEPARATORS.len() * 4);
    for (item, key) in SEPARATORS {
        let mut base = String::new();
        dumps(&value, item, key, &mut base);
        let padded = match (base.get(..1), base.get(1..base.len().saturating_sub(1))) {
            (Some(_), Some(inner)) if base.len() >= 2 => format!("{{ {inner} }}"),
            _ => base.clone(),
        };
        out.push(format!("{padded}\n").into_bytes());
        out.push(padded.into_bytes());
        out.push(format!("{base}\n").into_bytes());
        out.push(base.into_bytes());
    }
    out
}

/// `json.dumps(value, separators=(item, key))` as CPython writes it.
fn dumps(value: &Value, item: &str, key: &str, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&python_number(n)),
        Value::String(s) => quote(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                dumps(v, item, key, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                quote(k, out);
                out.push_str(key);
                dumps(v, item, key, out);
            }
            out.push('}');
        }
    }
}

fn python_number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        let f = n.as_f64().unwrap_or_default();
        // Python's repr: "1.0", "1e+20", "1.5e-07".
        let s = format!("{f:?}");
        if let Some((mantissa, exp)) = s.split_once('e') {
            let exp = exp
                .strip_prefix('-')
                .map_or_else(|| format!("+{exp:0>2}"), |e| format!("-{e:0>2}"));
            return format!("{mantissa}e{exp}");
        }
        return s;
    }
    n.to_string()
}

/// A JSON string with `ensure_ascii=True` escaping.
fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(forms: &[Vec<u8>]) -> Vec<String> {
        forms
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    #[test]
    fn forms_match_python_json_dumps() {
        let forms = text(&candidates(br#"{"data": "value",   "data2":"value2"}"#));
        for expected in [
            r#"{"data": "value", "data2": "value2"}"#,
            "{\"data\":\"value\",\"data2\":\"value2\"}\n",
            r#"{ "data" :"value", "data2" :"value2" }"#,
            "{ \"data\":\"value\",\"data2\":\"value2\" }\n",
        ] {
            assert!(
                forms.contains(&expected.to_string()),
                "missing {expected:?} in {forms:#?}"
            );
        }
        assert_eq!(forms.len(), 20);
    }

    #[test]
    fn strings_are_escaped_like_ensure_ascii() {
        let mut out = String::new();
        quote("é\"\\\n\u{1F600}\u{7f}", &mut out);
        assert_eq!(out, r#""\u00e9\"\\\n\ud83d\ude00\u007f""#);
    }

    #[test]
    fn numbers_print_like_python() {
        let v: Value = serde_json::from_str(r#"[1, -2, 1.0, 1.5, 1e20, 1.5e-7]"#).expect("json");
        let mut out = String::new();
        dumps(&v, ", ", ": ", &mut out);
        assert_eq!(out, "[1, -2, 1.0, 1.5, 1e+20, 1.5e-07]");
    }

    #[test]
    fn not_json_has_no_forms() {
        assert!(candidates(b"not json").is_empty());
    }
}
