//! A model file loaded onto a device, ready to classify ([`model_format::Liveness`]).

use std::path::Path;

use anyhow::{Context, Result};
use burn::tensor::{Device, Tensor};
use model_format::{Liveness, ModelFile};

/// A liveness model on a device, with its file (metadata and weights as read).
pub struct LoadedModel {
    pub file: ModelFile,
    pub liveness: Liveness,
}

impl LoadedModel {
    pub fn read(path: &Path, device: &Device) -> Result<Self> {
        let file = ModelFile::read(path)?;
        Self::from_file(file, device).with_context(|| format!("{}", path.display()))
    }

    /// Fails when the file is not a liveness classifier (for example the face detector).
    pub fn from_file(file: ModelFile, device: &Device) -> Result<Self> {
        let liveness = Liveness::from_file(&file, device)?;
        Ok(Self { file, liveness })
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
