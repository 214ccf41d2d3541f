//! `k8s-admission`: answers Kubernetes `AdmissionReview` requests (admission.k8s.io/v1)
//! synchronously. Validating: refuses objects that lack required labels or run denied images.
//! Mutating: also adds missing default labels with a JSONPatch. The policy comes from the
//! plugin's settings; the answer always echoes `request.uid`.

mod policy;

use base64::Engine as _;
use hookgate_plugin_sdk::prelude::*;
use policy::Policy;
use serde_json::{Value, json};

/// The plugin.
pub struct K8sAdmission;

const REVIEWS: &str = "k8s_admission_reviews_total";
const API_VERSION: &str = "admission.k8s.io/v1";

impl Plugin for K8sAdmission {
    fn manifest() -> Manifest {
        Manifest::new("k8s-admission", env!("CARGO_PKG_VERSION"))
            .description("Kubernetes admission webhook: required labels, denied images, default labels")
            .path("/k8s/admission")
            .content_type("application/json")
            .counter(
                REVIEWS,
                "Admission reviews answered, by operation, kind and decision",
                &["operation", "kind", "allowed"],
            )
            .setting(
                "required_labels",
                "Comma-separated label keys every object must carry",
                false,
            )
            .setting(
                "denied_images",
                "Comma-separated image patterns no container may run; * matches anything (docker.io/*, *:latest)",
                false,
            )
            .setting(
                "mode",
                "validate (the default) or mutate (also adds default_labels)",
                false,
            )
            .setting(
                "default_labels",
                "Comma-separated key=value labels the mutating mode adds when missing",
                false,
            )
    }

    fn handle(req: Request) -> Result<Outcome, Rejection> {
        let policy = Policy::from_settings(|k| req.setting(k))?;
        let review: Value = req.json()?;
        if review["apiVersion"] != API_VERSION || review["kind"] != "AdmissionReview" {
            return Err(Rejection::unprocessable(format!(
                "expected an AdmissionReview of apiVersion {API_VERSION}"
            )));
        }
        let request = &review["request"];
        let uid = request["uid"]
            .as_str()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Rejection::unprocessable("request.uid is required"))?;
        let operation = request["operation"].as_str().unwrap_or("UNKNOWN");
        let kind = request["kind"]["kind"].as_str().unwrap_or("Unknown");
        // DELETE carries the object being removed in oldObject, and nothing to check.
        let object = &request["object"];

        let mut response = json!({ "uid": uid, "allowed": true });
        let refusals = if object.is_object() {
            policy.refusals(object)
        } else {
            Vec::new()
        };
        if !refusals.is_empty() {
            response["allowed"] = json!(false);
            response["status"] = json!({
                "code": 403,
                "reason": "Forbidden",
                "message": format!("hookgate: {}", refusals.join("; ")),
            });
        } else if object.is_object() {
            let patch = policy.patch(object);
            if !patch.is_empty() {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(serde_json::to_vec(&patch).unwrap_or_default());
                response["patchType"] = json!("JSONPatch");
                response["patch"] = json!(encoded);
            }
        }
        let allowed = if refusals.is_empty() { "true" } else { "false" };
        Ok(Outcome::json(
            200,
            &json!({ "apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response }),
        )
        .sample(Sample::inc(REVIEWS, [operation, kind, allowed])))
    }
}

export_plugin!(K8sAdmission);
