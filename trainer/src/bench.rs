//! `trainer bench`: inference latency and throughput of a model, start-up excluded.

use std::time::Instant;

use anyhow::Result;
use burn::tensor::{Device, Distribution, Tensor};
use model_format::vit::Vit;
use serde::Serialize;

/// Timing summary, in the same JSON shape as `scripts/bench_pytorch.py` prints.
#[derive(Serialize, Debug, Clone)]
pub struct BenchReport {
    #[serde(rename = "impl")]
    pub implementation: String,
    pub backend: String,
    pub model: String,
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
pub fn classify(vit: &Vit, input: &Tensor<4>) -> Result<()> {
    crate::model::read_logits(vit.logits(input.clone())).map(|_| ())
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
