//! Which plugin a request goes to: a pure function of method, path and User-Agent.
//!
//! 1. `/hooks/<name>` always reaches that plugin.
//! 2. A path declared by plugins: the longest matching User-Agent prefix among them picks
//!    (a plugin that declares the path but no prefix takes any agent, at lowest priority);
//!    if none matches, 412, as Pelorus answers.
//! 3. Any other path: the longest matching User-Agent prefix over the plugins that declare no
//!    paths (a plugin that names its paths listens only there, so a POST to an unknown path
//!    with a Pelorus User-Agent is a 404, not a Pelorus request).
//! 4. A plugin whose senders authenticate with a path token (`path-token` scheme) is also
//!    reached at any of its routes plus one more segment: `/alertmanager/<token>`.

use std::collections::HashMap;

/// Where a request goes, by index into the plugin list the router was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// This plugin.
    Plugin(usize),
    /// A plugin path, but no plugin there claims this User-Agent (412).
    UnclaimedAgent,
    /// A plugin route, but not with POST (405).
    WrongMethod,
    /// Nothing (404).
    NotFound,
}

/// What the router needs from one plugin.
pub struct RouteSpec<'a> {
    /// Plugin name.
    pub name: &'a str,
    /// Declared paths.
    pub paths: &'a [String],
    /// Declared User-Agent prefixes.
    pub user_agent_prefixes: &'a [String],
    /// Reached with one more path segment, the sender's token.
    pub path_token: bool,
}

/// Two plugins claim the same path and agent prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugins '{first}' and '{second}' both claim {what}")]
pub struct RouteClash {
    /// Plugin loaded first.
    pub first: String,
    /// Plugin that clashes.
    pub second: String,
    /// What they both claim.
    pub what: String,
}

/// An immutable routing table.
#[derive(Debug, Default)]
pub struct Router {
    by_name: HashMap<String, usize>,
    /// path -> (lower-case prefix, plugin); "" means any agent.
    by_path: HashMap<String, Vec<(String, usize)>>,
    /// (lower-case prefix, plugin), longest prefix first.
    by_agent: Vec<(String, usize)>,
    /// Plugins reached with a trailing token segment.
    path_token: Vec<bool>,
}

impl Router {
    /// Builds the table; plugins are referred to by their index in `specs`.
    pub fn build(specs: &[RouteSpec<'_>]) -> Result<Self, RouteClash> {
        let mut router = Router::default();
        let clash = |a: usize, b: usize, what: String| RouteClash {
            first: specs[a].name.to_string(),
            second: specs[b].name.to_string(),
            what,
        };
        for (i, spec) in specs.iter().enumerate() {
            if let Some(&other) = router.by_name.get(spec.name) {
                return Err(clash(other, i, format!("the name '{}'", spec.name)));
            }
            router.by_name.insert(spec.name.to_string(), i);
            router.path_token.push(spec.path_token);
            let prefixes: Vec<String> = spec
                .user_agent_prefixes
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect();
            if spec.paths.is_empty() {
                for prefix in &prefixes {
                    if let Some(&(_, other)) = router.by_agent.iter().find(|(p, _)| p == prefix) {
                        return Err(clash(other, i, format!("User-Agent prefix '{prefix}'")));
                    }
                    router.by_agent.push((prefix.clone(), i));
                }
            }
            for path in spec.paths {
                let claims = router.by_path.entry(path.clone()).or_default();
                let mine: Vec<String> = if prefixes.is_empty() {
                    vec![String::new()]
                } else {
                    prefixes.clone()
                };
                for prefix in mine {
                    if let Some(&(_, other)) = claims.iter().find(|(p, _)| *p == prefix) {
                        let who = if prefix.is_empty() {
                            "any User-Agent".to_string()
                        } else {
                            format!("User-Agent '{prefix}'")
                        };
                        return Err(clash(other, i, format!("path {path} for {who}")));
                    }
                    claims.push((prefix, i));
                }
            }
        }
        router
            .by_agent
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        for claims in router.by_path.values_mut() {
            claims.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        }
        Ok(router)
    }

    /// Routes one request.
    pub fn route(&self, method: &http::Method, path: &str, user_agent: Option<&str>) -> Route {
        if !self.is_route(path)
            && let Some((parent, token)) = path.rsplit_once('/')
            && !token.is_empty()
            && self.is_route(parent)
            && let found @ Route::Plugin(i) = self.route_exact(method, parent, user_agent)
            && self.path_token[i]
        {
            return found;
        }
        self.route_exact(method, path, user_agent)
    }

    /// Whether `path` is a plugin's own route (`/hooks/<name>` or a declared path).
    pub fn is_route(&self, path: &str) -> bool {
        path.strip_prefix("/hooks/")
            .is_some_and(|name| self.by_name.contains_key(name))
            || self.by_path.contains_key(path)
    }

    fn route_exact(&self, method: &http::Method, path: &str, user_agent: Option<&str>) -> Route {
        let agent = user_agent.unwrap_or_default().to_ascii_lowercase();
        let by_longest_prefix = |claims: &[(String, usize)]| {
            claims
                .iter()
                .find(|(prefix, _)| agent.starts_with(prefix.as_str()))
                .map(|&(_, i)| i)
        };
        let found = if let Some(name) = path.strip_prefix("/hooks/") {
            match self.by_name.get(name) {
                Some(&i) => Route::Plugin(i),
                None => return Route::NotFound,
            }
        } else if let Some(claims) = self.by_path.get(path) {
            by_longest_prefix(claims).map_or(Route::UnclaimedAgent, Route::Plugin)
        } else if method == http::Method::POST {
            // Agent-only routing applies to POSTs; other methods on unknown paths are 404.
            return by_longest_prefix(&self.by_agent).map_or(Route::NotFound, Route::Plugin);
        } else {
            return Route::NotFound;
        };
        if method != http::Method::POST {
            return Route::WrongMethod;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    struct Plugins(Vec<(String, Vec<String>, Vec<String>)>);

    impl Plugins {
        fn new(list: &[(&str, &[&str], &[&str])]) -> Self {
            Plugins(
                list.iter()
                    .map(|(n, p, a)| ((*n).to_string(), strings(p), strings(a)))
                    .collect(),
            )
        }
        fn router(&self) -> Result<Router, RouteClash> {
            let specs: Vec<RouteSpec<'_>> = self
                .0
                .iter()
                .map(|(name, paths, agents)| RouteSpec {
                    name,
                    paths,
                    user_agent_prefixes: agents,
                    path_token: name == "relay",
                })
                .collect();
            Router::build(&specs)
        }
    }

    fn table() -> Router {
        Plugins::new(&[
            ("pelorus", &["/pelorus/webhook"], &["Pelorus-Webhook/"]),
            ("pelorus-v2", &["/pelorus/webhook"], &["Pelorus-Webhook/v2"]),
            ("github", &[], &["GitHub-Hookshot/"]),
            ("relay", &["/relay"], &[]),
        ])
        .router()
        .expect("no clash")
    }

    #[test]
    fn hooks_path_always_reaches_the_named_plugin() {
        let r = table();
        assert_eq!(
            r.route(&Method::POST, "/hooks/github", Some("curl/8")),
            Route::Plugin(2)
        );
        assert_eq!(
            r.route(&Method::POST, "/hooks/relay", None),
            Route::Plugin(3)
        );
        assert_eq!(
            r.route(&Method::POST, "/hooks/nope", Some("GitHub-Hookshot/1")),
            Route::NotFound
        );
    }

    #[test]
    fn shared_path_picks_the_longest_agent_prefix_case_insensitively() {
        let r = table();
        assert_eq!(
            r.route(
                &Method::POST,
                "/pelorus/webhook",
                Some("Pelorus-Webhook/test")
            ),
            Route::Plugin(0)
        );
        assert_eq!(
            r.route(
                &Method::POST,
                "/pelorus/webhook",
                Some("pelorus-webhook/V2.1")
            ),
            Route::Plugin(1)
        );
    }

    #[test]
    fn shared_path_with_an_unclaimed_agent_is_412() {
        let r = table();
        assert_eq!(
            r.route(&Method::POST, "/pelorus/webhook", Some("curl/8.0")),
            Route::UnclaimedAgent
        );
        assert_eq!(
            r.route(&Method::POST, "/pelorus/webhook", None),
            Route::UnclaimedAgent
        );
    }

    #[test]
    fn a_path_without_prefixes_takes_any_agent() {
        let r = table();
        assert_eq!(
            r.route(&Method::POST, "/relay", Some("anything")),
            Route::Plugin(3)
        );
        assert_eq!(r.route(&Method::POST, "/relay", None), Route::Plugin(3));
    }

    #[test]
    fn other_paths_route_by_agent_alone() {
        let r = table();
        assert_eq!(
            r.route(&Method::POST, "/", Some("GitHub-Hookshot/abc")),
            Route::Plugin(2)
        );
        assert_eq!(
            r.route(&Method::POST, "/x/y", Some("Pelorus-Webhook/v2")),
            Route::NotFound,
            "a plugin with paths listens only on them"
        );
        assert_eq!(
            r.route(&Method::POST, "/x/y", Some("curl/8")),
            Route::NotFound
        );
        assert_eq!(r.route(&Method::POST, "/x/y", None), Route::NotFound);
    }

    #[test]
    fn wrong_method_on_a_route_is_405_and_elsewhere_404() {
        let r = table();
        assert_eq!(
            r.route(&Method::GET, "/pelorus/webhook", Some("Pelorus-Webhook/x")),
            Route::WrongMethod
        );
        assert_eq!(
            r.route(&Method::PUT, "/hooks/github", None),
            Route::WrongMethod
        );
        assert_eq!(
            r.route(&Method::GET, "/", Some("GitHub-Hookshot/abc")),
            Route::NotFound
        );
    }

    #[test]
    fn clashes_are_refused_with_both_names() {
        let same_name = Plugins::new(&[("a", &[], &[]), ("a", &[], &[])]).router();
        assert!(matches!(same_name, Err(RouteClash { .. })));
        let same_agent = Plugins::new(&[("a", &[], &["X/"]), ("b", &[], &["x/"])]).router();
        assert!(
            Plugins::new(&[("a", &["/a"], &["X/"]), ("b", &["/b"], &["X/"])])
                .router()
                .is_ok()
        );
        let err = same_agent.expect_err("clash");
        assert_eq!((err.first.as_str(), err.second.as_str()), ("a", "b"));
        let same_path = Plugins::new(&[("a", &["/p"], &[]), ("b", &["/p"], &[])]).router();
        assert!(same_path.expect_err("clash").what.contains("/p"));
    }

    #[test]
    fn a_path_token_plugin_is_reached_with_one_more_segment() {
        let r = table();
        for path in ["/relay/s3cret", "/hooks/relay/s3cret"] {
            assert_eq!(
                r.route(&Method::POST, path, None),
                Route::Plugin(3),
                "{path}"
            );
        }
        assert_eq!(
            r.route(&Method::POST, "/relay/a/b", None),
            Route::NotFound,
            "one segment only"
        );
        assert_eq!(
            r.route(
                &Method::POST,
                "/pelorus/webhook/s3cret",
                Some("Pelorus-Webhook/1")
            ),
            Route::NotFound,
            "not for plugins without the scheme"
        );
        assert!(r.is_route("/relay") && !r.is_route("/relay/s3cret"));
    }
}
