//! The command line: `trainer <command> …`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use model_format::vit::Vit;
use model_format::{StorageDtype, VitConfig};

use crate::backend::{BackendArgs, select_device};
use crate::bench::{self, BenchReport, summarise};
use crate::import::ImportArgs;
use crate::model::LoadedModel;

/// HaTFAS face anti-spoofing: a 5 MB DeiT-Tiny liveness model distilled from DeiT-Base,
/// on Burn (CPU, wgpu or CUDA).
#[derive(Parser, Debug)]
#[command(name = "trainer", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

const AFTER_HELP: &str = "\
Without a command, trainer runs the quickstart (see `trainer quickstart --help`).

Examples:
  trainer synth --out data/synth --preview contact-sheet.png
  trainer teacher --data-path data/synth --output-dir runs/teacher --epochs 30
  trainer distill --data-path data/synth --output-dir runs/student \\
      --teacher-path runs/teacher/best.safetensors --distillation-type soft
  trainer eval --model runs/student/best.safetensors --data-path data/synth
  trainer import --pytorch deit_tiny.pth --model deit_tiny_patch16_224 --out tiny.safetensors
  trainer import --onnx vit_s_focus.onnx --model dinov2_vits14 --out dinov2.safetensors
  trainer teacher --init dinov2.safetensors --freeze-blocks 6 --data-path data/synth \
      --output-dir runs/teacher
  trainer export --model tiny.safetensors --dtype int8 --out tiny-int8.safetensors
  trainer infer --model tiny-int8.safetensors photo.jpg
  trainer detect --json photo.jpg
  trainer bench --model deit_tiny_patch16_224 --batch 16 --iters 20
  trainer metrics --dev dev_scores.csv --test test_scores.csv";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Convert a PyTorch / timm checkpoint of a DeiT, or an ONNX export of a DINOv2 backbone,
    /// into a model file.
    Import(ImportArgs),
    /// Rewrite a model file with f32, f16 or int8 weights.
    Export(ExportArgs),
    /// Live/attack verdicts for image files (the largest face of each, or the whole image).
    Infer(InferArgs),
    /// Faces in image files: boxes, probabilities and five landmarks (MTCNN).
    Detect(DetectArgs),
    /// Scores a model on a prepared dataset's dev and test splits: threshold on dev,
    /// protocol metrics on test, report.json, per-split score CSVs and ROC/DET plots.
    Eval(EvalArgs),
    /// Face videos (or folders of frames) -> face crops in the dataset layout
    /// (CASIA-FASD, Replay-Attack, OULU-NPU or a generic train/val/test tree).
    Prepare(PrepareArgs),
    /// A synthetic face anti-spoofing dataset in the same layout: procedural and public-domain
    /// faces, live videos and simulated print and replay attacks, split by identity.
    Synth(crate::synth::SynthArgs),
    /// Inference latency and throughput of a model (start-up excluded).
    Bench(BenchArgs),
    /// Protocol metrics from score CSVs: threshold on dev, then APCER, BPCER, ACER, HTER,
    /// EER and AUC on test, at frame and video level.
    Metrics(MetricsArgs),
    /// The zero-config main job (also what `trainer` without a command runs): synthetic
    /// data -> teacher -> distilled student -> evaluation -> int8 export for the demo page.
    Quickstart(crate::quickstart::QuickstartArgs),
    /// Trains a teacher (default deit_base_patch16_224) with the DeiT recipe; keeps the
    /// best model by dev ACER and evaluates it on the test split.
    Teacher(crate::train::TeacherArgs),
    /// Distils a student (default deit_tiny_patch16_224) from a trained teacher with the
    /// HaTFAS loss (logit distillation + head-aware feature distillation).
    Distill(crate::train::DistillArgs),
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model file to read.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Storage dtype: f32, f16 or int8 (per-output-channel symmetric; compute stays f32).
    #[arg(long)]
    pub dtype: StorageDtype,
    /// Model file to write (never the input).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct InferArgs {
    /// Model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Use the whole image as the face crop instead of detecting the face.
    #[arg(long)]
    pub no_detect: bool,
    /// Detector model file (default: the built-in MTCNN, `www/models/mtcnn.safetensors`).
    #[arg(long, value_name = "FILE")]
    pub detector: Option<PathBuf>,
    /// One JSON object per image per line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Image files (JPEG, PNG, BMP, WebP).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// One JSON object per image per line: {"image": ..., "faces": [{"box", "prob", "landmarks"}]}.
    #[arg(long)]
    pub json: bool,
    /// Detector model file (default: the built-in MTCNN).
    #[arg(long, value_name = "FILE")]
    pub detector: Option<PathBuf>,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Image files (JPEG, PNG, BMP, WebP).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
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

#[derive(Args, Debug)]
pub struct PrepareArgs {
    /// The dataset as distributed (or a generic {train,val,test}/{true,attack}/ tree of
    /// videos or frame folders).
    #[arg(long, value_name = "DIR")]
    pub input: PathBuf,
    /// Where to write <split>/<true|attack>/<video>/<frame>.png and attack_types.csv.
    #[arg(long, value_name = "ROOT")]
    pub output: PathBuf,
    /// How the input is organised (see docs/data.md or the trainer's prepare module docs).
    #[arg(long, value_enum, default_value_t = crate::prepare::Layout::Generic)]
    pub layout: crate::prepare::Layout,
    /// OULU-NPU protocol (1-4).
    #[arg(long)]
    pub protocol: Option<u8>,
    /// OULU-NPU fold for protocols 3 and 4 (1-6).
    #[arg(long)]
    pub fold: Option<u8>,
    /// Keep every N-th frame.
    #[arg(long, default_value_t = 5)]
    pub every: usize,
    /// Context around the face: the crop's side is (1 + margin) x the box's longer side.
    #[arg(long, default_value_t = model_format::crop::DEFAULT_MARGIN)]
    pub margin: f32,
    /// Side of the saved crops in pixels.
    #[arg(long, default_value_t = model_format::crop::CROP_SIZE)]
    pub size: u32,
    /// Detector model file (default: the built-in MTCNN).
    #[arg(long, value_name = "FILE")]
    pub detector: Option<PathBuf>,
    #[command(flatten)]
    pub backend: BackendArgs,
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
    #[arg(long, value_enum, default_value_t = crate::distill::FeatureTokens::BlockInput, value_name = "FROM")]
    pub feature_tokens: crate::distill::FeatureTokens,
    #[command(flatten)]
    pub backend: BackendArgs,
}

#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// Dev-split scores: CSV with header `video,label,attack_type,score` (label 1 live,
    /// 0 attack; attack_type empty for live rows and optional for attacks; score = live
    /// probability). The thresholds are chosen here (equal-error point).
    #[arg(long, value_name = "CSV")]
    pub dev: PathBuf,
    /// Test-split scores, same columns; evaluated at the dev thresholds.
    #[arg(long, value_name = "CSV")]
    pub test: PathBuf,
    /// Groups of test videos to report apart, CSV `video,group` (a synthetic dataset's
    /// `video_groups.csv`: real people and procedural heads).
    #[arg(long, value_name = "CSV")]
    pub groups: Option<PathBuf>,
    /// One JSON object (rates as fractions) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        // Only the trainer's own messages at info: Burn's CUDA backend logs every kernel's
        // IR at info, megabytes per run.
        0 => "warn,wgpu_hal=error,trainer=info",
        1 => "info,wgpu_hal=warn,trainer=debug",
        _ => "debug,trainer=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => {
            println!(
                "trainer: no command given, running the quickstart (synthetic data -> teacher \
                 -> distil -> evaluate -> int8 export). `trainer --help` lists the commands.\n"
            );
            quickstart(crate::quickstart::QuickstartArgs::default())
        }
        Some(Command::Quickstart(args)) => quickstart(args),
        Some(Command::Import(args)) => import(args),
        Some(Command::Export(args)) => export(args),
        Some(Command::Infer(args)) => infer(args),
        Some(Command::Detect(args)) => detect(args),
        Some(Command::Prepare(args)) => prepare(args),
        Some(Command::Synth(args)) => crate::synth::run(&args).map(|_| ()),
        Some(Command::Eval(args)) => eval(args),
        Some(Command::Bench(args)) => bench_command(args),
        Some(Command::Metrics(args)) => metrics_command(args),
        Some(Command::Teacher(args)) => teacher(args),
        Some(Command::Distill(args)) => distill(args),
    }
}

fn refuse_overwrite(input: &std::path::Path, output: &std::path::Path) -> Result<()> {
    let same = match (input.canonicalize(), output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        bail!(
            "--out {} is the input file; write to another path",
            output.display()
        );
    }
    Ok(())
}

fn import(args: ImportArgs) -> Result<()> {
    let source = args.source()?;
    refuse_overwrite(source, &args.out)?;
    crate::import::run(&args)
}

fn export(args: ExportArgs) -> Result<()> {
    refuse_overwrite(&args.model, &args.out)?;
    let bytes = crate::export::export(&args.model, &args.out, args.dtype)?;
    println!(
        "exported {} -> {} ({}, {:.2} MB)",
        args.model.display(),
        args.out.display(),
        args.dtype,
        bytes as f64 / 1e6
    );
    Ok(())
}

fn infer(args: InferArgs) -> Result<()> {
    let selected = select_device(args.backend)?;
    let model = LoadedModel::read(&args.model, &selected.device)?;
    let detector = (!args.no_detect)
        .then(|| crate::detect::load_detector(args.detector.as_deref(), &selected.device))
        .transpose()?;
    let progress = (!args.json && args.images.len() > 32).then(|| {
        ProgressBar::new(args.images.len() as u64).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} images {per_sec} ETA {eta}")
                .expect("valid template"),
        )
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut write_error = None;
    let images = &args.images;
    crate::infer::infer(
        &model,
        detector.as_ref(),
        images,
        &selected.device,
        |prediction| {
            let line = if args.json {
                serde_json::to_string(prediction).expect("predictions serialise")
            } else {
                let score = prediction
                    .live_score
                    .map_or("-".to_string(), |s| format!("{s:.4}"));
                let face = prediction.face.as_ref().map_or(String::new(), |f| {
                    let [x1, y1, x2, y2] = f.bbox;
                    format!("\tface=[{x1:.0}, {y1:.0}, {x2:.0}, {y2:.0}]")
                });
                format!(
                    "{}\t{}\tlive_score={score}{face}",
                    prediction.image, prediction.label
                )
            };
            if let Err(err) = writeln!(out, "{line}") {
                write_error.get_or_insert(err);
            }
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        },
    )?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(err) = write_error {
        return Err(err).context("writing results");
    }
    Ok(())
}

fn detect(args: DetectArgs) -> Result<()> {
    let selected = select_device(args.backend)?;
    let detector = crate::detect::load_detector(args.detector.as_deref(), &selected.device)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.images {
        let name = path.display().to_string();
        let image = crate::infer::read_rgb(path)?;
        let faces = crate::detect::detect(&detector, &image, &name)?;
        if args.json {
            let line = serde_json::json!({ "image": name, "faces": faces });
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{name}: {} face(s)", faces.len())?;
            for face in &faces {
                let [x1, y1, x2, y2] = face.bbox;
                writeln!(
                    out,
                    "  box [{x1:.1}, {y1:.1}, {x2:.1}, {y2:.1}]  prob {:.4}",
                    face.prob
                )?;
            }
        }
    }
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    let selected = select_device(args.backend)?;
    let stem = args
        .model
        .file_stem()
        .map_or("model".into(), |s| s.to_string_lossy().into_owned());
    let out_dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("eval-{stem}")));
    let job = crate::eval::EvalJob {
        model: &args.model,
        data_path: &args.data_path,
        dev_split: &args.dev_split,
        test_split: &args.test_split,
        out_dir: out_dir.clone(),
        batch: args.batch_size,
        calibrate: args.calibrate,
        threshold_group: args.threshold_group.as_deref(),
    };
    let evaluation = crate::eval::evaluate_model(&job, &selected.device)?;
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

fn prepare(args: PrepareArgs) -> Result<()> {
    use crate::prepare::{Options, discover};
    if args.every == 0 || args.size == 0 || !(0.0..=4.0).contains(&args.margin) {
        bail!("--every and --size must be positive and --margin in [0, 4]");
    }
    let jobs = discover(&args.input, args.layout, args.protocol, args.fold)?;
    let selected = select_device(args.backend)?;
    let detector = crate::detect::load_detector(args.detector.as_deref(), &selected.device)?;
    let bar = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template(
            "preparing {bar:30} {pos}/{len} videos {per_sec} ETA {eta} {msg}",
        )
        .expect("valid template"),
    );
    let options = Options {
        every: args.every,
        margin: args.margin,
        size: args.size,
    };
    let reports = crate::prepare::prepare(&jobs, &args.output, &detector, &options, |job, _| {
        bar.set_message(job.id.clone());
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let faces: usize = reports.iter().map(|r| r.faces_written).sum();
    let frames: usize = reports.iter().map(|r| r.frames_read).sum();
    let missing: usize = reports.iter().map(|r| r.frames_without_face).sum();
    println!(
        "{} videos -> {}: {faces} face crops from {frames} frames ({missing} frames without a face, skipped)",
        jobs.len(),
        args.output.display()
    );
    Ok(())
}

fn bench_command(args: BenchArgs) -> Result<()> {
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
    let device = &selected.device;
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
    args.precision.check(&selected)?;
    let compute = args.precision.compute_dtype();
    let (times, batch, faces) = if args.train {
        let config = crate::train::spec::model_config(&args.model, None)?;
        let mut step = bench::DistillStep::labels_only(
            &config,
            args.batch,
            args.freeze_blocks,
            compute,
            device,
        )?;
        (
            bench::time(args.warmup, args.iters, || step.step(), tick)?,
            args.batch,
            None,
        )
    } else if args.distill {
        let spec = |name: &str| crate::train::spec::model_config(name, None);
        let mut step = bench::DistillStep::new(
            &spec(&args.model)?,
            &spec(&args.teacher_model)?,
            args.batch,
            compute,
            args.feature_tokens.input(),
            device,
        )?;
        (
            bench::time(args.warmup, args.iters, || step.step(), tick)?,
            args.batch,
            None,
        )
    } else if args.model == "mtcnn" {
        // Face detection on one frame: the whole MTCNN pipeline, pyramid to landmarks.
        let Some(path) = &args.image else {
            bail!("--model mtcnn needs --image FRAME (for example a 640x480 camera frame)");
        };
        if args.batch != 1 {
            bail!("the detector runs one frame at a time: use --batch 1");
        }
        let detector = crate::detect::load_detector(args.detector.as_deref(), device)?;
        let frame = crate::infer::read_rgb(path)?;
        let name = path.display().to_string();
        let faces = crate::detect::detect(&detector, &frame, &name)?.len();
        let run = || crate::detect::detect(&detector, &frame, &name).map(|_| ());
        (
            bench::time(args.warmup, args.iters, run, tick)?,
            1,
            Some(faces),
        )
    } else {
        let (vit, image_size) = match VitConfig::preset(&args.model, 2) {
            Some(config) => (Vit::new(&config, device), config.image_size),
            None => {
                let path = PathBuf::from(&args.model);
                if !path.exists() {
                    bail!(
                        "--model {:?} is neither a preset ({}), `mtcnn`, nor an existing file",
                        args.model,
                        model_format::PRESET_NAMES.join(", ")
                    );
                }
                let liveness = LoadedModel::read(&path, device)?.liveness;
                let image_size = liveness.input_size();
                (liveness.vit, image_size)
            }
        };
        let input = bench::random_batch(args.batch, image_size, device);
        let run = || bench::classify(&vit, &input, compute);
        (
            bench::time(args.warmup, args.iters, run, tick)?,
            args.batch,
            None,
        )
    };
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let (median_ms, p90_ms, mean_ms) = summarise(&times);
    let report = BenchReport {
        implementation: "burn".into(),
        backend: selected.description.clone(),
        model: if args.distill {
            let tokens = match args.feature_tokens {
                crate::distill::FeatureTokens::BlockInput => "",
                crate::distill::FeatureTokens::Embeddings => " (embedding tokens)",
            };
            format!("distill {} <- {}{tokens}", args.model, args.teacher_model)
        } else if args.train {
            format!(
                "train {} ({} blocks frozen)",
                args.model, args.freeze_blocks
            )
        } else {
            args.model.clone()
        },
        precision: args.precision,
        batch,
        iters: args.iters,
        threads: rayon::current_num_threads(),
        median_ms,
        p90_ms,
        mean_ms,
        throughput_img_s: batch as f64 * 1e3 / median_ms,
        faces,
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

fn quickstart(args: crate::quickstart::QuickstartArgs) -> Result<()> {
    let summary = crate::quickstart::run(&args)?;
    crate::quickstart::print_summary(&summary);
    Ok(())
}

fn teacher(args: crate::train::TeacherArgs) -> Result<()> {
    print_outcome(&crate::train::commands::teacher(&args)?);
    Ok(())
}

fn distill(args: crate::train::DistillArgs) -> Result<()> {
    print_outcome(&crate::train::commands::distill(&args)?);
    Ok(())
}

pub fn print_outcome(outcome: &crate::train::Outcome) {
    let best = &outcome.best;
    println!(
        "best: epoch {} (dev ACER {:.2}%, EER {:.2}%, AUC {:.4}) -> {}",
        best.epoch,
        100.0 * best.dev_acer,
        100.0 * best.dev_eer,
        best.dev_auc,
        outcome.best_model.display()
    );
    if let Some(evaluation) = &outcome.evaluation {
        print!("{}", evaluation.report.table());
        println!(
            "threshold and metrics written into {}; `trainer export --dtype int8` makes the deployable file",
            outcome.best_model.display()
        );
    }
}

fn metrics_command(args: MetricsArgs) -> Result<()> {
    use crate::metrics::{ScoreSet, evaluate};
    let dev = ScoreSet::read_csv(&args.dev)?;
    let test = ScoreSet::read_csv(&args.test)?;
    let groups = match &args.groups {
        Some(path) => {
            anyhow::ensure!(path.is_file(), "{} is not a file", path.display());
            crate::data::read_video_table(path, "group")?
        }
        None => Default::default(),
    };
    let report = evaluate(&dev, &test)?.with_groups(&test, &groups);
    if args.json {
        println!("{}", report.to_json());
    } else {
        println!(
            "dev {}: {} frames, {} videos; test {}: {} frames, {} videos",
            args.dev.display(),
            dev.len(),
            dev.num_videos(),
            args.test.display(),
            test.len(),
            test.num_videos()
        );
        print!("{}", report.table());
    }
    Ok(())
}
