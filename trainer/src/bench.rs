//! `trainer bench`: inference latency and throughput of a model, start-up excluded.

use std::time::Instant;

use crate::backend::{BackendArgs, select_device};
use crate::model::LoadedModel;
use anyhow::Result;
use anyhow::{Context, bail};
use burn::tensor::{Device, Distribution, FloatDType, Tensor};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use model_format::VitConfig;
use model_format::vit::Vit;
use serde::Serialize;
use std::path::PathBuf;

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
        tokens: crate::train::distill::TokenInput,
        device: &Device,
    ) -> Result<Self> {
        use crate::train::distill::HatfasLossConfig;
        let autodiff = device.clone().autodiff();
        let ids: Vec<usize> = [4, 6, 8]
            .into_iter()
            .filter(|&i| i < student.depth.min(teacher.depth))
            .collect();
        let loss = HatfasLossConfig::new()
            .with_s_ids(ids.clone())
            .with_t_ids(ids)
            .with_tokens(tokens)
            .init()?;
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
        let parts = crate::train::objective::loss(
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

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The frame to detect faces in (with `--model mtcnn`).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<PathBuf>,
    /// Detector model file for `--model mtcnn` (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub detector: Option<PathBuf>,
    /// A preset name (random weights, 2 classes), a model file, or `mtcnn` (face detection
    /// on `--image`).
    #[arg(
        long,
        value_name = "NAME|FILE",
        default_value = "deit_tiny_patch16_224"
    )]
    pub model: String,
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Timed iterations.
    #[arg(long, default_value_t = 20)]
    pub iters: usize,
    /// Untimed iterations first (kernel compilation, autotuning, caches).
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// CPU threads for the CPU backend (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// One JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Time HaTFAS distillation training steps of --model (the student, a preset) against
    /// --teacher-model instead of inference (img/s = batch / step time).
    #[arg(long)]
    pub distill: bool,
    /// Time training steps of --model (a preset) with labels only, as `trainer teacher`
    /// trains (img/s = batch / step time).
    #[arg(long, conflicts_with = "distill")]
    pub train: bool,
    /// With --train: blocks frozen from the first (as `teacher --freeze-blocks`).
    #[arg(long, default_value_t = 0, requires = "train", value_name = "N")]
    pub freeze_blocks: usize,
    /// The frozen teacher of --distill (a preset, random weights).
    #[arg(long, value_name = "NAME", default_value = "deit_base_patch16_224")]
    pub teacher_model: String,
    /// Precision of the ViT's matrix products (as `teacher`/`distill --precision`).
    #[arg(long, value_enum, default_value_t = crate::backend::Precision::F32)]
    pub precision: crate::backend::Precision,
    /// The class tokens of --distill's feature loss (as `distill --feature-tokens`).
    #[arg(long, value_enum, default_value_t = crate::train::distill::FeatureTokens::BlockInput, value_name = "FROM")]
    pub feature_tokens: crate::train::distill::FeatureTokens,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// `trainer bench`.
pub fn command(args: BenchArgs) -> Result<()> {
    if args.batch == 0 || args.iters == 0 {
        bail!("--batch and --iters must be positive");
    }
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("configuring CPU threads")?;
    }
    let selected = select_device(args.backend)?;
    args.precision.check(&selected)?;
    let progress = (!args.json).then(|| {
        ProgressBar::new(args.iters as u64).with_style(
            ProgressStyle::with_template("benchmarking {bar:30} {pos}/{len} iterations")
                .expect("valid template"),
        )
    });
    let tick = || {
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    };
    let measured = measure(&args, &selected.device, tick)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let (median_ms, p90_ms, mean_ms) = summarise(&measured.times_ms);
    let report = BenchReport {
        implementation: "burn".into(),
        backend: selected.description.clone(),
        model: workload_name(&args),
        precision: args.precision,
        batch: measured.batch,
        iters: args.iters,
        threads: rayon::current_num_threads(),
        median_ms,
        p90_ms,
        mean_ms,
        throughput_img_s: measured.batch as f64 * 1e3 / median_ms,
        faces: measured.faces,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} batch {} on {}: median {:.2} ms, p90 {:.2} ms, mean {:.2} ms, {:.1} img/s ({} iterations after {} warm-up){}",
            report.model,
            report.batch,
            report.backend,
            median_ms,
            p90_ms,
            mean_ms,
            report.throughput_img_s,
            report.iters,
            args.warmup,
            report
                .faces
                .map_or(String::new(), |n| format!(", {n} face(s) per frame"))
        );
    }
    Ok(())
}

/// What one benchmark measured: the time of each iteration, the images per iteration and,
/// for the detector, the faces it found per frame.
struct Measured {
    times_ms: Vec<f64>,
    batch: usize,
    faces: Option<usize>,
}

/// Times the workload `args` names: a training step, a distillation step, the face
/// detector on one frame, or a classifier's forward pass.
fn measure(args: &BenchArgs, device: &Device, tick: impl FnMut()) -> Result<Measured> {
    let compute = args.precision.compute_dtype();
    let batch = |times_ms| Measured {
        times_ms,
        batch: args.batch,
        faces: None,
    };
    if args.train {
        let config = crate::spec::model_config(&args.model, None)?;
        let mut step =
            DistillStep::labels_only(&config, args.batch, args.freeze_blocks, compute, device)?;
        Ok(batch(time(args.warmup, args.iters, || step.step(), tick)?))
    } else if args.distill {
        let spec = |name: &str| crate::spec::model_config(name, None);
        let mut step = DistillStep::new(
            &spec(&args.model)?,
            &spec(&args.teacher_model)?,
            args.batch,
            compute,
            args.feature_tokens.input(),
            device,
        )?;
        Ok(batch(time(args.warmup, args.iters, || step.step(), tick)?))
    } else if args.model == "mtcnn" {
        measure_detector(args, device, tick)
    } else {
        let (vit, image_size) = classifier(&args.model, device)?;
        let input = random_batch(args.batch, image_size, device);
        let run = || classify(&vit, &input, compute);
        Ok(batch(time(args.warmup, args.iters, run, tick)?))
    }
}

/// Face detection on one frame: the whole MTCNN pipeline, pyramid to landmarks.
fn measure_detector(args: &BenchArgs, device: &Device, tick: impl FnMut()) -> Result<Measured> {
    let Some(path) = &args.image else {
        bail!("--model mtcnn needs --image FRAME (for example a 640x480 camera frame)");
    };
    if args.batch != 1 {
        bail!("the detector runs one frame at a time: use --batch 1");
    }
    let detector = crate::detect::load_detector(args.detector.as_deref(), device)?;
    let frame = crate::data::read_rgb(path)?;
    let name = path.display().to_string();
    let faces = crate::detect::detect(&detector, &frame, &name)?.len();
    let run = || crate::detect::detect(&detector, &frame, &name).map(|_| ());
    Ok(Measured {
        times_ms: time(args.warmup, args.iters, run, tick)?,
        batch: 1,
        faces: Some(faces),
    })
}

/// A preset with random weights, or a model file; with its input size.
fn classifier(model: &str, device: &Device) -> Result<(Vit, usize)> {
    if let Some(config) = VitConfig::preset(model, 2) {
        return Ok((Vit::new(&config, device), config.image_size));
    }
    let path = PathBuf::from(model);
    if !path.exists() {
        bail!(
            "--model {model:?} is neither a preset ({}), `mtcnn`, nor an existing file",
            model_format::PRESET_NAMES.join(", ")
        );
    }
    let liveness = LoadedModel::read(&path, device)?.liveness;
    let image_size = liveness.input_size();
    Ok((liveness.vit, image_size))
}

/// The workload's name in the report.
fn workload_name(args: &BenchArgs) -> String {
    if args.distill {
        let tokens = match args.feature_tokens {
            crate::train::distill::FeatureTokens::BlockInput => "",
            crate::train::distill::FeatureTokens::Embeddings => " (embedding tokens)",
        };
        format!("distill {} <- {}{tokens}", args.model, args.teacher_model)
    } else if args.train {
        format!(
            "train {} ({} blocks frozen)",
            args.model, args.freeze_blocks
        )
    } else {
        args.model.clone()
    }
}
