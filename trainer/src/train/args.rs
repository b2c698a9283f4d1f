//! Command-line settings of `trainer teacher` and `trainer distill`, named like the
//! reference's (DeiT's `main.py`) flags so that its commands carry over.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use super::loader::Augmentation;
use super::schedule::{CosineSchedule, scaled_lr};
use crate::backend::BackendArgs;
use crate::backend::Precision;
use crate::data::augment::{Mixup, RandomResizedCrop};
use crate::data::randaugment::RandAugment;
use crate::train::distill::{DistillationType, FeatureTokens};

/// When DeiT's repeated-augmentation sampler is used (`--repeated-aug`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepeatedAug {
    /// With several --devices, as DeiT in distributed mode.
    Auto,
    /// Also on one device (an image's copies then share a batch).
    On,
    /// Never: every frame once per epoch.
    Off,
}

impl RepeatedAug {
    fn is_auto(&self) -> bool {
        *self == RepeatedAug::Auto
    }

    pub fn enabled(self, replicas: usize) -> bool {
        match self {
            RepeatedAug::Auto => replicas > 1,
            RepeatedAug::On => true,
            RepeatedAug::Off => false,
        }
    }
}

/// The reference's `--data-set` values (its `datasets.py`): which split validates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DataSet {
    /// Validate on the val split.
    #[value(name = "FACE")]
    Face,
    /// Validate on the test split.
    #[value(name = "FACE_TEST")]
    FaceTest,
}

/// The data, the DeiT recipe and the run's bookkeeping, shared by both commands.
#[derive(Args, Debug, Clone, Serialize)]
pub struct RecipeArgs {
    /// Prepared dataset: <root>/{train,val,test}/{true,attack}/<video>/<frame> (see `prepare`).
    #[arg(long, value_name = "DIR")]
    pub data_path: PathBuf,
    /// Where checkpoints, log.jsonl, best.safetensors and the final evaluation go (also
    /// spelt --output_dir, as in the reference).
    #[arg(long, alias = "output_dir", value_name = "DIR")]
    #[serde(skip)]
    pub output_dir: PathBuf,
    /// Continue the run whose --output-dir (or checkpoint folder) this is, exactly where its
    /// last complete epoch ended (weights, optimiser, schedule, EMA, random state).
    #[arg(long, value_name = "DIR")]
    #[serde(skip)]
    pub resume: Option<PathBuf>,
    #[arg(long, default_value = "train", value_name = "NAME")]
    pub train_split: String,
    /// Split for the per-epoch dev metrics and the threshold.
    #[arg(
        long,
        default_value = "val",
        default_value_if("data_set", "FACE_TEST", "test"),
        conflicts_with = "data_set",
        value_name = "NAME"
    )]
    pub dev_split: String,
    /// The reference's dataset switch, for its commands: FACE validates every epoch on
    /// the val split (the default), FACE_TEST on the test split (where the reference
    /// evaluates; choosing the best epoch there biases the test figures). Same as
    /// --dev-split val / test.
    #[arg(long, value_enum, value_name = "SET")]
    #[serde(skip)]
    pub data_set: Option<DataSet>,
    /// Split for the final evaluation of the best model (skipped when absent).
    #[arg(long, default_value = "test", value_name = "NAME")]
    pub test_split: String,
    /// Images per optimiser step on each device, as in the reference: with several devices
    /// the global batch (which scales the lr) is this times their number.
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    /// Epochs of the cosine schedule.
    #[arg(long, default_value_t = 300)]
    pub epochs: usize,
    /// Base learning rate, scaled by batch-size / 512 (DeiT) unless --unscale-lr.
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f64,
    /// Use --lr as given.
    #[arg(long)]
    pub unscale_lr: bool,
    /// Floor of the cosine schedule.
    #[arg(long, default_value_t = 1e-5)]
    pub min_lr: f64,
    /// Learning rate at the start of the warm-up.
    #[arg(long, default_value_t = 1e-6)]
    pub warmup_lr: f64,
    #[arg(long, default_value_t = 5)]
    pub warmup_epochs: usize,
    /// Extra epochs at --min-lr after the cosine (timm's cool-down).
    #[arg(long, default_value_t = 10)]
    pub cooldown_epochs: usize,
    #[arg(long, default_value_t = 0.05)]
    pub weight_decay: f64,
    /// AdamW epsilon.
    #[arg(long, default_value_t = 1e-8)]
    pub opt_eps: f64,
    /// Clip the global gradient norm to this value (off by default, as in DeiT).
    #[arg(long, value_name = "NORM")]
    pub clip_grad: Option<f64>,
    /// Label smoothing.
    #[arg(long, default_value_t = 0.1)]
    pub smoothing: f64,
    /// Mixup alpha (0 turns mixup off).
    #[arg(long, default_value_t = 0.8)]
    pub mixup: f64,
    /// Cutmix alpha (0 turns cutmix off).
    #[arg(long, default_value_t = 1.0)]
    pub cutmix: f64,
    /// Probability of cutmix rather than mixup when both are on.
    #[arg(long, default_value_t = 0.5)]
    pub mixup_switch_prob: f64,
    /// RandAugment policy (timm syntax), or `none`.
    #[arg(long, default_value = crate::data::randaugment::DEIT_SPEC, value_name = "POLICY")]
    pub aa: String,
    /// Random erasing probability (per-pixel noise).
    #[arg(long, default_value_t = 0.25)]
    pub reprob: f64,
    /// Horizontal flip probability.
    #[arg(long, default_value_t = 0.5)]
    pub hflip: f64,
    /// DeiT's repeated-augmentation sampler: each frame thrice per epoch, differently
    /// augmented, its copies dealt to neighbouring replicas in the same step. `auto`: on
    /// in data-parallel runs (several --devices), as DeiT uses it in distributed mode.
    #[arg(long, value_enum, default_value_t = RepeatedAug::Auto, value_name = "WHEN")]
    // Left out of the settings at its default, so that checkpoints written before the
    // flag existed still resume.
    #[serde(skip_serializing_if = "RepeatedAug::is_auto")]
    pub repeated_aug: RepeatedAug,
    /// Take the evaluation crop (shorter side to size / 0.875, centre) instead of the random
    /// resized crop.
    #[arg(long)]
    pub no_random_resized_crop: bool,
    /// Keep an exponential moving average of the weights, evaluated and exported instead of
    /// the raw weights.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub model_ema: bool,
    #[arg(long, default_value_t = 0.99996)]
    pub model_ema_decay: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Precision of the matrix products (student and teacher forward and backward); the
    /// weights, the optimiser and the evaluation stay f32.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    pub precision: Precision,
    /// Model input size (default: the preset's); with --init the position embedding is
    /// interpolated.
    #[arg(long, value_name = "PIXELS")]
    pub input_size: Option<usize>,
    /// Frames per forward pass when scoring the dev split.
    #[arg(long, default_value_t = 64)]
    #[serde(skip)]
    pub eval_batch_size: usize,
    /// Where decoded frames are cached (default: <data-path>/.hatfas-cache).
    #[arg(long, value_name = "DIR")]
    #[serde(skip)]
    pub cache_dir: Option<PathBuf>,
    /// Threads preparing batches (default: all cores).
    #[arg(long, alias = "num_workers")]
    #[serde(skip)]
    pub num_workers: Option<usize>,
    /// Stop after this many epochs of this invocation, leaving a checkpoint for --resume
    /// (for job slots shorter than the run).
    #[arg(long, value_name = "EPOCHS")]
    #[serde(skip)]
    pub stop_after: Option<usize>,
    /// End training after the epoch during which this many minutes (of this invocation)
    /// have passed; the schedule is not shortened. The best model is evaluated as usual.
    #[arg(long, value_name = "MINUTES")]
    #[serde(skip)]
    pub time_limit: Option<f64>,
    /// Batches prepared ahead of the device.
    #[arg(long, default_value_t = 2)]
    #[serde(skip)]
    pub prefetch: usize,
    #[command(flatten)]
    #[serde(skip)]
    pub backend: BackendArgs,
    /// Data-parallel training on these devices of the backend (CUDA indices, e.g.
    /// `0,1,2,3`; the CPU backend has device 0): every step splits the batch across them
    /// and sums their gradients, through burn-train's multi-device workers (sharded
    /// optimiser update; on the main device with --clip-grad). Each device takes
    /// --batch-size images per step. An index may repeat (several replicas on one device).
    #[arg(long, value_delimiter = ',', value_name = "INDICES")]
    #[serde(skip)]
    pub devices: Vec<usize>,
    /// Data-parallel on every device of the backend (all CUDA devices; elsewhere the one
    /// device): the reference's flag, which there means one process per GPU.
    #[arg(long, conflicts_with = "devices")]
    #[serde(skip)]
    pub distributed: bool,
}

impl RecipeArgs {
    pub fn validate(&self) -> Result<()> {
        let probability = |name: &str, p: f64| -> Result<()> {
            if !(0.0..=1.0).contains(&p) {
                bail!("--{name} must be in [0, 1], got {p}");
            }
            Ok(())
        };
        probability("reprob", self.reprob)?;
        probability("hflip", self.hflip)?;
        probability("mixup-switch-prob", self.mixup_switch_prob)?;
        probability("smoothing", self.smoothing)?;
        probability("model-ema-decay", self.model_ema_decay)?;
        if self.batch_size == 0 || self.epochs == 0 || self.eval_batch_size == 0 {
            bail!("--batch-size, --epochs and --eval-batch-size must be positive");
        }
        if !(self.lr > 0.0 && self.min_lr >= 0.0 && self.warmup_lr >= 0.0) {
            bail!("--lr must be positive and --min-lr, --warmup-lr non-negative");
        }
        if self.mixup < 0.0 || self.cutmix < 0.0 || self.weight_decay < 0.0 {
            bail!("--mixup, --cutmix and --weight-decay must be non-negative");
        }
        if self.clip_grad.is_some_and(|c| c <= 0.0) {
            bail!("--clip-grad must be positive");
        }
        Ok(())
    }

    /// The augmentation for `image_size` inputs.
    pub fn augmentation(&self, image_size: usize) -> Result<Augmentation> {
        let rand_augment = match self.aa.as_str() {
            "none" | "" => None,
            spec => Some(
                RandAugment::parse(spec, image_size as u32)
                    .with_context(|| format!("--aa {spec}"))?,
            ),
        };
        Ok(Augmentation {
            random_resized_crop: (!self.no_random_resized_crop)
                .then(|| RandomResizedCrop::new(image_size as u32)),
            hflip: self.hflip,
            rand_augment,
            reprob: self.reprob,
            mixup: Mixup {
                mixup_alpha: self.mixup,
                cutmix_alpha: self.cutmix,
                switch_prob: self.mixup_switch_prob,
                label_smoothing: self.smoothing,
                num_classes: crate::spec::NUM_CLASSES,
            },
            mix: self.mixup > 0.0 || self.cutmix > 0.0,
        })
    }

    /// The learning-rate schedule for `batch_size` images per step.
    pub fn schedule(&self, batch_size: usize) -> CosineSchedule {
        CosineSchedule {
            peak_lr: if self.unscale_lr {
                self.lr
            } else {
                scaled_lr(self.lr, batch_size)
            },
            warmup_lr: self.warmup_lr,
            min_lr: self.min_lr,
            warmup_epochs: self.warmup_epochs,
            epochs: self.epochs,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct TeacherArgs {
    /// Network: a preset (deit_tiny/small/base_patch16_224, dinov2_vits14) or
    /// custom:img=N,patch=N,dim=N,depth=N,heads=N[,mlp=N][,ls=1]. Default: the --init
    /// file's architecture, else deit_base_patch16_224.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Start from this model file (e.g. DeiT ImageNet weights or DINOv2 from `trainer
    /// import`); the head is re-initialised when its class count differs.
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,
    /// Fine-tune with the first N blocks frozen (no gradient, no update, no weight decay);
    /// with N > 0 the patch embedding, class token and position embedding are frozen too.
    /// 0 trains everything.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub freeze_blocks: usize,
    #[command(flatten)]
    pub recipe: RecipeArgs,
}

#[derive(Args, Debug, Clone)]
pub struct DistillArgs {
    /// Student network: a preset or custom:... (see `teacher --help`).
    #[arg(long, default_value = "deit_tiny_patch16_224", value_name = "NAME")]
    pub model: String,
    /// Start the student from this model file.
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,
    /// The trained teacher's model file (frozen).
    #[arg(long, value_name = "FILE")]
    pub teacher_path: PathBuf,
    /// Expected architecture of the teacher file (checked when given).
    #[arg(long, value_name = "NAME")]
    pub teacher_model: Option<String>,
    /// Logit distillation: soft (KL at temperature tau), hard (teacher's argmax) or none.
    #[arg(long, value_enum, default_value_t = DistillationType::Soft)]
    pub distillation_type: DistillationType,
    /// Weight of the logit distillation against the base loss.
    #[arg(long, default_value_t = 0.7)]
    pub distillation_alpha: f64,
    /// Weight of the head-aware feature loss.
    #[arg(long, default_value_t = 1.0)]
    pub distillation_beta: f64,
    /// Temperature of soft distillation.
    #[arg(long, default_value_t = 3.0)]
    pub distillation_tau: f64,
    /// Student blocks (0-based) whose attention class tokens are distilled.
    #[arg(long, num_args = 0.., default_values_t = [4usize, 6, 8], value_name = "N")]
    pub s_id: Vec<usize>,
    /// Teacher blocks paired with --s-id.
    #[arg(long, num_args = 0.., default_values_t = [4usize, 6, 8], value_name = "N")]
    pub t_id: Vec<usize>,
    /// What the distilled class tokens are computed from. block-input: block i's attention
    /// on block i's input (docs/METHOD.md). embeddings (alias reference): every block's
    /// attention on the embeddings, which is what the HaTFAS reference code computes (its
    /// customized_forward.py never updates x in its loop over the blocks); use it to
    /// reproduce the published figures' training.
    #[arg(long, value_enum, default_value_t = FeatureTokens::BlockInput, value_name = "FROM")]
    pub feature_tokens: FeatureTokens,
    #[command(flatten)]
    pub recipe: RecipeArgs,
}

impl DistillArgs {
    /// The loss settings these flags give.
    pub fn loss_config(&self) -> crate::train::distill::HatfasLossConfig {
        crate::train::distill::HatfasLossConfig {
            kind: self.distillation_type,
            alpha: self.distillation_alpha,
            beta: self.distillation_beta,
            tau: self.distillation_tau,
            s_ids: self.s_id.clone(),
            t_ids: self.t_id.clone(),
            tokens: self.feature_tokens.input(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    /// The distillation command of the HaTFAS reference's README, word for word after
    /// `python main.py`.
    const REFERENCE_COMMAND: &str = "--batch-size 128 --epochs 300 --distributed \
        --output_dir runs/student --data-path data/face --data-set FACE \
        --teacher-path teacher.safetensors --model deit_tiny_patch16_224 \
        --teacher-model deit_base_patch16_224 --distillation-type soft \
        --distillation-alpha 0.7 --distillation-beta 1 --distillation-tau 3 \
        --s-id 4 6 8 --t-id 4 6 8";

    fn distill(args: &str) -> Result<super::DistillArgs, clap::Error> {
        let argv = ["trainer", "distill"]
            .into_iter()
            .chain(args.split_whitespace());
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Distill(args)) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_reference_readme_command_carries_over() {
        let args = distill(REFERENCE_COMMAND).unwrap();
        let recipe = &args.recipe;
        assert_eq!(recipe.batch_size, 128);
        assert_eq!(recipe.epochs, 300);
        assert!(recipe.distributed);
        assert_eq!(recipe.output_dir, std::path::Path::new("runs/student"));
        assert_eq!(recipe.dev_split, "val");
        assert_eq!(args.teacher_model.as_deref(), Some("deit_base_patch16_224"));
        assert_eq!(
            (
                args.distillation_alpha,
                args.distillation_beta,
                args.distillation_tau
            ),
            (0.7, 1.0, 3.0)
        );
        assert_eq!(
            (args.s_id.clone(), args.t_id.clone()),
            (vec![4, 6, 8], vec![4, 6, 8])
        );
        // The paper's settings are also the loss's own defaults, so flags and library agree.
        assert_eq!(
            args.loss_config(),
            crate::train::distill::HatfasLossConfig::new()
        );
        let defaults = distill("--teacher-path t.safetensors --data-path d --output-dir o");
        assert_eq!(
            defaults.unwrap().loss_config(),
            crate::train::distill::HatfasLossConfig::new()
        );
        let changed =
            distill("--teacher-path t --data-path d --output-dir o --distillation-tau 2 --s-id 3");
        let changed = changed.unwrap().loss_config();
        assert_eq!((changed.tau, changed.s_ids), (2.0, vec![3]));
    }

    #[test]
    fn data_set_picks_the_validation_split_like_the_reference() {
        let base = "--teacher-path t.safetensors --data-path d --output-dir o";
        let split = |extra: &str| distill(&format!("{base} {extra}")).map(|a| a.recipe.dev_split);
        assert_eq!(split("").unwrap(), "val");
        assert_eq!(split("--data-set FACE").unwrap(), "val");
        assert_eq!(split("--data-set FACE_TEST").unwrap(), "test");
        assert_eq!(split("--dev-split holdout").unwrap(), "holdout");
        // Two ways of saying the split, or an unknown set: refused, not silently resolved.
        assert!(split("--data-set FACE_TEST --dev-split val").is_err());
        assert!(split("--data-set IMNET").is_err());
        assert!(split("--distributed --devices 0,1").is_err());
    }
}
