//! Training: `trainer teacher` (cross-entropy with the DeiT recipe) and `trainer distill`
//! (a student against a frozen teacher with the HaTFAS loss), sharing one loop: AdamW with
//! the linearly scaled lr, cosine schedule, global-norm clipping, model EMA, dev metrics
//! every epoch, the best model by dev ACER, resumable checkpoints, and a final
//! evaluation on the test split that calibrates the best model's threshold.

pub mod args;
pub mod checkpoint;
pub mod commands;
pub mod ema;
pub mod freeze;
pub mod loader;
pub mod optim;
pub mod parallel;
pub mod schedule;
pub mod spec;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use model_format::vit::Vit;
use model_format::{Metadata, ModelFile, Preprocessing, StorageDtype, VitConfig};

pub use args::{DistillArgs, RecipeArgs, TeacherArgs};
use checkpoint::{EpochLog, TrainState};
use parallel::Gradients;

use crate::backend::SelectedDevice;
use crate::cache::FrameCache;
use crate::data::{Frame, read_split};
use crate::distill::HatfasLoss;
use crate::metrics::evaluate_level;

/// What the network learns from.
pub enum Objective {
    /// Labels only (the teacher's training).
    Labels,
    /// Labels and a frozen teacher (on the non-autodiff device).
    Distill { teacher: Box<Vit>, loss: HatfasLoss },
}

impl Objective {
    /// A copy whose teacher lives on `device` (one per replica in data-parallel training).
    fn on_device(&self, device: &Device) -> Objective {
        match self {
            Objective::Labels => Objective::Labels,
            Objective::Distill { teacher, loss } => Objective::Distill {
                teacher: Box::new(teacher.as_ref().clone().to_device(device)),
                loss: loss.clone(),
            },
        }
    }

    fn needs_teacher(&self) -> bool {
        matches!(self, Objective::Distill { loss, .. }
            if loss.config().kind != crate::distill::DistillationType::None
                || !loss.config().s_ids.is_empty())
    }
}

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

/// Mean of the loss parts over an epoch.
#[derive(Default)]
struct LossSums {
    total: f64,
    base: f64,
    logit: f64,
    feature: f64,
    batches: usize,
}

/// Runs `run` on `selected` to the end (or from its checkpoint with `--resume`).
pub fn train(run: Run, selected: &SelectedDevice) -> Result<Outcome> {
    let recipe = run.recipe;
    recipe.validate()?;
    // Data-parallel replicas (--devices, --distributed), else the selected device alone.
    let replicas = if recipe.distributed {
        let devices = crate::backend::all_devices(selected)?;
        if devices.len() == 1 {
            println!(
                "--distributed: {} has one device; training on it alone",
                selected.description
            );
        }
        devices
    } else if recipe.devices.is_empty() {
        vec![selected.device.clone()]
    } else {
        crate::backend::replica_devices(selected, &recipe.devices)?
    };
    recipe.precision.check(selected)?;
    let compute = recipe.precision.compute_dtype();
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

    // Data: decoded once into memory-mapped caches.
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

    let preprocessing = Preprocessing::imagenet(run.config.image_size);
    let augmentation = recipe.augmentation(run.config.image_size)?;
    // --batch-size is per device, as in the reference (one process per GPU, each with
    // --batch-size images; DeiT scales the lr by batch-size x world size): the global batch
    // is split into one share per replica.
    let batch_size = (recipe.batch_size * replicas.len()).min(train_set.readable.len());
    let schedule = recipe.schedule(batch_size);
    let total_epochs = recipe.epochs + recipe.cooldown_epochs;

    // The model, its optimiser and EMA: fresh (or from --init), or from a checkpoint.
    let mut model = Vit::new(&run.config, &autodiff);
    let mut state = TrainState {
        epochs_done: 0,
        step: 0,
        best: None,
        history: Vec::new(),
        settings: run.settings.clone(),
    };
    let (mut optimizer, mut ema) = if let Some(resume) = &recipe.resume {
        let dir = checkpoint::find(resume)?;
        state = checkpoint::read_state(&dir)?;
        if state.settings != run.settings {
            bail!(
                "--resume {}: the checkpoint was made with other settings; resume with the same \
                 command (its settings: {})",
                resume.display(),
                state.settings
            );
        }
        model = checkpoint::load_module(model, &dir.join(checkpoint::MODEL))?;
        let optimizer = checkpoint::load_optimizer(
            optim::adamw(recipe, &model),
            &dir.join(checkpoint::OPTIMIZER),
        )?;
        let ema = if recipe.model_ema {
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
        (optimizer, ema)
    } else {
        if let Some(init) = run.init {
            let file = ModelFile::read(init)?;
            let (weights, notes) = spec::init_weights(&run.config, model.to_weights(), &file)
                .with_context(|| format!("--init {}", init.display()))?;
            for note in notes {
                println!("--init {}: {note}", init.display());
            }
            model.load_weights(&weights, &autodiff);
        }
        let optimizer = optim::adamw(recipe, &model);
        let ema = recipe.model_ema.then(|| model.valid());
        (optimizer, ema)
    };

    // After loading: loaded parameters come back trainable.
    if run.freeze_blocks > 0 {
        model = freeze::freeze_first_blocks(model, run.freeze_blocks);
        println!(
            "frozen: the patch and position embeddings, the class token and blocks 0-{} \
             ({} of {} parameters train)",
            run.freeze_blocks - 1,
            freeze::trainable_parameters(&model),
            run.config.num_params()
        );
    }

    let repeated_aug = recipe.repeated_aug.enabled(replicas.len());
    if repeated_aug {
        println!(
            "repeated augmentation: each frame {}x per epoch, differently augmented",
            loader::REPEATS
        );
    }
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

    let best_path = output.join("best.safetensors");
    let mut metadata = Metadata::liveness(run.config.clone());
    metadata.provenance = crate::provenance::current(run.sources.clone());
    metadata.provenance.dataset = Some(crate::data::dataset_description(&recipe.data_path));

    let first_epoch = state.epochs_done;
    let run_started = Instant::now();
    for epoch in first_epoch..total_epochs {
        if recipe.stop_after.is_some_and(|n| epoch - first_epoch >= n) {
            println!(
                "stopping after {} epoch(s) as asked; continue with --resume {}",
                epoch - first_epoch,
                output.display()
            );
            return Ok(Outcome {
                best_model: best_path.clone(),
                best: state.best.clone().context("no epoch was run")?,
                evaluation: None,
            });
        }
        let lr = schedule.lr(epoch);
        let batches = train_set.batches(batch_size);
        let bar = ProgressBar::new(batches as u64).with_style(
            ProgressStyle::with_template(&format!(
                "epoch {}/{total_epochs} {{bar:30}} {{pos}}/{{len}} batches {{msg}} ETA {{eta}}",
                epoch + 1
            ))
            .expect("valid template"),
        );
        let started = Instant::now();
        let mut sums = LossSums::default();
        let mut images = 0usize;
        std::thread::scope(|scope| -> Result<()> {
            let receiver = loader::epoch_batches(
                scope,
                loader::EpochPlan {
                    set: &train_set,
                    augmentation: &augmentation,
                    preprocessing: &preprocessing,
                    batch_size,
                    seed: recipe.seed,
                    epoch,
                    prefetch: recipe.prefetch,
                    replicas: replicas.len(),
                    repeated_aug,
                },
            );
            for batch in receiver {
                let n = batch.len;
                let size = preprocessing.input_size;
                let (values, grads) = match &parallel {
                    Some(parallel) => parallel.step(&model, &batch, size)?,
                    None => {
                        let (inputs, targets) =
                            batch_tensors(batch.images, batch.targets, size, &autodiff);
                        let parts = loss(&model, &run.objective, inputs, targets, compute);
                        let values = read_parts(&parts, 1.0)?;
                        let grads = GradientsParams::from_grads(parts.total.backward(), &model);
                        (values, Gradients::Single(grads))
                    }
                };
                if !values.iter().all(|v| v.is_finite()) {
                    bail!(
                        "the loss became non-finite at epoch {} step {} (total {}, base {}, \
                         logit {}, feature {}); the last good checkpoint is in {} (epoch {}). \
                         Try a lower --lr or --clip-grad.",
                        epoch + 1,
                        state.step,
                        values[0],
                        values[1],
                        values[2],
                        values[3],
                        output.join("checkpoint").display(),
                        state.epochs_done
                    );
                }
                model = match grads {
                    Gradients::Single(mut grads) => {
                        if let Some(max_norm) = recipe.clip_grad {
                            grads = optim::clip_global_norm(grads, &model, max_norm);
                        }
                        optimizer.step(lr, model.clone(), grads)
                    }
                    Gradients::Sharded(grads) => optimizer.step_multi(lr, model.clone(), grads),
                };
                if let Some(average) = ema.take() {
                    ema = Some(ema::update(
                        average,
                        &model,
                        recipe.model_ema_decay,
                        state.step,
                        &device,
                    ));
                }
                state.step += 1;
                images += n;
                sums.total += values[0] as f64;
                sums.base += values[1] as f64;
                sums.logit += values[2] as f64;
                sums.feature += values[3] as f64;
                sums.batches += 1;
                bar.set_message(format!(
                    "loss {:.4} {:.1} img/s",
                    sums.total / sums.batches as f64,
                    images as f64 / started.elapsed().as_secs_f64()
                ));
                bar.inc(1);
            }
            Ok(())
        })?;
        bar.finish_and_clear();
        let images_per_second = images as f64 / started.elapsed().as_secs_f64();

        // Dev metrics of the model that would be exported (the EMA when on).
        let evaluated = ema
            .clone()
            .unwrap_or_else(|| model.valid().to_device(&device));
        let dev = crate::eval::score_frames(
            (&evaluated, &preprocessing),
            &recipe.dev_split,
            &dev_frames,
            |i| dev_cache.image(i),
            recipe.eval_batch_size,
            &device,
            |_| {},
        )?;
        let level = evaluate_level(&dev.scores, &dev.scores)?;
        let batches = sums.batches.max(1) as f64;
        let mut log = EpochLog {
            epoch: epoch + 1,
            lr,
            loss: sums.total / batches,
            base_loss: sums.base / batches,
            logit_loss: sums.logit / batches,
            feature_loss: sums.feature / batches,
            images_per_second,
            dev_acer: level.test.acer,
            dev_eer: level.dev_eer,
            dev_auc: level.dev_auc,
            dev_threshold: level.threshold,
            best: false,
        };
        log.best = state.best.as_ref().is_none_or(|best| {
            (log.dev_acer, log.dev_eer, -log.dev_auc)
                <= (best.dev_acer, best.dev_eer, -best.dev_auc)
        });
        if log.best {
            let mut metadata = metadata.clone();
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
            .write(&best_path, StorageDtype::F32)?;
            state.best = Some(log.clone());
        }
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
        state.history.push(log);
        state.epochs_done = epoch + 1;
        checkpoint::save(output, &model, &optimizer, ema.as_ref(), &state)?;
        write_log(output, &state.history)?;
        if let Some(minutes) = recipe.time_limit
            && run_started.elapsed().as_secs_f64() >= 60.0 * minutes
            && epoch + 1 < total_epochs
        {
            println!(
                "--time-limit {minutes} min reached after epoch {}: ending training here",
                epoch + 1
            );
            break;
        }
    }

    let best = state
        .best
        .clone()
        .context("no epoch was run (is --epochs 0?)")?;
    let test_dir = recipe.data_path.join(&recipe.test_split);
    let evaluation = if test_dir.is_dir() {
        let job = crate::eval::EvalJob {
            model: &best_path,
            data_path: &recipe.data_path,
            dev_split: &recipe.dev_split,
            test_split: &recipe.test_split,
            out_dir: output.join("eval"),
            batch: recipe.eval_batch_size,
            calibrate: true,
            threshold_group: None,
        };
        Some(crate::eval::evaluate_model(&job, &device)?)
    } else {
        println!(
            "{} is missing: skipping the final test evaluation",
            test_dir.display()
        );
        None
    };
    Ok(Outcome {
        best_model: best_path,
        best,
        evaluation,
    })
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

/// The loss parts of one batch: soft-target cross-entropy, plus the HaTFAS terms when
/// distilling.
pub fn loss(
    model: &Vit,
    objective: &Objective,
    inputs: Tensor<4>,
    targets: Tensor<2>,
    compute: FloatDType,
) -> crate::distill::LossParts {
    let (student_tokens, teacher_tokens) = match objective {
        Objective::Distill { loss, .. } => (loss.student_tokens(), loss.teacher_tokens()),
        Objective::Labels => (None, None),
    };
    let teacher_out = match objective {
        Objective::Distill { teacher, .. } if objective.needs_teacher() => {
            Some(teacher.forward_mixed(inputs.clone().inner(), teacher_tokens, compute))
        }
        _ => None,
    };
    let student = model.forward_mixed(inputs, student_tokens, compute);
    // Cross-entropy against soft targets (label smoothing, mixup): timm's SoftTargetCrossEntropy.
    let base = (targets * log_softmax(student.logits.clone(), 1))
        .sum_dim(1)
        .mean()
        .neg();
    match (objective, teacher_out) {
        (Objective::Distill { loss, .. }, Some(teacher)) => loss.compute(
            base,
            student.logits,
            teacher.logits.autodiff(),
            &student.class_tokens,
            &teacher
                .class_tokens
                .into_iter()
                .map(|t| t.autodiff())
                .collect::<Vec<_>>(),
        ),
        _ => {
            let zero = Tensor::<1>::zeros([1], &base.device());
            crate::distill::LossParts {
                total: base.clone(),
                base,
                logit: zero.clone(),
                feature: zero,
            }
        }
    }
}

/// Row-major images and soft targets as `[n, 3, size, size]` inputs and `[n, classes]`
/// targets on `device` (the data are moved, not copied).
fn batch_tensors(
    images: Vec<f32>,
    targets: Vec<f32>,
    size: usize,
    device: &Device,
) -> (Tensor<4>, Tensor<2>) {
    let n = targets.len() / spec::NUM_CLASSES;
    (
        Tensor::from_data(TensorData::new(images, [n, 3, size, size]), device),
        Tensor::from_data(TensorData::new(targets, [n, spec::NUM_CLASSES]), device),
    )
}

/// The four loss parts (total, base, logit, feature) read back, times `weight`.
fn read_parts(parts: &crate::distill::LossParts, weight: f32) -> Result<Vec<f32>> {
    let values = Tensor::cat(
        vec![
            parts.total.clone().inner(),
            parts.base.clone().inner(),
            parts.logit.clone().inner(),
            parts.feature.clone().inner(),
        ],
        0,
    )
    .into_data()
    .try_to_vec::<f32>()
    .map_err(|e| anyhow::anyhow!("reading the loss: {e:?}"))?;
    Ok(values.into_iter().map(|v| v * weight).collect())
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
        .map_err(anyhow::Error::msg)
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
