//! `?bench=N`: the liveness model's forward pass timed on its own, for the side-by-side
//! benchmark against onnxruntime-web (`scripts/bench_page_ort.sh`). No detector, no
//! camera: the model file (`?model=`) is fetched, built on the backend `?backend=` names
//! and run `N` + 1 times on one fixed input (the first run, which compiles the GPU's
//! programs, is reported apart). The result is a JSON object in `#app[data-bench]`,
//! `data-state` becomes `done` (or `error`, with `data-error`).

use super::*;

/// What the benchmark reports (all times in ms; `startup_ms` from the page's navigation
/// start to the end of the first forward, as the ORT page measures it).
#[derive(serde::Serialize)]
struct BenchResult {
    backend: &'static str,
    model: String,
    model_bytes: usize,
    /// The fixed input's logits (the harness compares them with ORT's).
    logits: Vec<f32>,
    startup_ms: f64,
    first_forward_ms: f64,
    forwards_ms: Vec<f64>,
    median_ms: f64,
    min_ms: f64,
}

pub(super) async fn run(params: &Params, runs: usize) {
    let ui = Ui::new();
    ui.state("bench");
    count_csp_violations(&ui);
    match measure(params, runs.max(1)).await {
        Ok(result) => {
            let json = serde_json::to_string(&result).unwrap_or_default();
            ui.data("bench", &json);
            ui.state("done");
        }
        Err(message) => {
            ui.data("error", &message);
            ui.state("error");
        }
    }
}

/// `data-csp-violations`, as the page keeps it: the benchmark too fetches from its own
/// origin only.
fn count_csp_violations(ui: &Ui) {
    ui.data("csp-violations", "0");
    let (root, count) = (ui.root.clone(), Cell::new(0u32));
    let target: web_sys::EventTarget = document().into();
    on(&target, "securitypolicyviolation", move |_| {
        count.set(count.get() + 1);
        set_attr(&root, "data-csp-violations", &count.get().to_string());
    });
}

async fn measure(params: &Params, runs: usize) -> Result<BenchResult, String> {
    let (device, backend, _) = choose_device(params.backend).await;
    let bytes = fetch_bytes(&params.model, |_, _| {}).await?;
    let liveness = Liveness::from_bytes(&params.model, &bytes, &device)?;
    let size = liveness.classifier.input_size();
    let input = fixed_input(3 * size * size);
    let started = now();
    let logits = liveness.logits(input.clone(), &device).await?;
    let startup_ms = now();
    let first_forward_ms = startup_ms - started;
    let mut forwards_ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = now();
        liveness.logits(input.clone(), &device).await?;
        forwards_ms.push(now() - started);
    }
    let mut sorted = forwards_ms.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(BenchResult {
        backend: backend.as_str(),
        model: params.model.clone(),
        model_bytes: bytes.len(),
        logits,
        startup_ms,
        first_forward_ms,
        median_ms: sorted[sorted.len() / 2],
        min_ms: sorted[0],
        forwards_ms,
    })
}

/// A normalised-image-like input, the same on every run and on the ORT page (a linear
/// congruential sequence mapped to [-2, 2]; the values do not change the work).
fn fixed_input(n: usize) -> Vec<f32> {
    let mut state: u32 = 1;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
        })
        .collect()
}
