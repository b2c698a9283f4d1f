//! `trainer infer`: the liveness verdict for image files.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::Device;
use model_format::preprocess::ImageView;
use model_format::{Detector, Face, live_score};
use serde::Serialize;

use crate::backend::{BackendArgs, select_device};
use crate::data::read_rgb;
use crate::detect::detect;
use crate::model::{LoadedModel, read_logits};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;

/// One image's result.
#[derive(Serialize, Debug, Clone)]
pub struct Prediction {
    pub image: String,
    /// `None` when no face was found.
    pub logits: Option<Vec<f32>>,
    /// softmax(logits)[1]; `None` when no face was found.
    pub live_score: Option<f32>,
    /// `live` when live_score >= threshold, `attack` below, `no_face` without a face.
    pub label: &'static str,
    pub threshold: f32,
    /// The detected face the crop came from (the largest); `None` with `--no-detect` or
    /// when no face was found.
    pub face: Option<Face>,
}

/// Images per forward pass.
const BATCH: usize = 16;

/// Classifies `images` with `model`, calling `emit` for each result in order. An image
/// that cannot be read fails the whole command (naming the file) only after the results
/// before it have been emitted.
/// With a `detector`, each image's largest face is cropped as the training data were
/// ([`model_format::crop::face_crop`]); without one the whole image is the crop.
pub fn infer(
    model: &LoadedModel,
    detector: Option<&Detector>,
    images: &[PathBuf],
    device: &Device,
    mut emit: impl FnMut(&Prediction),
) -> Result<()> {
    let liveness = &model.liveness;
    let threshold = liveness.threshold;
    for chunk in images.chunks(BATCH) {
        // (image, face, model input); the input is None when no face was found.
        let mut prepared = Vec::with_capacity(chunk.len());
        for path in chunk {
            let name = path.display().to_string();
            let rgb = read_rgb(path)?;
            let (face, input) = match detector {
                None => (None, Some(liveness.image_input(ImageView::from(&rgb)))),
                Some(detector) => match detect(detector, &rgb, &name)?.into_iter().next() {
                    Some(face) => {
                        let input = liveness.face_input(&rgb, face.bbox);
                        (Some(face), Some(input))
                    }
                    None => (None, None),
                },
            };
            let input = input.transpose().with_context(|| name.to_string())?;
            prepared.push((name, face, input));
        }
        let inputs: Vec<Vec<f32>> = prepared.iter().filter_map(|(_, _, i)| i.clone()).collect();
        let mut logits = if inputs.is_empty() {
            Vec::new()
        } else {
            read_logits(liveness.logits(&inputs, device))?
        }
        .into_iter();
        for (image, face, input) in prepared {
            // Only images with a face took a row of the batch.
            let logits = if input.is_some() { logits.next() } else { None };
            let score = logits.as_deref().map(live_score);
            let label = match score {
                None => "no_face",
                Some(s) if liveness.is_live(s) => "live",
                Some(_) => "attack",
            };
            emit(&Prediction {
                image,
                logits,
                live_score: score,
                label,
                threshold,
                face,
            });
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct InferArgs {
    /// Model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Use the whole image as the face crop instead of detecting the face.
    #[arg(long)]
    pub no_detect: bool,
    /// Detector model file (default: the built-in MTCNN, `www/models/mtcnn.safetensors`).
    #[arg(long, value_name = "FILE")]
    pub detector: Option<PathBuf>,
    /// One JSON object per image per line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Image files (JPEG, PNG, BMP, WebP).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
}

/// `trainer infer`.
pub fn command(args: InferArgs) -> Result<()> {
    let selected = select_device(args.backend)?;
    let model = LoadedModel::read(&args.model, &selected.device)?;
    let detector = (!args.no_detect)
        .then(|| crate::detect::load_detector(args.detector.as_deref(), &selected.device))
        .transpose()?;
    let progress = (!args.json && args.images.len() > 32).then(|| {
        ProgressBar::new(args.images.len() as u64).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} images {per_sec} ETA {eta}")
                .expect("valid template"),
        )
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut write_error = None;
    let images = &args.images;
    infer(
        &model,
        detector.as_ref(),
        images,
        &selected.device,
        |prediction| {
            let line = if args.json {
                serde_json::to_string(prediction).expect("predictions serialise")
            } else {
                let score = prediction
                    .live_score
                    .map_or("-".to_string(), |s| format!("{s:.4}"));
                let face = prediction.face.as_ref().map_or(String::new(), |f| {
                    let [x1, y1, x2, y2] = f.bbox;
                    format!("\tface=[{x1:.0}, {y1:.0}, {x2:.0}, {y2:.0}]")
                });
                format!(
                    "{}\t{}\tlive_score={score}{face}",
                    prediction.image, prediction.label
                )
            };
            if let Err(err) = writeln!(out, "{line}") {
                write_error.get_or_insert(err);
            }
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        },
    )?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(err) = write_error {
        return Err(err).context("writing results");
    }
    Ok(())
}
