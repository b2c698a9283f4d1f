//! The page: start-up (backend, model files, warm-up), the sources (camera, image and
//! video files), the frame loop (detect or track, classify, smooth) and the display.
//!
//! For tests the root element `#app` carries the state as attributes: `data-state`
//! (loading, ready, running, error), `data-backend` (webgpu, cpu), `data-score` (smoothed
//! live score), `data-raw-score` (this frame's), `data-verdict` (live, spoof, none),
//! `data-face` (`x1,y1,x2,y2` in source pixels, or none), `data-fps`, `data-detect-ms`,
//! `data-classify-ms`, `data-first-verdict-ms`, `data-ready-ms`, `data-source`,
//! `data-camera`, `data-model`, `data-error`, `data-csp-violations`.
//! Query parameters: `backend=auto|webgpu|cpu` (auto: WebGPU on a hardware adapter, else
//! the CPU; webgpu: WebGPU even on a software adapter such as SwiftShader; cpu: force the
//! CPU backend), `model=PATH` (liveness model file, same origin), `detector=PATH`,
//! `image=PATH` (analyse a still image instead of the camera), `camera=off`, `bench=N`
//! (time the liveness model alone, for scripts/bench_page_ort.sh: app/bench.rs).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::tensor::Device;
use image::RgbImage;
use js_sys::Reflect;
use model_format::Face;
use model_format::preprocess::ImageView;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    CanvasRenderingContext2d, DragEvent, Element, File, HtmlButtonElement, HtmlCanvasElement,
    HtmlElement, HtmlInputElement, HtmlProgressElement, HtmlVideoElement, ImageData, MediaStream,
    Url, UrlSearchParams,
};

use crate::camera;
use crate::dom::{
    by_id, document, get_string, js_error, next_frame, now, on, set_attr, set_hidden, set_style,
    set_text, sleep, window,
};
use crate::fetch::{fetch_bytes, file_bytes};
use crate::pipeline::{FaceDetector, Liveness, ModelFacts, decode_image};
use crate::track::{History, Verdict};

mod bench;
mod gpu;
mod params;
mod ui;
mod view;
use gpu::*;
use params::*;
use ui::*;
use view::*;

/// The liveness model the page loads unless `?model=` names another.
const DEFAULT_MODEL: &str = "models/hatfas-student.safetensors";
const DEFAULT_DETECTOR: &str = "models/mtcnn.safetensors";
/// Video frames larger than this (longer side) are scaled down before analysis.
const MAX_FRAME_SIDE: u32 = 960;
/// Size of the blank frame the detector warms up on (the camera's usual size).
const WARM_UP_FRAME: (u32, u32) = (640, 480);

/// Everything the page holds.
struct App {
    ui: Ui,
    params: Params,
    device: RefCell<Option<Device>>,
    backend: Cell<Backend>,
    detector: RefCell<Option<Rc<FaceDetector>>>,
    liveness: RefCell<Option<Rc<Liveness>>>,
    source: RefCell<Source>,
    /// Bumped whenever the source or the model changes: results of older frames are
    /// dropped.
    generation: Cell<u64>,
    /// True while a model is being loaded (the loop waits).
    busy: Cell<bool>,
    history: RefCell<History>,
    first_verdict: Cell<Option<f64>>,
    /// Set when the page cannot continue (no detector, a device failure).
    failed: Cell<bool>,
    csp_violations: Cell<u32>,
    /// Whether the opening source (camera or `?image=`) has been started.
    source_started: Cell<bool>,
    /// Why the CPU backend runs, when it does.
    backend_notice: RefCell<Option<String>>,
}

/// Installs the panic hook and starts the page.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("The page stopped on an internal error: {info}");
        console_error(&message);
        show_fatal(&message);
    }));
    spawn_local(async {
        let params = Params::read();
        if let Some(runs) = params.bench {
            return bench::run(&params, runs).await;
        }
        let app = Rc::new(App::new());
        app.wire();
        app.clone().boot().await;
    });
}

impl App {
    fn new() -> Self {
        Self {
            ui: Ui::new(),
            params: Params::read(),
            device: RefCell::new(None),
            backend: Cell::new(Backend::Cpu),
            detector: RefCell::new(None),
            liveness: RefCell::new(None),
            source: RefCell::new(Source::None),
            generation: Cell::new(0),
            busy: Cell::new(false),
            history: RefCell::new(History::default()),
            first_verdict: Cell::new(None),
            failed: Cell::new(false),
            csp_violations: Cell::new(0),
            source_started: Cell::new(false),
            backend_notice: RefCell::new(None),
        }
    }

    fn device(&self) -> Device {
        self.device
            .borrow()
            .clone()
            .expect("device initialised at start-up")
    }

    /// Start-up: backend, models, warm-up, then the source and the frame loop.
    async fn boot(self: Rc<Self>) {
        let ui = &self.ui;
        ui.state("loading");
        ui.data("csp-violations", "0");
        ui.loading("Starting the compute backend…");
        let started = now();
        let (device, gpu) = self.start_backend().await;
        // The detector first: without it nothing works.
        let Some((detector, detector_bytes)) = self.load_detector(&device).await else {
            return;
        };
        ui.loading("Downloading the liveness model…");
        let model_path = self.params.model.clone();
        let bar = ui.progress_model.clone();
        let model_bytes = fetch_bytes(&model_path, |got, total| progress(&bar, got, total)).await;
        let liveness = model_bytes
            .as_deref()
            .map_err(Clone::clone)
            .and_then(|bytes| Liveness::from_bytes(&model_path, bytes, &device));
        let fetched = now();
        let liveness = match liveness {
            Ok(liveness) => liveness,
            Err(message) => return self.start_without_model(&message, &detector).await,
        };
        ui.loading("Preparing the models on the CPU…");
        sleep(0).await; // let the message paint
        if !self.warm_up(&detector, &liveness, &device).await {
            return;
        }
        let ready = now();
        ui.data("ready-ms", &format!("{ready:.0}"));
        set_text(
            &ui.stat_startup,
            &format!(
                "ready {:.1} s after opening (files {:.1} s, warm-up {:.1} s)",
                ready / 1000.0,
                (fetched - started) / 1000.0,
                (ready - fetched) / 1000.0
            ),
        );
        self.install_model(liveness, &detector.facts);
        set_hidden(&ui.loading, true);
        ui.state("ready");
        self.clone().spawn_loop();
        if let (Some(gpu), Ok(detector_bytes), Ok(model_bytes)) = (gpu, detector_bytes, model_bytes)
        {
            self.set_backend_notice(Some(GPU_PREPARING.into()));
            spawn_local(self.clone().switch_to_gpu(gpu, detector_bytes, model_bytes));
        }
        self.clone().start_initial_source().await;
    }

    /// The device the page starts on (always the CPU) and, on WebGPU, the GPU device it
    /// moves to once the GPU has compiled its programs (App::switch_to_gpu).
    async fn start_backend(&self) -> (Device, Option<Device>) {
        let ui = &self.ui;
        let (chosen, backend, notice) = choose_device(self.params.backend).await;
        let (device, gpu, notice) = match backend {
            Backend::WebGpu => (Device::flex(), Some(chosen), None),
            Backend::Cpu => (chosen, None, notice),
        };
        *self.device.borrow_mut() = Some(device.clone());
        self.backend.set(Backend::Cpu);
        ui.data("backend", Backend::Cpu.as_str());
        self.set_backend_notice(notice);
        set_text(
            &ui.stat_backend,
            &backend_description(Backend::Cpu, self.params.backend).await,
        );
        (device, gpu)
    }

    /// Downloads and builds the face detector on `device`, with its file's bytes (for the
    /// move to the GPU); `None` after a fatal error, already shown.
    async fn load_detector(
        &self,
        device: &Device,
    ) -> Option<(Rc<FaceDetector>, Result<Vec<u8>, String>)> {
        self.ui.loading("Downloading the face detector…");
        let path = self.params.detector.clone();
        let bar = self.ui.progress_detector.clone();
        let bytes = fetch_bytes(&path, |got, total| progress(&bar, got, total)).await;
        match bytes
            .as_deref()
            .map_err(Clone::clone)
            .and_then(|bytes| FaceDetector::from_bytes(&path, bytes, device))
        {
            Ok(detector) => {
                let detector = Rc::new(detector);
                *self.detector.borrow_mut() = Some(detector.clone());
                Some((detector, bytes))
            }
            Err(message) => {
                self.fatal(&format!("The face detector could not be loaded: {message}"));
                None
            }
        }
    }

    /// The liveness model could not be loaded: says so at once, and readies the detector
    /// alone, so that a liveness model the visitor chooses or drops can run.
    async fn start_without_model(self: Rc<Self>, message: &str, detector: &FaceDetector) {
        let ui = &self.ui;
        set_hidden(&ui.loading, true);
        self.show_detector_facts(&detector.facts);
        ui.state("error");
        let hint = if self.params.model == DEFAULT_MODEL {
            " The demo weights are not part of this build: choose or drop a liveness \
             model file (.safetensors from `trainer export` or `trainer import`), or \
             open the page with ?model=PATH."
        } else {
            " Choose or drop another liveness model file (.safetensors)."
        };
        ui.error(Some(&format!(
            "The liveness model could not be loaded: {message}.{hint}"
        )));
        ui.data("model", "");
        let (w, h) = WARM_UP_FRAME;
        if let Err(message) = detector.warm_up(w, h).await {
            return self.fatal(&format!(
                "The face detector failed on this device: {message}"
            ));
        }
        self.clone().spawn_loop();
    }

    /// Runs both models once on blank input (kernels and buffers ready before the first
    /// frame); false after a fatal error, already shown.
    async fn warm_up(&self, detector: &FaceDetector, liveness: &Liveness, device: &Device) -> bool {
        let (w, h) = WARM_UP_FRAME;
        if let Err(message) = detector.warm_up(w, h).await {
            self.fatal(&format!(
                "The face detector failed on this device: {message}"
            ));
            return false;
        }
        if let Err(message) = liveness.warm_up(device).await {
            self.fatal(&format!(
                "The liveness model failed on this device: {message}"
            ));
            return false;
        }
        true
    }

    /// The source the page opens with: `?image=`, else the camera (unless `?camera=off`).
    async fn start_initial_source(self: Rc<Self>) {
        if self.source_started.replace(true) {
            return;
        }
        if let Some(path) = self.params.image.clone() {
            match fetch_bytes(&path, |_, _| {})
                .await
                .and_then(|b| decode_image(&path, &b))
            {
                Ok(image) => self.set_source(Source::Image {
                    name: path,
                    image: Rc::new(image),
                    done: false,
                }),
                Err(message) => self.ui.error(Some(&message)),
            }
        } else if self.params.camera {
            self.start_camera().await;
        } else {
            self.ui.data("camera", "off");
        }
    }

    /// Shows the notice about the backend in use, and keeps it to show again after other
    /// notices (a refused camera) go.
    fn set_backend_notice(&self, notice: Option<String>) {
        self.ui.notice(notice.as_deref());
        *self.backend_notice.borrow_mut() = notice;
    }

    /// The error state for a problem the page cannot recover from.
    fn fatal(&self, message: &str) {
        self.failed.set(true);
        console_error(message);
        show_fatal(message);
    }

    fn spawn_loop(self: Rc<Self>) {
        spawn_local(async move { self.frame_loop().await });
    }

    /// Puts a loaded liveness model in place and shows its facts.
    fn install_model(&self, liveness: Liveness, detector_facts: &ModelFacts) {
        let ui = &self.ui;
        let threshold = liveness.threshold();
        set_style(
            &ui.gauge_threshold,
            "left",
            &format!("{:.2}%", threshold * 100.0),
        );
        set_text(
            &ui.threshold_text,
            &format!("live when ≥\u{a0}{threshold:.3}"),
        );
        ui.data("model", &liveness.facts.name);
        ui.data("threshold", &format!("{threshold}"));
        self.show_facts(&liveness.facts, detector_facts);
        *self.liveness.borrow_mut() = Some(Rc::new(liveness));
        self.restart_analysis();
    }

    /// Forgets the track, the smoothed score and the timings (new source or model).
    fn restart_analysis(&self) {
        self.generation.set(self.generation.get() + 1);
        self.history.borrow_mut().reset();
        if let Source::Image { done, .. } = &mut *self.source.borrow_mut() {
            *done = false;
        }
    }

    fn set_source(&self, source: Source) {
        let previous = std::mem::replace(&mut *self.source.borrow_mut(), source);
        match previous {
            Source::Camera(stream) => camera::stop(&stream),
            Source::Video { url, .. } => {
                let _ = Url::revoke_object_url(&url);
            }
            _ => {}
        }
        let ui = &self.ui;
        let kind = self.source.borrow().kind();
        ui.data("source", kind);
        let name = match &*self.source.borrow() {
            Source::Video { name, .. } | Source::Image { name, .. } => name.clone(),
            Source::Camera(_) => "camera".into(),
            Source::None => String::new(),
        };
        ui.data("source-name", &name);
        let is_video = matches!(kind, "camera" | "video");
        if !is_video {
            let _ = ui.video.pause();
            ui.video.set_src_object(None);
            let _ = ui.video.remove_attribute("src");
            ui.video.load();
        }
        set_hidden(&ui.video, !is_video);
        let mirrored = kind == "camera";
        let _ = ui
            .viewport
            .class_list()
            .toggle_with_force("mirrored", mirrored);
        let camera_on = kind == "camera";
        set_text(
            &ui.camera_button,
            if camera_on {
                "Stop camera"
            } else {
                "Start camera"
            },
        );
        ui.camera_button
            .set_attribute("aria-pressed", if camera_on { "true" } else { "false" })
            .ok();
        if !camera_on && self.ui.root.get_attribute("data-camera").as_deref() == Some("live") {
            ui.data("camera", "off");
        }
        self.restart_analysis();
        self.show_no_result();
        if kind == "none" {
            self.draw_placeholder();
        }
    }

    /// The empty picture: what to do to get one.
    fn draw_placeholder(&self) {
        let ui = &self.ui;
        let (w, h) = (640.0, 480.0);
        ui.overlay.set_width(w as u32);
        ui.overlay.set_height(h as u32);
        let ctx = &ui.overlay_ctx;
        ctx.clear_rect(0.0, 0.0, w, h);
        ctx.set_fill_style_str("#a3abbd");
        ctx.set_font("500 22px system-ui, sans-serif");
        ctx.set_text_align("center");
        let _ = ctx.fill_text("No picture yet", w / 2.0, h / 2.0 - 14.0);
        ctx.set_font("400 17px system-ui, sans-serif");
        let _ = ctx.fill_text(
            "Start the camera, or choose or drop a photo or a video",
            w / 2.0,
            h / 2.0 + 16.0,
        );
        ctx.set_text_align("start");
    }

    async fn start_camera(self: Rc<Self>) {
        let ui = &self.ui;
        ui.data("camera", "starting");
        ui.camera_button.set_disabled(true);
        let result = camera::start(&ui.video).await;
        ui.camera_button.set_disabled(false);
        match result {
            Ok(stream) => {
                self.set_source(Source::Camera(stream));
                ui.data("camera", "live");
                // Camera messages go; the backend's notice (CPU fallback) stays.
                ui.notice(self.backend_notice.borrow().as_deref());
            }
            Err(error) => {
                ui.data("camera", error.state());
                self.draw_placeholder();
                let text = match self.backend_notice.borrow().as_deref() {
                    Some(note) => format!("{} {note}", error.message()),
                    None => error.message(),
                };
                ui.notice(Some(&text));
            }
        }
    }

    /// Event handlers: buttons, file inputs, drag and drop, CSP reports.
    fn wire(self: &Rc<Self>) {
        let ui = &self.ui;
        let app = self.clone();
        on(&ui.camera_button, "click", move |_| {
            let app = app.clone();
            if matches!(*app.source.borrow(), Source::Camera(_)) {
                app.set_source(Source::None);
                app.ui.data("camera", "off");
            } else {
                spawn_local(async move { app.start_camera().await });
            }
        });
        // Both file inputs take any file: `open_file` tells models from photos and videos.
        for input in [&ui.source_input, &ui.model_input] {
            let (app, chooser) = (self.clone(), input.clone());
            on(input, "change", move |_| {
                if let Some(file) = chooser.files().and_then(|f| f.get(0)) {
                    let app = app.clone();
                    spawn_local(async move { app.open_file(file).await });
                }
                chooser.set_value("");
            });
        }
        let doc = document();
        let body = doc.body().expect("body");
        let target: web_sys::EventTarget = doc.clone().into();
        let dragging = body.clone();
        on(&target, "dragover", move |event| {
            event.prevent_default();
            let _ = dragging.class_list().add_1("dragging");
        });
        let dragging = body.clone();
        on(&target, "dragleave", move |event| {
            // Leaving the window (no related target), not moving between children.
            let leaving = event
                .dyn_ref::<web_sys::MouseEvent>()
                .is_none_or(|e| e.related_target().is_none());
            if leaving {
                let _ = dragging.class_list().remove_1("dragging");
            }
        });
        let app = self.clone();
        on(&target, "drop", move |event| {
            event.prevent_default();
            let _ = body.class_list().remove_1("dragging");
            let file = event
                .dyn_ref::<DragEvent>()
                .and_then(|e| e.data_transfer())
                .and_then(|d| d.files())
                .and_then(|f| f.get(0));
            if let Some(file) = file {
                let app = app.clone();
                spawn_local(async move { app.open_file(file).await });
            }
        });
        let app = self.clone();
        on(&target, "securitypolicyviolation", move |event| {
            app.csp_violations.set(app.csp_violations.get() + 1);
            app.ui
                .data("csp-violations", &app.csp_violations.get().to_string());
            let uri = get_string(&event, "blockedURI").unwrap_or_default();
            console_error(&format!("blocked by the page's security policy: {uri}"));
        });
    }

    /// A chosen or dropped file: a model (.safetensors), an image or a video.
    async fn open_file(self: Rc<Self>, file: File) {
        let name = file.name();
        let kind = file.type_();
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".safetensors") {
            self.open_model(file).await;
        } else if kind.starts_with("video/") {
            match Url::create_object_url_with_blob(&file) {
                Ok(url) => {
                    self.ui.video.set_src_object(None);
                    self.ui.video.set_src(&url);
                    self.ui.video.set_loop(true);
                    self.ui.video.set_muted(true);
                    self.set_source(Source::Video {
                        name: name.clone(),
                        url,
                    });
                    if let Ok(play) = self.ui.video.play()
                        && let Err(e) = JsFuture::from(play).await
                    {
                        self.ui.error(Some(&format!(
                            "{name}: cannot be played ({})",
                            js_error(&e)
                        )));
                        return;
                    }
                    self.ui.error(None);
                }
                Err(e) => self.ui.error(Some(&format!("{name}: {}", js_error(&e)))),
            }
        } else {
            let image = file_bytes(&file)
                .await
                .and_then(|bytes| decode_image(&name, &bytes));
            match image {
                Ok(image) => {
                    self.ui.error(None);
                    self.set_source(Source::Image {
                        name,
                        image: Rc::new(image),
                        done: false,
                    });
                }
                Err(message) => self.ui.error(Some(&format!(
                    "{message}. The page reads PNG, JPEG, BMP and WebP images, browser-playable \
                     videos, and .safetensors model files."
                ))),
            }
        }
    }

    /// A liveness model file from the visitor: validated, loaded, warmed up, then used.
    async fn open_model(self: Rc<Self>, file: File) {
        let ui = &self.ui;
        let Some(detector) = self.detector.borrow().clone() else {
            return;
        };
        if self.busy.get() {
            return;
        }
        self.busy.set(true);
        let previous_state = ui.root.get_attribute("data-state").unwrap_or_default();
        let name = file.name();
        ui.state("loading");
        ui.loading(&format!("Loading {name}…"));
        set_hidden(&ui.progress_rows, true);
        let device = self.device();
        let result = match file_bytes(&file).await {
            Ok(bytes) => {
                progress(&ui.progress_model, bytes.len(), Some(bytes.len()));
                Liveness::from_bytes(&name, &bytes, &device)
            }
            Err(message) => Err(message),
        };
        let result = match result {
            Ok(liveness) => {
                ui.loading(&format!("Preparing {name}…"));
                sleep(0).await;
                liveness.warm_up(&device).await.map(|_| liveness)
            }
            Err(message) => Err(message),
        };
        set_hidden(&ui.loading, true);
        self.busy.set(false);
        match result {
            Ok(liveness) => {
                ui.error(None);
                self.install_model(liveness, &detector.facts);
                let has_source = !matches!(*self.source.borrow(), Source::None);
                ui.state(if has_source { "running" } else { "ready" });
                // After a missing default model, the page starts its source now.
                self.clone().start_initial_source().await;
            }
            Err(message) => {
                // Keep the model in use, if any.
                let keep = self.liveness.borrow().is_some();
                ui.state(if keep { &previous_state } else { "error" });
                let what = if keep {
                    "it was not loaded; the current model stays in use"
                } else {
                    "choose or drop another file"
                };
                ui.error(Some(&format!("{message} ({what}).")));
            }
        }
    }

    /// The frame loop: one analysis at a time, at most once per display frame.
    async fn frame_loop(self: Rc<Self>) {
        loop {
            next_frame().await;
            if self.failed.get() {
                return;
            }
            if self.busy.get() {
                continue;
            }
            let (Some(detector), Some(liveness)) = (
                self.detector.borrow().clone(),
                self.liveness.borrow().clone(),
            ) else {
                continue;
            };
            let still = match &*self.source.borrow() {
                Source::None => continue,
                Source::Image {
                    image, done: false, ..
                } => Some(image.clone()),
                Source::Image { done: true, .. } => continue,
                Source::Camera(_) | Source::Video { .. } => None,
            };
            let result = match still {
                Some(image) => self.analyse_image(&detector, &liveness, &image).await,
                None => self.analyse_video_frame(&detector, &liveness).await,
            };
            if let Err(message) = result {
                self.fatal(&format!("Analysis failed: {message}"));
                return;
            }
        }
    }

    /// The current video frame as RGB, scaled to at most [`MAX_FRAME_SIDE`]; `None` when
    /// the video has no picture yet.
    fn grab_frame(&self) -> Result<Option<(RgbImage, f32)>, String> {
        let ui = &self.ui;
        let video = &ui.video;
        let (vw, vh) = (video.video_width(), video.video_height());
        if video.ready_state() < 2 || vw == 0 || vh == 0 {
            return Ok(None);
        }
        let scale = (MAX_FRAME_SIDE as f32 / vw.max(vh) as f32).min(1.0);
        let (w, h) = (
            ((vw as f32 * scale).round() as u32).max(1),
            ((vh as f32 * scale).round() as u32).max(1),
        );
        if ui.grab.width() != w || ui.grab.height() != h {
            ui.grab.set_width(w);
            ui.grab.set_height(h);
        }
        ui.grab_ctx
            .draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w as f64, h as f64)
            .map_err(|e| js_error(&e))?;
        let data = ui
            .grab_ctx
            .get_image_data(0.0, 0.0, w as f64, h as f64)
            .map_err(|e| js_error(&e))?;
        let rgba = data.data();
        let rgb = ImageView::rgba(w, h, &rgba)
            .to_rgb()
            .map_err(|e| e.to_string())?;
        Ok(Some((rgb, scale)))
    }

    /// The next video frame, analysed and shown.
    async fn analyse_video_frame(
        &self,
        detector: &FaceDetector,
        liveness: &Liveness,
    ) -> Result<(), String> {
        let Some((frame, scale)) = self.grab_frame()? else {
            return Ok(());
        };
        if let Some(analysis) = self
            .analyse(detector, liveness, &frame, scale, false)
            .await?
        {
            self.show_result(&analysis, None);
        }
        Ok(())
    }

    /// A still image, analysed once and shown.
    async fn analyse_image(
        &self,
        detector: &FaceDetector,
        liveness: &Liveness,
        image: &RgbImage,
    ) -> Result<(), String> {
        let ui = &self.ui;
        ui.loading("Analysing the image…");
        set_hidden(&ui.progress_rows, true);
        sleep(0).await;
        let analysis = self.analyse(detector, liveness, image, 1.0, true).await;
        set_hidden(&ui.loading, true);
        if let Some(analysis) = analysis? {
            if let Source::Image { done, .. } = &mut *self.source.borrow_mut() {
                *done = true;
            }
            self.show_result(&analysis, Some(image));
        }
        Ok(())
    }

    /// Detection, then the liveness score of the face found, for a still (`still`: the
    /// most confident face) or a video frame (the tracked face, its score smoothed over
    /// recent frames); updates the timings. `None` when the source or model changed
    /// meanwhile, so the result belongs to nothing on screen.
    async fn analyse(
        &self,
        detector: &FaceDetector,
        liveness: &Liveness,
        picture: &RgbImage,
        scale: f32,
        still: bool,
    ) -> Result<Option<Analysis>, String> {
        let generation = self.generation.get();
        let current = || generation == self.generation.get();
        let start = now();
        let face = if still {
            detector.detect_still(picture).await?.into_iter().next()
        } else {
            let (w, h) = picture.dimensions();
            let plan = self.history.borrow().tracker.plan(w, h);
            let faces = detector.detect_frame(picture, &plan).await?;
            if !current() {
                return Ok(None);
            }
            self.history.borrow_mut().tracker.update(&plan, faces)
        };
        let detected = now();
        let raw = match &face {
            Some(face) => Some(
                liveness
                    .classify(picture, face.bbox, &detector.device)
                    .await?
                    .1,
            ),
            None => None,
        };
        let end = now();
        if !current() {
            return Ok(None);
        }
        let mut history = self.history.borrow_mut();
        if still {
            history.timings.reset();
        }
        history
            .timings
            .add(end, detected - start, raw.map(|_| end - detected));
        let shown = match raw {
            Some(score) if !still => Some(history.smoother.add(score, end)),
            _ => {
                history.smoother.reset();
                raw
            }
        };
        drop(history);
        Ok(Some(Analysis {
            face,
            raw,
            shown,
            threshold: liveness.threshold(),
            size: picture.dimensions(),
            scale,
        }))
    }
}
