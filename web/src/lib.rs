//! The demo page's wasm crate: camera -> face detection -> liveness, in the browser, on
//! WebGPU through Burn's wgpu backend (Burn's CPU backend, flex, where the browser has no
//! WebGPU). Rust does the whole pipeline with the code the trainer runs (`model-format`);
//! `www/index.html` is the markup Trunk serves.
//!
//! - [`pipeline`]: model files -> detector and classifier on a device -> faces, scores;
//! - [`track`]: tracking between detections, score smoothing, verdict, timings;
//! - `app`, `dom`, `fetch`, `camera` (wasm only): the page.
//!
//! Every frame stays in the page: nothing is sent anywhere, and the page's
//! Content-Security-Policy (`www/index.html`) allows requests to its own origin only.

pub mod pipeline;
pub mod track;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod camera;
#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
mod fetch;

use model_format::ModelFile;
use wasm_bindgen::prelude::*;

/// The page's entry point (run by the module Trunk's loader initialises).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(start)]
pub fn start() {
    app::start();
}

/// Validates a model file and returns a JSON summary of it (architecture, parameters,
/// storage, threshold, classes, provenance), or an error naming the file and the problem.
#[wasm_bindgen(js_name = describeModel)]
pub fn describe_model(name: &str, bytes: &[u8]) -> Result<String, JsError> {
    summary(name, bytes).map_err(|err| JsError::new(&err))
}

/// The platform-independent part of [`describe_model`]: [`pipeline::ModelFacts`] as JSON.
pub fn summary(name: &str, bytes: &[u8]) -> Result<String, String> {
    let file = ModelFile::from_bytes(name, bytes).map_err(|err| err.to_string())?;
    let facts = pipeline::ModelFacts::of(name, bytes.len(), &file);
    serde_json::to_string(&facts).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn damaged_bytes_give_an_error_naming_the_file() {
        let err = super::summary("demo.safetensors", &[1, 2, 3]).unwrap_err();
        assert!(err.starts_with("demo.safetensors"), "{err}");
    }

    #[test]
    fn the_detector_file_is_summarised() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../www/models/mtcnn.safetensors"
        ))
        .unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&super::summary("mtcnn.safetensors", &bytes).unwrap()).unwrap();
        assert_eq!(json["architecture"], "mtcnn");
        assert_eq!(json["storage"], "f32");
        assert!(json["parameters"].as_u64().unwrap() > 400_000, "{json}");
    }
}
