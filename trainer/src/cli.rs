//! The command line: `trainer <command> …`.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::{bench, data, detect, eval, infer, quickstart, train, weights};

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
    Import(weights::import::ImportArgs),
    /// Rewrite a model file with f32, f16 or int8 weights.
    Export(weights::export::ExportArgs),
    /// Live/attack verdicts for image files (the largest face of each, or the whole image).
    Infer(infer::InferArgs),
    /// Faces in image files: boxes, probabilities and five landmarks (MTCNN).
    Detect(detect::DetectArgs),
    /// Scores a model on a prepared dataset's dev and test splits: threshold on dev,
    /// protocol metrics on test, report.json, per-split score CSVs and ROC/DET plots.
    Eval(eval::EvalArgs),
    /// Face videos (or folders of frames) -> face crops in the dataset layout
    /// (CASIA-FASD, Replay-Attack, OULU-NPU or a generic train/val/test tree).
    Prepare(data::prepare::PrepareArgs),
    /// A synthetic face anti-spoofing dataset in the same layout: procedural and public-domain
    /// faces, live videos and simulated print and replay attacks, split by identity.
    Synth(synth::SynthArgs),
    /// Inference latency and throughput of a model (start-up excluded).
    Bench(bench::BenchArgs),
    /// Protocol metrics from score CSVs: threshold on dev, then APCER, BPCER, ACER, HTER,
    /// EER and AUC on test, at frame and video level.
    Metrics(eval::scores::MetricsArgs),
    /// The zero-config main job (also what `trainer` without a command runs): synthetic
    /// data -> teacher -> distilled student -> evaluation -> int8 export for the demo page.
    Quickstart(quickstart::QuickstartArgs),
    /// Trains a teacher (default deit_base_patch16_224) with the DeiT recipe; keeps the
    /// best model by dev ACER and evaluates it on the test split.
    Teacher(train::TeacherArgs),
    /// Distils a student (default deit_tiny_patch16_224) from a trained teacher with the
    /// HaTFAS loss (logit distillation + head-aware feature distillation).
    Distill(train::DistillArgs),
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
            quickstart::command(quickstart::QuickstartArgs::default())
        }
        Some(Command::Quickstart(args)) => quickstart::command(args),
        Some(Command::Import(args)) => weights::import::command(args),
        Some(Command::Export(args)) => weights::export::command(args),
        Some(Command::Infer(args)) => infer::command(args),
        Some(Command::Detect(args)) => detect::command(args),
        Some(Command::Prepare(args)) => data::prepare::command(args),
        Some(Command::Synth(args)) => synth::run(&args).map(|_| ()),
        Some(Command::Eval(args)) => eval::command(args),
        Some(Command::Bench(args)) => bench::command(args),
        Some(Command::Metrics(args)) => eval::scores::command(args),
        Some(Command::Teacher(args)) => train::commands::teacher_command(args),
        Some(Command::Distill(args)) => train::commands::distill_command(args),
    }
}
