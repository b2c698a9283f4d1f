//! The demo page's wasm crate. The camera loop and the detection + liveness pipeline
//! arrive with the page's issue; what exists now is the model-file check the page runs
//! on every file it fetches or a visitor drops, shared with the trainer through
//! `model-format`.

use model_format::ModelFile;
use wasm_bindgen::prelude::*;

/// Validates a model file and returns a JSON summary of it (architecture, parameters,
/// storage, threshold, classes, provenance), or an error naming the file and the problem.
#[wasm_bindgen(js_name = describeModel)]
pub fn describe_model(name: &str, bytes: &[u8]) -> Result<String, JsError> {
    summary(name, bytes).map_err(|err| JsError::new(&err))
}

/// The platform-independent part of [`describe_model`].
pub fn summary(name: &str, bytes: &[u8]) -> Result<String, String> {
    let file = ModelFile::from_bytes(name, bytes).map_err(|err| err.to_string())?;
    let meta = &file.metadata;
    let parameters: usize = file.weights.values().map(|w| w.data.len()).sum();
    let json = serde_json::json!({
        "name": name,
        "bytes": bytes.len(),
        "architecture": meta.architecture.name(),
        "parameters": parameters,
        "input_size": meta.preprocessing.as_ref().map(|p| p.input_size),
        "storage": meta.storage.to_string(),
        "threshold": meta.threshold,
        "classes": meta.classes,
        "provenance": meta.provenance,
    });
    Ok(json.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn damaged_bytes_give_an_error_naming_the_file() {
        let err = super::summary("demo.safetensors", &[1, 2, 3]).unwrap_err();
        assert!(err.starts_with("demo.safetensors"), "{err}");
    }
}
