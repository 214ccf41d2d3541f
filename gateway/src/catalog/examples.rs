//! Example requests shipped beside a plugin (`name.examples.json` next to `name.wasm`), run
//! against a new version before it goes live. A failing example refuses the version.
//!
//! ```json
//! [{ "name": "ping", "headers": { "x-pelorus-event": "ping" }, "body": {}, "expect_status": 200 }]
//! ```
//! `body` is sent as JSON, or as-is when it is a string. Signatures are not checked.

use crate::config::Limits;
use crate::outcome::PluginRequest;
use crate::runtime::{CompiledPlugin, Runtime};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Example {
    name: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: serde_json::Value,
    expect_status: u16,
    #[serde(default)]
    expect_body_contains: Option<String>,
}

/// Runs the examples file beside `wasm_path`, if there is one.
pub async fn run(
    runtime: &Runtime,
    plugin: &CompiledPlugin,
    wasm_path: &Path,
    limits: &Limits,
    settings: &[(String, String)],
) -> Result<usize, String> {
    let file = wasm_path.with_extension("examples.json");
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    let examples: Vec<Example> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    for example in &examples {
        let body = match &example.body {
            serde_json::Value::String(s) => s.clone().into_bytes(),
            serde_json::Value::Null => Vec::new(),
            other => other.to_string().into_bytes(),
        };
        let request = PluginRequest {
            method: "POST".into(),
            path: example
                .path
                .clone()
                .unwrap_or_else(|| format!("/hooks/{}", plugin.manifest.name)),
            query: String::new(),
            headers: example
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            body: body.into(),
            received_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            settings: settings.to_vec(),
        };
        let fail = |what: String| format!("example '{}' failed: {what}", example.name);
        let mut call = runtime
            .start(plugin, limits)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let (status, body) = match call
            .handle(&request)
            .await
            .map_err(|e| fail(e.to_string()))?
        {
            Ok(outcome) => (outcome.response.status, outcome.response.body),
            Err(rejection) => (
                rejection.status,
                rejection
                    .body
                    .unwrap_or_else(|| rejection.message.into_bytes()),
            ),
        };
        if status != example.expect_status {
            return Err(fail(format!(
                "status {status}, expected {}",
                example.expect_status
            )));
        }
        if let Some(needle) = example
            .expect_body_contains
            .as_ref()
            .filter(|needle| !String::from_utf8_lossy(&body).contains(needle.as_str()))
        {
            return Err(fail(format!("body does not contain {needle:?}")));
        }
    }
    Ok(examples.len())
}
