//! Deliveries reach real receivers on loopback: retries, Retry-After, timeouts, 410, fan-out,
//! auth, signatures checked by an independent Standard Webhooks implementation, and nothing
//! lost across kill -9.

use hookgate_e2e::{Gateway, Options, Receiver, Reply};
use std::collections::HashSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SIGNING: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn target(name: &str, rx: &Receiver, extra: &str) -> String {
    format!(
        "[targets.{name}]\nurl = \"{}\"\nretries = 3\nbackoff = [\"100ms\"]\ntimeout = \"500ms\"\n\
         breaker = {{ after = 3, cooldown = \"100ms\" }}\n{extra}\n",
        rx.url("/hook")
    )
}

fn gateway(targets: String) -> Gateway {
    Gateway::start(Options {
        plugins: vec![("fixture-adversary", "adversary.wasm")],
        config: format!(
            "{targets}[admin]\nlisten = \"127.0.0.1:0\"\ntoken = {{ env = \"ADMIN_TOKEN\" }}\n"
        ),
        env: vec![
            ("RX_TOKEN", "t0ken".into()),
            ("RX_SIGNING", SIGNING.into()),
            ("RX_KEY", "k3y".into()),
            ("RX_PASSWORD", "pa55".into()),
            ("ADMIN_TOKEN", "admin-t0ken".into()),
        ],
    })
}

fn deliver(g: &Gateway, body: &str) {
    let r = g.post(
        "/hooks/adversary",
        &[("X-Mode", "deliver")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
}

fn deliveries(g: &Gateway, target: &str, result: &str) -> f64 {
    g.metric(&format!(
        r#"hookgate_deliveries_total{{result="{result}",target="{target}"}}"#
    ))
    .unwrap_or(0.0)
}

/// Verifies a received request with the `standardwebhooks` Python package.
fn verify_standard_webhooks(secret: &str, received: &hookgate_e2e::Received) -> Result<(), String> {
    let headers: serde_json::Value = received
        .headers
        .iter()
        .filter(|(k, _)| k.starts_with("webhook-"))
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let script = "import sys, json\nfrom standardwebhooks import Webhook\n\
                  secret, headers = sys.argv[1], json.loads(sys.argv[2])\n\
                  Webhook(secret).verify(sys.stdin.buffer.read(), headers)\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, secret, &headers.to_string()])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3: {e}"))?;
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &received.body)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn a_500_is_retried_and_the_signed_delivery_verifies_independently() {
    let rx = Receiver::start(vec![Reply::Status(500)]);
    let g = gateway(target(
        "rx",
        &rx,
        "auth = { type = \"bearer\", token = { env = \"RX_TOKEN\" } }\nsigning_secret = { env = \"RX_SIGNING\" }",
    ));
    deliver(&g, r#"{"alert":"disk full"}"#);
    assert!(rx.wait_for(2, WAIT), "retried after the 500: {}", g.logs());
    let got = rx.received();
    assert_eq!(got[0].body, br#"{"alert":"disk full"}"#);
    assert_eq!(got[0].header("authorization"), Some("Bearer t0ken"));
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert_eq!(
        got[0].header("webhook-id"),
        got[1].header("webhook-id"),
        "one id across attempts"
    );
    assert!(
        got[0]
            .header("webhook-id")
            .is_some_and(|id| id.starts_with("msg_"))
    );
    for attempt in &got {
        verify_standard_webhooks(SIGNING, attempt)
            .expect("standardwebhooks verifies the signature");
    }
    let mut forged = got[1].clone();
    forged.body = br#"{"alert":"all fine"}"#.to_vec();
    assert!(
        verify_standard_webhooks(SIGNING, &forged).is_err(),
        "the check can fail"
    );
    assert!(g.wait_until(WAIT, |g| deliveries(g, "rx", "delivered") == 1.0));
    assert_eq!(deliveries(&g, "rx", "retry"), 1.0);
}

#[test]
fn retry_after_is_waited_for() {
    let rx = Receiver::start(vec![Reply::RetryAfter(429, 1)]);
    let g = gateway(target("rx", &rx, ""));
    deliver(&g, "{}");
    assert!(rx.wait_for(2, WAIT), "{}", g.logs());
    let got = rx.received();
    let waited = got[1].at.duration_since(got[0].at);
    assert!(
        waited >= Duration::from_millis(900),
        "waited {waited:?}, not the 1 s asked (backoff is 100 ms)"
    );
}

#[test]
fn a_hanging_receiver_times_out_and_is_retried() {
    let rx = Receiver::start(vec![Reply::Hang(Duration::from_secs(3))]);
    let g = gateway(target("rx", &rx, ""));
    deliver(&g, "{}");
    assert!(rx.wait_for(2, WAIT), "{}", g.logs());
    assert!(g.wait_until(WAIT, |g| deliveries(g, "rx", "delivered") == 1.0));
    assert!(g.logs().contains("timed out"), "{}", g.logs());
}

#[test]
fn exhausted_retries_leave_the_delivery_dead() {
    let rx = Receiver::start(vec![Reply::Status(503); 4]);
    let g = gateway(target("rx", &rx, ""));
    deliver(&g, "{}");
    assert!(
        rx.wait_for(4, WAIT),
        "first attempt and three retries: {}",
        g.logs()
    );
    assert!(g.wait_until(WAIT, |g| deliveries(g, "rx", "dead") == 1.0));
    assert!(g.wait_until(
        WAIT,
        |g| g.metric(r#"hookgate_outbox_deliveries{state="dead"}"#) == Some(1.0)
    ));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.received().len(), 4, "no attempt after the last retry");
}

#[test]
fn gone_disables_the_target_until_it_is_resumed() {
    let rx = Receiver::start(vec![Reply::Status(410)]);
    let g = gateway(target("rx", &rx, ""));
    deliver(&g, r#"{"n":1}"#);
    assert!(
        g.wait_until(WAIT, |g| deliveries(g, "rx", "disabled") == 1.0),
        "{}",
        g.logs()
    );
    assert!(g.wait_until(WAIT, |g| {
        g.metric(r#"hookgate_target_state{state="disabled",target="rx"}"#) == Some(1.0)
    }));
    deliver(&g, r#"{"n":2}"#);
    assert!(g.wait_until(
        WAIT,
        |g| g.metric(r#"hookgate_outbox_deliveries{state="pending"}"#) == Some(1.0)
    ));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        rx.received().len(),
        1,
        "nothing more is sent to a target that said 410"
    );
    assert_eq!(
        g.admin("GET", "/api/targets/rx").json()["state"],
        "disabled"
    );
    // The operator resumes it: the held delivery goes out.
    assert_eq!(
        g.admin("POST", "/api/targets/rx/resume").json()["state"],
        "active"
    );
    assert!(rx.wait_for(2, WAIT), "{}", g.logs());
    assert_eq!(rx.received()[1].body, br#"{"n":2}"#);
}

#[test]
fn pause_holds_deliveries_and_resume_releases_them() {
    let rx = Receiver::start(vec![]);
    let g = gateway(target("rx", &rx, ""));
    assert_eq!(
        g.admin("POST", "/api/targets/rx/pause").json()["state"],
        "paused"
    );
    for i in 0..3 {
        deliver(&g, &format!(r#"{{"n":{i}}}"#));
    }
    std::thread::sleep(Duration::from_millis(600));
    assert!(rx.received().is_empty(), "paused: nothing is sent");
    let held = g
        .admin("GET", "/api/deliveries?state=pending&target=rx")
        .json();
    assert_eq!(held["deliveries"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        g.admin("POST", "/api/targets/rx/resume").json()["state"],
        "active"
    );
    assert!(rx.wait_for(3, WAIT), "{}", g.logs());
    let view = g.admin("GET", "/api/targets/rx").json();
    assert_eq!(view["stats"]["delivered"], 3);
    assert_eq!(view["stats"]["success_rate"], 1.0);
    assert_eq!(view["recent_attempts"].as_array().map(Vec::len), Some(3));
    assert_eq!(view["recent_attempts"][0]["status"], "success");
    assert_eq!(view["recent_attempts"][0]["http_status"], 200);
}

#[test]
fn send_test_goes_through_the_real_pipeline() {
    let rx = Receiver::start(vec![]);
    let g = gateway(target(
        "rx",
        &rx,
        "signing_secret = { env = \"RX_SIGNING\" }\nevents = [\"alert.*\"]",
    ));
    let sent = g.admin("POST", "/api/targets/rx/test").json();
    let id = sent["delivery"].as_str().expect("delivery id").to_string();
    assert!(rx.wait_for(1, WAIT), "{}", g.logs());
    let got = &rx.received()[0];
    assert_eq!(got.header("webhook-id"), Some(id.as_str()));
    verify_standard_webhooks(SIGNING, got).expect("the test delivery is signed like any other");
    assert!(g.wait_until(WAIT, |g| {
        g.admin("GET", "/api/targets/rx").json()["recent_attempts"][0]["delivery"] == id.as_str()
    }));
}

#[test]
fn dead_deliveries_can_be_replayed() {
    let rx = Receiver::start(vec![Reply::Status(500); 4]);
    let g = gateway(target("rx", &rx, ""));
    deliver(&g, r#"{"replay":"me"}"#);
    assert!(
        g.wait_until(WAIT, |g| deliveries(g, "rx", "dead") == 1.0),
        "{}",
        g.logs()
    );
    let dead = g.admin("GET", "/api/deliveries?state=dead").json();
    let id = dead["deliveries"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(dead["deliveries"][0]["last_error"], "HTTP 500");
    let r = g.admin("POST", &format!("/api/deliveries/{id}/replay"));
    assert_eq!(r.json()["replayed"], 1);
    assert!(rx.wait_for(5, WAIT), "{}", g.logs());
    assert!(g.wait_until(WAIT, |g| deliveries(g, "rx", "delivered") == 1.0));
    assert_eq!(
        rx.received()[4].header("webhook-id"),
        Some(id.as_str()),
        "same id on replay"
    );
    assert_eq!(
        g.admin("POST", &format!("/api/deliveries/{id}/replay"))
            .status,
        404,
        "no longer dead"
    );
    let view = g.admin("GET", "/api/targets/rx").json();
    assert_eq!(
        (
            view["stats"]["delivered"].clone(),
            view["stats"]["failed"].clone()
        ),
        (serde_json::json!(1), serde_json::json!(0))
    );
}

#[test]
fn the_admin_api_needs_the_token() {
    let rx = Receiver::start(vec![]);
    let g = gateway(target("rx", &rx, ""));
    let admin = g.admin.expect("admin");
    assert_eq!(
        hookgate_e2e::request(admin, "GET", "/api/targets", &[], b"").status,
        401
    );
    let wrong = hookgate_e2e::request(
        admin,
        "GET",
        "/api/targets",
        &[("Authorization", "Bearer nope")],
        b"",
    );
    assert_eq!(wrong.status, 403);
    let list = g.admin("GET", "/api/targets").json();
    assert_eq!(list["targets"][0]["name"], "rx");
    assert_eq!(list["targets"][0]["state"], "active");
    assert_eq!(g.admin("GET", "/api/targets/nope").status, 404);
    assert_eq!(g.admin("GET", "/api/deliveries?state=lost").status, 400);
}

#[test]
fn fan_out_follows_wildcard_subscriptions() {
    let (a, b, c) = (
        Receiver::start(vec![]),
        Receiver::start(vec![]),
        Receiver::start(vec![]),
    );
    let g = gateway(format!(
        "{}{}{}",
        target("a", &a, "events = [\"test.*\"]"),
        target("b", &b, "events = [\"*\"]"),
        target("c", &c, "events = [\"alert.*\", \"cluster.degraded\"]"),
    ));
    deliver(&g, r#"{"n":1}"#);
    assert!(a.wait_for(1, WAIT) && b.wait_for(1, WAIT), "{}", g.logs());
    assert_ne!(
        a.received()[0].header("webhook-id"),
        b.received()[0].header("webhook-id")
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(c.received().is_empty(), "c subscribes to other events");
}

#[test]
fn unsubscribed_events_are_counted_not_errors() {
    let rx = Receiver::start(vec![]);
    let g = gateway(target("rx", &rx, "events = [\"alert.*\"]"));
    deliver(&g, "{}");
    assert_eq!(
        g.metric(
            r#"hookgate_deliveries_unrouted_total{event_type="test.event",plugin="adversary"}"#
        ),
        Some(1.0)
    );
}

#[test]
fn api_key_and_basic_auth_arrive_as_configured() {
    let (k, b) = (Receiver::start(vec![]), Receiver::start(vec![]));
    let g = gateway(format!(
        "{}{}",
        target(
            "k",
            &k,
            "auth = { type = \"api-key\", header = \"X-Api-Key\", key = { env = \"RX_KEY\" } }\nheaders = { \"Content-Type\" = \"text/plain\", \"X-Extra\" = \"1\" }"
        ),
        target(
            "b",
            &b,
            "auth = { type = \"basic\", user = \"ops\", password = { env = \"RX_PASSWORD\" } }\nheaders = { \"Content-Type\" = \"\" }"
        ),
    ));
    deliver(&g, "{}");
    assert!(k.wait_for(1, WAIT) && b.wait_for(1, WAIT), "{}", g.logs());
    let (k, b) = (&k.received()[0], &b.received()[0]);
    assert_eq!(k.header("x-api-key"), Some("k3y"));
    assert_eq!(k.header("content-type"), Some("text/plain"));
    assert_eq!(k.header("x-extra"), Some("1"));
    assert_eq!(
        b.header("authorization"),
        Some("Basic b3BzOnBhNTU="),
        "base64 of ops:pa55"
    );
    assert_eq!(
        b.header("content-type"),
        None,
        "removed by configuring it empty"
    );
    assert!(!g.logs().contains("t0ken") && !g.logs().contains("pa55"));
}

#[test]
fn kill_9_with_deliveries_pending_loses_none() {
    kill_9_loses_none("");
}

#[test]
fn kill_9_loses_none_with_outbox_sync_normal() {
    // Written to the OS (not synced) before the answer: the process's death loses nothing.
    kill_9_loses_none("outbox_sync = \"normal\"\n");
}

/// Accepts 20 deliveries to a target that is down, kills the gateway with SIGKILL, restarts it
/// and brings the target up: all 20 arrive. `server` goes into the `[server]` section.
fn kill_9_loses_none(server: &str) {
    // A port with nobody listening yet: every attempt fails until the receiver comes up.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let config = format!(
        "{server}[targets.rx]\nurl = \"http://{port}/hook\"\nretries = 50\nbackoff = [\"200ms\"]\ntimeout = \"500ms\"\n\
         breaker = {{ after = 3, cooldown = \"200ms\" }}\n"
    );
    let mut g = gateway(config);
    // Four senders at once, so that group commits (paced ones too) take several requests.
    std::thread::scope(|s| {
        for sender in 0..4 {
            let g = &g;
            s.spawn(move || {
                for i in (sender * 5)..(sender * 5 + 5) {
                    deliver(g, &format!(r#"{{"n":{i}}}"#));
                }
            });
        }
    });
    g.kill9();
    let rx = Receiver::start_on(port, vec![]);
    let again = Gateway::restart(
        &g.dir.path().join("hookgate.toml"),
        &[("ADMIN_TOKEN", "admin-t0ken".into())],
    );
    let bodies = || {
        rx.received()
            .iter()
            .map(|r| r.body.clone())
            .collect::<HashSet<_>>()
    };
    assert!(
        again.wait_until(WAIT, |_| bodies().len() == 20),
        "all 20 accepted deliveries arrive after the crash: {} did; {}",
        bodies().len(),
        again.logs()
    );
    // Duplicates (sent before the crash, recorded after) carry the same webhook-id.
    let mut ids_by_body = std::collections::HashMap::new();
    for r in rx.received() {
        let id = r.header("webhook-id").expect("id").to_string();
        assert_eq!(
            ids_by_body
                .entry(r.body.clone())
                .or_insert_with(|| id.clone()),
            &id
        );
    }
}

#[test]
fn a_rate_limit_spaces_attempts() {
    let rx = Receiver::start(vec![]);
    let g = gateway(target("rx", &rx, "rate_limit = \"2/s\""));
    for i in 0..4 {
        deliver(&g, &format!(r#"{{"n":{i}}}"#));
    }
    assert!(rx.wait_for(4, WAIT), "{}", g.logs());
    let got = rx.received();
    let spread = got[3].at.duration_since(got[0].at);
    assert!(
        spread >= Duration::from_millis(1400),
        "4 deliveries at 2/s took {spread:?}"
    );
}

#[test]
fn a_template_renders_the_targets_format() {
    let rx = Receiver::start(vec![]);
    let template =
        r#"template = '{"text": "{{ event_type }}: {{ body.alert }}", "id": "{{ id }}"}'"#;
    let g = gateway(target("slack", &rx, template));
    deliver(&g, r#"{"alert":"disk full"}"#);
    assert!(rx.wait_for(1, WAIT), "{}", g.logs());
    let got = &rx.received()[0];
    let body: serde_json::Value = serde_json::from_slice(&got.body).expect("rendered JSON");
    assert_eq!(body["text"], "test.event: disk full");
    assert_eq!(body["id"].as_str(), got.header("webhook-id"));
}

#[test]
fn a_target_can_start_paused() {
    let rx = Receiver::start(vec![]);
    let g = gateway(target("rx", &rx, "state = \"paused\""));
    assert_eq!(g.admin("GET", "/api/targets/rx").json()["state"], "paused");
    deliver(&g, "{}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(rx.received().is_empty());
    g.admin("POST", "/api/targets/rx/resume");
    assert!(rx.wait_for(1, WAIT), "{}", g.logs());
}

/// An HTTPS receiver with a self-signed certificate (openssl + Python's ssl module).
struct TlsReceiver {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsReceiver {
    fn start() -> TlsReceiver {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key, log) = (
            dir.path().join("c.pem"),
            dir.path().join("k.pem"),
            dir.path().join("got"),
        );
        let made = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
            ])
            .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl runs");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let script = "import http.server, ssl, sys\n\
            class H(http.server.BaseHTTPRequestHandler):\n\
            \x20   def do_POST(self):\n\
            \x20       self.rfile.read(int(self.headers.get('content-length', 0)))\n\
            \x20       open(sys.argv[3], 'a').write('got\\n')\n\
            \x20       self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')\n\
            \x20   def log_message(self, *a): pass\n\
            s = http.server.HTTPServer(('127.0.0.1', 0), H)\n\
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n\
            s.socket = ctx.wrap_socket(s.socket, server_side=True)\n\
            print(s.server_address[1], flush=True)\n\
            s.serve_forever()\n";
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .args([&cert, &key, &log])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("port");
        let port = line.trim().parse().expect("port number");
        TlsReceiver {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    fn received(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for TlsReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_self_signed_certificate_is_refused_unless_verification_is_off() {
    let tls = TlsReceiver::start();
    let url = format!("https://127.0.0.1:{}/hook", tls.port);
    let g = gateway(format!(
        "[targets.strict]\nurl = \"{url}\"\nretries = 0\n\n[targets.lax]\nurl = \"{url}\"\nretries = 0\nverify_tls = false\n"
    ));
    deliver(&g, "{}");
    assert!(
        g.wait_until(WAIT, |g| deliveries(g, "lax", "delivered") == 1.0),
        "{}",
        g.logs()
    );
    assert!(
        g.wait_until(WAIT, |g| deliveries(g, "strict", "dead") == 1.0),
        "{}",
        g.logs()
    );
    assert_eq!(
        tls.received(),
        1,
        "only the target that skips verification got through"
    );
    let strict = g.admin("GET", "/api/targets/strict").json();
    let error = strict["recent_attempts"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
}

#[test]
fn a_receiver_that_keeps_failing_opens_the_circuit() {
    let down = Receiver::start(vec![Reply::Status(500); 100]);
    let up = Receiver::start(vec![]);
    let g = gateway(format!(
        "[targets.down]\nurl = \"{}\"\nretries = 50\nbackoff = [\"10ms\"]\n\
         breaker = {{ after = 3, cooldown = \"1h\" }}\n\n\
         [targets.up]\nurl = \"{}\"\nevents = [\"nothing\"]\n",
        down.url("/hook"),
        up.url("/hook")
    ));
    deliver(&g, "{}");
    assert!(down.wait_for(3, WAIT), "{}", g.logs());
    assert!(g.wait_until(WAIT, |g| {
        g.admin("GET", "/api/targets/down").json()["circuit"]["open"] == true
    }));
    assert!(g.wait_for_log("circuit open", WAIT), "{}", g.logs());
    // Each test delivery to the healthy target is a worker pass in which the held
    // delivery, due again 10 ms after its last failure, would have gone out.
    for n in 1..=3 {
        g.admin("POST", "/api/targets/up/test");
        assert!(up.wait_for(n, WAIT), "{}", g.logs());
    }
    assert_eq!(down.received().len(), 3, "held while the circuit is open");
    let view = g.admin("GET", "/api/targets/down").json();
    assert_eq!(view["state"], "degraded");
    assert_eq!(view["stats"]["pending"], 1);
    assert!(view["circuit"]["next_probe_in_ms"].as_u64() > Some(60_000));
    assert!(g.wait_until(WAIT, |g| {
        g.metric(r#"hookgate_target_state{state="degraded",target="down"}"#) == Some(1.0)
    }));
    assert_eq!(
        g.admin("GET", "/api/targets/up").json()["circuit"]["open"],
        false
    );
}

#[test]
fn the_circuit_probes_after_its_cooldown_and_closes_on_success() {
    let rx = Receiver::start(vec![Reply::Status(503); 3]);
    let g = gateway(target("rx", &rx, ""));
    deliver(&g, r#"{"n":1}"#);
    assert!(g.wait_for_log("circuit open", WAIT), "{}", g.logs());
    assert!(g.wait_for_log("circuit closed", WAIT), "{}", g.logs());
    assert!(g.wait_until(WAIT, |g| deliveries(g, "rx", "delivered") == 1.0));
    let view = g.admin("GET", "/api/targets/rx").json();
    assert_eq!(view["state"], "active");
    assert_eq!(view["circuit"]["open"], false);
}

#[test]
fn a_generated_secret_signs_survives_restarts_and_rotates_with_a_window() {
    let rx = Receiver::start(vec![]);
    let mut g = gateway(target("rx", &rx, "signing_secret = \"generate\""));
    let secrets = |g: &Gateway| g.admin("GET", "/api/targets/rx/secret").json();
    let first = secrets(&g);
    assert_eq!(first["source"], "generated");
    let old = first["secrets"][0]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert!(old.starts_with("whsec_"), "{first}");
    deliver(&g, r#"{"n":1}"#);
    assert!(rx.wait_for(1, WAIT), "{}", g.logs());
    verify_standard_webhooks(&old, &rx.received()[0]).expect("signed with the generated secret");

    g.kill9();
    let g = Gateway::restart(
        &g.dir.path().join("hookgate.toml"),
        &[("ADMIN_TOKEN", "admin-t0ken".into())],
    );
    assert_eq!(
        secrets(&g)["secrets"][0]["secret"],
        old.as_str(),
        "kept across restarts"
    );

    let rotated = g.admin_with(
        "POST",
        "/api/targets/rx/secret/rotate",
        br#"{"grace":"1h"}"#,
    );
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let rotated = rotated.json();
    let new = rotated["secrets"][0]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert_ne!(new, old);
    assert_eq!(rotated["secrets"][1]["secret"], old.as_str());
    assert!(rotated["secrets"][0]["expires_ms"].is_null());
    deliver(&g, r#"{"n":2}"#);
    assert!(rx.wait_for(2, WAIT), "{}", g.logs());
    let during = &rx.received()[1];
    assert_eq!(
        during
            .header("webhook-signature")
            .map(|s| s.split(' ').count()),
        Some(2),
        "both signatures during the window"
    );
    verify_standard_webhooks(&new, during).expect("receivers with the new secret accept it");
    verify_standard_webhooks(&old, during).expect("receivers with the old secret still accept it");

    // A rotation with no window: only the newest secret signs.
    let newest = g
        .admin_with(
            "POST",
            "/api/targets/rx/secret/rotate",
            br#"{"grace":"0s"}"#,
        )
        .json();
    let newest = newest["secrets"][0]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    deliver(&g, r#"{"n":3}"#);
    assert!(rx.wait_for(3, WAIT), "{}", g.logs());
    let after = &rx.received()[2];
    verify_standard_webhooks(&newest, after).expect("the newest secret");
    assert!(
        verify_standard_webhooks(&new, after).is_err(),
        "the one rotated out"
    );
}

#[test]
fn rotation_explains_what_it_cannot_do() {
    let rx = Receiver::start(vec![]);
    let g = gateway(format!(
        "{}{}",
        target(
            "configured",
            &rx,
            "signing_secret = { env = \"RX_SIGNING\" }"
        ),
        target("plain", &rx, "")
    ));
    let r = g.admin_with("POST", "/api/targets/configured/secret/rotate", b"");
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("config"))
    );
    assert_eq!(
        g.admin("GET", "/api/targets/configured/secret").json()["secrets"][0]["secret"],
        SIGNING
    );
    assert_eq!(g.admin("GET", "/api/targets/plain/secret").status, 404);
    let r = g.admin_with(
        "POST",
        "/api/targets/configured/secret/rotate",
        br#"{"grace":"soon"}"#,
    );
    assert_eq!(r.status, 400, "{}", r.text());
}

#[test]
fn schedules_send_their_templated_body_on_time() {
    let rx = Receiver::start(vec![]);
    let g = gateway(format!(
        "{}[[schedules]]\nname = \"heartbeat\"\ncron = \"* * * * * *\"\ntarget = \"rx\"\n\
         body = '{{\"text\": \"{{{{ name }}}} at {{{{ now }}}}\", \"ms\": {{{{ now_ms }}}}}}'\n",
        target("rx", &rx, "signing_secret = { env = \"RX_SIGNING\" }")
    ));
    assert!(rx.wait_for(2, WAIT), "{}", g.logs());
    let got = rx.received();
    let bodies: Vec<serde_json::Value> = got[..2]
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("the rendered body is JSON"))
        .collect();
    for b in &bodies {
        let text = b["text"].as_str().expect("text");
        assert!(text.starts_with("heartbeat at 20"), "{text}");
        assert_eq!(
            b["ms"].as_i64().map(|ms| ms % 1000),
            Some(0),
            "on the second: {b}"
        );
    }
    assert!(bodies[1]["ms"].as_i64() > bodies[0]["ms"].as_i64());
    assert_ne!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    verify_standard_webhooks(SIGNING, &got[0]).expect("signed like any delivery");
    let listed = g.admin("GET", "/api/deliveries?target=rx").json();
    assert_eq!(listed["deliveries"][0]["event_type"], "schedule.heartbeat");
    assert_eq!(listed["deliveries"][0]["plugin"], "(schedule)");
}

#[test]
fn finished_deliveries_past_the_retention_are_pruned_and_pending_ones_kept() {
    let rx = Receiver::start(vec![]);
    // A retention of 0 s: everything finished before a start is past it.
    let mut g = gateway(format!("retention = \"0s\"\n{}", target("rx", &rx, "")));
    deliver(&g, r#"{"n":1}"#);
    deliver(&g, r#"{"n":2}"#);
    assert!(g.wait_until(WAIT, |g| deliveries(g, "rx", "delivered") == 2.0));
    g.admin("POST", "/api/targets/rx/pause");
    deliver(&g, r#"{"n":3}"#);
    g.terminate();
    assert_eq!(g.wait(WAIT), Some(0), "{}", g.logs());
    let again = Gateway::restart(
        &g.dir.path().join("hookgate.toml"),
        &[("ADMIN_TOKEN", "admin-t0ken".into())],
    );
    assert!(
        again.wait_for_log("pruned the outbox", WAIT),
        "{}",
        again.logs()
    );
    let left = again.admin("GET", "/api/deliveries?target=rx").json();
    let left = left["deliveries"].as_array().expect("deliveries").clone();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["state"], "pending", "the held delivery is kept");
    assert!(again.wait_until(WAIT, |g| {
        g.metric(r#"hookgate_outbox_deliveries{state="delivered"}"#) == Some(0.0)
            && g.metric(r#"hookgate_outbox_deliveries{state="pending"}"#) == Some(1.0)
    }));
    assert_eq!(
        again.admin("GET", "/api/targets/rx").json()["recent_attempts"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}
