//! Resumable checkpoints: `<output>/checkpoint/` holds the model, the optimiser state, the
//! EMA and `state.json` (epoch, step, best so far, history). A checkpoint is written into
//! `checkpoint.partial/` and swapped in by renames, so a kill at any moment leaves either
//! the previous or the new checkpoint complete (`checkpoint.old/` is the fallback while
//! the swap is under way).
//!
//! Random state needs no saving: every random draw of epoch `e` is seeded from
//! `(seed, e, position)`, so continuing at an epoch boundary replays exactly.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use serde::{Deserialize, Serialize};

/// One epoch's log line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochLog {
    pub epoch: usize,
    pub lr: f64,
    /// Mean of the total loss over the epoch's batches.
    pub loss: f64,
    pub base_loss: f64,
    pub logit_loss: f64,
    pub feature_loss: f64,
    pub images_per_second: f64,
    pub dev_acer: f64,
    pub dev_eer: f64,
    pub dev_auc: f64,
    pub dev_threshold: f64,
    pub best: bool,
}

/// Everything but the tensors.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainState {
    /// Epochs completed (the next epoch to run).
    pub epochs_done: usize,
    /// Optimiser steps taken.
    pub step: u64,
    /// The epoch whose model is `best.safetensors`, with its dev metrics.
    pub best: Option<EpochLog>,
    pub history: Vec<EpochLog>,
    /// The run's settings, to refuse resuming a different run.
    pub settings: serde_json::Value,
}

pub const MODEL: &str = "model.bpk";
pub const OPTIMIZER: &str = "optimizer.bpk";
pub const EMA: &str = "ema.bpk";
pub const STATE: &str = "state.json";

fn dirs(output: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        output.join("checkpoint"),
        output.join("checkpoint.partial"),
        output.join("checkpoint.old"),
    )
}

/// Writes a checkpoint of `model`, `optimizer`, `ema` and `state` into `output`.
pub fn save<M: Module, E: Module>(
    output: &Path,
    model: &M,
    optimizer: &ModuleOptimizer,
    ema: Option<&E>,
    state: &TrainState,
) -> Result<()> {
    let (current, partial, old) = dirs(output);
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(&partial).with_context(|| format!("creating {}", partial.display()))?;
    model
        .clone()
        .into_record()
        .save(partial.join(MODEL))
        .map_err(|e| anyhow::anyhow!("saving the model: {e:?}"))?;
    optimizer
        .save(partial.join(OPTIMIZER))
        .map_err(|e| anyhow::anyhow!("saving the optimiser: {e:?}"))?;
    if let Some(ema) = ema {
        ema.clone()
            .into_record()
            .save(partial.join(EMA))
            .map_err(|e| anyhow::anyhow!("saving the EMA: {e:?}"))?;
    }
    std::fs::write(partial.join(STATE), serde_json::to_vec_pretty(state)?)?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if current.exists() {
        std::fs::rename(&current, &old)?;
    }
    std::fs::rename(&partial, &current)?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// The complete checkpoint in `dir`: `dir` itself when it holds one, else its
/// `checkpoint/` (or `checkpoint.old/` when a kill interrupted the swap).
pub fn find(dir: &Path) -> Result<PathBuf> {
    let (current, _, old) = dirs(dir);
    for candidate in [dir.to_path_buf(), current, old] {
        if candidate.join(STATE).is_file() && candidate.join(MODEL).is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "{} holds no checkpoint (expected checkpoint/{STATE} from an earlier run's --output-dir)",
        dir.display()
    )
}

pub fn read_state(checkpoint: &Path) -> Result<TrainState> {
    let path = checkpoint.join(STATE);
    let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))
}

/// `module` with the weights (and parameter ids, which key the optimiser state) of `file`.
pub fn load_module<M: Module>(module: M, file: &Path) -> Result<M> {
    let record = ModuleRecord::load(file)
        .map_err(|e| anyhow::anyhow!("reading {}: {e:?}", file.display()))?;
    module
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", file.display()))
}

pub fn load_optimizer(optimizer: ModuleOptimizer, file: &Path) -> Result<ModuleOptimizer> {
    optimizer
        .load(file)
        .map_err(|e| anyhow::anyhow!("reading {}: {e:?}", file.display()))
}
