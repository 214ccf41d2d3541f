//! Debian's Chromium, headless, driven over WebDriver (chromedriver started for one test on a
//! free port and stopped by PID), with waits that poll the page rather than sleep.

use crate::Daemon;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a wait for the page may take.
pub const PAGE_WAIT: Duration = Duration::from_secs(20);

/// A browser session; closed, and its driver stopped, on drop.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    shots: PathBuf,
    _profile: tempfile::TempDir,
    _driver: Daemon,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at 1280×900; screenshots go to
    /// `target/test-output/<name>/`.
    pub fn start(name: &str) -> Browser {
        // Ready once it listens (it keeps connections open, so no request-until-close probe).
        let driver = Daemon::start_until(
            "chromedriver",
            "",
            |_, _, addr| vec![format!("--port={}", addr.port())],
            |addr| std::net::TcpStream::connect(addr).is_ok(),
        );
        let profile = tempfile::tempdir().expect("tempdir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                // No sandbox as root; no background traffic, which this machine's closed
                // network refuses (see the env notes).
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let url = format!("http://{}", driver.addr);
        let client = rt
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(&url),
            )
            .unwrap_or_else(|e| panic!("a Chromium session: {e}\n{}", driver.log()));
        let shots = crate::workspace_root()
            .join("target/test-output")
            .join(name);
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        Browser {
            rt,
            client: Some(client),
            shots,
            _profile: profile,
            _driver: driver,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("open session")
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.rt
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Polls `f` until it gives `Some`, or panics with `what` and the page's text.
    fn poll<T>(&self, what: &str, mut f: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "waited {PAGE_WAIT:?} for {what}; the page said:\n{}",
                self.text("body")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the first element matching `css` once it is there and enabled (retried while
    /// a live refresh replaces it).
    pub fn click(&self, css: &str) {
        self.poll(&format!("a clickable {css}"), |b| {
            b.rt.block_on(async {
                let e = b.client().find(Locator::Css(css)).await.ok()?;
                if !e.is_enabled().await.ok()? || !e.is_displayed().await.ok()? {
                    return None;
                }
                e.click().await.ok()
            })
        });
    }

    /// Types `text` into the field matching `css`, replacing what it held.
    pub fn fill(&self, css: &str, text: &str) {
        self.poll(&format!("a field {css}"), |b| {
            b.rt.block_on(async {
                let e = b.client().find(Locator::Css(css)).await.ok()?;
                e.clear().await.ok()?;
                e.send_keys(text).await.ok()
            })
        });
    }

    /// The visible text of the first element matching `css` ("" if there is none).
    pub fn text(&self, css: &str) -> String {
        self.rt
            .block_on(async {
                let e = self.client().find(Locator::Css(css)).await.ok()?;
                e.text().await.ok()
            })
            .unwrap_or_default()
    }

    /// Waits until the text of `css` passes `check`; returns it.
    pub fn wait_text(&self, css: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.poll(&format!("{css} to show {what}"), |b| {
            let t = b.text(css);
            check(&t).then_some(t)
        })
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.rt
            .block_on(self.client().find_all(Locator::Css(css)))
            .map_or(0, |v| v.len())
    }

    /// Waits until `count(css)` passes `check`; returns it.
    pub fn wait_count(&self, css: &str, what: &str, check: impl Fn(usize) -> bool) -> usize {
        self.poll(&format!("{css}: {what}"), |b| {
            let n = b.count(css);
            check(n).then_some(n)
        })
    }

    /// An attribute of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.rt.block_on(async {
            let e = self.client().find(Locator::Css(css)).await.ok()?;
            e.attr(name).await.ok().flatten()
        })
    }

    /// Runs `script` in the page and returns its result.
    pub fn eval(&self, script: &str) -> serde_json::Value {
        self.rt
            .block_on(self.client().execute(script, vec![]))
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Resizes the window (the page's viewport follows).
    pub fn resize(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.client().set_window_size(width, height))
            .expect("resize");
    }

    /// Saves the whole page (the window stretched to its height for the moment) as
    /// `<name>.png` in this test's output folder; returns the path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let (width, height) = self
            .rt
            .block_on(self.client().get_window_size())
            .expect("window size");
        let extra = self.eval("return document.documentElement.scrollHeight - window.innerHeight");
        let grow = extra.as_u64().unwrap_or(0);
        if grow > 0 {
            self.resize(width as u32, (height + grow) as u32);
        }
        let png = self
            .rt
            .block_on(self.client().screenshot())
            .expect("screenshot");
        if grow > 0 {
            self.resize(width as u32, height as u32);
        }
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(client.close());
        }
    }
}
