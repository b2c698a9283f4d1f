//! `trainer infer`: the liveness verdict for image files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use model_format::preprocess::ImageView;
use model_format::{Detector, Face, live_score};
use serde::Serialize;

use crate::detect::detect;
use crate::model::{LoadedModel, read_logits};

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

/// Decodes an image file to 8-bit RGB.
pub fn read_rgb(path: &Path) -> Result<image::RgbImage> {
    let image = image::ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?
        .decode()
        .with_context(|| format!("cannot decode {} as an image", path.display()))?;
    Ok(image.to_rgb8())
}
