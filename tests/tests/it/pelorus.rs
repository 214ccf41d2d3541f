//! The Pelorus plugin behind the gateway answers as the Pelorus webhook exporter does.

use hookgate_e2e::{Gateway, Options, hub_signature, now};
use serde_json::{Value, json};

const UA: (&str, &str) = ("User-Agent", "Pelorus-Webhook/test");
const JSON: (&str, &str) = ("Content-Type", "application/json");
const SECRET: &str = "My Secret Token";
const IMAGE: &str = "sha256:af4092ccbfa99a3ec1ea93058fe39b8ddfd8db1c7a18081db397c50a0b8ec77d";
const COMMIT: &str = "5379bad65a3f83853a75aabec9e0e43c75fd18fc";
const RECEIVED: &str = r#"{"http_response":"Webhook Received","http_response_code":200}"#;

fn gateway() -> Gateway {
    Gateway::start(Options {
        plugins: vec![("pelorus", "pelorus.wasm")],
        ..Options::default()
    })
}

fn gateway_with_secret() -> Gateway {
    Gateway::start(Options {
        plugins: vec![("pelorus", "pelorus.wasm")],
        config: "[plugins.pelorus]\nsecret = { env = \"PELORUS_SECRET\" }\n".into(),
        env: vec![("PELORUS_SECRET", SECRET.into())],
    })
}

fn send(
    g: &Gateway,
    event: &str,
    body: &Value,
    extra: &[(&str, &str)],
) -> hookgate_e2e::HttpResponse {
    let mut headers = vec![UA, JSON, ("X-Pelorus-Event", event)];
    headers.extend_from_slice(extra);
    g.post("/pelorus/webhook", &headers, body.to_string().as_bytes())
}

fn committime() -> Value {
    json!({ "app": "mongo-todolist", "commit_hash": COMMIT, "image_sha": IMAGE, "namespace": "mongo-persistent", "timestamp": 1678105701 })
}

fn deploytime() -> Value {
    json!({ "app": "mongo-todolist", "image_sha": IMAGE, "namespace": "mongo-persistent", "timestamp": now() - 600 })
}

fn failure(event: &str) -> Value {
    json!({ "app": "mongo-todolist", "failure_id": "MONGO-1", "failure_event": event, "timestamp": now() - 60 })
}

/// Asserts a 422 whose errors name `field` with a message containing `rule`.
fn assert_invalid(r: &hookgate_e2e::HttpResponse, field: &str, rule: &str) {
    assert_eq!(r.status, 422, "{}", r.text());
    let body = r.json();
    assert_eq!(body["detail"], "Invalid payload.");
    let named = body["errors"].as_array().expect("errors").iter().any(|e| {
        e["loc"]
            .as_array()
            .and_then(|l| l.last())
            .and_then(Value::as_str)
            == Some(field)
            && e["msg"].as_str().is_some_and(|m| m.contains(rule))
    });
    assert!(named, "no error for {field} containing {rule:?}: {body}");
}

#[test]
fn each_event_is_accepted_with_the_exporters_answer_and_metrics() {
    let g = gateway();
    for (event, body) in [
        ("committime", committime()),
        ("deploytime", deploytime()),
        ("failure", failure("created")),
        ("failure", failure("resolved")),
    ] {
        let r = send(&g, event, &body, &[]);
        assert_eq!((r.status, r.text().as_str()), (202, RECEIVED), "{event}");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let deployed = deploytime()["timestamp"].as_u64().expect("ts");
    let m = g.metrics();
    let series = |s: &str| hookgate_e2e::metric_value(&m, s);
    assert_eq!(
        series(&format!(
            r#"commit_timestamp{{app="/mongo-todolist/",commit_hash="{COMMIT}",image_sha="{IMAGE}",namespace="mongo-persistent"}}"#
        )),
        Some(1678105701.0)
    );
    let deploy = series(&format!(
        r#"deploy_timestamp{{app="/mongo-todolist/",image_sha="{IMAGE}",namespace="mongo-persistent"}}"#
    ))
    .expect("deploy series");
    assert!((deploy - deployed as f64).abs() <= 2.0);
    assert!(
        series(r#"failure_creation_timestamp{app="/mongo-todolist/",failure_id="MONGO-1"}"#)
            .is_some()
    );
    assert!(
        series(r#"failure_resolution_timestamp{app="/mongo-todolist/",failure_id="MONGO-1"}"#)
            .is_some()
    );
    assert_eq!(series("webhook_received_total"), Some(4.0));
    assert_eq!(series("webhook_processed_total"), Some(4.0));
    assert_eq!(
        series(r#"hookgate_requests_total{plugin="pelorus",status="202"}"#),
        Some(4.0)
    );
}

#[test]
fn a_resent_event_keeps_the_first_timestamp() {
    let g = gateway();
    let mut first = committime();
    assert_eq!(send(&g, "committime", &first, &[]).status, 202);
    first["timestamp"] = json!(1678105999);
    assert_eq!(send(&g, "committime", &first, &[]).status, 202);
    let series = format!(
        r#"commit_timestamp{{app="/mongo-todolist/",commit_hash="{COMMIT}",image_sha="{IMAGE}",namespace="mongo-persistent"}}"#
    );
    assert_eq!(g.metric(&series), Some(1678105701.0));
}

#[test]
fn ping_answers_pong() {
    let g = gateway();
    let r = send(&g, "ping", &json!({}), &[]);
    assert_eq!((r.status, r.json()), (200, json!({ "detail": "pong" })));
}

#[test]
fn an_unsupported_sender_gets_412() {
    let g = gateway();
    for headers in [vec![("User-Agent", "curl/8.0"), JSON], vec![JSON]] {
        let r = g.post(
            "/pelorus/webhook",
            &headers,
            committime().to_string().as_bytes(),
        );
        assert_eq!(r.status, 412, "{}", r.text());
        assert_eq!(r.json()["detail"], "Unsupported request.");
    }
    // The prefix matches case-insensitively, as in Pelorus.
    let r = g.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "PELORUS-WEBHOOK/ci"),
            JSON,
            ("X-Pelorus-Event", "ping"),
        ],
        b"{}",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn improper_headers_get_400_naming_the_header() {
    let g = gateway();
    let body = committime().to_string();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[UA, JSON], "x-pelorus-event"),
        (
            &[UA, JSON, ("X-Pelorus-Event", "deploy")],
            "x-pelorus-event",
        ),
        (
            &[
                UA,
                JSON,
                ("X-Pelorus-Event", "committime"),
                ("X-Hub-Signature-256", "improper"),
            ],
            "x-hub-signature-256",
        ),
        (
            &[
                UA,
                JSON,
                ("X-Pelorus-Event", "committime"),
                ("X-Hub-Signature-256", "sha1=abc"),
            ],
            "x-hub-signature-256",
        ),
    ];
    for (headers, header) in cases {
        let r = g.post("/pelorus/webhook", headers, body.as_bytes());
        assert_eq!(r.status, 400, "{}", r.text());
        let json = r.json();
        assert_eq!(json["detail"], "Improper headers.");
        assert_eq!(json["errors"][0]["loc"][1], header, "{json}");
    }
}

#[test]
fn signatures_missing_wrong_and_in_every_documented_form() {
    let g = gateway_with_secret();
    let body = committime().to_string();

    let r = send(&g, "committime", &committime(), &[]);
    assert_eq!(
        (r.status, r.json()["detail"].clone()),
        (400, json!("Non existing signature."))
    );

    let wrong = hub_signature("not the secret", body.as_bytes());
    let r = send(
        &g,
        "committime",
        &committime(),
        &[("X-Hub-Signature-256", &wrong)],
    );
    assert_eq!(
        (r.status, r.json()["detail"].clone()),
        (400, json!("Invalid signature."))
    );

    // Improper headers are reported before a missing signature, as the exporter orders them.
    let r = g.post("/pelorus/webhook", &[UA, JSON], body.as_bytes());
    assert_eq!(r.json()["detail"], "Improper headers.");

    let good = hub_signature(SECRET, body.as_bytes());
    assert_eq!(
        send(
            &g,
            "committime",
            &committime(),
            &[("X-Hub-Signature-256", &good)]
        )
        .status,
        202
    );

    // A correct HMAC over the raw bytes of a pretty-printed body (the exporter refuses it).
    let pretty = serde_json::to_string_pretty(&deploytime()).expect("json");
    let sig = hub_signature(SECRET, pretty.as_bytes());
    let r = g.post(
        "/pelorus/webhook",
        &[
            UA,
            JSON,
            ("X-Pelorus-Event", "deploytime"),
            ("X-Hub-Signature-256", &sig),
        ],
        pretty.as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());

    // Signature over the JSON re-serialised with other separators (Pelorus's best effort).
    let spaced = serde_json::to_string(&failure("created"))
        .expect("json")
        .replace(',', ", ")
        .replace("\":", "\": ");
    let compact_sig = hub_signature(SECRET, format!("{}\n", failure("created")).as_bytes());
    let r = g.post(
        "/pelorus/webhook",
        &[
            UA,
            JSON,
            ("X-Pelorus-Event", "failure"),
            ("X-Hub-Signature-256", &compact_sig),
        ],
        spaced.as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(
        g.metric(r#"hookgate_signature_failures_total{plugin="pelorus",reason="missing"}"#),
        Some(1.0)
    );
}

#[test]
fn every_field_rule_is_enforced_with_field_and_rule_named() {
    let g = gateway();
    let with = |base: Value, field: &str, value: Value| {
        let mut v = base;
        v[field] = value;
        v
    };
    let without = |base: Value, field: &str| {
        let mut v = base;
        v.as_object_mut().expect("object").remove(field);
        v
    };
    let cases = [
        (
            "committime",
            with(committime(), "app", json!("a".repeat(201))),
            "app",
            "at most 200 characters",
        ),
        (
            "committime",
            with(committime(), "namespace", json!("n".repeat(64))),
            "namespace",
            "at most 63 characters",
        ),
        (
            "committime",
            with(committime(), "image_sha", json!("sha256:xyz")),
            "image_sha",
            "does not match regex",
        ),
        (
            "committime",
            with(committime(), "image_sha", json!(IMAGE.to_uppercase())),
            "image_sha",
            "does not match regex",
        ),
        (
            "committime",
            with(committime(), "commit_hash", json!("5379bad6")),
            "commit_hash",
            "either 7 (short) or 40",
        ),
        (
            "committime",
            with(committime(), "commit_hash", json!("5379ba")),
            "commit_hash",
            "at least 7 characters",
        ),
        (
            "committime",
            with(committime(), "timestamp", json!(1262307660)),
            "timestamp",
            "greater than or equal to 1262307661",
        ),
        (
            "committime",
            with(committime(), "timestamp", json!(2840144462u64)),
            "timestamp",
            "less than or equal to 2840144461",
        ),
        (
            "committime",
            with(committime(), "timestamp", json!("yesterday")),
            "timestamp",
            "not a valid integer",
        ),
        (
            "committime",
            without(committime(), "commit_hash"),
            "commit_hash",
            "field required",
        ),
        (
            "committime",
            with(committime(), "app", Value::Null),
            "app",
            "none is not an allowed value",
        ),
        (
            "committime",
            with(committime(), "app", json!({"x": 1})),
            "app",
            "str type expected",
        ),
        (
            "deploytime",
            with(deploytime(), "timestamp", json!(now() - 31 * 60)),
            "timestamp",
            "older than 30 minutes",
        ),
        (
            "failure",
            with(failure("created"), "timestamp", json!(now() - 3600)),
            "timestamp",
            "older than 30 minutes",
        ),
        (
            "failure",
            with(failure("created"), "failure_event", json!("closed")),
            "failure_event",
            "'created', 'resolved'",
        ),
        (
            "failure",
            without(failure("created"), "failure_id"),
            "failure_id",
            "field required",
        ),
    ];
    for (event, body, field, rule) in cases {
        assert_invalid(&send(&g, event, &body, &[]), field, rule);
    }
    for bad in [&b"{not json"[..], b"[1, 2]"] {
        let r = g.post(
            "/pelorus/webhook",
            &[UA, JSON, ("X-Pelorus-Event", "committime")],
            bad,
        );
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(r.json()["detail"], "Invalid payload.");
    }
    assert_eq!(
        g.metric("webhook_processed_total"),
        None,
        "nothing was processed"
    );
}

#[test]
fn fields_coerce_like_the_exporter() {
    let g = gateway();
    let mut body = committime();
    body["timestamp"] = json!("1678105701");
    body["app"] = json!(42);
    assert_eq!(send(&g, "committime", &body, &[]).status, 202);
    let series = format!(
        r#"commit_timestamp{{app="/42/",commit_hash="{COMMIT}",image_sha="{IMAGE}",namespace="mongo-persistent"}}"#
    );
    assert_eq!(g.metric(&series), Some(1678105701.0));
}

#[test]
fn deliberate_differences_from_the_exporter() {
    let g = gateway();
    // An unknown path is 404 (the exporter answers 405).
    let r = g.post(
        "/webhook/pelorus",
        &[UA, JSON, ("X-Pelorus-Event", "ping")],
        b"{}",
    );
    assert_eq!(r.status, 404, "{}", r.text());
    // Chunked uploads are accepted (the exporter requires Content-Length).
    let body = committime().to_string();
    let chunked = format!(
        "POST /pelorus/webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\nUser-Agent: Pelorus-Webhook/test\r\n\
         Content-Type: application/json\r\nX-Pelorus-Event: committime\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let r = hookgate_e2e::exchange(g.addr, chunked.as_bytes());
    assert_eq!((r.status, r.text().as_str()), (202, RECEIVED));
}

/// The seed's four `curl` commands, run verbatim with real curl, then again with the secret
/// and signatures computed by the documented `echo -n $(cat f) | openssl` and `jq -c` ways.
#[test]
fn the_documented_curl_examples_work_verbatim() {
    let files = tempfile::tempdir().expect("tempdir");
    let now = now();
    let documents = [
        (
            "mongo_committime.json",
            "committime",
            format!(
                "{{\n  \"app\": \"mongo-todolist\",\n  \"commit_hash\": \"{COMMIT}\",\n  \"image_sha\": \"{IMAGE}\",\n  \"namespace\": \"mongo-persistent\",\n  \"timestamp\": 1678105701\n}}\n"
            ),
        ),
        (
            "mongo_deploytime.json",
            "deploytime",
            format!(
                "{{\n  \"app\": \"mongo-todolist\",\n  \"image_sha\": \"{IMAGE}\",\n  \"namespace\": \"mongo-persistent\",\n  \"timestamp\": {}\n}}\n",
                now - 600
            ),
        ),
        (
            "mongo_production_failure.json",
            "failure",
            format!(
                "{{\n  \"app\": \"mongo-todolist\",\n  \"failure_id\": \"MONGO-1\",\n  \"failure_event\": \"created\",\n  \"timestamp\": {}\n}}\n",
                now - 300
            ),
        ),
        (
            "mongo_production_failure_resolved.json",
            "failure",
            format!(
                "{{\n  \"app\": \"mongo-todolist\",\n  \"failure_id\": \"MONGO-1\",\n  \"failure_event\": \"resolved\",\n  \"timestamp\": {}\n}}\n",
                now - 60
            ),
        ),
    ];
    for (name, _, text) in &documents {
        std::fs::write(files.path().join(name), text).expect("write");
    }
    let curl = |g: &Gateway, event: &str, file: &str, signature: Option<&str>| {
        let mut script = format!(
            "curl -s -X POST http://{}/pelorus/webhook \
               -H \"User-Agent: Pelorus-Webhook/test\" \
               -H \"X-Pelorus-Event: {event}\" \
               -H \"Content-Type: application/json\" \
               -d @./{file}",
            g.addr
        );
        if let Some(method) = signature {
            script = format!(
                "export PELORUS_METRIC_FILE=\"./{file}\"; export SECRET_TOKEN=\"{SECRET}\"; \
                 SHA256_HASH_SIGNATURE=$({method} | openssl dgst -sha256 -hmac \"${{SECRET_TOKEN}}\" | cut -d ' ' -f 2); \
                 {script} -H \"X-Hub-Signature-256: sha256=${{SHA256_HASH_SIGNATURE}}\""
            );
        }
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(files.path())
            .output()
            .expect("bash and curl run");
        assert!(
            out.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let open = gateway();
    for (file, event, _) in &documents {
        assert_eq!(
            curl(&open, event, file, None),
            RECEIVED,
            "{file} without a secret"
        );
    }
    let signed = gateway_with_secret();
    for (file, event, _) in &documents {
        for method in [
            "echo -n $(cat \"${PELORUS_METRIC_FILE}\")",
            "jq -c \"\" \"${PELORUS_METRIC_FILE}\"",
        ] {
            assert_eq!(
                curl(&signed, event, file, Some(method)),
                RECEIVED,
                "{file} signed with {method}"
            );
        }
        let unsigned = curl(&signed, event, file, None);
        assert!(unsigned.contains("Non existing signature."), "{unsigned}");
    }
}
