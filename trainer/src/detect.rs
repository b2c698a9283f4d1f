//! Face detection for the trainer: the MTCNN detector file (built in, or `--detector`)
//! on a device, run synchronously.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use image::RgbImage;
use model_format::{Architecture, Detector, Face, ModelFile, MtcnnNets};

/// `www/models/mtcnn.safetensors`, built into the binary so that detection needs no files.
const BUILT_IN: &[u8] = include_bytes!("../../www/models/mtcnn.safetensors");

/// The detector from `path`, or the built-in one.
pub fn load_detector(path: Option<&Path>, device: &Device) -> Result<Detector> {
    let file = match path {
        Some(path) => ModelFile::read(path)?,
        None => ModelFile::from_bytes("built-in mtcnn.safetensors", BUILT_IN)?,
    };
    let Architecture::Mtcnn(config) = file.metadata.architecture.clone() else {
        bail!(
            "{}: a liveness classifier, not a face detector",
            path.map_or("built-in detector".into(), |p| p.display().to_string())
        );
    };
    let nets = MtcnnNets::from_weights(&file.weights, device);
    Ok(Detector::new(nets, config, device.clone()))
}

/// All faces of `image`, the largest first.
pub fn detect(detector: &Detector, image: &RgbImage, name: &str) -> Result<Vec<Face>> {
    pollster::block_on(detector.detect(image)).with_context(|| format!("detecting faces in {name}"))
}
