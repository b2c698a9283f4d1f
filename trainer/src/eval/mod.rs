//! `trainer eval`: scores a model on the dev and test splits of a prepared dataset and
//! reports the protocol metrics ([`crate::eval::metrics`]): the threshold is taken on dev and
//! applied unchanged to test, at frame and video level.

pub(crate) mod group_metrics;
pub mod metrics;
pub(crate) mod plots;
pub(crate) mod scores;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use image::RgbImage;
use indicatif::{ProgressBar, ProgressStyle};
use model_format::preprocess::{ImageView, batch_tensor, preprocess};
use model_format::vit::Vit;
use model_format::{Preprocessing, live_score};
use rayon::prelude::*;

use crate::backend::{BackendArgs, select_device};
use crate::data::Frame;
use crate::eval::metrics::{Report, ScoreSet, evaluate};
use crate::model::{LoadedModel, read_logits};
use clap::Args;

/// Scores of one split and the frames that could not be read (skipped, with a warning).
pub struct Scored {
    pub scores: ScoreSet,
    pub unreadable: usize,
}

/// The live score of every frame that `image(i)` can produce, `batch` frames per forward
/// pass, images prepared on the CPU threads.
pub fn score_frames(
    (vit, preprocessing): (&Vit, &Preprocessing),
    name: &str,
    frames: &[Frame],
    image: impl Fn(usize) -> Option<RgbImage> + Sync,
    batch: usize,
    device: &Device,
    mut on_batch: impl FnMut(usize),
) -> Result<Scored> {
    let mut scores = ScoreSet::new(name);
    let mut unreadable = 0;
    let batch = batch.max(1);
    for (c, chunk) in frames.chunks(batch).enumerate() {
        let inputs: Vec<Option<Vec<f32>>> = (0..chunk.len())
            .into_par_iter()
            .map(|i| {
                let rgb = image(c * batch + i)?;
                preprocess(ImageView::from(&rgb), preprocessing).ok()
            })
            .collect();
        let readable: Vec<Vec<f32>> = inputs.iter().flatten().cloned().collect();
        let mut logits = if readable.is_empty() {
            Vec::new()
        } else {
            read_logits(vit.forward(batch_tensor(&readable, preprocessing.input_size, device)))?
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

/// [`score_frames`] reading each frame from its file.
pub fn score_split(
    model: &LoadedModel,
    name: &str,
    frames: &[Frame],
    batch: usize,
    device: &Device,
    on_batch: impl FnMut(usize),
) -> Result<Scored> {
    score_frames(
        (&model.liveness.vit, &model.liveness.preprocessing),
        name,
        frames,
        |i| crate::data::read_rgb(&frames[i].path).ok(),
        batch,
        device,
        on_batch,
    )
}

/// Writes `scores` as `video,label,attack_type,score` to `path`.
pub fn write_scores(scores: &ScoreSet, path: &Path) -> Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    scores.write_csv(&mut out)?;
    Ok(())
}

/// What to evaluate and where the results go.
pub struct EvalJob<'a> {
    pub model: &'a Path,
    pub data_path: &'a Path,
    pub dev_split: &'a str,
    pub test_split: &'a str,
    pub out_dir: PathBuf,
    pub batch: usize,
    /// Write the dev threshold and the metrics into the model file.
    pub calibrate: bool,
    /// Choose the thresholds on this group's dev videos only (`video_groups.csv`).
    pub threshold_group: Option<&'a str>,
}

/// The result of [`evaluate_model`].
pub struct Evaluation {
    pub report: Report,
    /// `report.json`'s content.
    pub json: serde_json::Value,
    pub dev_frames: usize,
    pub test_frames: usize,
}

/// Scores dev and test, writes `report.json`, one score CSV per split and ROC/DET plots
/// into `job.out_dir`, and calibrates the model file when asked.
pub fn evaluate_model(job: &EvalJob, device: &Device) -> Result<Evaluation> {
    // Read before the scoring, so that a missing groups file fails at once.
    let groups = crate::data::video_groups(job.data_path)?;
    if let Some(group) = job.threshold_group
        && !groups.values().any(|g| g == group)
    {
        bail!(
            "--threshold-group {group}: no video of {} is in that group",
            job.data_path.join(crate::data::VIDEO_GROUPS_FILE).display()
        );
    }
    let dev_frames = crate::data::read_split(job.data_path, job.dev_split)?;
    let test_frames = crate::data::read_split(job.data_path, job.test_split)?;
    let model = LoadedModel::read(job.model, device)?;
    let bar = ProgressBar::new((dev_frames.len() + test_frames.len()) as u64).with_style(
        ProgressStyle::with_template("scoring {bar:30} {pos}/{len} frames {per_sec} ETA {eta}")
            .expect("valid template"),
    );
    let score = |name: &str, frames: &[Frame]| {
        score_split(&model, name, frames, job.batch, device, |n| {
            bar.inc(n as u64)
        })
    };
    let dev = score(job.dev_split, &dev_frames)?;
    let test = score(job.test_split, &test_frames)?;
    bar.finish_and_clear();
    let threshold_dev = match job.threshold_group {
        Some(group) => crate::eval::group_metrics::dev_of_group(&dev.scores, &groups, group)
            .with_context(|| format!("--threshold-group {group}"))?,
        None => dev.scores.clone(),
    };
    let report = evaluate(&threshold_dev, &test.scores)?.with_groups(&test.scores, &groups);

    let json = write_outputs(job, &dev, &test, &report)?;
    if job.calibrate {
        let mut file = model.file;
        file.metadata.threshold = report.frame.threshold as f32;
        file.metadata.provenance.metrics = Some(json["metrics"].clone());
        file.metadata.provenance.dataset = Some(crate::data::dataset_description(job.data_path));
        file.write(job.model, file.metadata.storage)?;
    }
    Ok(Evaluation {
        report,
        json,
        dev_frames: dev.scores.len(),
        test_frames: test.scores.len(),
    })
}

/// Writes `job.out_dir`: one score CSV per split, `report.json` (returned) and the
/// frame-level ROC/DET plots.
fn write_outputs(
    job: &EvalJob,
    dev: &Scored,
    test: &Scored,
    report: &Report,
) -> Result<serde_json::Value> {
    let out_dir = &job.out_dir;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    write_scores(
        &dev.scores,
        &out_dir.join(format!("{}_scores.csv", job.dev_split)),
    )?;
    write_scores(
        &test.scores,
        &out_dir.join(format!("{}_scores.csv", job.test_split)),
    )?;
    let json = serde_json::json!({
        "model": job.model.display().to_string(),
        "data_path": job.data_path.display().to_string(),
        "dev_split": job.dev_split,
        "test_split": job.test_split,
        "threshold_group": job.threshold_group,
        "frames": {"dev": dev.scores.len(), "test": test.scores.len()},
        "unreadable_frames": {"dev": dev.unreadable, "test": test.unreadable},
        "metrics": report.to_json(),
    });
    std::fs::write(
        out_dir.join("report.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    let dev_curve = crate::eval::metrics::roc_of(&dev.scores)?.curve();
    let test_curve = crate::eval::metrics::roc_of(&test.scores)?.curve();
    let (dev_name, test_name) = (
        format!("dev ({})", job.dev_split),
        format!("test ({})", job.test_split),
    );
    let curves = [
        crate::eval::plots::Curve {
            name: &dev_name,
            points: &dev_curve,
        },
        crate::eval::plots::Curve {
            name: &test_name,
            points: &test_curve,
        },
    ];
    let stem = job
        .model
        .file_stem()
        .map_or("model".into(), |s| s.to_string_lossy().into_owned());
    crate::eval::plots::write_roc_det(out_dir, &curves, &format!("{stem}: frame level"))?;

    Ok(json)
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model file to evaluate.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Prepared dataset root (<root>/<split>/{true,attack}/<video>/<frame>).
    #[arg(long, value_name = "ROOT")]
    pub data_path: PathBuf,
    /// Split the threshold is chosen on.
    #[arg(long, default_value = "val")]
    pub dev_split: String,
    /// Split the metrics are reported on.
    #[arg(long, default_value = "test")]
    pub test_split: String,
    /// Where report.json, <split>_scores.csv and the ROC/DET plots (PNG, SVG) go
    /// (default: eval-<model name>).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Frames per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Write the frame-level dev threshold and the metrics into the model file.
    #[arg(long)]
    pub calibrate: bool,
    /// Choose the thresholds on the dev videos of this group only (a group of the
    /// dataset's video_groups.csv): `real` calibrates a model for real people rather than
    /// for the synthetic data's drawn heads. Test metrics, per group too, use them.
    #[arg(long, value_name = "GROUP")]
    pub threshold_group: Option<String>,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// `trainer eval`.
pub fn command(args: EvalArgs) -> Result<()> {
    let selected = select_device(args.backend)?;
    let stem = args
        .model
        .file_stem()
        .map_or("model".into(), |s| s.to_string_lossy().into_owned());
    let out_dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("eval-{stem}")));
    let job = EvalJob {
        model: &args.model,
        data_path: &args.data_path,
        dev_split: &args.dev_split,
        test_split: &args.test_split,
        out_dir: out_dir.clone(),
        batch: args.batch_size,
        calibrate: args.calibrate,
        threshold_group: args.threshold_group.as_deref(),
    };
    let evaluation = evaluate_model(&job, &selected.device)?;
    println!(
        "{} on {}: dev {} ({} frames), test {} ({} frames)",
        args.model.display(),
        args.data_path.display(),
        args.dev_split,
        evaluation.dev_frames,
        args.test_split,
        evaluation.test_frames
    );
    print!("{}", evaluation.report.table());
    println!("report and scores in {}", out_dir.display());
    if args.calibrate {
        println!(
            "calibrated {}: threshold {:.6} (frame-level dev EER point{})",
            args.model.display(),
            evaluation.report.frame.threshold,
            args.threshold_group
                .as_ref()
                .map_or(String::new(), |g| format!(" of the {g} videos"))
        );
    }
    Ok(())
}
