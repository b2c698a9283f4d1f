//! `trainer eval`: scores a model on the dev and test splits of a prepared dataset and
//! reports the protocol metrics ([`crate::metrics`]): the threshold is taken on dev and
//! applied unchanged to test, at frame and video level.

use std::path::Path;

use anyhow::{Context, Result};
use burn::tensor::Device;
use model_format::preprocess::{ImageView, batch_tensor, preprocess};
use rayon::prelude::*;

use crate::data::Frame;
use crate::metrics::ScoreSet;
use crate::model::{LoadedModel, live_score};

/// Scores of one split and the frames that could not be read (skipped, with a warning).
pub struct Scored {
    pub scores: ScoreSet,
    pub unreadable: usize,
}

/// The live score of every readable frame, `batch` frames per forward pass; images are
/// decoded on the CPU threads while the device computes the previous batch's logits.
pub fn score_split(
    model: &LoadedModel,
    name: &str,
    frames: &[Frame],
    batch: usize,
    device: &Device,
    mut on_batch: impl FnMut(usize),
) -> Result<Scored> {
    let mut scores = ScoreSet::new(name);
    let mut unreadable = 0;
    for chunk in frames.chunks(batch.max(1)) {
        let inputs: Vec<Option<Vec<f32>>> = chunk
            .par_iter()
            .map(|frame| {
                let rgb = crate::infer::read_rgb(&frame.path).ok()?;
                preprocess(ImageView::from(&rgb), &model.preprocessing).ok()
            })
            .collect();
        let readable: Vec<Vec<f32>> = inputs.iter().flatten().cloned().collect();
        let mut logits = if readable.is_empty() {
            Vec::new()
        } else {
            model.logits(batch_tensor(&readable, model.input_size(), device))?
        }
        .into_iter();
        for (frame, input) in chunk.iter().zip(&inputs) {
            if input.is_none() {
                tracing::warn!("skipping unreadable frame {}", frame.path.display());
                unreadable += 1;
                continue;
            }
            let logits = logits.next().expect("one row per readable frame");
            scores
                .push(
                    &frame.video,
                    frame.live,
                    frame.attack_type.as_deref(),
                    live_score(&logits) as f64,
                )
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}", frame.path.display()))?;
        }
        on_batch(chunk.len());
    }
    Ok(Scored { scores, unreadable })
}

/// Writes `scores` as `video,label,attack_type,score` to `path`.
pub fn write_scores(scores: &ScoreSet, path: &Path) -> Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    scores.write_csv(&mut out)?;
    Ok(())
}
