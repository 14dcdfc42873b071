//! Headless Chromium driven over the DevTools protocol (a websocket, JSON commands): navigate,
//! evaluate, resize, switch to dark mode, screenshot. Chromium is Debian's `chromium`, which
//! `scripts/setup.sh` installs; the process is killed by PID when this is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Browser {
    child: Child,
    socket: Socket,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// Chromium's binary: `$CHROMIUM`, else the first of Debian's names on the PATH.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

impl Browser {
    pub async fn launch(binary: &Path) -> Result<Self, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut browser_child = Some(child);
        // Chromium writes its port and the browser's websocket path once it listens.
        let port_file = profile.path().join("DevToolsActivePort");
        let started = Instant::now();
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                if text.lines().count() >= 2 {
                    break text;
                }
            }
            if started.elapsed() > Duration::from_secs(30) {
                if let Some(mut c) = browser_child.take() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                return Err("Chromium did not open its DevTools port within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let mut lines = text.lines();
        let (port, path) = (lines.next().unwrap_or_default(), lines.next().unwrap_or_default());
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}{path}"))
            .await
            .map_err(|e| format!("DevTools websocket: {e}"))?;
        let mut browser = Browser {
            child: browser_child.take().expect("child"),
            socket,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" })).await?;
        let target_id = target["targetId"].as_str().unwrap_or_default().to_string();
        let attached = browser.call("Target.attachToTarget", json!({ "targetId": target_id, "flatten": true })).await?;
        browser.session = attached["sessionId"].as_str().unwrap_or_default().to_string();
        browser.call("Page.enable", json!({})).await?;
        Ok(browser)
    }

    /// One DevTools command (on the page's session once attached); its result.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.socket.send(Message::text(msg.to_string())).await.map_err(|e| format!("{method}: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.socket.next())
                .await
                .map_err(|_| format!("{method}: no answer within 30 s"))?
                .ok_or_else(|| format!("{method}: the browser closed the connection"))?
                .map_err(|e| format!("{method}: {e}"))?;
            let Message::Text(text) = frame else { continue };
            let answer: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if answer["id"].as_u64() == Some(id) {
                if let Some(err) = answer.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(answer["result"].clone());
            }
        }
    }

    /// Opens `url` and waits until the document has loaded.
    pub async fn goto(&mut self, url: &str) -> Result<(), String> {
        self.call("Page.navigate", json!({ "url": url })).await?;
        let started = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let state = self.eval("document.readyState + '|' + location.href").await?;
            if state.as_str().is_some_and(|s| s.starts_with("complete|") && !s.ends_with("about:blank")) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("{url} did not load within 30 s ({state})"));
            }
        }
    }

    /// Evaluates a JavaScript expression in the page; its value.
    pub async fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let r = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true })).await?;
        if let Some(e) = r.get("exceptionDetails") {
            return Err(format!("{expression}: {e}"));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Waits until `expression` is true in the page, at most `timeout`.
    pub async fn wait_for(&mut self, expression: &str, timeout: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if self.eval(expression).await? == Value::Bool(true) {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(format!("{expression} still false after {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Phone or desktop width, light or dark.
    pub async fn emulate(&mut self, width: u32, height: u32, mobile: bool, dark: bool) -> Result<(), String> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        )
        .await?;
        let scheme = if dark { "dark" } else { "light" };
        self.call(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await?;
        Ok(())
    }

    /// A PNG of the whole page.
    pub async fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        let shot =
            self.call("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true })).await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| e.to_string())?;
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
