//! Driving headless Chromium for the browser test: launching it with a fake camera,
//! watching a tab's requests and console, reading the page's `data-*` state, waiting on
//! it, and the checks that every test shares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Network;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::{Browser, LaunchOptions, Tab};
use tests::server::StaticServer;

/// Headless Chromium with the fake camera; `allow_camera: false` refuses the permission
/// (as a visitor who says no).
pub fn launch(camera_clip: &Path, width: u32, height: u32, allow_camera: bool) -> Browser {
    let profile = tempfile::tempdir().unwrap().keep();
    let camera = format!(
        "--use-file-for-fake-video-capture={}",
        camera_clip.display()
    );
    let permission = if allow_camera {
        "--use-fake-ui-for-media-stream"
    } else {
        "--deny-permission-prompts"
    };
    let mut args: Vec<String> = vec![
        "--use-fake-device-for-media-stream".into(),
        permission.into(),
        camera,
        "--enable-unsafe-webgpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-background-timer-throttling".into(),
        "--disable-renderer-backgrounding".into(),
    ];
    if is_root() {
        args.push("--no-sandbox".into());
    }
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(!is_root())
        .window_size(Some((width, height)))
        .user_data_dir(Some(profile))
        .idle_browser_timeout(Duration::from_secs(900))
        .args(args)
        .build()
        .unwrap();
    Browser::new(options).expect("start headless Chromium")
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub fn chromium() -> PathBuf {
    for path in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(path).exists() {
            return path.into();
        }
    }
    panic!("no Chromium found: scripts/test.sh installs Debian's chromium");
}

/// Everything the page requested, as Chromium reports it (Network domain).
pub type Requests = Arc<Mutex<Vec<String>>>;

pub fn open_tab(browser: &Browser) -> (Arc<Tab>, Requests, Arc<Mutex<Vec<String>>>) {
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    tab.call_method(Network::Enable {
        max_total_buffer_size: None,
        max_resource_buffer_size: None,
        max_post_data_size: None,
        report_direct_socket_traffic: None,
        enable_durable_messages: None,
    })
    .unwrap();
    tab.enable_runtime().unwrap();
    tab.enable_log().unwrap();
    let requests: Requests = Arc::default();
    let console: Arc<Mutex<Vec<String>>> = Arc::default();
    let (seen, messages) = (requests.clone(), console.clone());
    tab.add_event_listener(Arc::new(move |event: &Event| match event {
        Event::NetworkRequestWillBeSent(e) => {
            seen.lock().unwrap().push(e.params.request.url.clone())
        }
        Event::RuntimeConsoleAPICalled(e) => {
            let text: Vec<String> = e
                .params
                .args
                .iter()
                .map(|a| {
                    a.value.as_ref().map_or_else(
                        || a.description.clone().unwrap_or_default(),
                        |v| v.to_string(),
                    )
                })
                .collect();
            messages.lock().unwrap().push(format!(
                "console.{:?}: {}",
                e.params.Type,
                text.join(" ")
            ));
        }
        Event::RuntimeExceptionThrown(e) => messages
            .lock()
            .unwrap()
            .push(format!("exception: {:?}", e.params.exception_details.text)),
        Event::LogEntryAdded(e) => messages.lock().unwrap().push(format!(
            "log {:?}: {}",
            e.params.entry.level, e.params.entry.text
        )),
        _ => {}
    }))
    .unwrap();
    (tab, requests, console)
}

/// The `data-*` attributes of the page's root element.
pub fn page_state(tab: &Tab) -> BTreeMap<String, String> {
    let value = tab
        .evaluate(
            "JSON.stringify(Object.assign({}, (document.getElementById('app') || {}).dataset || {}))",
            false,
        )
        .ok()
        .and_then(|r| r.value);
    value
        .and_then(|v| v.as_str().map(str::to_string))
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// Polls the page until `done` holds; panics with the page's state and console after
/// `timeout`, or when the page reports an error (unless `errors_ok`).
pub fn wait_for(
    tab: &Tab,
    what: &str,
    timeout: Duration,
    console: &Mutex<Vec<String>>,
    errors_ok: bool,
    done: impl Fn(&BTreeMap<String, String>) -> bool,
) -> BTreeMap<String, String> {
    let start = Instant::now();
    loop {
        let state = page_state(tab);
        if done(&state) {
            return state;
        }
        let failed = !errors_ok && state.get("state").map(String::as_str) == Some("error");
        if failed || start.elapsed() > timeout {
            panic!(
                "{} waiting for {what} after {:.0} s; page state {state:#?}\nconsole:\n{}",
                if failed { "page error" } else { "timed out" },
                start.elapsed().as_secs_f64(),
                console.lock().unwrap().join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Opens `url` in `tab` and waits until the page exposes its state.
pub fn open_page(tab: &Tab, url: &str, console: &Arc<Mutex<Vec<String>>>) {
    tab.navigate_to(url).unwrap();
    wait_for(
        tab,
        "the page",
        Duration::from_secs(60),
        console,
        true,
        |s| s.contains_key("state"),
    );
}

/// Running, with a live or spoof verdict on screen.
pub fn shows_verdict(s: &BTreeMap<String, String>) -> bool {
    s.get("state").map(String::as_str) == Some("running")
        && matches!(s.get("verdict").map(String::as_str), Some("live" | "spoof"))
}

/// Chooses `photo` in the page's file input and waits for its score (`what` names the
/// wait in a failure).
pub fn score_photo(
    tab: &Tab,
    photo: &Path,
    what: &str,
    timeout: Duration,
    console: &Arc<Mutex<Vec<String>>>,
) -> BTreeMap<String, String> {
    tab.find_element("#source-input")
        .unwrap()
        .set_input_files(&[photo.to_str().unwrap()])
        .unwrap();
    wait_for(tab, what, timeout, console, false, |s| {
        s.get("source").map(String::as_str) == Some("image")
            && s.get("rawScore").is_some_and(|v| !v.is_empty())
    })
}

pub fn number(state: &BTreeMap<String, String>, key: &str) -> Option<f64> {
    state.get(key).and_then(|v| v.parse().ok())
}

pub fn parse_box(text: &str) -> Option<[f32; 4]> {
    let values: Vec<f32> = text.split(',').filter_map(|v| v.parse().ok()).collect();
    values.try_into().ok()
}

pub fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = |b: [f32; 4]| (b[2] - b[0]) * (b[3] - b[1]);
    w * h / (area(a) + area(b) - w * h)
}

/// Whether this Chromium offers a WebGPU adapter to pages.
pub fn has_webgpu(tab: &Tab) -> bool {
    tab.evaluate(
        "(async () => !!(navigator.gpu && await navigator.gpu.requestAdapter()))()",
        true,
    )
    .ok()
    .and_then(|r| r.value)
    .and_then(|v| v.as_bool())
    .unwrap_or(false)
}

/// Asserts that every request went to the server's origin, per Chromium and per the
/// server's own log, and that the page's CSP blocked nothing.
pub fn assert_same_origin(
    server: &StaticServer,
    requests: &Requests,
    state: &BTreeMap<String, String>,
) {
    let origin = server.origin();
    let requests = requests.lock().unwrap().clone();
    assert!(!requests.is_empty(), "Chromium reported no requests");
    for url in &requests {
        let local = url.starts_with(&format!("{origin}/"))
            || url.starts_with("blob:")
            || url.starts_with("data:");
        assert!(
            local,
            "the page requested {url}, outside its origin {origin}"
        );
    }
    for logged in server.requests() {
        assert_eq!(logged.host.as_deref(), Some(&origin["http://".len()..]));
        assert_eq!(logged.method, "GET", "{logged:?}");
    }
    assert_eq!(
        state.get("cspViolations").map(String::as_str),
        Some("0"),
        "the page's Content-Security-Policy blocked a request"
    );
}
