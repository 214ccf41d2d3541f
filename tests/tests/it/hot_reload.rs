//! Dropping `.wasm` files into the plugins folder of a running gateway.

use hookgate_e2e::{Gateway, Options, versioned, wasm};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn gateway(plugins: Vec<(&'static str, &'static str)>) -> Gateway {
    Gateway::start(Options {
        plugins,
        ..Options::default()
    })
}

fn reloads(g: &Gateway, plugin: &str, result: &str) -> f64 {
    g.metric(&format!(
        r#"hookgate_plugin_reloads_total{{plugin="{plugin}",result="{result}"}}"#
    ))
    .unwrap_or(0.0)
}

#[test]
fn swaps_under_load_fail_no_request() {
    let g = gateway(vec![("versioned-v1", "versioned.wasm")]);
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (addr, stop) = (g.addr, stop.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                // Bounded: at most 60 s or 20,000 requests per worker.
                let started = std::time::Instant::now();
                while !stop.load(Ordering::Relaxed)
                    && started.elapsed() < Duration::from_secs(60)
                    && seen.len() < 20_000
                {
                    let r = hookgate_e2e::request(addr, "POST", "/hooks/versioned", &[], b"");
                    seen.push((r.status, r.text()));
                }
                seen
            })
        })
        .collect();
    for version in [2u8, 1, 2, 1, 2] {
        g.install(&versioned(version), "versioned.wasm");
        let want = format!("{version}.0.0");
        assert!(
            g.wait_until(WAIT, |g| g.plugin_version("versioned").as_deref()
                == Some(want.as_str())),
            "version {want} went live: {}",
            g.logs()
        );
        assert_eq!(
            g.post("/hooks/versioned", &[], b"").text(),
            want,
            "answers come from the new version"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<(u16, String)> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    assert!(seen.len() > 20, "load ran: {} requests", seen.len());
    let failed: Vec<_> = seen.iter().filter(|(status, _)| *status != 200).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}",
        failed.len(),
        seen.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(
        seen.iter()
            .all(|(_, body)| body == "1.0.0" || body == "2.0.0")
    );
    assert!(
        seen.iter().any(|(_, body)| body == "2.0.0")
            && seen.iter().any(|(_, body)| body == "1.0.0")
    );
    // Both versions declare the same families: the series carried across every swap.
    let total = g
        .metric(r#"versioned_calls_total{version="1.0.0"}"#)
        .unwrap_or(0.0)
        + g.metric(r#"versioned_calls_total{version="2.0.0"}"#)
            .unwrap_or(0.0);
    assert_eq!(total as usize, seen.len() + 5);
    assert_eq!(
        reloads(&g, "versioned", "loaded"),
        6.0,
        "start + five swaps"
    );
}

#[test]
fn broken_versions_keep_the_old_one_serving() {
    let g = gateway(vec![
        ("versioned-v1", "versioned.wasm"),
        ("pelorus", "pelorus.wasm"),
    ]);
    let serving_v1 = |g: &Gateway| g.post("/hooks/versioned", &[], b"").text() == "1.0.0";

    // 1. Not a wasm component at all.
    let junk = g.dir.path().join("junk");
    std::fs::write(&junk, b"\0asm but not really a component").expect("write");
    g.install(&junk, "versioned.wasm");
    assert!(
        g.wait_until(WAIT, |g| reloads(g, "versioned", "error") >= 1.0),
        "{}",
        g.logs()
    );
    assert!(g.logs().contains("not loaded") && g.logs().contains("previous version keeps serving"));
    assert!(serving_v1(&g));

    // 2. A manifest that clashes with another plugin (a metric family Pelorus owns).
    g.install(&wasm("fixture-clash"), "versioned.wasm");
    assert!(
        g.wait_until(WAIT, |g| reloads(g, "versioned", "error") >= 2.0),
        "{}",
        g.logs()
    );
    assert!(g.wait_for_log("already registered by plugin 'pelorus'", WAIT));
    assert!(serving_v1(&g));

    // 3. A version whose own examples fail.
    let examples = g.plugins_dir().join("versioned.examples.json");
    std::fs::write(
        &examples,
        r#"[{"name": "answers 299", "expect_status": 299}]"#,
    )
    .expect("write");
    g.install(&versioned(2), "versioned.wasm");
    assert!(
        g.wait_until(WAIT, |g| reloads(g, "versioned", "error") >= 3.0),
        "{}",
        g.logs()
    );
    assert!(g.wait_for_log(
        "example 'answers 299' failed: status 200, expected 299",
        WAIT
    ));
    assert!(serving_v1(&g));
    let report = g.plugins();
    let status = report["files"]
        .as_array()
        .and_then(|f| {
            f.iter().find(|f| {
                f["file"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("versioned.wasm"))
            })
        })
        .map(|f| f["status"].clone())
        .expect("status of versioned.wasm");
    assert_eq!(status["result"], "error");
    assert!(
        status["error"]
            .as_str()
            .is_some_and(|e| e.contains("answers 299")),
        "{status}"
    );

    // Fixed examples: the same version now goes live.
    std::fs::write(
        &examples,
        r#"[{"name": "answers", "expect_status": 200, "expect_body_contains": "2.0.0"}]"#,
    )
    .expect("write");
    g.install(&versioned(2), "versioned.wasm");
    assert!(
        g.wait_until(WAIT, |g| g.plugin_version("versioned").as_deref()
            == Some("2.0.0")),
        "{}",
        g.logs()
    );
}

#[test]
fn a_removed_file_unloads_its_routes() {
    let g = gateway(vec![
        ("versioned-v1", "versioned.wasm"),
        ("minimal", "minimal.wasm"),
    ]);
    assert_eq!(g.post("/hooks/versioned", &[], b"").status, 200);
    std::fs::remove_file(g.plugins_dir().join("versioned.wasm")).expect("remove");
    assert!(
        g.wait_until(WAIT, |g| g.post("/hooks/versioned", &[], b"").status == 404),
        "{}",
        g.logs()
    );
    assert_eq!(reloads(&g, "versioned", "removed"), 1.0);
    assert_eq!(g.metric("hookgate_plugins_loaded"), Some(1.0));
    assert_eq!(
        g.post("/hooks/minimal", &[("X-Event", "e")], b"").status,
        200
    );
}

#[test]
fn new_files_load_by_mv_and_by_a_slow_cp() {
    let g = gateway(vec![]);
    // mv: copied beside the folder's *.wasm pattern, then renamed in one step.
    g.install(&versioned(1), "versioned.wasm");
    assert!(
        g.wait_until(WAIT, |g| g.post("/hooks/versioned", &[], b"").text()
            == "1.0.0"),
        "{}",
        g.logs()
    );
    // Slow cp: written in place, in chunks, over about a second.
    let bytes = std::fs::read(wasm("minimal")).expect("read");
    let target = g.plugins_dir().join("minimal.wasm");
    let mut file = std::fs::File::create(&target).expect("create");
    for chunk in bytes.chunks(bytes.len() / 10 + 1) {
        std::io::Write::write_all(&mut file, chunk).expect("write");
        std::io::Write::flush(&mut file).expect("flush");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(file);
    assert!(
        g.wait_until(WAIT, |g| g
            .post("/hooks/minimal", &[("X-Event", "e")], b"")
            .status
            == 200),
        "{}",
        g.logs()
    );
    assert_eq!(reloads(&g, "minimal", "loaded"), 1.0, "loaded once, whole");
}

#[test]
fn config_changes_apply_without_restart() {
    let g = gateway(vec![("pelorus", "pelorus.wasm")]);
    let ping = |g: &Gateway| {
        g.post(
            "/pelorus/webhook",
            &[
                ("User-Agent", "Pelorus-Webhook/x"),
                ("X-Pelorus-Event", "ping"),
            ],
            b"{}",
        )
    };
    assert_eq!(ping(&g).status, 200);
    let secret = g.dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").expect("write");
    let config = g.dir.path().join("hookgate.toml");
    let mut text = std::fs::read_to_string(&config).expect("read");
    text.push_str(&format!(
        "[plugins.pelorus]\nsecret = {{ file = {:?} }}\n",
        secret.display().to_string()
    ));
    std::fs::write(&config, text).expect("write");
    assert!(
        g.wait_until(WAIT, |g| ping(g).status == 400),
        "{}",
        g.logs()
    );
    assert_eq!(ping(&g).json()["detail"], "Non existing signature.");
    // A broken config is refused and the last good one stays.
    std::fs::write(&config, "[server]\nbogus = 1\n").expect("write");
    assert!(g.wait_for_log("config not reloaded", WAIT), "{}", g.logs());
    assert!(g.logs().contains("server.bogus"));
    assert_eq!(ping(&g).status, 400);
}

#[test]
fn restarts_reuse_the_compile_cache_and_rebuild_a_corrupt_entry() {
    let mut g = gateway(vec![("pelorus", "pelorus.wasm")]);
    let cache = g.dir.path().join("cache");
    let entries: Vec<_> = std::fs::read_dir(&cache)
        .expect("cache written")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "one compiled artifact for one plugin");
    // Corrupt it, restart on the same folder: the entry is refused, rebuilt, and pelorus serves.
    std::fs::write(&entries[0], b"not a compiled component").expect("corrupt");
    g.terminate();
    assert_eq!(g.wait(Duration::from_secs(15)), Some(0));
    let config = g.dir.path().join("hookgate.toml");
    let again = Gateway::restart(&config, &[]);
    assert!(
        again.wait_for_log("ignoring cache entry", WAIT),
        "{}",
        again.logs()
    );
    let r = again.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "Pelorus-Webhook/x"),
            ("X-Pelorus-Event", "ping"),
        ],
        b"{}",
    );
    assert_eq!(r.status, 200);
    let rebuilt = std::fs::read(&entries[0]).expect("rebuilt");
    assert_ne!(rebuilt, b"not a compiled component");
}

#[test]
fn the_plugins_endpoint_describes_what_is_loaded() {
    let g = gateway(vec![("pelorus", "pelorus.wasm")]);
    g.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "Pelorus-Webhook/x"),
            ("X-Pelorus-Event", "ping"),
        ],
        b"{}",
    );
    let report = g.plugins();
    let p = &report["plugins"][0];
    assert_eq!(p["name"], "pelorus");
    assert_eq!(p["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(p["routes"]["paths"][0], "/pelorus/webhook");
    assert_eq!(p["routes"]["user_agent_prefixes"][0], "Pelorus-Webhook/");
    assert_eq!(p["invocations"], 1);
    assert_eq!(p["errors"], 0);
    assert_eq!(p["last_reload"]["result"], "loaded");
    assert!(p["loaded_at"].as_u64().is_some_and(|t| t > 1_700_000_000));
}

#[test]
fn sighup_reloads_and_does_not_stop_the_gateway() {
    let g = gateway(vec![("minimal", "minimal.wasm")]);
    let pid = libc::pid_t::try_from(g.pid()).expect("pid fits");
    // SAFETY: kill(2) on the child this test started.
    unsafe {
        libc::kill(pid, libc::SIGHUP);
    }
    assert!(g.wait_for_log("SIGHUP: reloading", WAIT), "{}", g.logs());
    assert_eq!(g.get("/healthz").status, 200);
    assert_eq!(
        g.post("/hooks/minimal", &[("X-Event", "e")], b"").status,
        200
    );
}
