//! The admin web page in Debian's headless Chromium, driven over WebDriver, against the real
//! binary with real deliveries: log in, watch statistics, pause and activate a target, send a
//! test, reveal and rotate a secret, replay dead deliveries, and see a hot swap in the plugins
//! view. Screenshots of each view go to target/test-output/admin-page/.

use hookgate_e2e::{Browser, Gateway, Options, Receiver, Reply, request, versioned};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "admin-t0ken";

/// `orders` takes every order event and signs with a generated secret; `audit` takes refunds
/// and always fails (one retry, no breaker), so its deliveries end up dead.
fn gateway(orders: &Receiver, audit: &Receiver) -> Gateway {
    Gateway::start(Options {
        plugins: vec![("relay", "relay.wasm"), ("versioned-v1", "versioned.wasm")],
        config: format!(
            "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = {{ env = \"ADMIN_TOKEN\" }}\n\n\
             [plugins.relay]\nsettings = {{ event_pointer = \"/type\" }}\n\n\
             [targets.orders]\nurl = \"{}\"\nevents = [\"order.*\"]\nsigning_secret = \"generate\"\n\n\
             [targets.audit]\nurl = \"{}\"\nevents = [\"order.refunded\"]\nretries = 1\n\
             backoff = [\"50ms\"]\nbreaker = {{ after = 0 }}\n",
            orders.url("/orders"),
            audit.url("/audit")
        ),
        env: vec![("ADMIN_TOKEN", TOKEN.into())],
    })
}

fn event(g: &Gateway, kind: &str, n: u32) {
    let body = format!(r#"{{"type":"{kind}","order":{n}}}"#);
    let r = g.post(
        "/relay",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
}

fn admin_url(g: &Gateway) -> String {
    format!("http://{}/", g.admin.expect("admin listener"))
}

#[test]
fn operators_steer_deliveries_from_the_page() {
    let orders = Receiver::start(vec![]);
    let audit = Receiver::start(vec![Reply::Status(500); 64]);
    let g = gateway(&orders, &audit);
    let b = Browser::start("admin-page");

    // Log in: a wrong token is refused on the form, the right one opens the targets view.
    b.goto(&admin_url(&g));
    b.fill("#token", "not-it");
    b.click("#login button[type=submit]");
    b.wait_text("#login-error", "a refusal", |t| {
        t.contains("not the admin token")
    });
    b.screenshot("login");
    b.fill("#token", TOKEN);
    b.click("#login button[type=submit]");
    b.wait_text(
        r#"tr[data-key="orders"] [data-col="state"]"#,
        "active",
        |t| t == "active",
    );
    assert!(
        !b.eval("return location.href").to_string().contains(TOKEN),
        "the token stays out of the URL"
    );

    // Real deliveries show up in the table by themselves (live refresh).
    for n in 0..3 {
        event(&g, "order.created", n);
    }
    event(&g, "order.refunded", 3);
    let cell = |target: &str, col: &str| format!(r#"tr[data-key="{target}"] [data-col="{col}"]"#);
    b.wait_text(&cell("orders", "delivered"), "4 delivered", |t| t == "4");
    b.wait_text(&cell("audit", "failed"), "1 failed", |t| t == "1");
    assert_eq!(b.text(&cell("orders", "success_rate")), "100.0 %");
    assert_eq!(b.text(&cell("audit", "success_rate")), "0.0 %");
    assert_eq!(b.text(&cell("orders", "events")), "order.*");
    assert!(
        b.text(&cell("orders", "last_delivery"))
            .contains("just now")
    );
    b.screenshot("targets");

    // Sortable: by delivered, ascending then descending.
    b.click(r#"th[data-col="delivered"] button"#);
    assert_eq!(
        b.attr(r#"th[data-col="delivered"]"#, "aria-sort")
            .as_deref(),
        Some("ascending")
    );
    assert_eq!(b.attr("tbody tr", "data-key").as_deref(), Some("audit"));
    b.click(r#"th[data-col="delivered"] button"#);
    assert_eq!(b.attr("tbody tr", "data-key").as_deref(), Some("orders"));

    // One target: numbers, the last hour and the attempts.
    b.click(r#"tr[data-key="orders"] a"#);
    b.wait_text(r#"[data-stat="delivered"] dd"#, "4", |t| t == "4");
    b.wait_count("#view table tbody tr", "4 attempts", |n| n == 4);
    assert_eq!(
        b.attr("figure.chart", "data-delivered").as_deref(),
        Some("4")
    );
    assert_eq!(b.attr("figure.chart", "data-failed").as_deref(), Some("0"));

    // Pause: new deliveries wait. Activate: they arrive.
    b.click("#toggle");
    b.wait_text("#toast", "the pause confirmed", |t| t.contains("paused"));
    b.wait_text(".heading .state", "paused", |t| t == "paused");
    assert_eq!(b.text("#toggle"), "Activate");
    event(&g, "order.created", 4);
    event(&g, "order.created", 5);
    b.wait_text(r#"[data-stat="waiting"] dd"#, "2 waiting", |t| t == "2");
    assert_eq!(orders.received().len(), 4, "nothing went out while paused");
    b.click("#toggle");
    b.wait_text("#toast", "the activation confirmed", |t| {
        t.contains("active")
    });
    assert!(orders.wait_for(6, WAIT), "{}", g.logs());
    b.wait_text(r#"[data-stat="delivered"] dd"#, "6", |t| t == "6");
    b.wait_text(r#"[data-stat="waiting"] dd"#, "0", |t| t == "0");

    // Send test: the new attempt appears in the list.
    b.click("#send-test");
    let said = b.wait_text("#toast", "the test's id", |t| t.contains("msg_"));
    let id = said
        .split_whitespace()
        .find(|w| w.starts_with("msg_"))
        .expect("an id")
        .to_string();
    b.wait_text("#view table", "the test attempt", |t| t.contains(&id));
    assert!(orders.wait_for(7, WAIT));
    let test = orders.received().pop().expect("the test delivery");
    assert_eq!(test.header("webhook-id"), Some(id.as_str()));
    b.screenshot("target");

    // Reveal the signing secret, after confirming; it is the one the API reports.
    b.click("#reveal");
    b.click("#confirm-ok");
    let shown = b.wait_text("#secret code", "a secret", |t| t.starts_with("whsec_"));
    let api = g.admin("GET", "/api/targets/orders/secret").json();
    assert_eq!(api["secrets"][0]["secret"], shown.as_str());
    b.screenshot("target-secret");

    // Rotate: a bad grace period is refused with the API's reason; a good one adds a secret.
    b.click("#rotate");
    b.fill("#grace", "soon");
    b.click("#confirm-ok");
    b.wait_text("#toast.error", "the API's refusal", |t| t.contains("grace"));
    b.click("#rotate");
    b.fill("#grace", "1h");
    b.click("#confirm-ok");
    b.wait_count("#secret li", "old and new secret", |n| n == 2);
    let now = b.text("#secret li code");
    assert_ne!(now, shown, "a new secret signs first");

    // Dead deliveries: audit's refund gave up; replay sends it again.
    b.click(r#"nav a[data-view="dead"]"#);
    b.wait_count("#view tbody tr", "one dead delivery", |n| n == 1);
    assert_eq!(b.text(r#"#view tbody [data-col="target"]"#), "audit");
    assert!(b.text(r#"#view tbody [data-col="error"]"#).contains("500"));
    b.screenshot("dead");
    let before = audit.received().len();
    b.click(r#"#view tbody [data-col="replay"] button"#);
    b.wait_text("#toast", "the replay confirmed", |t| {
        t.contains("queued again")
    });
    assert!(
        audit.wait_for(before + 2, WAIT),
        "replayed: two more attempts"
    );

    // Plugins: a hot swap shows as a new version without reloading the page.
    b.click(r#"nav a[data-view="plugins"]"#);
    let version = cell("versioned", "version");
    b.wait_text(&version, "1.0.0", |t| t == "1.0.0");
    g.install(&versioned(2), "versioned.wasm");
    b.wait_text(&version, "2.0.0", |t| t == "2.0.0");
    assert!(b.text(&cell("versioned", "reload")).starts_with("loaded"));
    assert!(
        b.text(&cell("relay", "invocations"))
            .parse::<u32>()
            .expect("a count")
            >= 6
    );
    b.screenshot("plugins");

    // A phone's width: the page fits, wide tables scroll inside their box.
    b.resize(390, 844);
    b.click(r#"nav a[data-view="targets"]"#);
    b.wait_text(&cell("orders", "delivered"), "7", |t| t == "7");
    assert_eq!(
        b.eval("return document.documentElement.scrollWidth <= window.innerWidth"),
        serde_json::Value::Bool(true),
        "no sideways scrolling of the page"
    );
    b.screenshot("targets-phone");

    // The API's errors are shown, not swallowed.
    b.goto(&format!("{}#/targets/nope", admin_url(&g)));
    b.wait_text("#view .error", "the API's 404", |t| {
        t.contains("no target 'nope'") && t.contains("404")
    });

    // Log out: the token leaves the tab.
    b.resize(1280, 900);
    b.click("#logout");
    b.wait_text("#login-error", "logged out", |t| t.contains("Logged out"));
    assert_eq!(b.eval("return sessionStorage.length"), serde_json::json!(0));
}

#[test]
fn page_is_served_without_the_token_and_data_only_with_it() {
    let orders = Receiver::start(vec![]);
    let audit = Receiver::start(vec![Reply::Status(500); 8]);
    let g = gateway(&orders, &audit);
    let admin = g.admin.expect("admin listener");
    let page = request(admin, "GET", "/", &[], b"");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<title>Hookgate admin</title>"));
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    for (path, kind) in [("/app.js", "text/javascript"), ("/app.css", "text/css")] {
        let r = request(admin, "GET", path, &[], b"");
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type")
                .unwrap_or_default()
                .starts_with(kind),
            "{path}"
        );
    }
    assert_eq!(request(admin, "GET", "/api/plugins", &[], b"").status, 401);

    let plugins = g.admin("GET", "/api/plugins").json();
    let names: Vec<&str> = plugins["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"relay") && names.contains(&"versioned"),
        "{plugins}"
    );

    event(&g, "order.created", 1);
    event(&g, "order.created", 2);
    assert!(orders.wait_for(2, WAIT));
    assert!(g.wait_until(WAIT, |g| {
        g.admin("GET", "/api/targets/orders").json()["stats"]["delivered"] == 2
    }));
    let detail = g.admin("GET", "/api/targets/orders").json();
    let hour = detail["last_hour"].as_array().expect("last_hour");
    assert_eq!(hour.len(), 60, "one entry per minute");
    let total = |key: &str| hour.iter().filter_map(|m| m[key].as_i64()).sum::<i64>();
    assert_eq!((total("success"), total("failed")), (2, 0));
    let starts: Vec<i64> = hour.iter().filter_map(|m| m["start_ms"].as_i64()).collect();
    assert!(
        starts.windows(2).all(|w| w[1] - w[0] == 60_000),
        "oldest first, a minute apart"
    );
    assert!(
        g.admin("GET", "/api/targets").json()["targets"][0]
            .get("last_hour")
            .is_none(),
        "the list stays small"
    );
}

#[test]
fn the_token_may_come_from_hookgate_admin_token() {
    let g = Gateway::start(Options {
        config: "[admin]\nlisten = \"127.0.0.1:0\"\n".into(),
        env: vec![("HOOKGATE_ADMIN_TOKEN", TOKEN.into())],
        ..Options::default()
    });
    assert_eq!(g.admin("GET", "/api/targets").status, 200, "{}", g.logs());
    let off = Gateway::start(Options {
        config: "[admin]\nlisten = \"127.0.0.1:0\"\n".into(),
        env: vec![("HOOKGATE_ADMIN_TOKEN", String::new())],
        ..Options::default()
    });
    assert!(off.admin.is_none(), "an empty token turns the listener off");
    assert!(
        off.wait_for_log("admin API and page off", WAIT),
        "{}",
        off.logs()
    );
}
