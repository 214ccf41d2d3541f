//! `gcm`: the receiving end of GCM's webhook sink (GPU cluster monitoring). GCM posts JSON
//! arrays: metric records (nested objects flattened, `a.b` keys) to `/gcm/metrics`, log
//! records to `/gcm/logs`. Every numeric field of a metric record becomes a gauge sample,
//! `gcm_value{field, <labels>}`, labelled by the record's fields the operator lists in the
//! `labels` setting; log records are counted by type.

use hookgate_plugin_sdk::prelude::*;
use serde_json::{Map, Value, json};

/// The plugin.
pub struct Gcm;

const VALUE: &str = "gcm_value";
const LOGS: &str = "gcm_log_records_total";
const METRICS: &str = "gcm_metric_records_total";
/// Field read for a log record's type unless `type_field` names another.
const DEFAULT_TYPE_FIELD: &str = "type";
/// Longest log type kept as a label value; longer ones are cut (a label, not a message).
const MAX_TYPE: usize = 128;

impl Plugin for Gcm {
    fn manifest() -> Manifest {
        Manifest::new("gcm", env!("CARGO_PKG_VERSION"))
            .description("GCM webhook sink: metric records as gauges, log records counted by type")
            .path("/gcm/metrics")
            .path("/gcm/logs")
            .content_type("application/json")
            // GCM's sink sends `Authorization: Bearer <bearer_token>`.
            .signature(Scheme::Bearer)
            .gauge(
                VALUE,
                "Numeric fields of GCM metric records, by field and the labels the operator picks",
                &["field"],
            )
            .labels_from_setting("labels")
            .counter(LOGS, "GCM log records received, by type", &["type"])
            .counter(METRICS, "GCM metric records received", &[])
            .setting(
                "labels",
                "Comma-separated record fields that label every gauge (e.g. hostname,gpu_index)",
                false,
            )
            .setting(
                "skip",
                "Comma-separated numeric fields not to export (e.g. a timestamp)",
                false,
            )
            .setting(
                "type_field",
                "Field holding a log record's type (default \"type\"); the `type` query parameter wins",
                false,
            )
    }

    fn handle(req: Request) -> Result<Outcome, Rejection> {
        let records = records(&req.body)?;
        let out = if req.path.ends_with("/logs") {
            logs(&req, &records)?
        } else if req.path.ends_with("/metrics") {
            metrics(&req, &records)
        } else {
            return Err(Rejection::bad_request(
                "post metric records to /gcm/metrics and log records to /gcm/logs",
            ));
        };
        Ok(out)
    }
}

/// The body: a JSON array of objects. The error names the first record that is not one.
fn records(body: &[u8]) -> Result<Vec<Map<String, Value>>, Rejection> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Rejection::bad_request(format!("body is not JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(Rejection::unprocessable(
            "body must be a JSON array of records",
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(map) => Ok(map),
            other => Err(Rejection::unprocessable(format!(
                "record [{i}] must be an object, not {}",
                kind(&other)
            ))),
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A comma-separated setting as a list.
fn list<'a>(req: &'a Request, key: &str) -> Vec<&'a str> {
    req.setting(key)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn metrics(req: &Request, records: &[Map<String, Value>]) -> Outcome {
    let labels = list(req, "labels");
    let skip = list(req, "skip");
    let mut out = Outcome::json(200, &json!({ "accepted": records.len() }));
    for record in records {
        let mut flat = Vec::new();
        flatten("", record, &mut flat);
        let label_values: Vec<String> = labels
            .iter()
            .map(|l| {
                flat.iter()
                    .find(|(k, _)| k == l)
                    .map(|(_, v)| label_value(v))
                    .unwrap_or_default()
            })
            .collect();
        for (field, value) in &flat {
            let Some(number) = value.as_f64() else {
                continue;
            };
            if labels.contains(&field.as_str()) || skip.contains(&field.as_str()) {
                continue;
            }
            let mut values = Vec::with_capacity(labels.len() + 1);
            values.push(field.clone());
            values.extend(label_values.iter().cloned());
            out = out.sample(Sample::set(VALUE, values, number));
        }
    }
    if !records.is_empty() {
        out = out.sample(Sample::add(
            METRICS,
            Vec::<String>::new(),
            records.len() as f64,
        ));
    }
    out
}

/// `{"a": {"b": 1}}` -> `a.b = 1`, as GCM's sink flattens metric records.
fn flatten(prefix: &str, map: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => flatten(&key, inner, out),
            other => out.push((key, other.clone())),
        }
    }
}

fn label_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn logs(req: &Request, records: &[Map<String, Value>]) -> Result<Outcome, Rejection> {
    let from_query = req
        .query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "type")
        .map(|(_, v)| v.to_string());
    let field = req.setting("type_field").unwrap_or(DEFAULT_TYPE_FIELD);
    let mut counts: Vec<(String, u64)> = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let kind = match (&from_query, record.get(field)) {
            (Some(t), _) => t.clone(),
            (None, Some(Value::String(s))) => s.clone(),
            (None, None | Some(Value::Null)) => "unknown".to_string(),
            (None, Some(other)) => {
                return Err(Rejection::unprocessable(format!(
                    "record [{i}]: field '{field}' must be a string (the log type), not {}",
                    kind(other)
                )));
            }
        };
        let kind: String = kind.chars().take(MAX_TYPE).collect();
        match counts.iter_mut().find(|(t, _)| *t == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    let mut out = Outcome::json(200, &json!({ "accepted": records.len() }));
    for (kind, n) in counts {
        out = out.sample(Sample::add(LOGS, [kind], n as f64));
    }
    Ok(out)
}

export_plugin!(Gcm);
