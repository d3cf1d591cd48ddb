//! Harness for driving the built page (`dist/`) in headless Chromium: a logging static
//! server on 127.0.0.1, a chromedriver child process, and a WebDriver session whose downloads
//! land in a known folder. Nothing here reaches beyond the loopback interface.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// The workspace root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What a browser test needs, or why it must be skipped.
pub struct Env {
    /// The built page.
    pub dist: PathBuf,
    /// `chromium`.
    pub chromium: PathBuf,
    /// `chromedriver` (same version as chromium).
    pub chromedriver: PathBuf,
}

impl Env {
    /// The environment, or `None` after printing why the test is skipped (a missing browser
    /// or an unbuilt page is a setup matter, not a failure: `scripts/browser-tests.sh`
    /// installs and builds both). With `REQUIRE_BROWSER` set (CI), a missing piece panics.
    pub fn detect(test: &str) -> Option<Env> {
        let pick = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        let env = Env {
            dist: std::env::var_os("PAGE_DIST")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("dist")),
            chromium: pick("CHROME", "/usr/bin/chromium"),
            chromedriver: pick("CHROMEDRIVER", "/usr/bin/chromedriver"),
        };
        let missing = [
            (
                env.dist.join("index.html"),
                "the built page (run `trunk build --release --offline`)",
            ),
            (env.chromium.clone(), "chromium (apt-get install chromium)"),
            (
                env.chromedriver.clone(),
                "chromedriver (apt-get install chromium-driver)",
            ),
        ]
        .into_iter()
        .find(|(p, _)| !p.exists());
        if let Some((path, what)) = missing {
            // CI sets this so a missing browser is a red build, never a silent skip.
            if std::env::var_os("REQUIRE_BROWSER").is_some() {
                panic!("{test}: {} is missing: {what}", path.display());
            }
            println!(
                "SKIPPED {test}: {} is missing: {what}. scripts/browser-tests.sh sets everything up.",
                path.display()
            );
            return None;
        }
        Some(env)
    }
}

/// A static file server for `dist/` on 127.0.0.1 that records every request path.
pub struct StaticServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl StaticServer {
    /// Serves `dir` on a free loopback port, one thread per connection.
    pub fn start(dir: &Path) -> std::io::Result<StaticServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let origin = format!("http://{}", listener.local_addr()?);
        let log = Arc::new(Mutex::new(Vec::new()));
        let (dir, log2) = (dir.to_path_buf(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (dir, log) = (dir.clone(), log2.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &dir, &log);
                });
            }
        });
        Ok(StaticServer { origin, log })
    }

    /// Every path requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn serve(stream: TcpStream, dir: &Path, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // Drain the headers; the server answers GET only and closes every connection.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    if let Ok(mut l) = log.lock() {
        l.push(path.clone());
    }
    let clean = path.split(['?', '#']).next().unwrap_or("/");
    let rel = match clean.trim_start_matches('/') {
        "" => "index.html",
        p => p,
    };
    let file = dir.join(rel);
    let safe = !rel.split('/').any(|c| c == ".." || c.is_empty());
    let mut out = stream;
    match std::fs::read(&file) {
        Ok(body) if safe => {
            let mime = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript",
                Some("wasm") => "application/wasm",
                Some("css") => "text/css",
                Some("svg") => "image/svg+xml",
                _ => "application/octet-stream",
            };
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body)?;
        }
        _ => write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    out.flush()
}

/// A chromedriver child process, killed on drop.
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it listens.
    pub fn start(chromedriver: &Path) -> std::io::Result<Driver> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::other("chromedriver did not start"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(driver)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session (flags from `../shared/toolchain.md`: no background
/// networking) whose downloads go to `downloads` without asking.
pub async fn browser(
    env: &Env,
    driver: &Driver,
    profile: &Path,
    downloads: &Path,
) -> Result<Client, Box<dyn std::error::Error>> {
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": env.chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1366,1800",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "profile.default_content_setting_values.automatic_downloads": 1,
                "safebrowsing.enabled": false,
            },
        },
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!("a JSON object literal")
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await?;
    Ok(client)
}

/// Waits for a finished download named `name` in `dir` (Chromium writes `*.crdownload`
/// first and renames it when complete).
pub fn wait_for_download(dir: &Path, name: &str, timeout: Duration) -> std::io::Result<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let path = dir.join(name);
    loop {
        if path.exists() {
            let partial = std::fs::read_dir(dir)?
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"));
            if !partial {
                return std::fs::read(&path);
            }
        }
        if Instant::now() > deadline {
            let seen: Vec<String> = std::fs::read_dir(dir)?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            return Err(std::io::Error::other(format!(
                "no download {name} in {} (found {seen:?})",
                dir.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `loader ARGS…`: the binary in `LOADER` if set, else `cargo run -q -p loader --`.
pub fn loader(args: &[&std::ffi::OsStr]) -> std::io::Result<std::process::Output> {
    let mut cmd = match std::env::var_os("LOADER") {
        Some(bin) => Command::new(bin),
        None => {
            let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
            c.args(["run", "-q", "-p", "loader", "--"]);
            c
        }
    };
    cmd.current_dir(root()).args(args).output()
}
