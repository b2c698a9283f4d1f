//! A model file loaded onto a device, ready to classify.

use std::path::Path;

use anyhow::{Context, Result};
use burn::tensor::{Device, Tensor};
use model_format::vit::Vit;
use model_format::{ModelFile, Preprocessing};

/// A liveness model on a device, with the metadata of its file.
pub struct LoadedModel {
    pub file: ModelFile,
    pub vit: Vit,
    pub preprocessing: Preprocessing,
}

impl LoadedModel {
    pub fn read(path: &Path, device: &Device) -> Result<Self> {
        let file = ModelFile::read(path)?;
        Self::from_file(file, device).with_context(|| format!("{}", path.display()))
    }

    /// Fails when the file is not a liveness classifier (for example the face detector).
    pub fn from_file(file: ModelFile, device: &Device) -> Result<Self> {
        let (config, preprocessing) = file.metadata.classifier().map_err(anyhow::Error::msg)?;
        let vit = Vit::from_weights(config, &file.weights, device);
        let preprocessing = preprocessing.clone();
        Ok(Self {
            file,
            vit,
            preprocessing,
        })
    }

    /// Side of the square input.
    pub fn input_size(&self) -> usize {
        self.preprocessing.input_size
    }

    /// Logits of a batch `[B, 3, S, S]`, read back to the host.
    pub fn logits(&self, images: Tensor<4>) -> Result<Vec<Vec<f32>>> {
        read_logits(self.vit.logits(images))
    }
}

/// `[B, classes]` logits read back to the host, one row per image (waits for the device).
pub fn read_logits(logits: Tensor<2>) -> Result<Vec<Vec<f32>>> {
    let [_, classes] = logits.dims();
    let values = logits
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|err| anyhow::anyhow!("reading logits: {err:?}"))
        .context("inference failed")?;
    Ok(values.chunks_exact(classes).map(<[f32]>::to_vec).collect())
}

/// softmax(logits)[1]: the probability of a live face.
pub fn live_score(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    exp.get(1).copied().unwrap_or(0.0) / exp.iter().sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::live_score;

    #[test]
    fn live_score_is_softmax_of_index_one() {
        assert!((live_score(&[0.0, 0.0]) - 0.5).abs() < 1e-7);
        // softmax([1, 3])[1] = e^3 / (e^1 + e^3) = 1 / (1 + e^-2)
        let expected = 1.0 / (1.0 + (-2.0f32).exp());
        assert!((live_score(&[1.0, 3.0]) - expected).abs() < 1e-6);
        // Large logits do not overflow.
        assert!((live_score(&[1000.0, 0.0])).abs() < 1e-6);
    }
}
