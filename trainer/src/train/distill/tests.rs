//! Values and gradients against tests/fixtures/losses (torch, float64 reference,
//! `scripts/make_loss_fixtures.py`), hand-computed cases, and validation errors.

use super::*;
use burn::tensor::{Device, TensorData};
use std::collections::HashMap;

/// The loss from its six numeric settings, in the order the paper lists them.
fn hatfas(
    kind: DistillationType,
    alpha: f64,
    beta: f64,
    tau: f64,
    s_ids: Vec<usize>,
    t_ids: Vec<usize>,
) -> anyhow::Result<HatfasLoss> {
    HatfasLossConfig {
        kind,
        alpha,
        beta,
        tau,
        s_ids,
        t_ids,
        tokens: TokenInput::BlockInput,
    }
    .init()
}

const TOL: f64 = 1e-5;

/// The tokens of blocks `ids`, in that order.
fn pick(tokens: &[Tensor<2>], ids: &[usize]) -> Vec<Tensor<2>> {
    ids.iter().map(|&i| tokens[i].clone()).collect()
}

/// [`head_aware_feature_loss`] of the pairs (`s_ids[k]`, `t_ids[k]`) of per-block token
/// lists, the ids checked by [`validate_layers`] (a panic names the bad id).
fn feature_loss_of_layers(
    student_tokens: &[Tensor<2>],
    teacher_tokens: &[Tensor<2>],
    s_ids: &[usize],
    t_ids: &[usize],
) -> Tensor<1> {
    if let Err(e) = validate_layers(s_ids, t_ids, student_tokens.len(), teacher_tokens.len()) {
        panic!("head_aware_feature_loss: {e}");
    }
    head_aware_feature_loss(&pick(student_tokens, s_ids), &pick(teacher_tokens, t_ids))
}

struct Fixture {
    tensors: HashMap<String, (Vec<f32>, Vec<usize>)>,
    metadata: HashMap<String, String>,
}

impl Fixture {
    fn load() -> Self {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/losses/losses.safetensors");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = meta
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let tensors = st
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                assert_eq!(view.dtype(), safetensors::Dtype::F32, "{name}");
                let data = view
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                (name, (data, view.shape().to_vec()))
            })
            .collect();
        Self { tensors, metadata }
    }

    fn values(&self, name: &str) -> &[f32] {
        &self
            .tensors
            .get(name)
            .unwrap_or_else(|| panic!("fixture has no {name}"))
            .0
    }

    fn scalar(&self, name: &str) -> f64 {
        let v = self.values(name);
        assert_eq!(v.len(), 1, "{name}");
        v[0] as f64
    }

    fn tensor2(&self, name: &str, device: &Device) -> Tensor<2> {
        let (data, shape) = &self.tensors[name];
        assert_eq!(shape.len(), 2, "{name}");
        Tensor::from_data(TensorData::new(data.clone(), shape.clone()), device)
    }

    fn ids(&self, key: &str) -> Vec<usize> {
        self.metadata[key]
            .split(',')
            .map(|s| s.parse().unwrap())
            .collect()
    }

    fn meta_f64(&self, key: &str) -> f64 {
        self.metadata[key].parse().unwrap()
    }
}

fn device() -> Device {
    Device::flex().autodiff()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn scalar(t: Tensor<1>) -> f64 {
    let v = values(t);
    assert_eq!(v.len(), 1);
    v[0] as f64
}

/// Largest |a - b| / max(1, |b|), after checking the lengths.
fn max_err(what: &str, got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let err = got
        .iter()
        .zip(want)
        .map(|(&g, &w)| (g as f64 - w as f64).abs() / (w as f64).abs().max(1.0))
        .fold(0.0, f64::max);
    eprintln!("{what}: max error {err:.1e}");
    assert!(
        err <= TOL,
        "{what}: max error {err:e} > {TOL:e}\n got  {got:?}\n want {want:?}"
    );
    err
}

fn assert_close(what: &str, got: f64, want: f64) {
    max_err(what, &[got as f32], &[want as f32]);
}

#[test]
fn soft_distillation_matches_torch() {
    let fx = Fixture::load();
    let dev = device();
    for tau in [3.0, 1.0] {
        let tag = format!("tau{tau}");
        let s = fx.tensor2("student_logits", &dev).require_grad();
        let t = fx.tensor2("teacher_logits", &dev);
        let loss = soft_distillation(s.clone(), t, tau);
        let grads = loss.backward();
        let value = scalar(loss);
        max_err(
            &format!("soft_{tag}"),
            &[value as f32],
            fx.values(&format!("soft_{tag}")),
        );
        max_err(
            &format!("soft_{tag} grad"),
            &values(s.grad(&grads).unwrap()),
            fx.values(&format!("soft_{tag}_grad_student_logits")),
        );
        // DeiT's code divides by batch x classes: ours / classes (reference only).
        let classes = fx.tensors["student_logits"].1[1] as f64;
        assert_close(
            &format!("soft_deit_{tag}"),
            value / classes,
            fx.scalar(&format!("soft_deit_{tag}")),
        );
        assert!(
            (value - fx.scalar(&format!("soft_deit_{tag}"))).abs() > 0.1,
            "the DeiT variant differs"
        );
    }
}

#[test]
fn hard_distillation_matches_torch() {
    let fx = Fixture::load();
    let dev = device();
    let s = fx.tensor2("student_logits", &dev).require_grad();
    let t = fx.tensor2("teacher_logits", &dev);
    let targets: Vec<f32> = t
        .clone()
        .argmax(1)
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .unwrap();
    assert_eq!(targets, fx.values("hard_targets"));
    let loss = hard_distillation(s.clone(), t);
    let grads = loss.backward();
    max_err("hard", &[scalar(loss) as f32], fx.values("hard"));
    max_err(
        "hard grad",
        &values(s.grad(&grads).unwrap()),
        fx.values("hard_grad_student_logits"),
    );
}

fn tokens(fx: &Fixture, prefix: &str, dev: &Device, grad: bool) -> Vec<Tensor<2>> {
    (0..3)
        .map(|i| {
            let t = fx.tensor2(&format!("{prefix}_{i}"), dev);
            if grad { t.require_grad() } else { t }
        })
        .collect()
}

#[test]
fn feature_loss_matches_torch() {
    let fx = Fixture::load();
    let dev = device();
    let (s_ids, t_ids) = (fx.ids("s_ids"), fx.ids("t_ids"));
    let students = tokens(&fx, "student_tokens", &dev, true);
    // The teacher's tokens are tracked too: they must get no gradient.
    let teachers = tokens(&fx, "teacher_tokens", &dev, true);
    let loss = feature_loss_of_layers(&students, &teachers, &s_ids, &t_ids);
    let grads = loss.backward();
    max_err("feature", &[scalar(loss) as f32], fx.values("feature"));
    for (i, s) in students.iter().enumerate() {
        let want = fx.values(&format!("feature_grad_student_tokens_{i}"));
        match s.grad(&grads) {
            Some(g) => {
                max_err(&format!("feature grad {i}"), &values(g), want);
            }
            // A layer in no pair (layer 1 here) may have no gradient at all.
            None => {
                eprintln!("student layer {i}: no gradient");
                assert!(
                    want.iter().all(|&w| w == 0.0),
                    "no gradient for student layer {i}"
                );
            }
        }
    }
    for (i, t) in teachers.iter().enumerate() {
        if let Some(g) = t.grad(&grads) {
            eprintln!("teacher layer {i}: a (zero) gradient entry");
            assert!(
                values(g).iter().all(|&v| v == 0.0),
                "teacher layer {i} got a gradient"
            );
        }
    }
    // Each pair on its own.
    let dev = Device::flex();
    let students = tokens(&fx, "student_tokens", &dev, false);
    let teachers = tokens(&fx, "teacher_tokens", &dev, false);
    let pairs: Vec<f32> = s_ids
        .iter()
        .zip(&t_ids)
        .map(|(&si, &ti)| scalar(feature_loss_of_layers(&students, &teachers, &[si], &[ti])) as f32)
        .collect();
    max_err("feature pairs", &pairs, fx.values("feature_pairs"));
}

/// The fixture's gradients tell "C recomputed" from "C detached": with C a constant the
/// student's gradient differs clearly, so the match above checks both S factors.
#[test]
fn feature_gradient_needs_both_factors() {
    let fx = Fixture::load();
    let dev = device();
    let s = fx.tensor2("student_tokens_0", &dev).require_grad();
    let t = l2_normalize_rows(fx.tensor2("teacher_tokens_1", &dev));
    let sn = l2_normalize_rows(s.clone());
    let c = sn.clone().transpose().matmul(t.clone()).detach();
    let loss = (t - sn.matmul(c)).square().mean();
    let grads = loss.backward();
    // Pair (0, 1) is one of the fixture's three pairs, and the only one using layer 0.
    let pairs = fx.ids("s_ids").len() as f32;
    let got = values(s.grad(&grads).unwrap());
    let want = fx.values("feature_grad_student_tokens_0");
    let diff = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g / pairs - w).abs())
        .fold(0.0, f32::max);
    assert!(
        diff > 1e-3,
        "detaching C changed the gradient by only {diff}"
    );
}

#[test]
fn total_matches_torch() {
    let fx = Fixture::load();
    let (alpha, beta, tau) = (
        fx.meta_f64("alpha"),
        fx.meta_f64("beta"),
        fx.meta_f64("total_tau"),
    );
    for (kind, name) in [
        (DistillationType::None, "none"),
        (DistillationType::Soft, "soft"),
        (DistillationType::Hard, "hard"),
    ] {
        let dev = device();
        let loss = hatfas(kind, alpha, beta, tau, fx.ids("s_ids"), fx.ids("t_ids")).unwrap();
        let s = fx.tensor2("student_logits", &dev).require_grad();
        let students = tokens(&fx, "student_tokens", &dev, true);
        let teachers = tokens(&fx, "teacher_tokens", &dev, false);
        let base = Tensor::<1>::from_data(TensorData::new(fx.values("base").to_vec(), [1]), &dev);
        // The loss takes the tokens of its pairs, in pair order.
        let pick = |tokens: &[Tensor<2>], request: Option<TokenRequest>| -> Vec<Tensor<2>> {
            request
                .unwrap()
                .blocks
                .iter()
                .map(|&b| tokens[b].clone())
                .collect()
        };
        let parts = loss.compute(
            base,
            s.clone(),
            fx.tensor2("teacher_logits", &dev),
            &pick(&students, loss.student_tokens()),
            &pick(&teachers, loss.teacher_tokens()),
        );
        let grads = parts.total.backward();
        max_err(
            &format!("total_{name}"),
            &[scalar(parts.total) as f32],
            fx.values(&format!("total_{name}")),
        );
        max_err("base part", &[scalar(parts.base) as f32], fx.values("base"));
        max_err(
            "feature part",
            &[scalar(parts.feature) as f32],
            fx.values("feature"),
        );
        let (logit, logit_grad) = match kind {
            DistillationType::None => (0.0, None),
            DistillationType::Soft => (
                fx.scalar("soft_tau3"),
                Some("soft_tau3_grad_student_logits"),
            ),
            DistillationType::Hard => (fx.scalar("hard"), Some("hard_grad_student_logits")),
        };
        assert_close("logit part", scalar(parts.logit), logit);
        // The total's gradients: alpha x the logit term's, beta x the feature loss's.
        match (logit_grad, s.grad(&grads)) {
            (Some(key), Some(g)) => {
                let want: Vec<f32> = fx
                    .values(key)
                    .iter()
                    .map(|&v| (v as f64 * alpha) as f32)
                    .collect();
                max_err("total grad logits", &values(g), &want);
            }
            (None, g) => assert!(g.is_none_or(|g| values(g).iter().all(|&v| v == 0.0))),
            (Some(_), None) => panic!("no gradient for the student logits"),
        }
        let g = students[2].grad(&grads).unwrap();
        let want: Vec<f32> = fx
            .values("feature_grad_student_tokens_2")
            .iter()
            .map(|&v| (v as f64 * beta) as f32)
            .collect();
        max_err("total grad tokens", &values(g), &want);
    }
}

fn t2(rows: &[&[f32]], dev: &Device) -> Tensor<2> {
    let data: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(data, [rows.len(), rows[0].len()]), dev)
}

#[test]
fn soft_and_hard_by_hand() {
    let dev = device();
    // Identical logits: KL 0, gradient 0.
    let s = t2(&[&[0.3, -1.2], &[2.0, 0.5]], &dev).require_grad();
    let loss = soft_distillation(s.clone(), s.clone().detach(), 3.0);
    let grads = loss.backward();
    assert_close("soft of identical logits", scalar(loss), 0.0);
    assert!(
        values(s.grad(&grads).unwrap())
            .iter()
            .all(|v| v.abs() < 1e-7)
    );
    // Teacher probabilities (3/4, 1/4), student (1/2, 1/2):
    // KL = 3/4 ln(3/2) + 1/4 ln(1/2); tau 2 scales the logits by 2 and the loss by 4.
    let kl = 0.75 * 1.5f64.ln() + 0.25 * 0.5f64.ln();
    let s = t2(&[&[0.0, 0.0]], &dev);
    let ln3 = 3f64.ln() as f32;
    assert_close(
        "soft tau 1",
        scalar(soft_distillation(s.clone(), t2(&[&[ln3, 0.0]], &dev), 1.0)),
        kl,
    );
    assert_close(
        "soft tau 2",
        scalar(soft_distillation(
            s.clone(),
            t2(&[&[2.0 * ln3, 0.0]], &dev),
            2.0,
        )),
        4.0 * kl,
    );
    // Batchmean: a second identical row leaves the value unchanged.
    let s2 = t2(&[&[0.0, 0.0], &[0.0, 0.0]], &dev);
    assert_close(
        "soft batchmean",
        scalar(soft_distillation(
            s2,
            t2(&[&[ln3, 0.0], &[ln3, 0.0]], &dev),
            1.0,
        )),
        kl,
    );
    // Hard: student (3/4, 1/4); the teacher picks class 0 then class 1:
    // mean(-ln(3/4), -ln(1/4)).
    let s = t2(&[&[ln3, 0.0], &[ln3, 0.0]], &dev);
    let t = t2(&[&[5.0, -1.0], &[0.0, 0.1]], &dev);
    assert_close(
        "hard",
        scalar(hard_distillation(s, t)),
        (-(0.75f64.ln()) - 0.25f64.ln()) / 2.0,
    );
}

#[test]
fn feature_loss_by_hand() {
    let dev = device();
    // Batch 1: R = u (u . u) ... = T exactly, so the loss is 0 whatever the tokens.
    let s = t2(&[&[1.0, -2.0, 0.5]], &dev);
    let t = t2(&[&[4.0, 0.0, 1.0, -3.0]], &dev);
    assert_close(
        "batch 1",
        scalar(feature_loss_of_layers(&[s], &[t], &[0], &[0])),
        0.0,
    );
    // Student = teacher with orthogonal rows (B = D): S S^T = I, so R = T.
    let s = t2(
        &[&[2.0, 0.0, 0.0], &[0.0, 0.0, -3.0], &[0.0, 0.5, 0.0]],
        &dev,
    );
    assert_close(
        "orthogonal",
        scalar(feature_loss_of_layers(
            std::slice::from_ref(&s),
            std::slice::from_ref(&s),
            &[0],
            &[0],
        )),
        0.0,
    );
    // D_s = 1: S = [[1], [1]] (any positive scale), T = I_2:
    // C = [1, 1], R = [[1, 1], [1, 1]], T - R = [[0, -1], [-1, 0]] -> 2 / 4.
    let s = t2(&[&[5.0], &[0.25]], &dev).require_grad();
    let t = t2(&[&[3.0, 0.0], &[0.0, 7.0]], &dev);
    let loss = feature_loss_of_layers(
        std::slice::from_ref(&s),
        std::slice::from_ref(&t),
        &[0],
        &[0],
    );
    assert_close("D_s 1", scalar(loss.clone()), 0.5);
    // Normalised rows: rescaling a token leaves the value unchanged, so the gradient is
    // orthogonal to the rows, i.e. 0 for D_s = 1.
    let grads = loss.backward();
    assert!(
        values(s.grad(&grads).unwrap())
            .iter()
            .all(|v| v.abs() < 1e-6)
    );
    // The mean over pairs: pairs (0, 0) and (1, 0) give 0 and 0.5.
    let s_pair = [
        t2(&[&[1.0, 0.0], &[0.0, 1.0]], &dev),
        t2(&[&[5.0], &[0.25]], &dev),
    ];
    let t_pair = [t2(&[&[3.0, 0.0], &[0.0, 7.0]], &dev)];
    assert_close(
        "two pairs",
        scalar(feature_loss_of_layers(&s_pair, &t_pair, &[0, 1], &[0, 0])),
        0.25,
    );
    // An all-zero student row: normalised by eps to 0, finite loss and gradient.
    let s = t2(&[&[0.0, 0.0], &[1.0, 2.0]], &dev).require_grad();
    let loss = feature_loss_of_layers(
        std::slice::from_ref(&s),
        &[t2(&[&[1.0, 0.0], &[0.0, 1.0]], &dev)],
        &[0],
        &[0],
    );
    let grads = loss.backward();
    assert!(
        values(s.grad(&grads).unwrap())
            .iter()
            .all(|v| v.is_finite())
    );
}

#[test]
fn validation() {
    use DistillationType::*;
    assert!(hatfas(Soft, 0.7, 1.0, 3.0, vec![4, 6, 8], vec![4, 6, 8]).is_ok());
    assert!(hatfas(Hard, 0.0, 0.0, 1.0, vec![], vec![]).is_ok());
    assert!(hatfas(None, 1.0, 2.0, 0.5, vec![0], vec![11]).is_ok());
    let err = |r: anyhow::Result<HatfasLoss>| r.unwrap_err().to_string();
    assert!(err(hatfas(Soft, 1.5, 1.0, 3.0, vec![], vec![])).contains("alpha"));
    assert!(err(hatfas(Soft, -0.1, 1.0, 3.0, vec![], vec![])).contains("alpha"));
    assert!(err(hatfas(Soft, f64::NAN, 1.0, 3.0, vec![], vec![])).contains("alpha"));
    assert!(err(hatfas(Soft, 0.5, -1.0, 3.0, vec![], vec![])).contains("beta"));
    assert!(err(hatfas(Soft, 0.5, f64::INFINITY, 3.0, vec![], vec![])).contains("beta"));
    assert!(err(hatfas(Soft, 0.5, 1.0, 0.0, vec![], vec![])).contains("tau"));
    assert!(err(hatfas(Soft, 0.5, 1.0, -2.0, vec![], vec![])).contains("tau"));
    assert!(err(hatfas(Soft, 0.5, 1.0, f64::NAN, vec![], vec![])).contains("tau"));
    assert!(err(hatfas(Soft, 0.5, 1.0, 3.0, vec![1, 2], vec![1])).contains("entries"));

    assert!(validate_layers(&[4, 6, 8], &[4, 6, 8], 12, 12).is_ok());
    assert!(validate_layers(&[11], &[0], 12, 1).is_ok());
    assert!(
        validate_layers(&[], &[], 12, 12)
            .unwrap_err()
            .to_string()
            .contains("no layer pairs")
    );
    assert!(
        validate_layers(&[1, 2], &[1], 12, 12)
            .unwrap_err()
            .to_string()
            .contains("entries")
    );
    assert!(
        validate_layers(&[12], &[0], 12, 12)
            .unwrap_err()
            .to_string()
            .contains("student layer 12")
    );
    assert!(
        validate_layers(&[0], &[3], 12, 3)
            .unwrap_err()
            .to_string()
            .contains("teacher layer 3")
    );
}

#[test]
#[should_panic(expected = "teacher layer 3 out of range")]
fn feature_loss_rejects_bad_ids() {
    let dev = Device::flex();
    let x = t2(&[&[1.0, 0.0]], &dev);
    feature_loss_of_layers(
        std::slice::from_ref(&x),
        std::slice::from_ref(&x),
        &[0],
        &[3],
    );
}

#[test]
fn none_ignores_alpha_and_empty_ids_give_no_feature_loss() {
    let dev = Device::flex();
    let s = t2(&[&[1.0, 0.0]], &dev);
    let t = t2(&[&[0.0, 1.0]], &dev);
    let base = Tensor::<1>::from_data(TensorData::new(vec![0.8f32], [1]), &dev);
    let parts = hatfas(DistillationType::None, 0.9, 2.0, 3.0, vec![], vec![])
        .unwrap()
        .compute(base.clone(), s.clone(), t.clone(), &[], &[]);
    assert_close("none total", scalar(parts.total), 0.8);
    assert_close("none logit", scalar(parts.logit), 0.0);
    assert_close("none feature", scalar(parts.feature), 0.0);
    let parts = hatfas(DistillationType::Hard, 0.25, 2.0, 3.0, vec![], vec![])
        .unwrap()
        .compute(base, s, t, &[], &[]);
    // Student (e/(1+e), 1/(1+e)), target 1: CE = ln(1 + e).
    assert_close(
        "hard total",
        scalar(parts.total),
        0.75 * 0.8 + 0.25 * (1.0 + 1f64.exp()).ln(),
    );
}

#[test]
fn distillation_type_names() {
    for (name, kind) in [
        ("none", DistillationType::None),
        ("soft", DistillationType::Soft),
        ("hard", DistillationType::Hard),
    ] {
        assert_eq!(DistillationType::from_str(name, false), Ok(kind));
        assert_eq!(kind.to_possible_value().unwrap().get_name(), name);
    }
}
