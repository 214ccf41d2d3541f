//! The admission policy, from the plugin's settings, as pure functions of an object.

use hookgate_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// What the operator asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    required_labels: Vec<String>,
    denied_images: Vec<String>,
    /// `(key, value)` to add when missing; empty unless the mode is `mutate`.
    default_labels: Vec<(String, String)>,
}

fn list(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// The pod spec inside a Pod, a workload's template, or a CronJob's job template.
fn pod_spec(object: &Value) -> Option<&Value> {
    let spec = &object["spec"];
    [
        &spec["template"]["spec"],
        &spec["jobTemplate"]["spec"]["template"]["spec"],
        spec,
    ]
    .into_iter()
    .find(|s| s["containers"].is_array())
}

/// JSON Pointer escaping of one path segment (RFC 6901).
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Policy {
    /// Reads the settings; a bad setting is refused with its name.
    pub fn from_settings<'a>(setting: impl Fn(&str) -> Option<&'a str>) -> Result<Self, Rejection> {
        let mode = setting("mode").unwrap_or("validate");
        let default_labels = match mode {
            "validate" => Vec::new(),
            "mutate" => list(setting("default_labels"))
                .into_iter()
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) if !k.trim().is_empty() => {
                        Ok((k.trim().to_string(), v.trim().to_string()))
                    }
                    _ => Err(Rejection::new(
                        400,
                        format!("setting default_labels: {pair:?} is not key=value"),
                    )),
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(Rejection::new(
                    400,
                    format!("setting mode: {other:?} is not validate or mutate"),
                ));
            }
        };
        Ok(Policy {
            required_labels: list(setting("required_labels")),
            denied_images: list(setting("denied_images")),
            default_labels,
        })
    }

    /// Why `object` is refused; empty when it is allowed. Labels the mutating mode adds do
    /// not count as missing.
    pub fn refusals(&self, object: &Value) -> Vec<String> {
        let labels = &object["metadata"]["labels"];
        let mut out = Vec::new();
        let missing: Vec<&str> = self
            .required_labels
            .iter()
            .filter(|k| labels.get(k.as_str()).is_none())
            .filter(|k| !self.default_labels.iter().any(|(d, _)| d == *k))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            out.push(format!("missing required labels: {}", missing.join(", ")));
        }
        if let Some(spec) = pod_spec(object) {
            for group in ["initContainers", "containers", "ephemeralContainers"] {
                for c in spec[group].as_array().into_iter().flatten() {
                    let image = c["image"].as_str().unwrap_or_default();
                    if let Some(p) = self.denied_images.iter().find(|p| glob(p, image)) {
                        out.push(format!(
                            "container {:?} runs image {image:?}, denied by {p:?}",
                            c["name"].as_str().unwrap_or("?")
                        ));
                    }
                }
            }
        }
        out
    }

    /// The JSONPatch that adds the missing default labels (empty when none is missing).
    pub fn patch(&self, object: &Value) -> Vec<Value> {
        let labels = &object["metadata"]["labels"];
        let missing: Vec<&(String, String)> = self
            .default_labels
            .iter()
            .filter(|(k, _)| labels.get(k.as_str()).is_none())
            .collect();
        if missing.is_empty() {
            return Vec::new();
        }
        if !labels.is_object() {
            let all: serde_json::Map<String, Value> =
                missing.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let mut ops = Vec::new();
            if !object["metadata"].is_object() {
                ops.push(json!({ "op": "add", "path": "/metadata", "value": {} }));
            }
            ops.push(json!({ "op": "add", "path": "/metadata/labels", "value": all }));
            return ops;
        }
        missing
            .into_iter()
            .map(|(k, v)| json!({ "op": "add", "path": format!("/metadata/labels/{}", escape(k)), "value": v }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*:latest", "nginx:latest"));
        assert!(!glob("*:latest", "nginx:1.27"));
        assert!(glob("docker.io/*", "docker.io/library/nginx"));
        assert!(glob("*/debug-*:*", "ghcr.io/x/debug-tools:1"));
        assert!(!glob("*/debug-*:*", "ghcr.io/x/tools:1"));
        assert!(glob("nginx", "nginx") && !glob("nginx", "nginx:1"));
        assert!(!glob("a*a", "a"), "the ends may not overlap");
    }

    #[test]
    fn label_keys_with_slashes_are_escaped() {
        assert_eq!(escape("app.kubernetes.io/team"), "app.kubernetes.io~1team");
        assert_eq!(escape("a~b"), "a~0b");
    }
}
