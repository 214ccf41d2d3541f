use super::*;

fn key_error(text: &str) -> (String, String) {
    match Config::parse(text) {
        Err(ConfigError::Key { key, message }) => (key, message),
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn empty_file_gives_the_defaults() {
    let c = Config::parse("").expect("valid");
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.limits.timeout, Duration::from_millis(100));
    assert_eq!(c.limits.memory, ByteSize::mib(32));
    assert_eq!(c.server.max_body, ByteSize::mib(1));
}

#[test]
fn durations_and_sizes_parse() {
    let c = Config::parse(
        r#"
        [server]
        max_body = "100KB"
        header_read_timeout = "2s"
        [limits]
        timeout = "250ms"
        memory = "16MiB"
        [plugins.pelorus]
        timeout = "50ms"
        max_body = "100 KB"
        settings = { team = "blue" }
        "#,
    )
    .expect("valid");
    assert_eq!(c.server.max_body.as_u64(), 100_000);
    assert_eq!(c.server.header_read_timeout, Duration::from_secs(2));
    let p = c.policy("pelorus").expect("policy");
    assert_eq!(p.limits.timeout, Duration::from_millis(50));
    assert_eq!(
        p.limits.memory,
        ByteSize::mib(16),
        "inherited from [limits]"
    );
    assert_eq!(p.max_body, 100_000);
    assert_eq!(p.settings.get("team").map(String::as_str), Some("blue"));
}

#[test]
fn unknown_keys_name_their_path() {
    let (key, message) = key_error("[plugins.pelorus]\nsecrett = { env = \"X\" }\n");
    assert_eq!(key, "plugins.pelorus.secrett");
    assert!(
        message.contains("secret"),
        "lists the known keys: {message}"
    );

    let (key, _) = key_error("[server]\nlisten = \"127.0.0.1:1\"\nbogus = 1\n");
    assert_eq!(key, "server.bogus");
}

#[test]
fn bad_values_name_their_path() {
    let (key, message) = key_error("[limits]\ntimeout = \"fast\"\n");
    assert_eq!(key, "limits.timeout");
    assert!(!message.is_empty());

    let (key, _) = key_error("[plugins.github]\nmemory = \"lots\"\n");
    assert_eq!(key, "plugins.github.memory");

    let (key, _) = key_error("[server]\nlisten = \"not an address\"\n");
    assert_eq!(key, "server.listen");

    let (key, message) = key_error("[plugins.x]\nscheme = \"md5\"\n");
    assert_eq!(key, "plugins.x.scheme");
    assert!(
        message.contains("hub-sha256"),
        "lists the valid schemes: {message}"
    );

    let (key, _) = key_error("[plugins.x]\nsecret = { vault = \"a\" }\n");
    assert_eq!(key, "plugins.x.secret");
}

#[test]
fn limits_are_range_checked() {
    let (key, _) = key_error("[limits]\ntimeout = \"0s\"\n");
    assert_eq!(key, "limits.timeout");
    let (key, _) = key_error("[plugins.p]\nmemory = \"1GiB\"\n");
    assert_eq!(key, "plugins.p.memory");
}

#[test]
fn require_signature_needs_a_secret() {
    let (key, message) = key_error("[plugins.pelorus]\nrequire_signature = true\n");
    assert_eq!(key, "plugins.pelorus.require_signature");
    assert!(message.contains("secret"));
}

#[test]
fn unresolvable_secret_names_the_plugin_key() {
    let c = Config::parse("[plugins.pelorus]\nsecret = { env = \"HOOKGATE_TEST_NOPE\" }\n")
        .expect("valid");
    match c.policy("pelorus") {
        Err(ConfigError::Key { key, message }) => {
            assert_eq!(key, "plugins.pelorus.secret");
            assert!(message.contains("HOOKGATE_TEST_NOPE"));
        }
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn schedules_are_checked_key_by_key() {
    let target = "[targets.slack]\nurl = \"http://127.0.0.1:1/\"\n";
    let schedule = |fields: &str| format!("{target}[[schedules]]\n{fields}\n");
    let ok = "name = \"daily\"\ncron = \"0 9 * * MON-FRI\"\ntarget = \"slack\"\nbody = '{}'";
    let c = Config::parse(&schedule(ok)).expect("valid");
    assert_eq!(c.schedules[0].name, "daily");
    let (key, message) = key_error(&schedule(&ok.replace("0 9 * * MON-FRI", "every day")));
    assert_eq!(key, "schedules[0].cron", "{message}");
    let (key, message) = key_error(&schedule(&ok.replace("\"slack\"", "\"teams\"")));
    assert_eq!(
        (key.as_str(), message.contains("teams")),
        ("schedules[0].target", true)
    );
    let (key, _) = key_error(&schedule(&ok.replace("'{}'", "'{{ oops'")));
    assert_eq!(key, "schedules[0].body");
    let twice = format!("{}[[schedules]]\n{ok}\n", schedule(ok));
    assert_eq!(key_error(&twice).0, "schedules[1].name");
}

#[test]
fn target_names_are_url_and_label_safe() {
    let (key, message) = key_error("[targets.\"my slack\"]\nurl = \"http://127.0.0.1:1/\"\n");
    assert_eq!(key, "targets.my slack");
    assert!(message.contains("letters, digits"), "{message}");
    Config::parse("[targets.\"slack-ops_2.eu\"]\nurl = \"http://127.0.0.1:1/\"\n").expect("valid");
}

#[test]
fn target_urls_are_parsed_once_and_must_be_http() {
    let target = |url: &str| format!("[targets.slack]\nurl = \"{url}\"\n");
    let c = Config::parse(&target("https://hooks.example.com/x")).expect("valid");
    assert_eq!(
        c.targets["slack"].url.as_str(),
        "https://hooks.example.com/x"
    );
    let (key, message) = key_error(&target("hooks example"));
    assert_eq!(key, "targets.slack.url", "{message}");
    assert!(message.contains("is not a URL"), "{message}");
    let (key, message) = key_error(&target("ftp://example.com/"));
    assert_eq!(key, "targets.slack.url", "{message}");
    assert!(message.contains("http:// or https://"), "{message}");
}
