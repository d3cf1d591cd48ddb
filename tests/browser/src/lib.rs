//! Harness for driving the built page (`dist/`) in headless Chromium: a logging static
//! server on 127.0.0.1, a chromedriver child process, and a WebDriver session whose downloads
//! land in a known folder. Nothing here reaches beyond the loopback interface.

use std::ffi::OsStr;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use prep::bundle::Manifest;
use serde_json::{Value, json};

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
        // A cold first start on a fresh machine can take seconds; a working one takes ~0.1 s.
        let deadline = Instant::now() + Duration::from_secs(60);
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
) -> Result<Client> {
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

/// A test's result.
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// How long a test waits for the page.
pub const WAIT: Duration = Duration::from_secs(60);

/// Runs `script` in the page and returns its value.
pub async fn js(c: &Client, script: &str) -> Result<Value> {
    Ok(c.execute(script, vec![]).await?)
}

/// Polls `script` (returning a boolean) until it is true.
pub async fn until(c: &Client, script: &str, what: &str) -> Result {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if js(c, script).await? == Value::Bool(true) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            let status = js(c, "return document.getElementById('status')?.textContent + ' / ' + document.getElementById('error')?.textContent").await?;
            return Err(format!("timed out waiting for {what} (page says: {status})").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `flow` against a fresh browser and server; on failure saves a screenshot and the
/// page's text for whoever reads the CI log.
pub async fn session<F, Fut>(test: &str, failure_png: &str, flow: F) -> Result
where
    F: FnOnce(Client, StaticServer, PathBuf, PathBuf) -> Fut,
    Fut: Future<Output = (Client, StaticServer, Result)>,
{
    let Some(env) = Env::detect(test) else {
        return Ok(());
    };
    // One browser at a time: the machines have two cores, and each session starts its own
    // chromedriver on a port picked just before.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = StaticServer::start(&env.dist)?;
    let driver = Driver::start(&env.chromedriver)?;
    let tmp = tempfile::tempdir()?;
    let downloads = tmp.path().join("downloads");
    std::fs::create_dir_all(&downloads)?;
    let c = browser(&env, &driver, &tmp.path().join("profile"), &downloads).await?;
    let (c, server, outcome) = flow(c, server, downloads, tmp.path().to_path_buf()).await;
    if outcome.is_err() {
        let dir = root().join("target/browser-artifacts");
        if let (Ok(()), Ok(png)) = (std::fs::create_dir_all(&dir), c.screenshot().await) {
            let _ = std::fs::write(dir.join(failure_png), png);
        }
        if let Ok(text) = js(&c, "return document.body.innerText").await {
            eprintln!(
                "page text at failure:\n{}",
                text.as_str().unwrap_or_default()
            );
        }
        eprintln!("requests: {:?}", server.requests());
    }
    let _ = c.close().await;
    drop(driver);
    outcome
}

/// Opens the page and waits for its worker to be ready.
pub async fn open_page(c: &Client, server: &StaticServer) -> Result {
    c.goto(&format!("{}/index.html", server.origin)).await?;
    until(
        c,
        "return !document.getElementById('app').hidden",
        "the page to start",
    )
    .await?;
    // The preparation runs in a Web Worker (the page's fallback would say "in this page").
    let status = js(c, "return document.getElementById('status').textContent").await?;
    assert!(
        status
            .as_str()
            .is_some_and(|s| s.contains("background worker")),
        "status: {status}"
    );
    Ok(())
}

/// Waits for the mapping of a prepared export.
pub async fn wait_for_mapping(c: &Client) -> Result {
    until(
        c,
        "return document.querySelectorAll('[data-testid=mapping-table] select').length > 10 \
         && document.getElementById('status').textContent.startsWith('Prepared')",
        "the mapping table",
    )
    .await
}

/// WebDriver's code for the Enter key.
pub const ENTER: &str = "\u{E007}";
/// WebDriver's code for the Tab key.
pub const TAB: &str = "\u{E004}";
/// WebDriver's code for the down arrow.
pub const ARROW_DOWN: &str = "\u{E015}";
/// Presses keys as the keyboard does (WebDriver actions, to whatever has focus): unlike an
/// element's `send_keys`, this works on any element, a file input included.
pub async fn press(c: &Client, keys: &str) -> Result {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".into());
    for k in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k });
    }
    c.perform_actions(actions).await?;
    Ok(())
}

/// WebDriver's code for the up arrow.
pub const ARROW_UP: &str = "\u{E013}";

/// What the customer takes away: the saved mapping, the bundle and the scope report.
pub struct Downloads {
    /// The saved mapping.
    pub mapping: Vec<u8>,
    /// The bundle.
    pub bundle: Vec<u8>,
    /// The scope report.
    pub report: Vec<u8>,
}

/// Saves the mapping, confirms as `name` (trying once without the checkbox, which must be
/// refused) and downloads the bundle and the report, with the mouse or the keyboard only.
pub async fn confirm_and_download(
    c: &Client,
    downloads: &Path,
    name: &str,
    keyboard: bool,
) -> Result<Downloads> {
    let press = |id: &'static str| async move {
        let e = c.find(Locator::Css(id)).await?;
        if keyboard {
            // Space toggles a checkbox; Enter activates buttons and links.
            let key = if id.contains("check") { " " } else { ENTER };
            e.send_keys(key).await
        } else {
            e.click().await
        }
    };
    press("#save-mapping").await?;
    let mapping = wait_for_download(downloads, "allclients.mapping.json", WAIT)?;
    c.find(Locator::Css("[data-testid=confirm-name]"))
        .await?
        .send_keys(name)
        .await?;
    press("[data-testid=confirm-button]").await?;
    until(
        c,
        "return document.getElementById('msg-confirm').textContent.includes('Tick the box')",
        "the refusal without the checkbox",
    )
    .await?;
    assert_ne!(
        js(c, "return document.body.dataset.state ?? null").await?,
        json!("confirmed"),
        "confirmed without the checkbox"
    );
    press("[data-testid=confirm-check]").await?;
    press("[data-testid=confirm-button]").await?;
    until(
        c,
        "return document.body.dataset.state === 'confirmed'",
        "the confirmation",
    )
    .await?;
    press("[data-testid=download-bundle]").await?;
    let bundle = wait_for_download(downloads, "allclients.bundle.jsonl.gz", WAIT)?;
    press("[data-testid=download-report]").await?;
    let report = wait_for_download(downloads, "allclients.bundle.scope.md", WAIT)?;
    Ok(Downloads {
        mapping,
        bundle,
        report,
    })
}

/// Checks the page's downloads against `loader prepare --input INPUTS… --mapping M
/// --confirmed-by NAME --confirmed-at T EXTRA…` (T taken from the page's bundle): the same
/// bundle bytes and the same scope report.
pub fn same_as_cli(
    got: &Downloads,
    inputs: &[&Path],
    extra: &[&OsStr],
    name: &str,
    tmp: &Path,
) -> Result<Manifest> {
    let (manifest, _) = prep::bundle::verify(&got.bundle[..])?;
    let confirmation = manifest
        .confirmation
        .clone()
        .ok_or("the page's bundle is not confirmed")?;
    assert_eq!(confirmation.confirmed_by, name);
    let at = confirmation.confirmed_at;
    assert!(
        at.len() == 20 && at.ends_with('Z'),
        "RFC 3339 whole seconds: {at}"
    );
    let m = tmp.join("page.mapping.json");
    std::fs::write(&m, &got.mapping)?;
    let out = tmp.join("cli/sample.bundle.jsonl.gz");
    let mut args: Vec<&OsStr> = vec![OsStr::new("prepare")];
    for input in inputs {
        args.extend([OsStr::new("--input"), input.as_os_str()]);
    }
    args.extend([
        OsStr::new("--out"),
        out.as_os_str(),
        OsStr::new("--mapping"),
        m.as_os_str(),
        OsStr::new("--confirmed-by"),
        OsStr::new(name),
        OsStr::new("--confirmed-at"),
        OsStr::new(&at),
    ]);
    // The page proposes the browser's own time zone; the CLI is told the same.
    let zone = manifest
        .settings
        .time_zone
        .clone()
        .ok_or("the page's bundle states no time zone")?;
    args.extend([OsStr::new("--time-zone"), OsStr::new(&zone)]);
    args.extend(extra);
    let run = loader(&args)?;
    assert!(
        run.status.success(),
        "loader prepare failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let cli = std::fs::read(&out)?;
    assert!(
        cli == got.bundle,
        "the page's bundle ({} bytes) differs from the CLI's ({} bytes)",
        got.bundle.len(),
        cli.len()
    );
    let cli_report = std::fs::read(tmp.join("cli/sample.bundle.scope.md"))?;
    assert_eq!(
        String::from_utf8_lossy(&got.report),
        String::from_utf8_lossy(&cli_report),
        "the page's scope report is the CLI's"
    );
    Ok(manifest)
}
