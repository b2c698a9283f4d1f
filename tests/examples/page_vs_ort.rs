//! The demo page's DeiT forward beside onnxruntime-web's, in the same headless Chromium,
//! in the same run: a benchmark program (`cargo run -p tests --release --example
//! page_vs_ort`), run by `scripts/bench_page_ort.sh`, which assembles the site it serves
//! (`BENCH_SITE`):
//! - `/` the page as Trunk builds it, `/models/bench.safetensors` the model file;
//! - `/ort-bench/` tests/ort-bench (the ORT page), `/ort-bench/ort/` onnxruntime-web's
//!   files (npm, pinned), `/ort-bench/models/model.onnx` the same weights in ONNX.
//!
//! Each round opens both pages one after the other (the order alternates between
//! rounds), each in a freshly launched Chromium with a new profile (cold caches). Each
//! page times `BENCH_RUNS` forwards on one fixed input after a first one (compilation,
//! reported as start-up). Printed, and written to `target/ort-bench/results.json`:
//! per-run median and min, start-up, bytes downloaded (raw and gzip -9), and per-round
//! ratios ours / ORT (below 1: ours is faster).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use tests::server::StaticServer;

#[path = "../tests/browser/chromium.rs"]
#[allow(dead_code)]
mod chromium;
use chromium::*;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Which runtime and backend a run measures.
#[derive(Clone, Copy)]
struct Contender {
    runtime: &'static str,
    backend: &'static str,
}

impl Contender {
    fn url(self, origin: &str, runs: usize) -> String {
        match self.runtime {
            "ours" => format!(
                "{origin}/?bench={runs}&backend={}&model=models/bench.safetensors",
                self.backend
            ),
            _ => format!(
                "{origin}/ort-bench/?bench={runs}&ep={}&model=models/model.onnx",
                if self.backend == "cpu" {
                    "wasm"
                } else {
                    "webgpu"
                }
            ),
        }
    }
}

/// Size of `path` gzipped at level 9 (as a server would send it compressed); each file
/// is compressed once per process (the same files are served every round).
fn gzip_size(path: &Path) -> u64 {
    static SIZES: Mutex<BTreeMap<PathBuf, u64>> = Mutex::new(BTreeMap::new());
    if let Some(&size) = SIZES.lock().unwrap().get(path) {
        return size;
    }
    let size = gzip_size_uncached(path);
    SIZES.lock().unwrap().insert(path.to_path_buf(), size);
    size
}

fn gzip_size_uncached(path: &Path) -> u64 {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -9 -c '{}' | wc -c", path.display()))
        .output()
        .expect("gzip");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// One page in a fresh browser: its result and the bytes it downloaded.
fn measure(site: &Path, contender: Contender, runs: usize, timeout: Duration) -> Value {
    let server = StaticServer::start(site).unwrap();
    // No camera is used; `launch` wants a clip path all the same.
    let browser = launch(Path::new("/dev/null"), 800, 600, false);
    let (tab, _requests, console) = open_tab(&browser);
    open_page(&tab, &contender.url(&server.origin(), runs), &console);
    let state = wait_for(&tab, "the benchmark", timeout, &console, false, |s| {
        s.get("state").map(String::as_str) == Some("done")
    });
    let mut result: Value = serde_json::from_str(&state["bench"]).unwrap();
    let (mut raw, mut gzipped) = (0, 0);
    let mut files = BTreeMap::new();
    for logged in server.requests() {
        let path = logged
            .target
            .split('?')
            .next()
            .unwrap()
            .trim_start_matches('/');
        let file = site.join(if path.is_empty() || path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.to_string()
        });
        if logged.status == 200 && file.is_file() && !files.contains_key(path) {
            let (r, g) = (std::fs::metadata(&file).unwrap().len(), gzip_size(&file));
            files.insert(path.to_string(), json!([r, g]));
            raw += r;
            gzipped += g;
        }
    }
    result["runtime"] = contender.runtime.into();
    result["bytes_raw"] = raw.into();
    result["bytes_gzip"] = gzipped.into();
    result["files"] = json!(files);
    result
}

/// Both ran the same weights on the same input (else the race is not between equals).
fn assert_same_logits(ours: &Value, ort: &Value) {
    let logits = |r: &Value| -> Vec<f64> {
        r["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let (a, b) = (logits(ours), logits(ort));
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(diff < 1e-3, "logits differ: ours {a:?}, ORT {b:?}");
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn range(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// Alternating rounds of our page against ORT on `backend`; the summary of the ratios.
fn compare(site: &Path, backend: &'static str, rounds: usize, runs: usize) -> Value {
    let timeout = Duration::from_secs(if backend == "cpu" { 300 } else { 1800 });
    let ours = Contender {
        runtime: "ours",
        backend,
    };
    let ort = Contender {
        runtime: "ort",
        backend,
    };
    let mut all = Vec::new();
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [ours, ort]
        } else {
            [ort, ours]
        };
        let mut results: Vec<Value> = order
            .iter()
            .map(|c| measure(site, *c, runs, timeout))
            .collect();
        if round % 2 == 1 {
            results.reverse();
        }
        assert_same_logits(&results[0], &results[1]);
        let ratio =
            results[0]["median_ms"].as_f64().unwrap() / results[1]["median_ms"].as_f64().unwrap();
        println!(
            "[{backend}] round {}: ours {:.1} ms (min {:.1}), ORT {:.1} ms (min {:.1}); ours / ORT {ratio:.2}",
            round + 1,
            results[0]["median_ms"].as_f64().unwrap(),
            results[0]["min_ms"].as_f64().unwrap(),
            results[1]["median_ms"].as_f64().unwrap(),
            results[1]["min_ms"].as_f64().unwrap(),
        );
        ratios.push(ratio);
        all.push(
            json!({ "round": round + 1, "ours": results[0], "ort": results[1], "ratio": ratio }),
        );
    }
    let field = |who: &str, key: &str| -> Vec<f64> {
        all.iter().map(|r| r[who][key].as_f64().unwrap()).collect()
    };
    let summary = |who: &str| {
        let (mut med, mut start) = (field(who, "median_ms"), field(who, "startup_ms"));
        json!({
            "median_ms": median(&mut med),
            "median_ms_range": range(&med),
            "min_ms": range(&field(who, "min_ms")).0,
            "startup_ms": median(&mut start),
            "startup_ms_range": range(&start),
            "bytes_raw": all[0][who]["bytes_raw"],
            "bytes_gzip": all[0][who]["bytes_gzip"],
        })
    };
    let (ours_summary, ort_summary) = (summary("ours"), summary("ort"));
    let ratio_range = range(&ratios);
    let summary = json!({
        "backend": backend,
        "rounds": rounds,
        "forwards_per_run": runs,
        "ratio_ours_over_ort_median": median(&mut ratios.clone()),
        "ratio_range": ratio_range,
        "ours": ours_summary,
        "ort": ort_summary,
    });
    println!("[{backend}] summary: {summary}");
    json!({ "summary": summary, "rounds": all })
}

fn main() {
    let site = PathBuf::from(
        std::env::var("BENCH_SITE").expect("BENCH_SITE: run scripts/bench_page_ort.sh"),
    );
    let rounds = env_or("BENCH_ROUNDS", 6);
    let runs = env_or("BENCH_RUNS", 10);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "cpu".into());
    let mut report = serde_json::Map::new();
    for backend in backends.split_whitespace() {
        let (backend, rounds, runs) = match backend {
            "cpu" => ("cpu", rounds, runs),
            // SwiftShader takes tens of seconds a forward: fewer of everything.
            "webgpu" => (
                "webgpu",
                env_or("BENCH_WEBGPU_ROUNDS", 2),
                env_or("BENCH_WEBGPU_RUNS", 2),
            ),
            other => panic!("BENCH_BACKENDS: {other} is neither cpu nor webgpu"),
        };
        report.insert(backend.into(), compare(&site, backend, rounds, runs));
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ort-bench");
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("results.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(report)).unwrap(),
    )
    .unwrap();
    println!("written to {}", path.display());
}
