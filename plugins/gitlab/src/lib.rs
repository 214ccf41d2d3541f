//! `gitlab`: GitLab webhooks as DORA metrics in the Pelorus families (shared with the Pelorus
//! and GitHub plugins): a push's commits → `commit_timestamp`, a successful deployment →
//! `deploy_timestamp`, an issue carrying the failure label opened → `failure_creation_timestamp`,
//! closed → `failure_resolution_timestamp`. Pipelines are counted by status. Chosen events are
//! forwarded. The gateway checks `X-Gitlab-Token` (or Standard Webhooks signatures) and answers
//! repeats of an `Idempotency-Key` within its window.

use hookgate_plugin_sdk::fields::{field, text, timestamp};
use hookgate_plugin_sdk::prelude::*;
use serde_json::{Map, Value, json};

/// The plugin.
pub struct Gitlab;

const COMMIT: &str = "commit_timestamp";
const DEPLOY: &str = "deploy_timestamp";
const FAILURE_CREATED: &str = "failure_creation_timestamp";
const FAILURE_RESOLVED: &str = "failure_resolution_timestamp";
const EVENTS: &str = "gitlab_events_total";
const PIPELINES: &str = "gitlab_pipelines_total";

impl Plugin for Gitlab {
    fn manifest() -> Manifest {
        Manifest::new("gitlab", env!("CARGO_PKG_VERSION"))
            .description(
                "GitLab webhooks: DORA metrics as Pelorus has them, pipelines, forwarded events",
            )
            .path("/gitlab")
            .user_agent_prefix("GitLab/")
            .content_type("application/json")
            // Declared exactly as the Pelorus plugin declares them, so they are shared.
            .gauge(
                COMMIT,
                "Commit timestamp",
                &["app", "namespace", "image_sha", "commit_hash"],
            )
            .gauge(
                DEPLOY,
                "Deployment timestamp",
                &["app", "namespace", "image_sha"],
            )
            .gauge(
                FAILURE_CREATED,
                "Failure Creation Timestamp",
                &["app", "failure_id"],
            )
            .gauge(
                FAILURE_RESOLVED,
                "Failure Resolution Timestamp",
                &["app", "failure_id"],
            )
            .counter(
                EVENTS,
                "GitLab webhooks received, by object_kind",
                &["kind"],
            )
            .counter(
                PIPELINES,
                "GitLab pipelines reported, by project and status",
                &["app", "status"],
            )
            .event_type("gitlab.*")
            .signature(Scheme::GitlabToken)
            .delivery_id_header("Idempotency-Key")
            .setting(
                "failure_label",
                "Issue label that marks a production failure (default bug)",
                false,
            )
            .setting(
                "forward",
                "Comma-separated object_kind values forwarded as gitlab.<kind> deliveries",
                false,
            )
    }

    fn handle(req: Request) -> Result<Outcome, Rejection> {
        let body: Value = req.json()?;
        let body = body
            .as_object()
            .ok_or_else(|| Rejection::bad_request("body must be a JSON object"))?;
        let kind = text(body, "object_kind")?.to_string();
        let mut out = match kind.as_str() {
            "push" => push(body)?,
            "deployment" => deployment(body)?,
            "issue" => issue(body, req.setting("failure_label").unwrap_or("bug"))?,
            "pipeline" => {
                let status = text(body, "object_attributes.status")?;
                let app = text(body, "project.name")?;
                Outcome::json(202, &json!({ "pipeline": status }))
                    .sample(Sample::inc(PIPELINES, [app, status]))
            }
            other => Outcome::json(202, &json!({ "ignored": other })),
        };
        out = out.sample(Sample::inc(EVENTS, [kind.as_str()]));
        let forwarded = req
            .setting("forward")
            .unwrap_or_default()
            .split(',')
            .any(|k| k.trim() == kind);
        if forwarded {
            let mut delivery = Delivery::new(format!("gitlab.{kind}"), req.body.clone());
            if let Some(key) = req.header("idempotency-key") {
                delivery = delivery.idempotency_key(key);
            }
            out = out.delivery(delivery);
        }
        Ok(out)
    }
}

fn push(body: &Map<String, Value>) -> Result<Outcome, Rejection> {
    let app = text(body, "project.name")?;
    let namespace = text(body, "project.namespace")?;
    let commits = body
        .get("commits")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Outcome::json(202, &json!({ "commits": commits.len() }));
    for (i, c) in commits.iter().enumerate() {
        let c = c
            .as_object()
            .ok_or_else(|| Rejection::unprocessable(format!("commits[{i}] must be an object")))?;
        let at = |r: Rejection| Rejection::unprocessable(format!("commits[{i}].{}", r.message));
        let id = text(c, "id").map_err(at)?;
        let when = timestamp(c, "timestamp").map_err(at)?;
        out = out.sample(Sample::set(COMMIT, [app, namespace, "", id], when));
    }
    Ok(out)
}

fn deployment(body: &Map<String, Value>) -> Result<Outcome, Rejection> {
    let status = text(body, "status")?;
    if status != "success" {
        return Ok(Outcome::json(
            202,
            &json!({ "ignored": format!("deployment {status}") }),
        ));
    }
    let app = text(body, "project.name")?;
    let environment = text(body, "environment")?;
    let sha = text(body, "sha")?;
    let at = timestamp(body, "status_changed_at")?;
    Ok(
        Outcome::json(202, &json!({ "deployed": sha })).sample(Sample::set(
            DEPLOY,
            [app, environment, sha],
            at,
        )),
    )
}

fn issue(body: &Map<String, Value>, failure_label: &str) -> Result<Outcome, Rejection> {
    let action = text(body, "object_attributes.action").unwrap_or("update");
    let labelled = body
        .get("labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|l| l.get("title").and_then(Value::as_str) == Some(failure_label));
    if !labelled {
        return Ok(Outcome::json(
            202,
            &json!({ "ignored": "issue without the failure label" }),
        ));
    }
    let app = text(body, "project.name")?;
    let id = field(body, "object_attributes.iid")?.to_string();
    let (family, at) = match action {
        "open" | "reopen" | "update" => (
            FAILURE_CREATED,
            timestamp(body, "object_attributes.created_at")?,
        ),
        "close" => (
            FAILURE_RESOLVED,
            timestamp(body, "object_attributes.closed_at")?,
        ),
        other => {
            return Ok(Outcome::json(
                202,
                &json!({ "ignored": format!("issue {other}") }),
            ));
        }
    };
    Ok(
        Outcome::json(202, &json!({ "failure": id })).sample(Sample::set(
            family,
            [app, id.as_str()],
            at,
        )),
    )
}

export_plugin!(Gitlab);
