//! `trainer bench`: inference latency and throughput of a model, start-up excluded.

use std::time::Instant;

use anyhow::Result;
use burn::tensor::{Device, Distribution, FloatDType, Tensor};
use model_format::vit::Vit;
use serde::Serialize;

/// Timing summary, in the same JSON shape as `scripts/bench_pytorch.py` prints.
#[derive(Serialize, Debug, Clone)]
pub struct BenchReport {
    #[serde(rename = "impl")]
    pub implementation: String,
    pub backend: String,
    pub model: String,
    /// Precision of the matrix products.
    pub precision: crate::backend::Precision,
    pub batch: usize,
    pub iters: usize,
    pub threads: usize,
    pub median_ms: f64,
    pub p90_ms: f64,
    pub mean_ms: f64,
    pub throughput_img_s: f64,
    /// Faces found per run (detector benchmarks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faces: Option<usize>,
}

/// Times `iters` calls of `run` after `warmup` untimed ones (kernel compilation,
/// autotuning, caches), calling `on_iteration` after each timed one.
pub fn time(
    warmup: usize,
    iters: usize,
    mut run: impl FnMut() -> Result<()>,
    mut on_iteration: impl FnMut(),
) -> Result<Vec<f64>> {
    for _ in 0..warmup {
        run()?;
    }
    let mut times_ms = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        run()?;
        times_ms.push(start.elapsed().as_secs_f64() * 1e3);
        on_iteration();
    }
    Ok(times_ms)
}

/// A random `[batch, 3, size, size]` input for a classifier.
pub fn random_batch(batch: usize, image_size: usize, device: &Device) -> Tensor<4> {
    Tensor::random(
        [batch, 3, image_size, image_size],
        Distribution::Normal(0.0, 1.0),
        device,
    )
}

/// One forward pass of `vit`, its logits read back so queued GPU work is included.
pub fn classify(vit: &Vit, input: &Tensor<4>, compute: FloatDType) -> Result<()> {
    crate::model::read_logits(vit.forward_mixed(input.clone(), None, compute).logits).map(|_| ())
}

/// One HaTFAS distillation step, as the training loop runs it: frozen teacher forward
/// (class tokens included), student forward, loss (soft KD + head-aware feature loss with
/// the paper's defaults), backward and AdamW update. Data loading, EMA and mixup are left
/// out, as in `scripts/bench_distill_pytorch.py`.
pub struct DistillStep {
    student: Vit,
    objective: crate::train::Objective,
    optimizer: burn::optim::ModuleOptimizer,
    inputs: Tensor<4>,
    targets: Tensor<2>,
    lr: f64,
    compute: FloatDType,
    device: Device,
}

impl DistillStep {
    pub fn new(
        student: &model_format::VitConfig,
        teacher: &model_format::VitConfig,
        batch: usize,
        compute: FloatDType,
        tokens: crate::distill::TokenInput,
        device: &Device,
    ) -> Result<Self> {
        use crate::distill::HatfasLossConfig;
        let autodiff = device.clone().autodiff();
        let ids: Vec<usize> = [4, 6, 8]
            .into_iter()
            .filter(|&i| i < student.depth.min(teacher.depth))
            .collect();
        let loss = HatfasLossConfig::new()
            .with_s_ids(ids.clone())
            .with_t_ids(ids)
            .with_tokens(tokens)
            .init()
            .map_err(anyhow::Error::msg)?;
        let student_vit = Vit::new(student, &autodiff);
        let optimizer = crate::train::optim::adamw_with(0.05, 1e-8, &student_vit);
        // Soft targets as mixup makes them: each row sums to one.
        let lam = Tensor::<2>::random([batch, 1], Distribution::Uniform(0.0, 1.0), &autodiff);
        let targets = Tensor::cat(vec![lam.clone(), lam.neg().add_scalar(1.0)], 1);
        Ok(Self {
            student: student_vit,
            objective: crate::train::Objective::Distill {
                teacher: Box::new(Vit::new(teacher, device)),
                loss,
            },
            optimizer,
            inputs: random_batch(batch, student.image_size, &autodiff),
            targets,
            lr: 5e-4 * batch as f64 / 512.0,
            compute,
            device: device.clone(),
        })
    }

    /// A teacher's own training step instead (`trainer teacher`): forward, soft-target
    /// cross-entropy, backward and AdamW update of `config` with its first `freeze_blocks`
    /// blocks frozen, as `--freeze-blocks` does.
    pub fn labels_only(
        config: &model_format::VitConfig,
        batch: usize,
        freeze_blocks: usize,
        compute: FloatDType,
        device: &Device,
    ) -> Result<Self> {
        anyhow::ensure!(
            freeze_blocks <= config.depth,
            "--freeze-blocks {freeze_blocks}: the model has {} blocks",
            config.depth
        );
        let autodiff = device.clone().autodiff();
        let model = Vit::new(config, &autodiff);
        let optimizer = crate::train::optim::adamw_with(0.05, 1e-8, &model);
        let model = crate::train::freeze::freeze_first_blocks(model, freeze_blocks);
        let lam = Tensor::<2>::random([batch, 1], Distribution::Uniform(0.0, 1.0), &autodiff);
        Ok(Self {
            student: model,
            objective: crate::train::Objective::Labels,
            optimizer,
            inputs: random_batch(batch, config.image_size, &autodiff),
            targets: Tensor::cat(vec![lam.clone(), lam.neg().add_scalar(1.0)], 1),
            lr: 5e-4 * batch as f64 / 512.0,
            compute,
            device: device.clone(),
        })
    }

    /// Runs one step and waits for the device.
    pub fn step(&mut self) -> Result<()> {
        let parts = crate::train::loss(
            &self.student,
            &self.objective,
            self.inputs.clone(),
            self.targets.clone(),
            self.compute,
        );
        let grads = burn::optim::GradientsParams::from_grads(parts.total.backward(), &self.student);
        self.student = self.optimizer.step(self.lr, self.student.clone(), grads);
        self.device
            .sync()
            .map_err(|e| anyhow::anyhow!("device error: {e:?}"))
    }
}

/// Median, 90th percentile (nearest rank) and mean of `times_ms`.
pub fn summarise(times_ms: &[f64]) -> (f64, f64, f64) {
    assert!(!times_ms.is_empty(), "no timings");
    let mut sorted = times_ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
    let p90 = sorted[rank - 1];
    let mean = sorted.iter().sum::<f64>() / n as f64;
    (median, p90, mean)
}

#[cfg(test)]
mod tests {
    use super::summarise;

    #[test]
    fn summary_statistics() {
        let (median, p90, mean) = summarise(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(median, 3.0);
        assert_eq!(p90, 5.0); // rank ceil(4.5) = 5
        assert_eq!(mean, 3.0);
        let times: Vec<f64> = (1..=10).map(f64::from).collect();
        let (median, p90, _) = summarise(&times);
        assert_eq!(median, 5.5);
        assert_eq!(p90, 9.0);
    }
}
