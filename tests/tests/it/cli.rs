//! The offline commands: plugin inspect, plugin run, sign, config check.

use hookgate_e2e::{hookgate_bin, hub_signature, wasm};
use std::process::Command;

fn hookgate(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(hookgate_bin())
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inspect_prints_the_manifest() {
    let file = wasm("pelorus");
    let (ok, out, err) = hookgate(&["plugin", "inspect", file.to_str().expect("utf8")], &[]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["name"], "pelorus");
    assert_eq!(json["routes"]["hooks"], "/hooks/pelorus");
    assert_eq!(json["manifest"]["name"], "pelorus");
    assert_eq!(json["manifest"]["paths"][0], "/pelorus/webhook");
    assert_eq!(json["manifest"]["scheme"], "hub-sha256-json");
    assert_eq!(json["sha256"].as_str().map(str::len), Some(64));
}

#[test]
fn run_executes_one_request_offline() {
    let file = wasm("pelorus");
    let dir = tempfile::tempdir().expect("tempdir");
    let body = dir.path().join("body.json");
    std::fs::write(
        &body,
        format!(
            r#"{{"app":"a","commit_hash":"abcdef0","image_sha":"sha256:{}","namespace":"n","timestamp":1678105701}}"#,
            "b".repeat(64)
        ),
    )
    .expect("write");
    let body_arg = format!("@{}", body.display());
    let (ok, out, err) = hookgate(
        &[
            "plugin",
            "run",
            file.to_str().expect("utf8"),
            "--header",
            "X-Pelorus-Event: committime",
            "--body",
            &body_arg,
        ],
        &[],
    );
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["accepted"], true);
    assert_eq!(json["status"], 202);
    assert_eq!(json["samples"][0]["family"], "commit_timestamp");
    assert_eq!(json["samples"][0]["label_values"][0], "/a/");

    let (ok, out, _) = hookgate(
        &[
            "plugin",
            "run",
            file.to_str().expect("utf8"),
            "--header",
            "X-Pelorus-Event: nope",
        ],
        &[],
    );
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (json["accepted"].clone(), json["status"].clone()),
        (serde_json::json!(false), serde_json::json!(400))
    );
}

#[test]
fn sign_prints_the_header_a_sender_sends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("event.json");
    std::fs::write(&file, b"{\"a\": 1}\n").expect("write");
    let (ok, out, err) = hookgate(
        &[
            "sign",
            "--secret-env",
            "MY_SECRET",
            file.to_str().expect("utf8"),
        ],
        &[("MY_SECRET", "s3")],
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        format!(
            "X-Hub-Signature-256: {}",
            hub_signature("s3", b"{\"a\": 1}\n")
        )
    );
}

#[test]
fn config_check_names_the_bad_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("hookgate.toml");
    std::fs::write(&file, "[plugins.pelorus]\ntimeout = \"soon\"\n").expect("write");
    let (ok, _, err) = hookgate(&["config", "check", file.to_str().expect("utf8")], &[]);
    assert!(!ok);
    assert!(err.contains("plugins.pelorus.timeout"), "{err}");
    std::fs::write(
        &file,
        "[server]\nlisten = \"127.0.0.1:9000\"\n[limits]\ntimeout = \"50ms\"\n",
    )
    .expect("write");
    let (ok, out, err) = hookgate(&["config", "check", file.to_str().expect("utf8")], &[]);
    assert!(ok, "{err}");
    assert!(out.contains(": ok"));
}
