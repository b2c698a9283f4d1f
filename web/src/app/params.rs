//! The query parameters and what the frame loop analyses.

use super::*;

/// `?backend=`: `auto` (default: WebGPU on a hardware adapter, else the CPU), `webgpu`
/// (WebGPU even on a software adapter such as SwiftShader), `cpu`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum BackendChoice {
    Auto,
    WebGpu,
    Cpu,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Backend {
    WebGpu,
    Cpu,
}

impl Backend {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::WebGpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }
}

/// The query parameters.
pub(super) struct Params {
    pub(super) backend: BackendChoice,
    pub(super) model: String,
    pub(super) detector: String,
    pub(super) image: Option<String>,
    pub(super) camera: bool,
    /// `?bench=N`: time the liveness model's forward pass N times instead of running the
    /// page (bench.rs).
    pub(super) bench: Option<usize>,
}

impl Params {
    pub(super) fn read() -> Self {
        let search = window().location().search().unwrap_or_default();
        let query = UrlSearchParams::new_with_str(&search).ok();
        let get = |key: &str| {
            query
                .as_ref()
                .and_then(|q| q.get(key))
                .filter(|v| !v.is_empty())
        };
        Self {
            backend: match get("backend").map(|b| b.to_ascii_lowercase()).as_deref() {
                Some("cpu") => BackendChoice::Cpu,
                Some("webgpu") | Some("gpu") => BackendChoice::WebGpu,
                _ => BackendChoice::Auto,
            },
            model: get("model").unwrap_or_else(|| DEFAULT_MODEL.into()),
            detector: get("detector").unwrap_or_else(|| DEFAULT_DETECTOR.into()),
            image: get("image"),
            camera: get("camera").is_none_or(|c| c != "off" && c != "0"),
            bench: get("bench").and_then(|n| n.parse().ok()),
        }
    }
}

/// What the frame loop analyses.
pub(super) enum Source {
    None,
    Camera(MediaStream),
    /// A video file, by its object URL (revoked when replaced).
    Video {
        name: String,
        url: String,
    },
    /// A still image; `done` once analysed.
    Image {
        name: String,
        image: Rc<RgbImage>,
        done: bool,
    },
}

impl Source {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Camera(_) => "camera",
            Self::Video { .. } => "video",
            Self::Image { .. } => "image",
        }
    }
}
