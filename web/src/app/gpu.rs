//! Which backend the page computes on: WebGPU's adapter, software adapters, the notes the
//! page shows about the choice.

use super::*;

pub(super) fn cpu_note(forced: bool) -> &'static str {
    if forced {
        "The CPU backend was chosen with ?\u{2060}backend=cpu."
    } else {
        "The models run on the CPU (WebAssembly) instead, several times slower than on a \
         GPU. A browser with WebGPU (Chrome, Edge, Safari 26 or later) uses the GPU."
    }
}

/// WebGPU when the browser has a hardware adapter (or `?backend=webgpu`), else the CPU
/// backend; the notice says why the CPU was chosen.
pub(super) async fn choose_device(choice: BackendChoice) -> (Device, Backend, Option<String>) {
    if choice == BackendChoice::Cpu {
        return (Device::flex(), Backend::Cpu, Some(cpu_note(true).into()));
    }
    // wgpu panics when navigator.gpu is missing: ask the browser first.
    let adapter = match gpu_adapter().await {
        Ok(adapter) => adapter,
        Err(reason) => {
            let note = format!("{reason} {}", cpu_note(false));
            return (Device::flex(), Backend::Cpu, Some(note));
        }
    };
    // A software adapter (SwiftShader, llvmpipe) runs the models far slower than the CPU
    // backend does (DeiT-Tiny: ~16 s against ~0.12 s), as the trainer's `--backend auto`
    // skips software renderers.
    if let Some(name) = software_adapter(&adapter)
        && choice == BackendChoice::Auto
    {
        let note = format!(
            "This browser's WebGPU runs on a software renderer ({name}), far slower than the \
             CPU: the models run on the CPU (WebAssembly). Add ?\u{2060}backend=webgpu to the address \
             to use it anyway."
        );
        return (Device::flex(), Backend::Cpu, Some(note));
    }
    match Device::wgpu_options().init_async().await {
        Ok(device) => (device, Backend::WebGpu, None),
        Err(e) => (
            Device::flex(),
            Backend::Cpu,
            Some(format!(
                "WebGPU could not be started ({e}). {}",
                cpu_note(false)
            )),
        ),
    }
}

/// `adapter.info` as text ("vendor architecture description"), empty parts left out.
pub(super) fn adapter_name(adapter: &JsValue) -> String {
    let info = Reflect::get(adapter, &"info".into()).ok();
    ["vendor", "architecture", "description"]
        .iter()
        .filter_map(|key| info.as_ref().and_then(|i| get_string(i, key)))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The adapter's name when it is a software renderer (the browser's fallback adapter).
pub(super) fn software_adapter(adapter: &JsValue) -> Option<String> {
    let flag = |object: Option<JsValue>| {
        object
            .and_then(|o| Reflect::get(&o, &"isFallbackAdapter".into()).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let info = Reflect::get(adapter, &"info".into()).ok();
    let name = adapter_name(adapter);
    let lower = name.to_ascii_lowercase();
    let software = flag(info)
        || flag(Some(adapter.clone()))
        || ["swiftshader", "llvmpipe", "lavapipe", "basic render"]
            .iter()
            .any(|s| lower.contains(s));
    software.then(|| {
        if name.is_empty() {
            "fallback adapter".into()
        } else {
            name
        }
    })
}

/// The browser's WebGPU adapter, or why there is none.
pub(super) async fn gpu_adapter() -> Result<JsValue, String> {
    let navigator = window().navigator();
    let gpu = Reflect::get(&navigator, &"gpu".into()).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err("This browser has no WebGPU.".into());
    }
    let request = Reflect::get(&gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("This browser's WebGPU cannot request an adapter.")?;
    let promise: js_sys::Promise = request
        .call0(&gpu)
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|_| "WebGPU's requestAdapter gave no promise.".to_string())?;
    let adapter = JsFuture::from(promise)
        .await
        .map_err(|e| format!("WebGPU has no usable adapter ({}).", js_error(&e)))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(
            "WebGPU is present but offers no adapter (the GPU may be blocked or disabled).".into(),
        );
    }
    Ok(adapter)
}

/// "WebGPU: … on <adapter>" or "CPU: …".
pub(super) async fn backend_description(backend: Backend, choice: BackendChoice) -> String {
    match backend {
        Backend::Cpu if choice == BackendChoice::Cpu => {
            "CPU: Burn flex in WebAssembly (?\u{2060}backend=cpu)".into()
        }
        Backend::Cpu => "CPU: Burn flex in WebAssembly".into(),
        Backend::WebGpu => {
            let name = gpu_adapter()
                .await
                .map(|a| adapter_name(&a))
                .unwrap_or_default();
            if name.is_empty() {
                "WebGPU: Burn wgpu".into()
            } else {
                format!("WebGPU: Burn wgpu on {name}")
            }
        }
    }
}

/// The notice while the CPU analyses and the GPU prepares.
pub(super) const GPU_PREPARING: &str = "WebGPU is compiling its programs (a slow or \
    software GPU can take a minute); the CPU analyses meanwhile.";

impl App {
    /// Loads the models on the GPU and warms them up while the CPU analyses, then moves
    /// the analysis onto the GPU (`data-backend` becomes `webgpu`, `data-gpu` `ready`). A
    /// liveness model chosen meanwhile, or a GPU failure, keeps the page on the CPU.
    pub(super) async fn switch_to_gpu(
        self: Rc<Self>,
        gpu: Device,
        detector_bytes: Vec<u8>,
        model_bytes: Vec<u8>,
    ) {
        let ui = &self.ui;
        ui.data("gpu", "preparing");
        let model_before = self.liveness.borrow().clone();
        let prepared = self
            .prepare_on_gpu(&gpu, &detector_bytes, &model_bytes)
            .await;
        let model_now = self.liveness.borrow().clone();
        let same_model = match (&model_before, &model_now) {
            (Some(before), Some(now)) => Rc::ptr_eq(before, now),
            _ => false,
        };
        let stay = |state: &str, notice: String| {
            ui.data("gpu", state);
            self.set_backend_notice(Some(notice));
        };
        match prepared {
            Err(message) => stay(
                "failed",
                format!("WebGPU failed while preparing ({message}); the page stays on the CPU."),
            ),
            Ok(_) if self.failed.get() => {}
            Ok(_) if !same_model || self.busy.get() => stay(
                "skipped",
                "A liveness model was chosen while the GPU prepared: the page stays on the CPU."
                    .into(),
            ),
            Ok((detector, liveness)) => {
                // Device, detector and model change together, with no await in between:
                // a frame never pairs the GPU's detector with the CPU's model.
                let detector = Rc::new(detector);
                *self.device.borrow_mut() = Some(gpu);
                *self.detector.borrow_mut() = Some(detector.clone());
                self.install_model(liveness, &detector.facts);
                self.backend.set(Backend::WebGpu);
                ui.data("backend", Backend::WebGpu.as_str());
                ui.data("gpu-ready-ms", &format!("{:.0}", now()));
                ui.data("gpu", "ready");
                self.set_backend_notice(None);
                set_text(
                    &ui.stat_backend,
                    &backend_description(Backend::WebGpu, self.params.backend).await,
                );
            }
        }
    }

    /// Both models loaded on `gpu` from the bytes the CPU's copies came from, warmed up.
    async fn prepare_on_gpu(
        &self,
        gpu: &Device,
        detector_bytes: &[u8],
        model_bytes: &[u8],
    ) -> Result<(FaceDetector, Liveness), String> {
        let detector = FaceDetector::from_bytes(&self.params.detector, detector_bytes, gpu)?;
        let liveness = Liveness::from_bytes(&self.params.model, model_bytes, gpu)?;
        let (w, h) = WARM_UP_FRAME;
        detector.warm_up(w, h).await?;
        liveness.warm_up(gpu).await?;
        Ok((detector, liveness))
    }
}
