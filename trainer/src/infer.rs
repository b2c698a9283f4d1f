//! `trainer infer`: the liveness verdict for image files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use model_format::preprocess::{ImageView, batch_tensor, preprocess};
use serde::Serialize;

use crate::model::{LoadedModel, live_score};

/// One image's result.
#[derive(Serialize, Debug, Clone)]
pub struct Prediction {
    pub image: String,
    pub logits: Vec<f32>,
    /// softmax(logits)[1]
    pub live_score: f32,
    /// `live` when live_score >= threshold, else `attack`.
    pub label: &'static str,
    pub threshold: f32,
    /// The face box used as the crop, `[x1, y1, x2, y2]`; `None` = the whole image.
    pub face: Option<[f32; 4]>,
}

/// Images per forward pass.
const BATCH: usize = 16;

/// Classifies `images` with `model`, calling `emit` for each result in order. An image
/// that cannot be read fails the whole command (naming the file) only after the results
/// before it have been emitted.
pub fn infer(
    model: &LoadedModel,
    images: &[PathBuf],
    device: &Device,
    mut emit: impl FnMut(&Prediction),
) -> Result<()> {
    let preprocessing = &model.preprocessing;
    let threshold = model.file.metadata.threshold;
    for chunk in images.chunks(BATCH) {
        let inputs = chunk
            .iter()
            .map(|path| {
                let rgb = read_rgb(path)?;
                preprocess(ImageView::from(&rgb), preprocessing)
                    .with_context(|| format!("preprocessing {}", path.display()))
            })
            .collect::<Result<Vec<_>>>()?;
        let logits = model.logits(batch_tensor(&inputs, model.input_size(), device))?;
        for (path, logits) in chunk.iter().zip(logits) {
            let score = live_score(&logits);
            emit(&Prediction {
                image: path.display().to_string(),
                logits,
                live_score: score,
                label: if score >= threshold { "live" } else { "attack" },
                threshold,
                face: None,
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
