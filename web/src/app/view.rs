//! The display: the verdict, the face overlay and the model facts.

use super::*;

/// What one analysed picture gave, and what [`App::show_result`] draws.
pub(super) struct Analysis {
    /// The face analysed (a still's most confident face, or the tracked face), if any.
    pub face: Option<Face>,
    /// Its live score from this picture alone.
    pub raw: Option<f32>,
    /// The score the verdict uses: smoothed over recent video frames, `raw` for a still.
    pub shown: Option<f32>,
    /// The model's threshold on live scores.
    pub threshold: f32,
    /// The analysed picture's size, and its scale from the source (video frames are
    /// scaled down to at most `MAX_FRAME_SIDE`).
    pub size: (u32, u32),
    pub scale: f32,
}

impl App {
    /// Clears the verdict display (new source or model).
    pub(super) fn show_no_result(&self) {
        let ui = &self.ui;
        for (name, value) in [
            ("score", ""),
            ("raw-score", ""),
            ("verdict", "none"),
            ("face", "none"),
            ("fps", "0"),
        ] {
            ui.data(name, value);
        }
        set_text(&ui.verdict, "Waiting for a face");
        let _ = ui.verdict.class_list().remove_2("live", "spoof");
        set_style(&ui.gauge_fill, "width", "0%");
        let _ = ui.gauge.set_attribute("aria-valuenow", "0");
        set_text(&ui.score_text, "Live score –");
    }

    /// Shows one analysed frame: attributes, verdict, gauge, figures, overlay.
    /// `still`: the analysed image when it is a still (drawn under the overlay).
    pub(super) fn show_result(&self, analysis: &Analysis, still: Option<&RgbImage>) {
        let verdict = Verdict::of(analysis.shown, analysis.threshold);
        self.ui.state("running");
        self.show_attributes(analysis, verdict);
        self.show_timings(still.is_some());
        self.show_verdict(verdict, analysis.shown, analysis.raw, still.is_some());
        let face = analysis.face.as_ref();
        self.draw_overlay(face, verdict, analysis.shown, analysis.size, still);
    }

    /// The test attributes of an analysed frame (`data-verdict`, `data-score`, …).
    fn show_attributes(&self, analysis: &Analysis, verdict: Verdict) {
        let ui = &self.ui;
        // Results of frames analysed before a backend change are dropped, so this is the
        // backend that computed this one.
        ui.data("analysed-on", self.backend.get().as_str());
        ui.data("verdict", verdict.as_str());
        let score = |s: Option<f32>| s.map_or(String::new(), |s| s.to_string());
        ui.data("score", &score(analysis.shown));
        ui.data("raw-score", &score(analysis.raw));
        let face_attr = analysis.face.as_ref().map_or("none".to_string(), |f| {
            let b = f.bbox.map(|v| v / analysis.scale);
            format!("{:.1},{:.1},{:.1},{:.1}", b[0], b[1], b[2], b[3])
        });
        ui.data("face", &face_attr);
        if verdict != Verdict::NoFace && self.first_verdict.get().is_none() {
            let at = now();
            self.first_verdict.set(Some(at));
            ui.data("first-verdict-ms", &format!("{at:.0}"));
        }
    }

    /// Frame rate and per-stage times, as attributes and in the figures panel.
    fn show_timings(&self, still: bool) {
        let ui = &self.ui;
        let history = self.history.borrow();
        let timings = &history.timings;
        let fps = timings.fps();
        ui.data("fps", &format!("{fps:.2}"));
        let attribute = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.1}"));
        ui.data("detect-ms", &attribute(timings.detect_ms()));
        ui.data("classify-ms", &attribute(timings.classify_ms()));
        let ms = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1} ms"));
        set_text(
            &ui.stat_fps,
            &if still {
                "– (still image)".to_string()
            } else {
                format!("{fps:.1}")
            },
        );
        set_text(&ui.stat_detect, &ms(timings.detect_ms()));
        set_text(&ui.stat_classify, &ms(timings.classify_ms()));
    }

    /// The verdict's words, the gauge and the score line.
    fn show_verdict(&self, verdict: Verdict, smoothed: Option<f32>, raw: Option<f32>, still: bool) {
        let ui = &self.ui;
        let (text, class) = match verdict {
            Verdict::Live => ("Live face", Some("live")),
            Verdict::Spoof => ("Spoof: a photo, print or screen", Some("spoof")),
            Verdict::NoFace => ("No face in view", None),
        };
        set_text(&ui.verdict, text);
        let list = ui.verdict.class_list();
        let _ = list.toggle_with_force("live", class == Some("live"));
        let _ = list.toggle_with_force("spoof", class == Some("spoof"));
        let value = smoothed.unwrap_or(0.0).clamp(0.0, 1.0);
        set_style(&ui.gauge_fill, "width", &format!("{:.1}%", value * 100.0));
        let _ = ui
            .gauge
            .set_attribute("aria-valuenow", &format!("{value:.3}"));
        let _ = ui.gauge.set_attribute(
            "aria-valuetext",
            &smoothed.map_or("no face".to_string(), |s| {
                format!("{s:.2}, {}", verdict.as_str())
            }),
        );
        let _ = ui
            .gauge
            .class_list()
            .toggle_with_force("live", verdict == Verdict::Live);
        set_text(
            &ui.score_text,
            &match (smoothed, raw) {
                (Some(s), Some(r)) if !still => {
                    format!("Live score {s:.3} (this frame {r:.3})")
                }
                (Some(s), _) => format!("Live score {s:.3}"),
                _ => "Live score –".to_string(),
            },
        );
    }

    /// Draws the face box and its label over the picture (and the still image itself).
    pub(super) fn draw_overlay(
        &self,
        face: Option<&Face>,
        verdict: Verdict,
        score: Option<f32>,
        (w, h): (u32, u32),
        still: Option<&RgbImage>,
    ) {
        let ui = &self.ui;
        let canvas = &ui.overlay;
        if canvas.width() != w || canvas.height() != h {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        let ctx = &ui.overlay_ctx;
        ctx.clear_rect(0.0, 0.0, w as f64, h as f64);
        if let Some(image) = still {
            let rgba: Vec<u8> = image
                .as_raw()
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            if let Ok(data) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), w, h) {
                let _ = ctx.put_image_data(&data, 0.0, 0.0);
            }
        }
        let Some(face) = face else { return };
        let mirrored = matches!(*self.source.borrow(), Source::Camera(_));
        let color = match verdict {
            Verdict::Live => "#1fbf75",
            Verdict::Spoof => "#ff4d5e",
            Verdict::NoFace => "#f5b942",
        };
        let [x1, y1, x2, y2] = face.bbox.map(|v| v as f64);
        let line = (w.max(h) as f64 / 200.0).max(2.0);
        ctx.set_line_width(line);
        ctx.set_stroke_style_str(color);
        ctx.stroke_rect(x1, y1, x2 - x1, y2 - y1);
        let label = match score {
            Some(s) => format!("{} {s:.2}", verdict.as_str()),
            None => String::new(),
        };
        if label.is_empty() {
            return;
        }
        let size = (w.max(h) as f64 / 30.0).max(12.0).round();
        ctx.set_font(&format!("600 {size}px system-ui, sans-serif"));
        let text_w = ctx.measure_text(&label).map_or(size * 4.0, |m| m.width());
        let pad = size * 0.3;
        let top = (y1 - size - 2.0 * pad).max(0.0);
        ctx.save();
        // The camera picture is shown mirrored (CSS): mirror the label back so it reads.
        let anchor = if mirrored { x2 } else { x1 };
        let _ = ctx.translate(anchor, top);
        if mirrored {
            let _ = ctx.scale(-1.0, 1.0);
        }
        ctx.set_fill_style_str(color);
        ctx.fill_rect(0.0, 0.0, text_w + 2.0 * pad, size + 2.0 * pad);
        ctx.set_fill_style_str("#0b0d12");
        let _ = ctx.fill_text(&label, pad, size + pad * 0.6);
        ctx.restore();
    }

    pub(super) fn show_facts(&self, model: &ModelFacts, detector: &ModelFacts) {
        let facts = &self.ui.model_facts;
        facts.set_inner_html("");
        let input = model
            .input_size
            .map_or(String::new(), |s| format!(", {s} x {s} px input"));
        add_fact(facts, "Liveness model", &model.name);
        add_fact(
            facts,
            "Architecture",
            &format!("{}{input}", model.architecture),
        );
        add_fact(
            facts,
            "Parameters",
            &format!("{} ({} weights)", count(model.parameters), model.storage),
        );
        add_fact(facts, "File size", &bytes(model.bytes));
        add_fact(
            facts,
            "Threshold",
            &format!("{} (live when the score is at least this)", model.threshold),
        );
        let p = &model.provenance;
        add_fact(
            facts,
            "Created",
            p.created.as_deref().unwrap_or("not recorded"),
        );
        if let Some(command) = &p.command {
            add_fact(facts, "Made by", command);
        }
        if let Some(dataset) = &p.dataset {
            add_fact(facts, "Data", dataset);
        }
        if !p.sources.is_empty() {
            add_fact(facts, "From", &p.sources.join(", "));
        }
        if let Some(rev) = &p.git_revision {
            add_fact(facts, "Revision", rev);
        }
        if let Some(metrics) = &p.metrics {
            add_fact(facts, "Metrics", &metrics_summary(metrics));
        }
        add_detector_fact(facts, detector);
    }

    pub(super) fn show_detector_facts(&self, detector: &ModelFacts) {
        let facts = &self.ui.model_facts;
        facts.set_inner_html("");
        add_fact(facts, "Liveness model", "none loaded");
        add_detector_fact(facts, detector);
    }
}

pub(super) fn add_detector_fact(list: &Element, detector: &ModelFacts) {
    let value = format!(
        "{} ({}, {})",
        detector.name,
        detector.architecture,
        bytes(detector.bytes)
    );
    add_fact(list, "Face detector", &value);
}

pub(super) fn add_fact(list: &Element, term: &str, value: &str) {
    let doc = document();
    if let (Ok(dt), Ok(dd)) = (doc.create_element("dt"), doc.create_element("dd")) {
        dt.set_text_content(Some(term));
        dd.set_text_content(Some(value));
        let _ = list.append_child(&dt);
        let _ = list.append_child(&dd);
    }
}

pub(super) fn count(n: usize) -> String {
    if n >= 1_000_000 {
        format!("{:.2} M", n as f64 / 1e6)
    } else if n >= 1_000 {
        format!("{:.1} k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

pub(super) fn bytes(n: usize) -> String {
    if n >= 1_000_000 {
        format!("{:.2} MB", n as f64 / 1e6)
    } else {
        format!("{:.1} kB", n as f64 / 1e3)
    }
}

/// A one-line summary of the metrics object `trainer eval --calibrate` stores.
pub(super) fn metrics_summary(metrics: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    if let Some(object) = metrics.as_object() {
        for (key, value) in object {
            if let Some(v) = value.as_f64() {
                parts.push(format!("{key} {v:.4}"));
            } else if let Some(s) = value.as_str() {
                parts.push(format!("{key}: {s}"));
            }
        }
    }
    if parts.is_empty() {
        let text = metrics.to_string();
        if text.chars().count() > 200 {
            format!("{}…", text.chars().take(200).collect::<String>())
        } else {
            text
        }
    } else {
        parts.join(", ")
    }
}

pub(super) fn progress(bar: &HtmlProgressElement, got: usize, total: Option<usize>) {
    match total {
        Some(total) if total > 0 => {
            bar.set_max(total as f64);
            bar.set_value(got as f64);
        }
        // Unknown size: an indeterminate bar until the end.
        _ => {
            let _ = bar.remove_attribute("value");
        }
    }
}
