//! The page's elements and the state attributes the tests read.

use super::*;

/// The page's elements.
pub(super) struct Ui {
    pub(super) root: HtmlElement,
    pub(super) video: HtmlVideoElement,
    pub(super) overlay: HtmlCanvasElement,
    pub(super) overlay_ctx: CanvasRenderingContext2d,
    pub(super) viewport: HtmlElement,
    pub(super) loading: HtmlElement,
    pub(super) loading_text: Element,
    pub(super) progress_rows: HtmlElement,
    pub(super) progress_detector: HtmlProgressElement,
    pub(super) progress_model: HtmlProgressElement,
    pub(super) camera_button: HtmlButtonElement,
    pub(super) source_input: HtmlInputElement,
    pub(super) model_input: HtmlInputElement,
    pub(super) verdict: HtmlElement,
    pub(super) gauge: HtmlElement,
    pub(super) gauge_fill: HtmlElement,
    pub(super) gauge_threshold: HtmlElement,
    pub(super) score_text: Element,
    pub(super) threshold_text: Element,
    pub(super) notice: HtmlElement,
    pub(super) error: HtmlElement,
    pub(super) stat_backend: Element,
    pub(super) stat_fps: Element,
    pub(super) stat_detect: Element,
    pub(super) stat_classify: Element,
    pub(super) stat_startup: Element,
    pub(super) model_facts: Element,
    /// Off-screen canvas the video frames are read from.
    pub(super) grab: HtmlCanvasElement,
    pub(super) grab_ctx: CanvasRenderingContext2d,
}

pub(super) fn context_2d(canvas: &HtmlCanvasElement, read_often: bool) -> CanvasRenderingContext2d {
    let options = js_sys::Object::new();
    let _ = Reflect::set(&options, &"willReadFrequently".into(), &read_often.into());
    canvas
        .get_context_with_context_options("2d", &options)
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .expect("2-D canvas context")
}

impl Ui {
    pub(super) fn new() -> Self {
        let overlay: HtmlCanvasElement = by_id("overlay");
        let grab: HtmlCanvasElement = document()
            .create_element("canvas")
            .expect("canvas")
            .unchecked_into();
        Self {
            root: by_id("app"),
            video: by_id("video"),
            overlay_ctx: context_2d(&overlay, false),
            overlay,
            viewport: by_id("viewport"),
            loading: by_id("loading"),
            loading_text: by_id("loading-text"),
            progress_rows: by_id("progress-rows"),
            progress_detector: by_id("progress-detector"),
            progress_model: by_id("progress-model"),
            camera_button: by_id("camera-button"),
            source_input: by_id("source-input"),
            model_input: by_id("model-input"),
            verdict: by_id("verdict"),
            gauge: by_id("gauge"),
            gauge_fill: by_id("gauge-fill"),
            gauge_threshold: by_id("gauge-threshold"),
            score_text: by_id("score-text"),
            threshold_text: by_id("threshold-text"),
            notice: by_id("notice"),
            error: by_id("error"),
            stat_backend: by_id("stat-backend"),
            stat_fps: by_id("stat-fps"),
            stat_detect: by_id("stat-detect"),
            stat_classify: by_id("stat-classify"),
            stat_startup: by_id("stat-startup"),
            model_facts: by_id("model-facts"),
            grab_ctx: context_2d(&grab, true),
            grab,
        }
    }

    pub(super) fn data(&self, name: &str, value: &str) {
        set_attr(&self.root, &format!("data-{name}"), value);
    }

    pub(super) fn state(&self, state: &str) {
        self.data("state", state);
    }

    pub(super) fn loading(&self, text: &str) {
        set_hidden(&self.loading, false);
        set_text(&self.loading_text, text);
    }

    pub(super) fn notice(&self, text: Option<&str>) {
        set_text(&self.notice, text.unwrap_or(""));
        set_hidden(&self.notice, text.is_none());
    }

    pub(super) fn error(&self, text: Option<&str>) {
        set_text(&self.error, text.unwrap_or(""));
        set_hidden(&self.error, text.is_none());
        self.data("error", text.unwrap_or(""));
    }
}

/// Sets the page to the error state with `message` (also used by the panic hook, which
/// has no `Ui`).
pub(super) fn show_fatal(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(root) = doc.get_element_by_id("app") {
        set_attr(&root, "data-state", "error");
        set_attr(&root, "data-error", message);
    }
    if let Some(error) = doc.get_element_by_id("error") {
        error.set_text_content(Some(message));
        let _ = error.remove_attribute("hidden");
    }
    if let Some(loading) = doc.get_element_by_id("loading") {
        let _ = loading.set_attribute("hidden", "");
    }
}

pub(super) fn console_error(message: &str) {
    let console = Reflect::get(&js_sys::global(), &"console".into()).ok();
    if let Some(error) = console
        .as_ref()
        .and_then(|c| Reflect::get(c, &"error".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    {
        let _ = error.call1(console.as_ref().unwrap(), &message.into());
    }
}
