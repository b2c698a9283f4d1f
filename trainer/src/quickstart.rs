//! The zero-config main job (`cargo run -p trainer --release` with no arguments):
//! synthesise the built-in dataset (cached), train a small teacher, distil the student
//! with the HaTFAS loss, evaluate it on the identity-disjoint test split and export it as
//! int8 where the demo page can load it. Sized to end within 20 minutes on 2 CPU cores;
//! rerunning continues where a killed run stopped.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser};
use model_format::StorageDtype;

use crate::backend::BackendArgs;
use crate::train::{DistillArgs, Outcome, TeacherArgs};

/// The quickstart's settings.
#[derive(Args, Debug, Clone)]
pub struct QuickstartArgs {
    /// Working directory: the synthetic dataset, the teacher's and the student's runs.
    #[arg(long, value_name = "DIR", default_value = "hatfas-quickstart")]
    pub dir: PathBuf,
    /// The exported int8 student (default: www/models/quickstart-student.safetensors of
    /// this checkout, beside the shipped demo model; else inside --dir).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Epochs of the teacher.
    #[arg(long, default_value_t = TEACHER_EPOCHS)]
    pub teacher_epochs: usize,
    /// Epochs of the student.
    #[arg(long, default_value_t = STUDENT_EPOCHS)]
    pub student_epochs: usize,
    /// Logit distillation of the student; `none` trains the same student without any
    /// distillation (base loss only: no logit and no feature loss), for comparison.
    #[arg(long, value_enum, default_value_t = crate::distill::DistillationType::Soft)]
    pub distillation_type: crate::distill::DistillationType,
    #[command(flatten)]
    pub backend: BackendArgs,
}

impl Default for QuickstartArgs {
    fn default() -> Self {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: QuickstartArgs,
        }
        Wrapper::parse_from(["quickstart"]).args
    }
}

/// The quickstart's networks: DeiT-Tiny at 112 px as the student (the deployable
/// architecture at a quarter of the tokens) and a narrower-than-Small 12-block teacher.
pub const STUDENT_MODEL: &str = "deit_tiny_patch16_224";
pub const TEACHER_MODEL: &str = "custom:img=112,patch=16,dim=256,depth=12,heads=4";
pub const INPUT_SIZE: usize = 112;
pub const TEACHER_EPOCHS: usize = 12;
pub const STUDENT_EPOCHS: usize = 20;
const BATCH: &str = "32";

/// The synthetic dataset: identities x (live + attack) videos x frames, rendered at
/// 128 px so that the 112 px evaluation crop keeps the attacks' fine texture (halftone,
/// moiré) at its native scale.
const SYNTH: [&str; 8] = [
    "--identities",
    "48",
    "--videos-per-identity",
    "2",
    "--frames",
    "8",
    "--size",
    "128",
];

/// Recipe flags shared by both runs: the DeiT optimiser and schedule at a small scale (lr
/// not scaled down for the small batch, short warm-up, no cool-down, a faster EMA). The
/// heavy augmentation (mixup, cutmix, RandAugment, erasing, random crops) is off: it
/// is made for hundreds of ImageNet epochs, and in a few epochs on a few hundred frames it
/// keeps a ViT from learning anything; the crops are the evaluation crops, plus flips.
fn recipe(args: &QuickstartArgs, data: &Path, out: &Path, epochs: usize) -> Vec<String> {
    let mut flags: Vec<String> = [
        "--data-path",
        &data.display().to_string(),
        "--output-dir",
        &out.display().to_string(),
        "--epochs",
        &epochs.to_string(),
        "--batch-size",
        BATCH,
        "--lr",
        "5e-4",
        "--unscale-lr",
        "--warmup-epochs",
        "1",
        "--cooldown-epochs",
        "0",
        "--model-ema-decay",
        "0.998",
        "--input-size",
        &INPUT_SIZE.to_string(),
        "--mixup",
        "0",
        "--cutmix",
        "0",
        "--aa",
        "none",
        "--reprob",
        "0",
        "--no-random-resized-crop",
        "--seed",
        &args.seed.to_string(),
        "--backend",
        args.backend.backend.name(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Continue a run that an earlier quickstart left unfinished (same settings).
    if out.join("checkpoint/state.json").is_file() {
        flags.extend(["--resume".into(), out.display().to_string()]);
    }
    flags
}

fn parse<T: Args>(command: &str, flags: Vec<String>) -> Result<T> {
    #[derive(Parser)]
    struct Wrapper<T: Args> {
        #[command(flatten)]
        args: T,
    }
    Wrapper::<T>::try_parse_from(std::iter::once(command.to_string()).chain(flags))
        .map(|w| w.args)
        .with_context(|| format!("building the quickstart's {command} settings"))
}

/// The default place of the exported student.
fn default_out(dir: &Path) -> PathBuf {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/models");
    if models.is_dir() {
        models.join("quickstart-student.safetensors")
    } else {
        dir.join("quickstart-student.safetensors")
    }
}

/// What the quickstart produced.
pub struct Summary {
    pub teacher: Outcome,
    pub student: Outcome,
    pub exported: PathBuf,
    pub seconds: f64,
}

/// Runs the whole quickstart.
pub fn run(args: &QuickstartArgs) -> Result<Summary> {
    let started = Instant::now();
    let data = args.dir.join("data");
    println!("[1/4] synthetic dataset -> {}", data.display());
    let mut synth: Vec<String> = vec!["--out".into(), data.display().to_string()];
    synth.extend(SYNTH.iter().map(|s| s.to_string()));
    synth.extend(["--seed".into(), args.seed.to_string()]);
    crate::synth::run(&parse::<crate::synth::SynthArgs>("synth", synth)?)?;

    println!("[2/4] teacher {TEACHER_MODEL}");
    let teacher_dir = args.dir.join("teacher");
    let mut flags: Vec<String> = vec!["--model".into(), TEACHER_MODEL.into()];
    flags.extend(recipe(args, &data, &teacher_dir, args.teacher_epochs));
    let teacher = crate::train::commands::teacher(&parse::<TeacherArgs>("teacher", flags)?)?;

    println!(
        "[3/4] student {STUDENT_MODEL} at {INPUT_SIZE} px, distilled ({:?})",
        args.distillation_type
    );
    let student_dir = args.dir.join(format!(
        "student-{}",
        format!("{:?}", args.distillation_type).to_lowercase()
    ));
    let mut flags: Vec<String> = vec![
        "--model".into(),
        STUDENT_MODEL.into(),
        "--teacher-path".into(),
        teacher.best_model.display().to_string(),
        "--distillation-type".into(),
        format!("{:?}", args.distillation_type).to_lowercase(),
    ];
    if args.distillation_type == crate::distill::DistillationType::None {
        // The baseline: no distillation at all, the feature loss off too.
        flags.extend([
            "--distillation-beta".into(),
            "0".into(),
            "--s-id".into(),
            "--t-id".into(),
        ]);
    }
    flags.extend(recipe(args, &data, &student_dir, args.student_epochs));
    let student = crate::train::commands::distill(&parse::<DistillArgs>("distill", flags)?)?;

    let exported = args.out.clone().unwrap_or_else(|| default_out(&args.dir));
    println!("[4/4] int8 export -> {}", exported.display());
    if let Some(parent) = exported.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::export::export(&student.best_model, &exported, StorageDtype::Int8)?;
    Ok(Summary {
        teacher,
        student,
        exported,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The closing table.
pub fn print_summary(summary: &Summary) {
    println!();
    println!("quickstart finished in {:.1} min", summary.seconds / 60.0);
    for (name, outcome) in [("teacher", &summary.teacher), ("student", &summary.student)] {
        println!(
            "{name}: best epoch {} (dev ACER {:.2}%) -> {}",
            outcome.best.epoch,
            100.0 * outcome.best.dev_acer,
            outcome.best_model.display()
        );
    }
    if let Some(evaluation) = &summary.student.evaluation {
        println!("student on the identity-disjoint synthetic test split:");
        print!("{}", evaluation.report.table());
    }
    let size = std::fs::metadata(&summary.exported).map_or(0, |m| m.len());
    println!(
        "int8 student ({:.2} MB): {}",
        size as f64 / 1e6,
        summary.exported.display()
    );
    println!(
        "try it: cargo run -p trainer --release -- infer --model {} <photo.jpg>",
        summary.exported.display()
    );
}
