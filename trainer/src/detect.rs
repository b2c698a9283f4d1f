//! Face detection for the trainer: the MTCNN detector file (built in, or `--detector`)
//! on a device, run synchronously.

use std::path::Path;

use crate::backend::{BackendArgs, select_device};
use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use clap::Args;
use image::RgbImage;
use model_format::{Architecture, Detector, Face, ModelFile, MtcnnNets};
use std::io::Write;
use std::path::PathBuf;

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

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// One JSON object per image per line: {"image": ..., "faces": [{"box", "prob", "landmarks"}]}.
    #[arg(long)]
    pub json: bool,
    /// Detector model file (default: the built-in MTCNN).
    #[arg(long, value_name = "FILE")]
    pub detector: Option<PathBuf>,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Image files (JPEG, PNG, BMP, WebP).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
}

/// `trainer detect`.
pub fn command(args: DetectArgs) -> Result<()> {
    let selected = select_device(args.backend)?;
    let detector = load_detector(args.detector.as_deref(), &selected.device)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.images {
        let name = path.display().to_string();
        let image = crate::data::read_rgb(path)?;
        let faces = detect(&detector, &image, &name)?;
        if args.json {
            let line = serde_json::json!({ "image": name, "faces": faces });
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{name}: {} face(s)", faces.len())?;
            for face in &faces {
                let [x1, y1, x2, y2] = face.bbox;
                writeln!(
                    out,
                    "  box [{x1:.1}, {y1:.1}, {x2:.1}, {y2:.1}]  prob {:.4}",
                    face.prob
                )?;
            }
        }
    }
    Ok(())
}
