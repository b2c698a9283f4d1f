//! The demo page end to end: `trunk build --release` of `www/index.html` + the `web` crate,
//! served on loopback by a static server that logs every request, in headless Chromium
//! (Debian's `chromium`, installed by scripts/test.sh) with a fake camera playing a y4m
//! clip made (ffmpeg) from the public-domain astronaut photo. On the WebGPU path (where
//! headless Chromium offers an adapter: SwiftShader with --enable-unsafe-webgpu, taken with
//! `?backend=webgpu`, since the page's default skips software adapters) and on the forced
//! CPU path (`?backend=cpu`) the page must show a face box near the true face,
//! a score in [0, 1], a verdict and a frame rate above 0, request nothing outside its
//! origin, and score a still image exactly as `trainer infer` does (within 1e-4).
//!
//! The liveness models are fixtures imported as `trainer import` writes them (the demo
//! weights are not needed): DeiT-Tiny (int8) on the CPU path, and a 4-block 32-px ViT on
//! the WebGPU path, where SwiftShader takes 10-40 s per DeiT-Tiny forward. Figures (start-up, per-stage latency, frame rate) are printed and written to
//! `target/browser-test/figures-<backend>.json`; screenshots to `target/browser-test/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use headless_chrome::protocol::cdp::Emulation;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use image::{Rgb, RgbImage};
use model_format::{ModelFile, StorageDtype, VitConfig};
use tests::fixture;
use tests::server::StaticServer;

#[path = "browser/chromium.rs"]
mod chromium;
use chromium::*;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The page's default liveness model, under the site.
const SHIPPED_MODEL: &str = "models/hatfas-student.safetensors";

fn work_dir() -> PathBuf {
    repo_root().join("target/browser-test")
}

/// A liveness model the tests serve, with `trainer infer`'s result on the still image.
struct TestModel {
    /// Path under the site, as the page's `?model=` takes it.
    path: &'static str,
    /// `trainer infer`'s face box and live score for the still image.
    still_box: [f32; 4],
    still_score: f32,
}

/// What every browser test shares: the built page with the test models, the camera clip,
/// the native reference results.
struct Setup {
    site: PathBuf,
    /// The fake camera's clip (640 x 480).
    y4m: PathBuf,
    /// The still image used for parity.
    still: PathBuf,
    /// The demo model the page loads by default (`www/models/`, committed).
    shipped: TestModel,
    /// DeiT-Tiny (the real architecture, 224 px), int8: the deit_tiny fixture imported.
    deit_tiny: TestModel,
    /// A 4-block ViT on 32 px inputs (the timm_tiny fixture): the same kernels as DeiT-Tiny
    /// at a fraction of the work, for the WebGPU path, whose only adapter in headless
    /// Chromium without a GPU is SwiftShader (a DeiT-Tiny forward takes 10-40 s there).
    vit_tiny: TestModel,
    /// The face in the camera frame, detected natively on the frame the clip was made from.
    camera_box: [f32; 4],
}

/// Tests run one at a time (one browser; 2 cores), sharing one set-up.
fn setup() -> (MutexGuard<'static, ()>, &'static Setup) {
    static LOCK: Mutex<()> = Mutex::new(());
    static SETUP: OnceLock<Setup> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    (guard, SETUP.get_or_init(make_setup))
}

fn make_setup() -> Setup {
    let dir = work_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let site = dir.join("site");
    build_page(&site);

    // The test's liveness models, as `trainer import` writes them.
    let deit = trainer::weights::import::import(
        &fixture("deit_tiny/checkpoint.safetensors"),
        "deit_tiny_patch16_224",
    )
    .expect("import the deit_tiny fixture");
    deit.write(site.join("models/test.safetensors"), StorageDtype::Int8)
        .unwrap();
    let tiny = trainer::weights::import::import_as(
        &fixture("timm_tiny/checkpoint.pth"),
        VitConfig::custom(32, 8, 48, 4, 3, 2),
    )
    .expect("import the timm_tiny fixture");
    tiny.write(site.join("models/tiny.safetensors"), StorageDtype::F32)
        .unwrap();
    // A damaged copy, for the error path.
    let bytes = std::fs::read(site.join("models/test.safetensors")).unwrap();
    std::fs::write(
        site.join("models/damaged.safetensors"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();

    // The camera frame: the astronaut photo's top 480 rows, centred on a 640 x 480 frame.
    let astronaut = image::open(fixture("preprocess/astronaut.png"))
        .unwrap()
        .to_rgb8();
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([40, 44, 52]));
    image::imageops::replace(
        &mut frame,
        &image::imageops::crop_imm(&astronaut, 0, 0, 512, 480).to_image(),
        64,
        0,
    );
    let frame_png = dir.join("camera-frame.png");
    frame.save(&frame_png).unwrap();
    let y4m = dir.join("camera.y4m");
    let status = Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-loop", "1", "-i"])
        .arg(&frame_png)
        .args(["-frames:v", "10", "-r", "10", "-pix_fmt", "yuv420p"])
        .arg(&y4m)
        .status()
        .expect("ffmpeg (scripts/test.sh installs it)");
    assert!(status.success(), "ffmpeg failed to make the camera clip");

    // Native references, exactly as `trainer infer` computes them.
    let device = Device::flex();
    let detector = trainer::detect::load_detector(None, &device).unwrap();
    let camera_box = trainer::detect::detect(&detector, &frame, "camera frame").unwrap()[0].bbox;
    let still = fixture("preprocess/astronaut.png");
    let reference = |path: &'static str| {
        let file = ModelFile::read(site.join(path)).unwrap();
        let loaded = trainer::model::LoadedModel::from_file(file, &device).unwrap();
        let mut predictions = Vec::new();
        trainer::infer::infer(
            &loaded,
            Some(&detector),
            std::slice::from_ref(&still),
            &device,
            |p| predictions.push(p.clone()),
        )
        .unwrap();
        let prediction = &predictions[0];
        TestModel {
            path,
            still_box: prediction.face.as_ref().expect("a face in the photo").bbox,
            still_score: prediction.live_score.unwrap(),
        }
    };
    Setup {
        shipped: reference(SHIPPED_MODEL),
        deit_tiny: reference("models/test.safetensors"),
        vit_tiny: reference("models/tiny.safetensors"),
        site,
        y4m,
        still,
        camera_box,
    }
}

/// `trunk build --release` into `site` (Trunk.toml at the root: offline, wasm-bindgen
/// 0.2.130 from PATH, no wasm-opt, Cargo.toml's `web` profile). scripts/test.sh builds
/// the wasm first, so this only runs wasm-bindgen and copies files.
fn build_page(site: &Path) {
    let started = Instant::now();
    let output = Command::new("trunk")
        .args(["build", "--release", "--dist"])
        .arg(site)
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run trunk ({e}): install it with scripts/test.sh (trunk 0.21.14 and \
                 wasm-bindgen-cli 0.2.130, see docs/page.md)"
            )
        });
    assert!(
        output.status.success(),
        "trunk build failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let wasm = std::fs::read_dir(site)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "wasm"))
        .expect("trunk wrote a .wasm");
    println!(
        "page built in {:.1} s; {} is {:.2} MB",
        started.elapsed().as_secs_f64(),
        wasm.file_name().unwrap().to_string_lossy(),
        std::fs::metadata(&wasm).unwrap().len() as f64 / 1e6
    );
}

/// One backend end to end: camera -> verdict, then the still image (parity), figures,
/// screenshot.
fn run_backend(backend: &str, model: fn(&Setup) -> &TestModel) {
    let (_guard, setup) = setup();
    let model = model(setup);
    let server = StaticServer::start(&setup.site).unwrap();
    let browser = launch(&setup.y4m, 1280, 900, true);
    let (tab, requests, console) = open_tab(&browser);

    // `webgpu` also on a software adapter (the page's `auto` would take the CPU there).
    // The shipped model is what the page loads without `?model=`.
    let query = if model.path == SHIPPED_MODEL {
        format!("backend={backend}")
    } else {
        format!("model={}&backend={backend}", model.path)
    };
    let url = format!("{}/?{query}", server.origin());
    let opened = Instant::now();
    open_page(&tab, &url, &console);
    if backend == "webgpu" && !has_webgpu(&tab) {
        println!("SKIPPED the WebGPU path: this Chromium offers no WebGPU adapter");
        return;
    }

    // Start-up: backend chosen, models fetched and warmed up.
    let ready = wait_for(
        &tab,
        "the models",
        Duration::from_secs(400),
        &console,
        false,
        |s| {
            matches!(
                s.get("state").map(String::as_str),
                Some("ready" | "running")
            )
        },
    );
    // On WebGPU the page starts on the CPU while the GPU prepares, then moves over.
    assert_eq!(
        ready.get("backend").map(String::as_str),
        Some("cpu"),
        "{ready:#?}"
    );
    println!(
        "[{backend}] ready after {:.1} s (page: {} ms)",
        opened.elapsed().as_secs_f64(),
        ready["readyMs"]
    );
    // The model's facts, provenance included, are on the page.
    let facts = tab
        .find_element("#model-facts")
        .unwrap()
        .get_inner_text()
        .unwrap();
    let file = ModelFile::read(setup.site.join(model.path)).unwrap();
    let file_name = model.path.rsplit('/').next().unwrap();
    assert!(
        facts.contains(file_name) && facts.contains("Threshold"),
        "{facts}"
    );
    if file.metadata.provenance.metrics.is_some() {
        assert!(facts.contains("Metrics"), "{facts}");
    }

    // The fake camera: a verdict on the astronaut's face, then a few frames for the rate.
    let first = wait_for(
        &tab,
        "a verdict on the camera",
        Duration::from_secs(300),
        &console,
        false,
        shows_verdict,
    );
    assert_eq!(first["source"], "camera");
    assert_eq!(first["camera"], "live");
    let gpu_ready_ms = (backend == "webgpu").then(|| {
        let switched = wait_for(
            &tab,
            "the move to WebGPU",
            Duration::from_secs(400),
            &console,
            false,
            |s| s.get("gpu").is_some_and(|g| g != "preparing"),
        );
        assert_eq!(switched["gpu"], "ready", "{switched:#?}");
        assert_eq!(switched["backend"], "webgpu");
        let (first_ms, gpu_ms) = (
            number(&first, "firstVerdictMs").unwrap(),
            number(&switched, "gpuReadyMs").unwrap(),
        );
        println!(
            "[webgpu] first verdict (on the CPU) after {first_ms} ms; GPU ready after {gpu_ms} ms"
        );
        assert!(
            first_ms < gpu_ms,
            "the CPU gives the first verdict while the GPU prepares"
        );
        gpu_ms
    });
    let frames_before = Instant::now();
    let running = wait_for(
        &tab,
        "a frame rate",
        Duration::from_secs(240),
        &console,
        false,
        |s| {
            number(s, "fps").is_some_and(|f| f > 0.0)
                && s.get("verdict").is_some_and(|v| v != "none")
                && s.get("analysedOn").map(String::as_str) == Some(backend)
        },
    );
    // Let several frames pass for the latency medians (not on SwiftShader: too slow).
    let settle = if backend == "cpu" { 6 } else { 0 };
    std::thread::sleep(Duration::from_secs(settle).saturating_sub(frames_before.elapsed()));
    let running = {
        let later = page_state(&tab);
        if later.get("verdict").is_some_and(|v| v != "none")
            && later.get("analysedOn").map(String::as_str) == Some(backend)
        {
            later
        } else {
            running
        }
    };
    let score = number(&running, "score").expect("a score");
    assert!((0.0..=1.0).contains(&score), "score {score}");
    let face = parse_box(&running["face"]).expect("a face box");
    let overlap = iou(face, setup.camera_box);
    assert!(
        overlap > 0.7,
        "page box {face:?} vs native {:?}: IoU {overlap}",
        setup.camera_box
    );
    let fps = number(&running, "fps").unwrap();
    assert!(fps > 0.0);
    let shot = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    std::fs::write(work_dir().join(format!("screenshot-{backend}.png")), shot).unwrap();

    // Parity: the astronaut photo through the page's file input, as `trainer infer` sees it.
    let still = score_photo(
        &tab,
        &setup.still,
        "the still image's score",
        Duration::from_secs(300),
        &console,
    );
    let page_score: f32 = still["rawScore"].parse().unwrap();
    let page_box = parse_box(&still["face"]).expect("a face in the still");
    println!(
        "[{backend}] still image: page score {page_score:.6}, trainer infer {:.6} (diff {:.2e}); box {page_box:?} vs {:?}",
        model.still_score,
        (page_score - model.still_score).abs(),
        model.still_box
    );
    assert!(
        (page_score - model.still_score).abs() <= 1e-4,
        "page score {page_score} vs trainer infer {}",
        model.still_score
    );
    for (p, n) in page_box.iter().zip(model.still_box) {
        assert!(
            (p - n).abs() < 0.5,
            "box {page_box:?} vs {:?}",
            model.still_box
        );
    }
    assert_eq!(
        still["score"], still["rawScore"],
        "a still image is not smoothed"
    );
    assert!(matches!(still["verdict"].as_str(), "live" | "spoof"));

    assert_same_origin(&server, &requests, &page_state(&tab));

    let figures = serde_json::json!({
        "backend": backend,
        "model": model.path,
        "ready_ms": number(&ready, "readyMs"),
        "first_verdict_ms": number(&first, "firstVerdictMs"),
        "gpu_ready_ms": gpu_ready_ms,
        "detect_ms_median": number(&running, "detectMs"),
        "classify_ms_median": number(&running, "classifyMs"),
        "fps": fps,
        "still_detect_ms": number(&still, "detectMs"),
        "still_classify_ms": number(&still, "classifyMs"),
        "still_score_page": page_score,
        "still_score_trainer": model.still_score,
    });
    println!("[{backend}] figures: {figures}");
    std::fs::write(
        work_dir().join(format!("figures-{backend}.json")),
        serde_json::to_string_pretty(&figures).unwrap(),
    )
    .unwrap();
}

#[test]
fn page_on_webgpu_detects_classifies_and_matches_trainer() {
    run_backend("webgpu", |s| &s.vit_tiny);
}

/// With the shipped demo model, loaded by default.
#[test]
fn page_on_forced_cpu_detects_classifies_and_matches_trainer() {
    run_backend("cpu", |s| &s.shipped);
}

/// A missing model and a damaged model file give clear messages; a good model dropped on
/// the page afterwards brings it up; a phone-sized window lays it out in one column.
#[test]
fn page_reports_bad_model_files_and_takes_a_visitors_model() {
    let (_guard, setup) = setup();
    let server = StaticServer::start(&setup.site).unwrap();
    let browser = launch(&setup.y4m, 390, 844, true);
    let (tab, requests, console) = open_tab(&browser);
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width: 390,
        height: 844,
        device_scale_factor: 2.0,
        mobile: true,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .unwrap();
    let url = format!(
        "{}/?backend=cpu&model=models/missing.safetensors",
        server.origin()
    );
    tab.navigate_to(&url).unwrap();
    let state = wait_for(
        &tab,
        "the missing-model error",
        Duration::from_secs(120),
        &console,
        true,
        |s| s.get("state").map(String::as_str) == Some("error"),
    );
    let error = &state["error"];
    assert!(
        error.contains("models/missing.safetensors") && error.contains("404"),
        "{error}"
    );
    let shown = tab
        .find_element("#error")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(shown.contains("not found"), "{shown}");

    // A damaged file chosen as the model: an error naming it, still no model.
    let damaged = setup.site.join("models/damaged.safetensors");
    tab.find_element("#model-input")
        .unwrap()
        .set_input_files(&[damaged.to_str().unwrap()])
        .unwrap();
    let state = wait_for(
        &tab,
        "the damaged-model error",
        Duration::from_secs(60),
        &console,
        true,
        |s| {
            s.get("error")
                .is_some_and(|e| e.contains("damaged.safetensors"))
        },
    );
    assert_eq!(state["state"], "error");

    // The good model, dropped onto the page (a drop event carrying the file, as a visitor's
    // drag and drop delivers it): loaded, warmed up, the camera starts, a verdict follows.
    let dropped = tab
        .evaluate(
            "(async () => {
                const blob = await (await fetch('models/test.safetensors')).blob();
                const transfer = new DataTransfer();
                transfer.items.add(new File([blob], 'dropped.safetensors'));
                document.dispatchEvent(new DragEvent('drop', {
                    dataTransfer: transfer, bubbles: true, cancelable: true }));
                return true;
            })()",
            true,
        )
        .unwrap()
        .value;
    assert_eq!(dropped, Some(serde_json::Value::Bool(true)));
    let state = wait_for(
        &tab,
        "a verdict with the chosen model",
        Duration::from_secs(300),
        &console,
        false,
        shows_verdict,
    );
    assert_eq!(state["model"], "dropped.safetensors");
    assert_eq!(state["error"], "");

    // Phone layout: one column, nothing wider than the screen.
    let overflow = tab
        .evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth",
            false,
        )
        .unwrap()
        .value
        .and_then(|v| v.as_bool());
    assert_eq!(
        overflow,
        Some(true),
        "the page is wider than a phone screen"
    );
    let shot = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    std::fs::write(work_dir().join("screenshot-phone.png"), shot).unwrap();
    assert_same_origin(&server, &requests, &page_state(&tab));
    let missing: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.status == 404)
        .map(|r| r.target)
        .collect();
    assert_eq!(missing, vec!["/models/missing.safetensors".to_string()]);
}

/// A visitor who refuses the camera is told so and offered files; a chosen photo is
/// analysed (the fallback path).
#[test]
fn page_without_camera_permission_offers_files() {
    let (_guard, setup) = setup();
    let server = StaticServer::start(&setup.site).unwrap();
    let browser = launch(&setup.y4m, 1280, 900, false);
    let (tab, requests, console) = open_tab(&browser);
    // The default backend choice: WebGPU on a hardware adapter, else the CPU with a notice.
    let url = format!("{}/?model={}", server.origin(), setup.deit_tiny.path);
    open_page(&tab, &url, &console);
    let software = tab
        .evaluate(
            "(async () => {
                const a = navigator.gpu && await navigator.gpu.requestAdapter();
                if (!a) return null;
                const i = a.info || {};
                return !!(i.isFallbackAdapter || a.isFallbackAdapter ||
                    /swiftshader|llvmpipe|lavapipe/i.test(
                        [i.vendor, i.architecture, i.description].join(' ')));
            })()",
            true,
        )
        .unwrap()
        .value
        .and_then(|v| v.as_bool());
    let state = wait_for(
        &tab,
        "the camera refusal",
        Duration::from_secs(120),
        &console,
        false,
        |s| {
            s.get("camera")
                .is_some_and(|c| c != "starting" && !c.is_empty())
        },
    );
    assert_eq!(state["camera"], "denied", "{state:#?}");
    assert_eq!(state["state"], "ready");
    let notice = tab
        .find_element("#notice")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(
        notice.contains("denied") && notice.contains("file"),
        "{notice}"
    );
    // auto: a hardware adapter runs WebGPU (after the CPU while it prepares); a software one
    // (SwiftShader) or none, the CPU.
    if software == Some(false) {
        let gpu = state.get("gpu").map(String::as_str);
        assert!(
            state["backend"] == "webgpu" || gpu == Some("preparing"),
            "{state:#?}"
        );
    } else {
        assert_eq!(state["backend"], "cpu", "adapter software: {software:?}");
        assert_eq!(state.get("gpu"), None, "{state:#?}");
    }
    if software == Some(true) {
        assert!(notice.contains("software renderer"), "{notice}");
    }
    let still = score_photo(
        &tab,
        &setup.still,
        "the chosen photo's score",
        Duration::from_secs(120),
        &console,
    );
    assert_eq!(still["state"], "running");
    assert_eq!(still["sourceName"], "astronaut.png");
    let score: f32 = still["rawScore"].parse().unwrap();
    assert!((score - setup.deit_tiny.still_score).abs() <= 1e-4);
    assert_same_origin(&server, &requests, &page_state(&tab));
}

/// The page's pipeline (`web::pipeline`) on the native CPU backend gives `trainer infer`'s
/// face and score for a still image, bit for bit: the same crop, transform and network.
#[test]
fn page_pipeline_is_trainer_infer() {
    let device = Device::flex();
    let model = trainer::weights::import::import(
        &fixture("deit_tiny/checkpoint.safetensors"),
        "deit_tiny_patch16_224",
    )
    .unwrap();
    let bytes = model.to_bytes(StorageDtype::Int8).unwrap();
    let liveness =
        web::pipeline::Liveness::from_bytes("test.safetensors", &bytes, &device).unwrap();
    let detector_bytes = std::fs::read(repo_root().join("www/models/mtcnn.safetensors")).unwrap();
    let detector =
        web::pipeline::FaceDetector::from_bytes("mtcnn.safetensors", &detector_bytes, &device)
            .unwrap();
    let still = fixture("preprocess/astronaut.png");
    let image =
        web::pipeline::decode_image("astronaut.png", &std::fs::read(&still).unwrap()).unwrap();
    let page =
        pollster::block_on(web::pipeline::analyse_still(&detector, &liveness, &image)).unwrap();

    let loaded = trainer::model::LoadedModel::from_file(
        ModelFile::from_bytes("test.safetensors", &bytes).unwrap(),
        &device,
    )
    .unwrap();
    let trainer_detector = trainer::detect::load_detector(None, &device).unwrap();
    let mut native = Vec::new();
    trainer::infer::infer(&loaded, Some(&trainer_detector), &[still], &device, |p| {
        native.push(p.clone())
    })
    .unwrap();
    assert_eq!(page.face, native[0].face);
    assert_eq!(page.logits, native[0].logits);
    assert_eq!(page.score, native[0].live_score);

    // A detector file is refused as the liveness model, and the reverse.
    let err = web::pipeline::Liveness::from_bytes("mtcnn.safetensors", &detector_bytes, &device)
        .err()
        .unwrap();
    assert!(
        err.contains("mtcnn.safetensors") && err.contains("detector"),
        "{err}"
    );
    let err = web::pipeline::FaceDetector::from_bytes("m.safetensors", &bytes, &device)
        .err()
        .unwrap();
    assert!(
        err.contains("m.safetensors") && err.contains("not the face detector"),
        "{err}"
    );
}

/// `?bench=N` (the page's half of scripts/bench_page_ort.sh): N timed forwards of the
/// liveness model alone, and the logits of its fixed input equal to the native pipeline's.
#[test]
fn page_bench_mode_times_the_model_with_native_logits() {
    let (_guard, setup) = setup();
    let server = StaticServer::start(&setup.site).unwrap();
    let browser = launch(&setup.y4m, 800, 600, false);
    let (tab, requests, console) = open_tab(&browser);
    let url = format!(
        "{}/?bench=3&backend=cpu&model={}",
        server.origin(),
        setup.deit_tiny.path
    );
    open_page(&tab, &url, &console);
    let state = wait_for(
        &tab,
        "the benchmark",
        Duration::from_secs(120),
        &console,
        false,
        |s| s.get("state").map(String::as_str) == Some("done"),
    );
    let result: serde_json::Value = serde_json::from_str(&state["bench"]).unwrap();
    let forwards = result["forwards_ms"].as_array().unwrap();
    assert_eq!(forwards.len(), 3, "{result}");
    let (min, median) = (
        result["min_ms"].as_f64().unwrap(),
        result["median_ms"].as_f64().unwrap(),
    );
    assert!(0.0 < min && min <= median, "{result}");
    assert!(result["startup_ms"].as_f64().unwrap() >= result["first_forward_ms"].as_f64().unwrap());
    assert_eq!(result["backend"], "cpu");

    // The same input natively: the linear congruential sequence of web/src/app/bench.rs
    // (and tests/ort-bench/bench.mjs), written out again here.
    let device = Device::flex();
    let file = ModelFile::read(setup.site.join(setup.deit_tiny.path)).unwrap();
    let model = model_format::Liveness::from_file(&file, &device).unwrap();
    let size = model.input_size();
    let mut state: u32 = 1;
    let input: Vec<f32> = (0..3 * size * size)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / 16_777_216.0 * 4.0 - 2.0
        })
        .collect();
    let native: Vec<f32> = model
        .logits(&[input], &device)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let page: Vec<f32> = result["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    let diff = tests::max_abs_diff(&page, &native);
    println!("[bench] page logits {page:?}, native {native:?} (max diff {diff:.2e}); {result}");
    assert!(diff <= 1e-4, "page {page:?} vs native {native:?}");
    assert_same_origin(&server, &requests, &page_state(&tab));
}
