//! Training: `trainer teacher` (cross-entropy with the DeiT recipe) and `trainer distill`
//! (a student against a frozen teacher with the HaTFAS loss), sharing one loop: AdamW with
//! the linearly scaled lr, cosine schedule, global-norm clipping, model EMA, dev metrics
//! every epoch, the best model by dev ACER, resumable checkpoints, and a final
//! evaluation on the test split that calibrates the best model's threshold.

pub(crate) mod args;
pub(crate) mod checkpoint;
pub(crate) mod commands;
pub(crate) mod distill;
pub(crate) mod ema;
pub(crate) mod freeze;
pub(crate) mod loader;
pub(crate) mod objective;
pub(crate) mod optim;
pub(crate) mod parallel;
pub(crate) mod schedule;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, FloatDType};
use indicatif::{ProgressBar, ProgressStyle};
use model_format::vit::Vit;
use model_format::{Metadata, ModelFile, Preprocessing, StorageDtype, VitConfig};

pub use args::{DistillArgs, RecipeArgs, TeacherArgs};
use checkpoint::{EpochLog, TrainState};
use loader::Augmentation;
pub use objective::{LossValues, Objective};
use objective::{batch_tensors, loss, read_parts};
use parallel::Gradients;

use crate::backend::SelectedDevice;
use crate::data::cache::FrameCache;
use crate::data::{Frame, read_split};
use crate::eval::metrics::evaluate_level;
use crate::spec;

/// A training run: the network, where it starts, the objective and the recipe.
pub struct Run<'a> {
    pub config: VitConfig,
    pub init: Option<&'a Path>,
    /// Blocks frozen from the first (with the embeddings when > 0; see [`freeze`]).
    pub freeze_blocks: usize,
    pub objective: Objective,
    pub recipe: &'a RecipeArgs,
    /// What must not change between a run and its `--resume` (JSON of the settings).
    pub settings: serde_json::Value,
    /// Files the model derives from (init, teacher), for its provenance.
    pub sources: Vec<String>,
}

/// What a finished run leaves.
pub struct Outcome {
    pub best_model: PathBuf,
    pub best: EpochLog,
    /// The final dev/test evaluation of the best model, when the test split exists.
    pub evaluation: Option<crate::eval::Evaluation>,
}

/// Sums of the loss parts over an epoch's batches, for their means.
#[derive(Default)]
struct LossSums {
    total: f64,
    base: f64,
    logit: f64,
    feature: f64,
    batches: usize,
}

impl LossSums {
    fn add(&mut self, values: LossValues) {
        self.total += values.total as f64;
        self.base += values.base as f64;
        self.logit += values.logit as f64;
        self.feature += values.feature as f64;
        self.batches += 1;
    }

    fn mean_total(&self) -> f64 {
        self.total / self.batches.max(1) as f64
    }
}

/// What one epoch of training measured.
struct EpochStats {
    losses: LossSums,
    images_per_second: f64,
}

/// The training and dev data, decoded once into memory-mapped caches.
struct TrainingData {
    train_set: loader::TrainSet,
    dev_frames: Vec<Frame>,
    dev_cache: FrameCache,
}

impl TrainingData {
    fn load(recipe: &RecipeArgs) -> Result<TrainingData> {
        let train_frames = read_split(&recipe.data_path, &recipe.train_split)?;
        let dev_frames = read_split(&recipe.data_path, &recipe.dev_split)?;
        let train_set = loader::TrainSet::new(
            open_cache(recipe, &recipe.train_split, &train_frames)?,
            &train_frames.iter().map(|f| f.live).collect::<Vec<_>>(),
        );
        let dev_cache = open_cache(recipe, &recipe.dev_split, &dev_frames)?;
        for (split, set) in [
            (&recipe.train_split, &train_set.cache),
            (&recipe.dev_split, &dev_cache),
        ] {
            if set.unreadable > 0 {
                tracing::warn!("{split}: {} unreadable frame(s) skipped", set.unreadable);
            }
        }
        let live = train_set
            .readable
            .iter()
            .filter(|&&i| train_set.labels[i] == 1)
            .count();
        if live == 0 || live == train_set.readable.len() {
            bail!(
                "{}: the readable training frames must include both live and attack frames",
                recipe.train_split
            );
        }
        Ok(TrainingData {
            train_set,
            dev_frames,
            dev_cache,
        })
    }
}

/// What stays fixed through the epochs of a run.
struct Setting<'a> {
    run: &'a Run<'a>,
    recipe: &'a RecipeArgs,
    data: TrainingData,
    preprocessing: Preprocessing,
    augmentation: Augmentation,
    /// The global batch (all replicas' shares).
    batch_size: usize,
    replicas: usize,
    repeated_aug: bool,
    parallel: Option<parallel::DataParallel>,
    compute: FloatDType,
    /// The first replica's device, and its autodiff twin the model trains on.
    device: Device,
    autodiff: Device,
    total_epochs: usize,
    best_path: PathBuf,
    /// The model files' metadata (threshold and metrics are set per best epoch).
    metadata: Metadata,
}

/// The network being trained, with its optimiser, EMA and the run's progress.
struct Trainee {
    model: Vit,
    optimizer: ModuleOptimizer,
    ema: Option<Vit>,
    state: TrainState,
}

/// Runs `run` on `selected` to the end (or from its checkpoint with `--resume`).
pub fn train(run: Run, selected: &SelectedDevice) -> Result<Outcome> {
    let recipe = run.recipe;
    recipe.validate()?;
    let replicas = replica_devices(recipe, selected)?;
    recipe.precision.check(selected)?;
    let device = replicas[0].clone();
    let autodiff = device.clone().autodiff();
    device.seed(recipe.seed);
    autodiff.seed(recipe.seed);
    if let Some(workers) = recipe.num_workers {
        // Ignored when the pool already exists (a second run in one process).
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .build_global();
    }
    let output = &recipe.output_dir;
    std::fs::create_dir_all(output).with_context(|| format!("creating {}", output.display()))?;

    let data = TrainingData::load(recipe)?;
    // --batch-size is per device, as in the reference (one process per GPU, each with
    // --batch-size images; DeiT scales the lr by batch-size x world size): the global batch
    // is split into one share per replica.
    let batch_size = (recipe.batch_size * replicas.len()).min(data.train_set.readable.len());
    let mut trainee = Trainee::initialise_or_resume(&run, &autodiff)?;
    let repeated_aug = recipe.repeated_aug.enabled(replicas.len());
    if repeated_aug {
        println!(
            "repeated augmentation: each frame {}x per epoch, differently augmented",
            loader::REPEATS
        );
    }
    let compute = recipe.precision.compute_dtype();
    let parallel = (replicas.len() > 1).then(|| {
        println!(
            "data-parallel on {} devices: {} images per device per step",
            replicas.len(),
            batch_size.div_ceil(replicas.len())
        );
        parallel::DataParallel::new(
            &replicas,
            &run.objective,
            compute,
            recipe.clip_grad.is_some(),
        )
    });
    let mut metadata = Metadata::liveness(run.config.clone());
    metadata.provenance = crate::provenance::current(run.sources.clone());
    metadata.provenance.dataset = Some(crate::data::dataset_description(&recipe.data_path));
    let setting = Setting {
        run: &run,
        recipe,
        data,
        preprocessing: Preprocessing::imagenet(run.config.image_size),
        augmentation: recipe.augmentation(run.config.image_size)?,
        batch_size,
        replicas: replicas.len(),
        repeated_aug,
        parallel,
        compute,
        device,
        autodiff,
        total_epochs: recipe.epochs + recipe.cooldown_epochs,
        best_path: output.join("best.safetensors"),
        metadata,
    };
    let ended = setting.run_epochs(&mut trainee)?;
    setting.final_evaluation(&trainee.state, ended)
}

/// How the epochs ended.
#[derive(Clone, Copy, PartialEq)]
enum Ended {
    /// At the last epoch, or at --time-limit: the best model is evaluated.
    Finished,
    /// At --stop-after: the run is to be continued with --resume, nothing evaluated.
    StoppedAsAsked,
}

/// The devices of the data-parallel replicas (--devices, --distributed), else the selected
/// device alone.
fn replica_devices(recipe: &RecipeArgs, selected: &SelectedDevice) -> Result<Vec<Device>> {
    if recipe.distributed {
        let devices = crate::backend::all_devices(selected)?;
        if devices.len() == 1 {
            println!(
                "--distributed: {} has one device; training on it alone",
                selected.description
            );
        }
        Ok(devices)
    } else if recipe.devices.is_empty() {
        Ok(vec![selected.device.clone()])
    } else {
        crate::backend::replica_devices(selected, &recipe.devices)
    }
}

impl Trainee {
    /// The model, its optimiser and EMA: fresh (or from --init), or from the checkpoint
    /// of --resume; the first blocks frozen after loading (loaded parameters come back
    /// trainable).
    fn initialise_or_resume(run: &Run, autodiff: &Device) -> Result<Trainee> {
        let recipe = run.recipe;
        let mut trainee = match &recipe.resume {
            Some(resume) => Self::resume(run, resume, autodiff)?,
            None => {
                let mut model = Vit::new(&run.config, autodiff);
                if let Some(init) = run.init {
                    let file = ModelFile::read(init)?;
                    let (weights, notes) =
                        spec::init_weights(&run.config, model.to_weights(), &file)
                            .with_context(|| format!("--init {}", init.display()))?;
                    for note in notes {
                        println!("--init {}: {note}", init.display());
                    }
                    model.load_weights(&weights, autodiff);
                }
                Trainee {
                    optimizer: optim::adamw(recipe, &model),
                    ema: recipe.model_ema.then(|| model.valid()),
                    model,
                    state: TrainState {
                        epochs_done: 0,
                        step: 0,
                        best: None,
                        history: Vec::new(),
                        settings: run.settings.clone(),
                    },
                }
            }
        };
        if run.freeze_blocks > 0 {
            trainee.model = freeze::freeze_first_blocks(trainee.model, run.freeze_blocks);
            println!(
                "frozen: the patch and position embeddings, the class token and blocks 0-{} \
                 ({} of {} parameters train)",
                run.freeze_blocks - 1,
                freeze::trainable_parameters(&trainee.model),
                run.config.num_params()
            );
        }
        Ok(trainee)
    }

    fn resume(run: &Run, resume: &Path, autodiff: &Device) -> Result<Trainee> {
        let dir = checkpoint::find(resume)?;
        let state = checkpoint::read_state(&dir)?;
        if state.settings != run.settings {
            bail!(
                "--resume {}: the checkpoint was made with other settings; resume with the same \
                 command (its settings: {})",
                resume.display(),
                state.settings
            );
        }
        let model = checkpoint::load_module(
            Vit::new(&run.config, autodiff),
            &dir.join(checkpoint::MODEL),
        )?;
        let optimizer = checkpoint::load_optimizer(
            optim::adamw(run.recipe, &model),
            &dir.join(checkpoint::OPTIMIZER),
        )?;
        let ema = if run.recipe.model_ema {
            Some(checkpoint::load_module(
                model.valid(),
                &dir.join(checkpoint::EMA),
            )?)
        } else {
            None
        };
        println!(
            "resuming {} after epoch {} (step {})",
            dir.display(),
            state.epochs_done,
            state.step
        );
        Ok(Trainee {
            model,
            optimizer,
            ema,
            state,
        })
    }

    /// One optimiser step on `batch`; returns its loss parts.
    fn step(&mut self, setting: &Setting, batch: loader::Batch, lr: f64) -> Result<LossValues> {
        let size = setting.preprocessing.input_size;
        let (values, grads) = match &setting.parallel {
            Some(parallel) => parallel.step(&self.model, &batch, size)?,
            None => {
                let (inputs, targets) =
                    batch_tensors(batch.images, batch.targets, size, &setting.autodiff);
                let parts = loss(
                    &self.model,
                    &setting.run.objective,
                    inputs,
                    targets,
                    setting.compute,
                );
                let values = read_parts(&parts, 1.0)?;
                let grads = GradientsParams::from_grads(parts.total.backward(), &self.model);
                (values, Gradients::Single(grads))
            }
        };
        if !values.is_finite() {
            bail!(
                "the loss became non-finite at epoch {} step {} (total {}, base {}, logit {}, \
                 feature {}); the last good checkpoint is in {} (epoch {}). Try a lower --lr or \
                 --clip-grad.",
                self.state.epochs_done + 1,
                self.state.step,
                values.total,
                values.base,
                values.logit,
                values.feature,
                setting.recipe.output_dir.join("checkpoint").display(),
                self.state.epochs_done
            );
        }
        let model = self.model.clone();
        self.model = match grads {
            Gradients::Single(mut grads) => {
                if let Some(max_norm) = setting.recipe.clip_grad {
                    grads = optim::clip_global_norm(grads, &model, max_norm);
                }
                self.optimizer.step(lr, model, grads)
            }
            Gradients::Sharded(grads) => self.optimizer.step_multi(lr, model, grads),
        };
        if let Some(average) = self.ema.take() {
            self.ema = Some(ema::update(
                average,
                &self.model,
                setting.recipe.model_ema_decay,
                self.state.step,
                &setting.device,
            ));
        }
        self.state.step += 1;
        Ok(values)
    }

    /// The model that would be exported (the EMA when on), off the autodiff device.
    fn evaluated(&self, device: &Device) -> Vit {
        self.ema
            .clone()
            .unwrap_or_else(|| self.model.valid().to_device(device))
    }
}

impl Setting<'_> {
    /// The epochs from the first not yet done to the last (or to --stop-after or
    /// --time-limit): train, score dev, keep the best, checkpoint.
    fn run_epochs(&self, trainee: &mut Trainee) -> Result<Ended> {
        let (recipe, output) = (self.recipe, &self.recipe.output_dir);
        let schedule = recipe.schedule(self.batch_size);
        let first_epoch = trainee.state.epochs_done;
        let run_started = Instant::now();
        for epoch in first_epoch..self.total_epochs {
            if recipe.stop_after.is_some_and(|n| epoch - first_epoch >= n) {
                println!(
                    "stopping after {} epoch(s) as asked; continue with --resume {}",
                    epoch - first_epoch,
                    output.display()
                );
                return Ok(Ended::StoppedAsAsked);
            }
            let lr = schedule.lr(epoch);
            let stats = self.train_epoch(trainee, epoch, lr)?;
            let log = self.evaluate_and_keep_best(trainee, epoch, lr, &stats)?;
            print_epoch(&log, self.total_epochs);
            trainee.state.history.push(log);
            trainee.state.epochs_done = epoch + 1;
            checkpoint::save(
                output,
                &trainee.model,
                &trainee.optimizer,
                trainee.ema.as_ref(),
                &trainee.state,
            )?;
            write_log(output, &trainee.state.history)?;
            if let Some(minutes) = recipe.time_limit
                && run_started.elapsed().as_secs_f64() >= 60.0 * minutes
                && epoch + 1 < self.total_epochs
            {
                println!(
                    "--time-limit {minutes} min reached after epoch {}: ending training here",
                    epoch + 1
                );
                break;
            }
        }
        Ok(Ended::Finished)
    }

    /// One pass over the training set, batches prepared on worker threads.
    fn train_epoch(&self, trainee: &mut Trainee, epoch: usize, lr: f64) -> Result<EpochStats> {
        let batches = self.data.train_set.batches(self.batch_size);
        let bar = ProgressBar::new(batches as u64).with_style(
            ProgressStyle::with_template(&format!(
                "epoch {}/{} {{bar:30}} {{pos}}/{{len}} batches {{msg}} ETA {{eta}}",
                epoch + 1,
                self.total_epochs
            ))
            .expect("valid template"),
        );
        let started = Instant::now();
        let mut losses = LossSums::default();
        let mut images = 0usize;
        std::thread::scope(|scope| -> Result<()> {
            let receiver = loader::epoch_batches(
                scope,
                loader::EpochPlan {
                    set: &self.data.train_set,
                    augmentation: &self.augmentation,
                    preprocessing: &self.preprocessing,
                    batch_size: self.batch_size,
                    seed: self.recipe.seed,
                    epoch,
                    prefetch: self.recipe.prefetch,
                    replicas: self.replicas,
                    repeated_aug: self.repeated_aug,
                },
            );
            for batch in receiver {
                images += batch.len;
                losses.add(trainee.step(self, batch, lr)?);
                bar.set_message(format!(
                    "loss {:.4} {:.1} img/s",
                    losses.mean_total(),
                    images as f64 / started.elapsed().as_secs_f64()
                ));
                bar.inc(1);
            }
            Ok(())
        })?;
        bar.finish_and_clear();
        Ok(EpochStats {
            losses,
            images_per_second: images as f64 / started.elapsed().as_secs_f64(),
        })
    }

    /// Dev metrics of the model that would be exported; writes it to `best.safetensors`
    /// when it is the best so far (by dev ACER, then EER, then AUC).
    fn evaluate_and_keep_best(
        &self,
        trainee: &mut Trainee,
        epoch: usize,
        lr: f64,
        stats: &EpochStats,
    ) -> Result<EpochLog> {
        let evaluated = trainee.evaluated(&self.device);
        // Only the cache goes into the scoring threads (the setting holds the replicas'
        // channels, which are not shared across threads).
        let dev_cache = &self.data.dev_cache;
        let dev = crate::eval::score_frames(
            (&evaluated, &self.preprocessing),
            &self.recipe.dev_split,
            &self.data.dev_frames,
            |i| dev_cache.image(i),
            self.recipe.eval_batch_size,
            &self.device,
            |_| {},
        )?;
        let level = evaluate_level(&dev.scores, &dev.scores)?;
        let losses = &stats.losses;
        let batches = losses.batches.max(1) as f64;
        let mut log = EpochLog {
            epoch: epoch + 1,
            lr,
            loss: losses.total / batches,
            base_loss: losses.base / batches,
            logit_loss: losses.logit / batches,
            feature_loss: losses.feature / batches,
            images_per_second: stats.images_per_second,
            dev_acer: level.test.acer,
            dev_eer: level.dev_eer,
            dev_auc: level.dev_auc,
            dev_threshold: level.threshold,
            best: false,
        };
        log.best = trainee.state.best.as_ref().is_none_or(|best| {
            (log.dev_acer, log.dev_eer, -log.dev_auc)
                <= (best.dev_acer, best.dev_eer, -best.dev_auc)
        });
        if log.best {
            let mut metadata = self.metadata.clone();
            metadata.threshold = log.dev_threshold as f32;
            metadata.provenance.metrics = Some(serde_json::json!({
                "epoch": log.epoch,
                "dev": {"acer": log.dev_acer, "eer": log.dev_eer, "auc": log.dev_auc,
                        "threshold": log.dev_threshold},
            }));
            ModelFile {
                metadata,
                weights: evaluated.to_weights(),
            }
            .write(&self.best_path, StorageDtype::F32)?;
            trainee.state.best = Some(log.clone());
        }
        Ok(log)
    }

    /// The best model on dev and test, its threshold calibrated (when the test split
    /// exists).
    fn final_evaluation(&self, state: &TrainState, ended: Ended) -> Result<Outcome> {
        let recipe = self.recipe;
        let best = state
            .best
            .clone()
            .context("no epoch was run (is --epochs 0?)")?;
        let test_dir = recipe.data_path.join(&recipe.test_split);
        let evaluation = if ended == Ended::StoppedAsAsked {
            None
        } else if test_dir.is_dir() {
            let job = crate::eval::EvalJob {
                model: &self.best_path,
                data_path: &recipe.data_path,
                dev_split: &recipe.dev_split,
                test_split: &recipe.test_split,
                out_dir: recipe.output_dir.join("eval"),
                batch: recipe.eval_batch_size,
                calibrate: true,
                threshold_group: None,
            };
            Some(crate::eval::evaluate_model(&job, &self.device)?)
        } else {
            println!(
                "{} is missing: skipping the final test evaluation",
                test_dir.display()
            );
            None
        };
        Ok(Outcome {
            best_model: self.best_path.clone(),
            best,
            evaluation,
        })
    }
}

/// The epoch's line in the log.
fn print_epoch(log: &EpochLog, total_epochs: usize) {
    println!(
        "epoch {:>3}/{total_epochs}  lr {:.2e}  loss {:.4} (base {:.4}, logit {:.4}, feature {:.4})  \
         {:.1} img/s  dev ACER {:.2}% EER {:.2}% AUC {:.4}{}",
        log.epoch,
        log.lr,
        log.loss,
        log.base_loss,
        log.logit_loss,
        log.feature_loss,
        log.images_per_second,
        100.0 * log.dev_acer,
        100.0 * log.dev_eer,
        log.dev_auc,
        if log.best { "  *best" } else { "" }
    );
}

/// The cache of `split`, in `--cache-dir` or beside the data (in the output directory
/// when the data's folder is read-only).
fn open_cache(recipe: &RecipeArgs, split: &str, frames: &[Frame]) -> Result<FrameCache> {
    let dir = match &recipe.cache_dir {
        Some(dir) => dir.clone(),
        None => {
            let beside = recipe.data_path.join(".hatfas-cache");
            if std::fs::create_dir_all(&beside).is_ok() {
                beside
            } else {
                recipe.output_dir.join("cache")
            }
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let bar = ProgressBar::new(frames.len() as u64).with_style(
        ProgressStyle::with_template(&format!(
            "decoding {split} {{bar:30}} {{pos}}/{{len}} frames {{per_sec}} ETA {{eta}}"
        ))
        .expect("valid template"),
    );
    bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    let cache = FrameCache::open_or_build(&dir, split, frames, || {
        if bar.is_hidden() {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        bar.inc(1)
    })?;
    bar.finish_and_clear();
    Ok(cache)
}

/// `log.jsonl`: one line per epoch.
fn write_log(output: &Path, history: &[EpochLog]) -> Result<()> {
    let mut text = String::new();
    for log in history {
        text.push_str(&serde_json::to_string(log)?);
        text.push('\n');
    }
    let tmp = output.join("log.jsonl.partial");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, output.join("log.jsonl"))?;
    Ok(())
}

/// Loads a frozen teacher from its model file onto the (non-autodiff) `device`.
pub fn load_teacher(
    path: &Path,
    expected: Option<&str>,
    device: &Device,
) -> Result<(Vit, VitConfig)> {
    let file = ModelFile::read(path)?;
    let (config, _) = file
        .metadata
        .classifier()
        .with_context(|| format!("--teacher-path {}", path.display()))?;
    if let Some(name) = expected
        && name != config.name
    {
        bail!(
            "--teacher-model {name}, but {} holds a {}",
            path.display(),
            config.name
        );
    }
    let vit = Vit::from_weights(config, &file.weights, device);
    Ok((vit, config.clone()))
}
