//! A real Chromium driven over WebDriver against a real server. Each [`Driver`] is one `chromedriver`
//! process on a free port, killed when dropped; each [`Browser`] from it is a separate Chromium with its
//! own profile (so two browsers are two registers with separate sessions).
//!
//! Chromium comes from Debian's `chromium` and `chromium-driver` packages (`scripts/setup-browser`).
//! Without them the journeys are skipped with a message, except under `CI=true`, where that is a failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";
/// How long a journey waits for something to appear before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// Journeys share two cores with everything else: one journey drives Chromium at a time.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

pub struct Driver {
    child: Child,
    port: u16,
    _slot: tokio::sync::SemaphorePermit<'static>,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn available() -> bool {
    let chromium = std::path::Path::new(CHROMIUM).exists();
    let driver = Command::new(CHROMEDRIVER)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    chromium && driver
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl Driver {
    /// Starts chromedriver, or `None` (skip) when Chromium is not installed outside CI.
    pub async fn start() -> Option<Driver> {
        if !available() {
            assert!(
                !in_ci(),
                "chromium and chromedriver are required under CI (scripts/setup-browser installs them)"
            );
            eprintln!(
                "skipping browser journey: chromium/chromedriver not installed (run scripts/setup-browser)"
            );
            return None;
        }
        let slot = SLOTS.acquire().await.expect("semaphore");
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            child,
            port,
            _slot: slot,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(driver)
    }

    /// A new headless Chromium window of the given size.
    pub async fn browser(&self, width: u32, height: u32) -> Browser {
        self.start_browser(width, height, None).await
    }

    /// A phone: the viewport is exactly `width` CSS pixels (a desktop window cannot be narrower than
    /// about 500 px, so the phone's screen is emulated).
    pub async fn phone(&self, width: u32, height: u32) -> Browser {
        let metrics = json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "touch": true}});
        self.start_browser(width.max(500), height, Some(metrics))
            .await
    }

    async fn start_browser(
        &self,
        width: u32,
        height: u32,
        mobile: Option<serde_json::Value>,
    ) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--no-first-run".to_string(),
            "--hide-scrollbars".to_string(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_string(),
            match mobile {
                Some(m) => json!({ "binary": CHROMIUM, "args": args, "mobileEmulation": m }),
                None => json!({ "binary": CHROMIUM, "args": args }),
            },
        );
        let client = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("start a Chromium session");
        Browser {
            client,
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Browser {
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Waits for an element matching `css`.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits until an element matching `css` contains `text`; returns its text.
    pub async fn wait_text(&self, css: &str, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if let Ok(elements) = self.client.find_all(Locator::Css(css)).await {
                for el in elements {
                    if let Ok(t) = el.text().await {
                        if t.contains(text) {
                            return t;
                        }
                        last = t;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css} never contained {text:?} (last: {last:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the path of the current URL satisfies `pred`; returns it.
    pub async fn wait_path(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.client.current_url().await.expect("current url");
            if pred(url.path()) {
                return url.path().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "never reached {what} (at {})",
                url.path()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Saves a PNG to `artifacts/screenshots/<name>.png` at the workspace root.
    pub async fn screenshot(&self, name: &str) {
        // Let transitions and fonts settle so the picture shows the screen as a person sees it.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/screenshots")
}
