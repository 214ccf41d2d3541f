//! The gcm plugin on the records GCM's webhook sink posts: device metrics (flattened) and
//! Slurm / health-check logs.

use gcm::Gcm;
use hookgate_plugin_sdk::prelude::*;
use hookgate_plugin_sdk::testing;

fn post(path: &str, body: &str) -> Request {
    Request::post(path)
        .with_header("Content-Type", "application/json")
        .with_body(body.as_bytes().to_vec())
}

/// Two GPUs of one node, as GCM's NVML collector reports them.
const DEVICES: &str = r#"[
  {"hostname": "node-17", "gpu_index": 0, "job_id": 4242, "gpu_util": 87.0, "mem_used_percent": 41.5,
   "temperature": 64, "power": {"draw": 301.2, "limit": 400}, "ts": 1763870000, "model": "H100"},
  {"hostname": "node-17", "gpu_index": 1, "job_id": null, "gpu_util": 0, "mem_used_percent": 0.3,
   "temperature": 33, "power": {"draw": 71.9, "limit": 400}, "ts": 1763870000, "model": "H100"}
]"#;

#[test]
fn numeric_fields_become_gauges_labelled_by_the_listed_fields() {
    let out = testing::call::<Gcm>(
        post("/gcm/metrics", DEVICES)
            .with_setting("labels", "hostname, gpu_index,job_id")
            .with_setting("skip", "ts"),
    )
    .expect("accepted");
    assert_eq!(out.response.status, 200);
    assert_eq!(out.body_text(), r#"{"accepted":2}"#);
    let set = |field: &str, gpu: &str, job: &str, v: f64| {
        Sample::set("gcm_value", [field, "node-17", gpu, job], v)
    };
    for want in [
        set("gpu_util", "0", "4242", 87.0),
        set("mem_used_percent", "0", "4242", 41.5),
        set("temperature", "0", "4242", 64.0),
        set("power.draw", "0", "4242", 301.2),
        set("power.limit", "0", "4242", 400.0),
        // A null label field is an empty label value, as Prometheus treats a missing label.
        set("gpu_util", "1", "", 0.0),
        set("power.draw", "1", "", 71.9),
    ] {
        assert!(
            out.samples.contains(&want),
            "missing {want:?} in {:?}",
            out.samples
        );
    }
    let fields: Vec<&str> = out
        .samples
        .iter()
        .filter(|s| s.family == "gcm_value")
        .map(|s| s.label_values[0].as_str())
        .collect();
    assert!(!fields.contains(&"ts"), "skipped");
    assert!(
        !fields.contains(&"gpu_index"),
        "a label is not also a gauge"
    );
    assert!(!fields.contains(&"model"), "strings are not gauges");
    assert_eq!(fields.len(), 10, "five numeric fields per record");
    assert!(out.samples.contains(&Sample::add(
        "gcm_metric_records_total",
        Vec::<String>::new(),
        2.0
    )));
}

#[test]
fn without_label_settings_each_field_is_one_series() {
    let out = testing::call::<Gcm>(post("/gcm/metrics", r#"[{"cpu_load": 1.5}]"#)).expect("ok");
    assert!(
        out.samples
            .contains(&Sample::set("gcm_value", ["cpu_load"], 1.5))
    );
}

#[test]
fn log_records_are_counted_by_their_type() {
    // Health-check results and Slurm job records, None fields already dropped by GCM.
    let logs = r#"[
      {"type": "health_check", "check": "check-nvidia-smi", "node": "node-17", "result": "OK"},
      {"type": "health_check", "check": "gpu-temperature", "node": "node-17", "result": "WARN"},
      {"type": "slurm_job", "job_id": 4242, "state": "RUNNING", "partition": "train"},
      {"message": "no type here"}
    ]"#;
    let out = testing::call::<Gcm>(post("/gcm/logs", logs)).expect("accepted");
    assert_eq!(out.body_text(), r#"{"accepted":4}"#);
    assert_eq!(
        out.samples,
        vec![
            Sample::add("gcm_log_records_total", ["health_check"], 2.0),
            Sample::add("gcm_log_records_total", ["slurm_job"], 1.0),
            Sample::add("gcm_log_records_total", ["unknown"], 1.0),
        ]
    );
    // Another field, or the URL, names the type.
    let by_field = testing::call::<Gcm>(
        post("/gcm/logs", r#"[{"collector": "sdiag"}]"#).with_setting("type_field", "collector"),
    )
    .expect("ok");
    assert_eq!(
        by_field.samples,
        vec![Sample::add("gcm_log_records_total", ["sdiag"], 1.0)]
    );
    let mut by_query = post("/gcm/logs", r#"[{"type": "ignored"}, {}]"#);
    by_query.query = "type=slurm_node".into();
    let out = testing::call::<Gcm>(by_query).expect("ok");
    assert_eq!(
        out.samples,
        vec![Sample::add("gcm_log_records_total", ["slurm_node"], 2.0)]
    );
}

#[test]
fn bad_bodies_are_refused_with_the_reason() {
    let refused =
        |path: &str, body: &str| testing::call::<Gcm>(post(path, body)).expect_err("refused");
    let r = refused("/gcm/metrics", r#"{"gpu_util": 1}"#);
    assert_eq!(
        (r.status, r.message.as_str()),
        (422, "body must be a JSON array of records")
    );
    let r = refused("/gcm/metrics", r#"[{"a": 1}, 7]"#);
    assert_eq!(r.status, 422);
    assert_eq!(r.message, "record [1] must be an object, not a number");
    let r = refused("/gcm/logs", r#"[{"type": 3}]"#);
    assert_eq!(
        r.message,
        "record [0]: field 'type' must be a string (the log type), not a number"
    );
    assert_eq!(refused("/gcm/logs", "not json").status, 400);
    assert_eq!(refused("/hooks/gcm", "[]").status, 400);
    // An empty batch is fine and changes nothing.
    let out = testing::call::<Gcm>(post("/gcm/metrics", "[]")).expect("ok");
    assert!(out.samples.is_empty());
}
