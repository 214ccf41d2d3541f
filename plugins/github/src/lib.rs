//! `github`: GitHub webhooks as DORA metrics, with the Pelorus plugin's families and labels so
//! both feed the same dashboards: a push's commits → `commit_timestamp`, a successful
//! `deployment_status` → `deploy_timestamp`, an issue carrying the failure label opened or
//! labelled → `failure_creation_timestamp`, closed → `failure_resolution_timestamp`. Chosen
//! events are also forwarded as deliveries. The gateway verifies `X-Hub-Signature-256` and
//! answers repeats of an `X-GitHub-Delivery` within its window.

use hookgate_plugin_sdk::fields::{field, text, timestamp};
use hookgate_plugin_sdk::prelude::*;
use serde_json::{Map, Value, json};

/// The plugin.
pub struct Github;

const COMMIT: &str = "commit_timestamp";
const DEPLOY: &str = "deploy_timestamp";
const FAILURE_CREATED: &str = "failure_creation_timestamp";
const FAILURE_RESOLVED: &str = "failure_resolution_timestamp";
const EVENTS: &str = "github_events_total";

impl Plugin for Github {
    fn manifest() -> Manifest {
        Manifest::new("github", env!("CARGO_PKG_VERSION"))
            .description("GitHub webhooks: DORA metrics as Pelorus has them, forwarded events")
            .path("/github")
            .user_agent_prefix("GitHub-Hookshot/")
            .content_type("application/json")
            // Declared exactly as the Pelorus plugin declares them, so the two share them.
            .gauge(COMMIT, "Commit timestamp", &["app", "namespace", "image_sha", "commit_hash"])
            .gauge(DEPLOY, "Deployment timestamp", &["app", "namespace", "image_sha"])
            .gauge(FAILURE_CREATED, "Failure Creation Timestamp", &["app", "failure_id"])
            .gauge(FAILURE_RESOLVED, "Failure Resolution Timestamp", &["app", "failure_id"])
            .counter(EVENTS, "GitHub webhooks received, by X-GitHub-Event", &["event"])
            .event_type("github.*")
            .signature(Scheme::HubSha256)
            .delivery_id_header("X-GitHub-Delivery")
            .setting(
                "failure_label",
                "Issue label that marks a production failure (default bug)",
                false,
            )
            .setting(
                "forward",
                "Comma-separated X-GitHub-Event names forwarded as github.<event>[.<action>] deliveries",
                false,
            )
    }

    fn handle(req: Request) -> Result<Outcome, Rejection> {
        let event = req
            .header("x-github-event")
            .filter(|e| !e.is_empty())
            .ok_or_else(|| Rejection::bad_request("header 'X-GitHub-Event' is required"))?
            .to_string();
        let body: Value = req.json()?;
        let body = body
            .as_object()
            .ok_or_else(|| Rejection::bad_request("body must be a JSON object"))?;
        let mut out = match event.as_str() {
            "ping" => Outcome::json(
                200,
                &json!({ "pong": true, "zen": body.get("zen"), "hook_id": body.get("hook_id") }),
            ),
            "push" => push(body)?,
            "deployment_status" => deployment_status(body)?,
            "issues" => issues(body, req.setting("failure_label").unwrap_or("bug"))?,
            other => Outcome::json(202, &json!({ "ignored": other })),
        };
        out = out.sample(Sample::inc(EVENTS, [event.as_str()]));
        let forwarded = req
            .setting("forward")
            .unwrap_or_default()
            .split(',')
            .any(|e| e.trim() == event);
        if forwarded {
            let event_type = match body.get("action").and_then(Value::as_str) {
                Some(action) => format!("github.{event}.{action}"),
                None => format!("github.{event}"),
            };
            let mut delivery = Delivery::new(event_type, req.body.clone());
            if let Some(id) = req.header("x-github-delivery") {
                delivery = delivery.idempotency_key(id);
            }
            out = out.delivery(delivery);
        }
        Ok(out)
    }
}

/// Each commit of the push, and the head commit, by its own time.
fn push(body: &Map<String, Value>) -> Result<Outcome, Rejection> {
    let app = text(body, "repository.name")?;
    let namespace = text(body, "repository.owner.login")?;
    let mut commits: Vec<&Map<String, Value>> = Vec::new();
    if let Some(list) = body.get("commits").and_then(Value::as_array) {
        commits.extend(list.iter().filter_map(Value::as_object));
    }
    if let Some(head) = body.get("head_commit").and_then(Value::as_object)
        && !commits.iter().any(|c| c.get("id") == head.get("id"))
    {
        commits.push(head);
    }
    let mut out = Outcome::json(202, &json!({ "commits": commits.len() }));
    for (i, c) in commits.iter().enumerate() {
        let id = text(c, "id")
            .map_err(|_| Rejection::unprocessable(format!("commits[{i}].id is required")))?;
        let at = timestamp(c, "timestamp")
            .map_err(|r| Rejection::unprocessable(format!("commits[{i}].{}", r.message)))?;
        // No container image at push time: `image_sha` stays empty (see the README).
        out = out.sample(Sample::set(COMMIT, [app, namespace, "", id], at));
    }
    Ok(out)
}

/// A successful deployment: its environment is the namespace, its commit the image.
fn deployment_status(body: &Map<String, Value>) -> Result<Outcome, Rejection> {
    let state = text(body, "deployment_status.state")?;
    if state != "success" {
        return Ok(Outcome::json(
            202,
            &json!({ "ignored": format!("deployment state {state}") }),
        ));
    }
    let app = text(body, "repository.name")?;
    let environment = text(body, "deployment.environment")?;
    let sha = text(body, "deployment.sha")?;
    let at = timestamp(body, "deployment_status.created_at")?;
    Ok(
        Outcome::json(202, &json!({ "deployed": sha })).sample(Sample::set(
            DEPLOY,
            [app, environment, sha],
            at,
        )),
    )
}

/// Issues with the failure label: created when opened or labelled, resolved when closed.
fn issues(body: &Map<String, Value>, failure_label: &str) -> Result<Outcome, Rejection> {
    let action = text(body, "action")?;
    // Some actions (pinned, transferred) carry no labels at all.
    let labelled = field(body, "issue")?
        .get("labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|l| l.get("name").and_then(Value::as_str) == Some(failure_label));
    let just_labelled = action == "labeled"
        && body
            .get("label")
            .and_then(|l| l.get("name"))
            .and_then(Value::as_str)
            == Some(failure_label);
    let app = text(body, "repository.name")?;
    let id = field(body, "issue.number")?.to_string();
    let (family, at) = match action {
        "opened" | "reopened" if labelled => {
            (FAILURE_CREATED, timestamp(body, "issue.created_at")?)
        }
        "labeled" if just_labelled => (FAILURE_CREATED, timestamp(body, "issue.created_at")?),
        "closed" if labelled => (FAILURE_RESOLVED, timestamp(body, "issue.closed_at")?),
        _ => {
            return Ok(Outcome::json(
                202,
                &json!({ "ignored": format!("issues.{action}") }),
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

export_plugin!(Github);
