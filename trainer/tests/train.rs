//! End to end on a tiny separable toy task with tiny ViTs: teacher -> distill -> eval ->
//! export -> infer, and a run stopped and resumed ends with the same weights as one run
//! straight through.

mod common;

use std::path::Path;

use common::ok;
use image::{Rgb, RgbImage};
use model_format::ModelFile;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Live frames are darker smooth colour fields; attacks are brighter fields seen through a
/// stripe pattern with lower contrast (a caricature of a recaptured screen).
fn toy_frame(rng: &mut StdRng, live: bool) -> RgbImage {
    // Disjoint brightness ranges make the task separable by the patch embedding alone.
    let range = if live { 40.0..120.0 } else { 135.0..215.0 };
    let base: [f32; 3] = std::array::from_fn(|_| rng.random_range(range.clone()));
    let (gx, gy) = (
        rng.random_range(-1.5..1.5f32),
        rng.random_range(-1.5..1.5f32),
    );
    let period = rng.random_range(6..9u32);
    let phase = rng.random_range(0..period);
    RgbImage::from_fn(40, 40, |x, y| {
        Rgb(std::array::from_fn(|c| {
            let mut v = base[c] + gx * x as f32 + gy * y as f32 + rng.random_range(-6.0..6.0f32);
            if !live {
                v = 128.0 + 0.6 * (v - 128.0);
                if (x + y + phase) % period < period / 2 {
                    v += 50.0;
                }
            }
            v.clamp(0.0, 255.0) as u8
        }))
    })
}

fn write_toy_dataset(root: &Path, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for (split, videos) in [("train", 6), ("val", 3), ("test", 3)] {
        for (class, live) in [("true", true), ("attack", false)] {
            for v in 0..videos {
                let dir = root
                    .join(split)
                    .join(class)
                    .join(format!("{split}_{class}_{v}"));
                std::fs::create_dir_all(&dir).unwrap();
                for f in 0..8 {
                    toy_frame(&mut rng, live)
                        .save(dir.join(format!("{f:03}.png")))
                        .unwrap();
                }
            }
        }
    }
}

const EPOCHS: usize = 6;
const TEACHER: &str = "custom:img=32,patch=8,dim=48,depth=3,heads=3";
const STUDENT: &str = "custom:img=32,patch=8,dim=24,depth=3,heads=2";

/// A temporary directory holding the toy dataset of `seed` in `data/`.
fn toy_workspace(seed: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_toy_dataset(&data, seed);
    (dir, data)
}

/// The recipe flags of these tiny runs: lr unscaled (the batch is tiny), and no mixing,
/// cropping or erasing, which would need far more steps on a toy task than a test can take
/// (augmentation has its own tests).
fn recipe<'a>(data: &'a str, out: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "--data-path",
        data,
        "--output-dir",
        out,
        "--epochs",
        epochs,
        "--batch-size",
        "16",
        "--lr",
        "2e-3",
        "--unscale-lr",
        "--warmup-epochs",
        "1",
        "--cooldown-epochs",
        "0",
        "--model-ema-decay",
        "0.9",
        "--seed",
        "7",
        "--mixup",
        "0",
        "--cutmix",
        "0",
        "--reprob",
        "0",
        "--no-random-resized-crop",
        "--backend",
        "cpu",
    ]
}

/// `trainer distill` of the tiny student against the teacher file `teacher`, then `rest`.
fn distill_args<'a>(teacher: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["distill", "--model", STUDENT, "--teacher-path", teacher];
    args.extend_from_slice(rest);
    args
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("eval/report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn teacher_distill_eval_export_infer_and_exact_resume() {
    let (dir, data) = toy_workspace(1);
    let data = data.to_str().unwrap();

    // Teacher.
    let teacher_dir = dir.path().join("teacher");
    let teacher_out = teacher_dir.to_str().unwrap();
    let epochs = EPOCHS.to_string();
    let mut args = vec!["teacher", "--model", TEACHER];
    args.extend(recipe(data, teacher_out, &epochs));
    let stdout = ok(&args);
    assert!(stdout.contains("best: epoch"), "{stdout}");
    let log = std::fs::read_to_string(teacher_dir.join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), EPOCHS);
    let teacher_auc = report(&teacher_dir)["metrics"]["test"]["frame"]["auc"]
        .as_f64()
        .unwrap();
    assert!(
        teacher_auc > 0.9,
        "teacher test AUC {teacher_auc}\n{stdout}"
    );
    let teacher_file = teacher_dir.join("best.safetensors");
    let teacher_path = teacher_file.to_str().unwrap();

    // Student, distilled with the HaTFAS loss over two layer pairs.
    let distill = |out: &str, epochs: &str, extra: &[&str]| {
        let mut args = distill_args(teacher_path, &["--s-id", "1", "2", "--t-id", "1", "2"]);
        args.extend(recipe(data, out, epochs));
        args.extend_from_slice(extra);
        ok(&args)
    };
    let student_dir = dir.path().join("student");
    let stdout = distill(student_dir.to_str().unwrap(), &epochs, &[]);
    let metrics = report(&student_dir)["metrics"].clone();
    let (acer, auc) = (
        metrics["test"]["frame"]["acer"].as_f64().unwrap(),
        metrics["test"]["frame"]["auc"].as_f64().unwrap(),
    );
    assert!(
        acer < 0.2 && auc > 0.9,
        "student test ACER {acer}, AUC {auc}\n{stdout}"
    );
    // Every epoch logs the three loss parts; the feature loss is on.
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(student_dir.join("log.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(first["feature_loss"].as_f64().unwrap() > 0.0);
    assert!(first["logit_loss"].as_f64().unwrap() > 0.0);

    // The best model carries the calibrated dev threshold and the metrics; export keeps them.
    let best = student_dir.join("best.safetensors");
    let file = ModelFile::read(&best).unwrap();
    let threshold = metrics["threshold"].as_f64().unwrap();
    assert!((file.metadata.threshold as f64 - threshold).abs() < 1e-6);
    let int8 = dir.path().join("student-int8.safetensors");
    ok(&[
        "export",
        "--model",
        best.to_str().unwrap(),
        "--dtype",
        "int8",
        "--out",
        int8.to_str().unwrap(),
    ]);
    let exported = ModelFile::read(&int8).unwrap();
    assert_eq!(exported.metadata.threshold, file.metadata.threshold);
    assert!(exported.metadata.provenance.metrics.is_some());

    // Inference with the exported student: a fresh live and attack frame.
    let mut rng = StdRng::seed_from_u64(99);
    let (live, attack) = (dir.path().join("live.png"), dir.path().join("attack.png"));
    toy_frame(&mut rng, true).save(&live).unwrap();
    toy_frame(&mut rng, false).save(&attack).unwrap();
    let out = ok(&[
        "infer",
        "--model",
        int8.to_str().unwrap(),
        "--no-detect",
        "--json",
        "--backend",
        "cpu",
        live.to_str().unwrap(),
        attack.to_str().unwrap(),
    ]);
    let scores: Vec<f64> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["live_score"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(scores.len(), 2);
    assert!(
        scores[0] > scores[1],
        "live {} vs attack {}",
        scores[0],
        scores[1]
    );

    // Straight through vs stopped after 2 epochs and resumed: identical weights and logs.
    let straight = dir.path().join("straight");
    distill(straight.to_str().unwrap(), "4", &[]);
    let resumed = dir.path().join("resumed");
    let resumed_out = resumed.to_str().unwrap();
    let stdout = distill(resumed_out, "4", &["--stop-after", "2"]);
    assert!(stdout.contains("stopping after 2 epoch(s)"), "{stdout}");
    let stdout = distill(resumed_out, "4", &["--resume", resumed_out]);
    assert!(stdout.contains("resuming"), "{stdout}");
    let weights = |dir: &Path| {
        ModelFile::read(dir.join("best.safetensors"))
            .unwrap()
            .weights
    };
    assert_eq!(weights(&straight), weights(&resumed));
    let losses = |dir: &Path| -> Vec<(f64, f64, f64)> {
        std::fs::read_to_string(dir.join("log.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["loss"].as_f64().unwrap(),
                    v["dev_acer"].as_f64().unwrap(),
                    v["lr"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(losses(&straight), losses(&resumed));

    // Resuming with other settings is refused.
    let mut args = distill_args(teacher_path, &["--s-id", "1", "2", "--t-id", "1", "2"]);
    args.extend(recipe(data, resumed_out, "5"));
    args.extend(["--resume", resumed_out]);
    let err = common::fails(&args);
    assert!(err.contains("other settings"), "{err}");
}

#[test]
fn bad_layer_lists_and_missing_splits_are_clear_errors() {
    let (dir, data) = toy_workspace(2);
    let teacher = dir.path().join("t.safetensors");
    // Any classifier file will do as a teacher for argument checks.
    let config = trainer::spec::model_config(TEACHER, None).unwrap();
    let vit = model_format::vit::Vit::new(&config, &burn::tensor::Device::flex());
    ModelFile {
        metadata: model_format::Metadata::liveness(config),
        weights: vit.to_weights(),
    }
    .write(&teacher, model_format::StorageDtype::F32)
    .unwrap();
    let (data, teacher) = (data.to_str().unwrap(), teacher.to_str().unwrap());
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = distill_args(teacher, extra);
        args.extend(recipe(data, out, "1"));
        common::fails(&args)
    };
    let err = run(&["--s-id", "1", "2", "--t-id", "1"]);
    assert!(err.contains("2 entries but t_ids has 1"), "{err}");
    let err = run(&["--s-id", "3", "--t-id", "1"]);
    assert!(err.contains("student layer 3 out of range"), "{err}");
    let err = run(&["--s-id", "1", "--t-id", "9"]);
    assert!(err.contains("teacher layer 9 out of range"), "{err}");
    let err = run(&["--distillation-alpha", "1.5"]);
    assert!(err.contains("alpha"), "{err}");
    let err = run(&["--dev-split", "nope", "--s-id", "1", "--t-id", "1"]);
    assert!(err.contains("nope") && err.contains("missing"), "{err}");
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_keeps_its_last_checkpoint() {
    let (dir, data) = toy_workspace(3);
    let out = dir.path().join("run");
    let (data, out_str) = (data.to_str().unwrap(), out.to_str().unwrap());
    // Epoch 1 is the warm-up at 1e-6; from epoch 2 an absurd peak lr blows the weights up.
    let mut flags = recipe(data, out_str, "3");
    let lr = flags.iter().position(|f| *f == "--lr").unwrap();
    flags[lr + 1] = "1e30";
    let mut args = vec!["teacher", "--model", TEACHER];
    args.extend(flags);
    let err = common::fails(&args);
    assert!(
        err.contains("non-finite at epoch 2") && err.contains("checkpoint (epoch 1)"),
        "{err}"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("checkpoint/state.json")).unwrap()).unwrap();
    assert_eq!(state["epochs_done"], 1);
    assert!(out.join("best.safetensors").is_file());
    assert!(!out.join("checkpoint.partial").exists());
}

#[test]
fn bf16_mixed_precision_trains_the_teacher_and_distils_the_student() {
    let (dir, data) = toy_workspace(4);
    let data = data.to_str().unwrap();
    let teacher_dir = dir.path().join("teacher");
    let epochs = EPOCHS.to_string();
    let mut args = vec!["teacher", "--model", TEACHER, "--precision", "bf16"];
    args.extend(recipe(data, teacher_dir.to_str().unwrap(), &epochs));
    let stdout = ok(&args);
    let auc = report(&teacher_dir)["metrics"]["test"]["frame"]["auc"]
        .as_f64()
        .unwrap();
    assert!(auc > 0.9, "bf16 teacher test AUC {auc}\n{stdout}");

    // The student with the teacher's forward and its own in bf16: the loss parts stay
    // finite and the settings record the precision (a resume cannot silently change it).
    let teacher_file = teacher_dir.join("best.safetensors");
    let student_dir = dir.path().join("student");
    let mut args = distill_args(
        teacher_file.to_str().unwrap(),
        &["--s-id", "1", "--t-id", "2", "--precision", "bf16"],
    );
    args.extend(recipe(data, student_dir.to_str().unwrap(), "2"));
    ok(&args);
    let log = std::fs::read_to_string(student_dir.join("log.jsonl")).unwrap();
    for line in log.lines() {
        let epoch: serde_json::Value = serde_json::from_str(line).unwrap();
        for part in ["loss", "base_loss", "logit_loss", "feature_loss"] {
            let value = epoch[part].as_f64().unwrap();
            assert!(value.is_finite() && value > 0.0, "{part} {value}: {line}");
        }
    }
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(student_dir.join("checkpoint/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["settings"]["recipe"]["precision"], "bf16", "{state}");
}

/// The largest absolute difference between two models' weights.
fn max_weight_difference(a: &Path, b: &Path) -> f32 {
    let (a, b) = (
        ModelFile::read(a).unwrap().weights,
        ModelFile::read(b).unwrap().weights,
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    a.values()
        .zip(b.values())
        .flat_map(|(x, y)| x.data.iter().zip(&y.data).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

/// Per-epoch (total, base, logit, feature) losses of a run's log.
fn epoch_losses(dir: &Path) -> Vec<[f64; 4]> {
    std::fs::read_to_string(dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            ["loss", "base_loss", "logit_loss", "feature_loss"].map(|k| v[k].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn data_parallel_replicas_train_like_one_device() {
    let (dir, data) = toy_workspace(5);
    let data = data.to_str().unwrap();
    // `batch` images per step on each device.
    let run_with = |command: &[&str], name: &str, batch: &'static str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = command.to_vec();
        args.extend(recipe(data, out.to_str().unwrap(), "2"));
        let at = args.iter().position(|&a| a == "--batch-size").unwrap();
        args[at + 1] = batch;
        args.extend(extra);
        (ok(&args), out)
    };
    // One device with a batch of 16, or two with 8 each.
    let run = |command: &[&str], name: &str, extra: &[&str]| {
        let batch = if extra.contains(&"0,0") { "8" } else { "16" };
        run_with(command, name, batch, extra)
    };
    // The same losses and, after 12 AdamW steps, the same weights up to the rounding of
    // the gradients' summation order.
    let assert_alike = |one: &Path, several: &Path| {
        let (a, b) = (epoch_losses(one), epoch_losses(several));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
            assert!((x - y).abs() <= 1e-4 * x.abs().max(1e-3), "{a:?} vs {b:?}");
        }
        let difference = max_weight_difference(
            &one.join("best.safetensors"),
            &several.join("best.safetensors"),
        );
        // Measured: 6e-6 and 2e-9; one AdamW step moves a weight by up to the lr, 2e-3.
        assert!(difference < 1e-4, "weights differ by {difference}");
    };

    // The teacher on two replicas of the CPU device: the sharded optimiser update.
    let teacher = ["teacher", "--model", TEACHER];
    let (_, single) = run(&teacher, "teacher-1", &[]);
    // (DeiT's repeated augmentation, on by default with several devices, would change the
    // batches.)
    let no_ra = ["--repeated-aug", "off"];
    let (stdout, pair) = run(
        &teacher,
        "teacher-2",
        &["--devices", "0,0", no_ra[0], no_ra[1]],
    );
    assert!(
        stdout.contains("data-parallel on 2 devices: 8 images"),
        "{stdout}"
    );
    assert!(!stdout.contains("repeated augmentation"), "{stdout}");
    assert_alike(&single, &pair);
    let (stdout, straight) = run(&teacher, "teacher-2-ra", &["--devices", "0,0"]);
    assert!(
        stdout.contains("repeated augmentation: each frame 3x"),
        "{stdout}"
    );
    // A data-parallel run stopped and resumed has the same second epoch and weights.
    let resumed = dir.path().join("teacher-2-ra-resumed");
    let resumed_str = resumed.to_str().unwrap();
    run(
        &teacher,
        "teacher-2-ra-resumed",
        &["--devices", "0,0", "--stop-after", "1"],
    );
    let (stdout, _) = run(
        &teacher,
        "teacher-2-ra-resumed",
        &["--devices", "0,0", "--resume", resumed_str],
    );
    assert!(stdout.contains("resuming"), "{stdout}");
    assert_eq!(epoch_losses(&straight), epoch_losses(&resumed));
    assert_eq!(
        max_weight_difference(
            &straight.join("best.safetensors"),
            &resumed.join("best.safetensors")
        ),
        0.0
    );

    // The student on three replicas (5 images each), each with its own copy of the
    // teacher, against one device with 15, and clipping, which sums the gradients on the
    // main device first. The
    // feature loss is left out: its head correlation matrix is a statistic of each
    // replica's share, as in the reference's DDP, so it differs from one device's by
    // design (the unit tests of `train::parallel` check it).
    let teacher_file = single.join("best.safetensors");
    let distill = distill_args(
        teacher_file.to_str().unwrap(),
        &["--s-id", "--t-id", "--clip-grad", "0.5"],
    );
    let (_, single) = run_with(&distill, "student-1", "15", &[]);
    let (stdout, triple) = run_with(
        &distill,
        "student-3",
        "5",
        &["--devices", "0,0,0", no_ra[0], no_ra[1]],
    );
    assert!(
        stdout.contains("data-parallel on 3 devices: 5 images"),
        "{stdout}"
    );
    assert_alike(&single, &triple);
    // The logit term did run on the replicas.
    assert!(epoch_losses(&triple).iter().all(|l| l[2] > 0.0));

    // One device on the CPU is index 0.
    let bad = dir.path().join("bad");
    let mut args = teacher.to_vec();
    args.extend(recipe(data, bad.to_str().unwrap(), "1"));
    args.extend(["--devices", "1"]);
    let err = common::fails(&args);
    assert!(err.contains("the CPU backend has one device, 0"), "{err}");
}

/// `--feature-tokens embeddings` (the reference code's tokens) reaches the loss: with pairs
/// past block 0 the feature loss differs from the default's, with block 0 only (whose input
/// is the embeddings either way) it is the same, and a run cannot resume with the other
/// setting.
#[test]
fn reference_feature_tokens_are_the_attention_on_the_embeddings() {
    let (dir, data) = toy_workspace(6);
    let data = data.to_str().unwrap();
    let teacher_dir = dir.path().join("teacher");
    let mut args = vec!["teacher", "--model", TEACHER];
    args.extend(recipe(data, teacher_dir.to_str().unwrap(), "1"));
    ok(&args);
    let teacher = teacher_dir.join("best.safetensors");
    let teacher = teacher.to_str().unwrap();
    let run = |name: &str, ids: &[&str], tokens: &str, extra: &[&str]| -> ([f64; 4], String) {
        let out = dir.path().join(name);
        let mut args = distill_args(teacher, &["--s-id"]);
        args.extend_from_slice(ids);
        args.push("--t-id");
        args.extend_from_slice(ids);
        args.extend(recipe(data, out.to_str().unwrap(), "2"));
        args.extend(["--stop-after", "1", "--feature-tokens", tokens]);
        args.extend_from_slice(extra);
        let stdout = ok(&args);
        (epoch_losses(&out)[0], stdout)
    };
    let first_epoch = |name: &str, ids: &[&str], tokens: &str| run(name, ids, tokens, &[]).0;
    let own_input = first_epoch("block-input", &["1", "2"], "block-input");
    // With the reference's own flags for the device and the data set too.
    let (embeddings, stdout) = run(
        "embeddings",
        &["1", "2"],
        "reference",
        &["--distributed", "--data-set", "FACE"],
    );
    assert!(stdout.contains("--distributed: cpu"), "{stdout}");
    assert!(
        (own_input[3] - embeddings[3]).abs() > 1e-3 * own_input[3],
        "feature losses {} and {}",
        own_input[3],
        embeddings[3]
    );
    let block0 = first_epoch("block0", &["0"], "block-input");
    let block0_embeddings = first_epoch("block0-embeddings", &["0"], "embeddings");
    for (a, b) in block0.iter().zip(&block0_embeddings) {
        assert!(
            (a - b).abs() <= 1e-5 * a.abs().max(1.0),
            "{block0:?} vs {block0_embeddings:?}"
        );
    }

    let resumed = dir.path().join("embeddings");
    let mut args = distill_args(teacher, &["--s-id", "1", "2", "--t-id", "1", "2"]);
    args.extend(recipe(data, resumed.to_str().unwrap(), "2"));
    args.extend(["--resume", resumed.to_str().unwrap()]);
    let err = common::fails(&args);
    assert!(err.contains("other settings"), "{err}");
}

/// A pretrained teacher as the DINOv2 route makes one, in miniature: the DINOv2-shaped ONNX
/// fixture (patch 14, LayerScale, 3 heads of 8) imported at 112 px, fine-tuned with its
/// first block frozen (the architecture comes from the --init file), then a patch-16
/// student of another width and head count (2 heads of 8) distilled from it on the same
/// images, blocks paired across: the head-aware loss needs no equal widths.
#[test]
fn dinov2_style_teacher_fine_tuned_with_frozen_blocks_then_distilled() {
    let (dir, data) = toy_workspace(7);
    let data = data.to_str().unwrap();
    let init = dir.path().join("dinov2-tiny.safetensors");
    let onnx = common::fixtures().join("dinov2/tiny.onnx");
    ok(&[
        "import",
        "--onnx",
        onnx.to_str().unwrap(),
        "--input-size",
        "112",
        "--out",
        init.to_str().unwrap(),
    ]);
    let teacher_dir = dir.path().join("teacher");
    let mut args = vec![
        "teacher",
        "--init",
        init.to_str().unwrap(),
        "--freeze-blocks",
        "1",
    ];
    args.extend(recipe(data, teacher_dir.to_str().unwrap(), "2"));
    let stdout = ok(&args);
    assert!(stdout.contains("frozen: "), "{stdout}");
    let teacher = teacher_dir.join("best.safetensors");
    let (before, after) = (
        ModelFile::read(&init).unwrap(),
        ModelFile::read(&teacher).unwrap(),
    );
    assert_eq!(after.metadata.architecture, before.metadata.architecture);
    // The exported (EMA) weights: frozen ones bit-identical, every other tensor trained.
    for (name, weight) in &before.weights {
        let frozen = ["patch_embed.", "cls_token", "pos_embed", "blocks.0."]
            .iter()
            .any(|p| name.starts_with(p));
        assert_eq!(after.weights[name] == *weight, frozen, "{name}");
    }

    let student_dir = dir.path().join("student");
    let student = "custom:img=112,patch=16,dim=16,depth=2,heads=2";
    let mut args = vec!["distill", "--model", student, "--teacher-path"];
    args.extend([
        teacher.to_str().unwrap(),
        "--s-id",
        "0",
        "1",
        "--t-id",
        "1",
        "0",
    ]);
    args.extend(recipe(data, student_dir.to_str().unwrap(), "2"));
    ok(&args);
    for [total, base, logit, feature] in epoch_losses(&student_dir) {
        for value in [total, base, logit, feature] {
            assert!(
                value.is_finite() && value > 0.0,
                "{total} {base} {logit} {feature}"
            );
        }
    }
    // Resuming the teacher with another freeze is refused (the setting is recorded).
    let mut args = vec![
        "teacher",
        "--init",
        init.to_str().unwrap(),
        "--freeze-blocks",
        "2",
    ];
    args.extend(recipe(data, teacher_dir.to_str().unwrap(), "2"));
    args.extend(["--resume", teacher_dir.to_str().unwrap()]);
    assert!(common::fails(&args).contains("other settings"));
}
