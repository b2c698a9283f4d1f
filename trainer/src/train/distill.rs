//! The HaTFAS training loss (docs/METHOD.md, "Distillation losses"): logit-level
//! distillation (soft or hard, as in DeiT) plus the head-aware feature loss on the encoder
//! blocks' attention class tokens.
//!
//! Every function works on Burn tensors of any device. Gradients flow when the student's
//! tensors live on an autodiff device (`Device::flex().autodiff()`, ...); the teacher's
//! inputs are always detached, so the teacher gets no gradient even if its tensors are
//! tracked.

use anyhow::bail;
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;
use clap::ValueEnum;
pub use model_format::{TokenInput, TokenRequest};

/// `eps` of `torch.nn.functional.normalize`: rows are divided by `max(||x||, eps)`.
const NORMALIZE_EPS: f64 = 1e-12;

/// The logit-level distillation term.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default, serde::Serialize, serde::Deserialize,
)]
pub enum DistillationType {
    /// No logit distillation: the base loss only (alpha is ignored).
    None,
    /// KL divergence between the temperature-softened teacher and student distributions.
    #[default]
    Soft,
    /// Cross-entropy against the teacher's argmax.
    Hard,
}

/// Which class tokens the head-aware feature loss compares (`--feature-tokens`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum FeatureTokens {
    /// Block i's attention on block i's own input (docs/METHOD.md).
    #[default]
    BlockInput,
    /// Every block's attention on the embeddings (the first block's input), as the HaTFAS
    /// reference code computes them (its loop over the blocks never carries x forward).
    #[value(alias = "reference")]
    Embeddings,
}

impl FeatureTokens {
    pub fn input(self) -> TokenInput {
        match self {
            FeatureTokens::BlockInput => TokenInput::BlockInput,
            FeatureTokens::Embeddings => TokenInput::Embeddings,
        }
    }
}

/// Soft distillation: `KL(softmax(t / tau) || softmax(s / tau))`, summed over the classes,
/// averaged over the batch ("batchmean") and multiplied by `tau^2`, as METHOD.md defines it.
/// Returns a one-element tensor.
///
/// DeiT's reference code (`deit/losses.py`) computes `F.kl_div(..., reduction='sum',
/// log_target=True) * T * T / outputs_kd.numel()`, i.e. it divides by batch x classes, not
/// by the batch: its value is this one divided by the number of classes (2 for
/// anti-spoofing). The fixture (`scripts/make_loss_fixtures.py`) records both.
///
/// # Panics
/// If the shapes differ or `tau` is not positive.
pub fn soft_distillation(
    student_logits: Tensor<2>,
    teacher_logits: Tensor<2>,
    tau: f64,
) -> Tensor<1> {
    assert_eq!(
        student_logits.dims(),
        teacher_logits.dims(),
        "student and teacher logits differ in shape"
    );
    assert!(tau > 0.0, "tau must be positive, got {tau}");
    let batch = student_logits.dims()[0];
    let log_s = log_softmax(student_logits.div_scalar(tau), 1);
    let log_t = log_softmax(teacher_logits.detach().div_scalar(tau), 1);
    let kl = (log_t.clone().exp() * (log_t - log_s)).sum();
    kl.mul_scalar(tau * tau / batch as f64)
}

/// Hard distillation: cross-entropy of the student's logits against the teacher's argmax
/// (ties go to Burn's `argmax`), averaged over the batch. Returns a one-element tensor.
///
/// # Panics
/// If the shapes differ.
pub fn hard_distillation(student_logits: Tensor<2>, teacher_logits: Tensor<2>) -> Tensor<1> {
    assert_eq!(
        student_logits.dims(),
        teacher_logits.dims(),
        "student and teacher logits differ in shape"
    );
    let targets = teacher_logits.detach().argmax(1);
    log_softmax(student_logits, 1)
        .gather(1, targets)
        .mean()
        .neg()
}

/// Rows divided by `max(||row||, 1e-12)`, like `torch.nn.functional.normalize(x, dim=-1)`.
///
/// Written as `sqrt(max(||row||^2, eps^2))` (the same value) so that the gradient of an
/// all-zero row is 0, as in torch, instead of `0 * inf = NaN` through `sqrt` at 0.
fn l2_normalize_rows(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .square()
        .sum_dim(1)
        .clamp_min(NORMALIZE_EPS * NORMALIZE_EPS)
        .sqrt();
    x / norm
}

/// The head-aware feature loss of one pair: `mean((T - S S^T T)^2)` over the B x D_t
/// entries, with S, T the L2-normalised rows. C = S^T T is recomputed here, so the student
/// receives gradient through both S factors.
fn head_aware_pair_loss(student: Tensor<2>, teacher: Tensor<2>) -> Tensor<1> {
    let [bs, _] = student.dims();
    let [bt, _] = teacher.dims();
    assert_eq!(
        bs, bt,
        "student and teacher class tokens differ in batch size"
    );
    let s = l2_normalize_rows(student);
    let t = l2_normalize_rows(teacher.detach());
    let c = s.clone().transpose().matmul(t.clone()); // D_s x D_t
    let r = s.matmul(c); // B x D_t
    (t - r).square().mean()
}

/// The head-aware feature loss: the mean over the pairs k of
/// `mean((T_k - S_k S_k^T T_k)^2)`, where S_k (B x D_s) and T_k (B x D_t) are the
/// L2-normalised rows of `student_tokens[k]` and `teacher_tokens[k]`: the class tokens
/// (one per image) of the k-th pair of blocks (`s_id[k]`, `t_id[k]`). Returns a
/// one-element tensor.
///
/// # Panics
/// If the lists are empty or differ in length, or a pair's batch sizes differ.
pub fn head_aware_feature_loss(
    student_tokens: &[Tensor<2>],
    teacher_tokens: &[Tensor<2>],
) -> Tensor<1> {
    assert_eq!(
        student_tokens.len(),
        teacher_tokens.len(),
        "one teacher token per student token"
    );
    let total = student_tokens
        .iter()
        .zip(teacher_tokens)
        .map(|(s, t)| head_aware_pair_loss(s.clone(), t.clone()))
        .reduce(|a, b| a + b)
        .expect("at least one pair");
    total.div_scalar(student_tokens.len() as f64)
}

/// Checks a feature-distillation layer pairing: non-empty, equal lengths, every student id
/// below `student_depth` and every teacher id below `teacher_depth` (ids are 0-based block
/// indices).
pub fn validate_layers(
    s_ids: &[usize],
    t_ids: &[usize],
    student_depth: usize,
    teacher_depth: usize,
) -> anyhow::Result<()> {
    if s_ids.is_empty() {
        bail!("no layer pairs for the feature loss (s_ids and t_ids are empty)");
    }
    if s_ids.len() != t_ids.len() {
        bail!(
            "s_ids has {} entries but t_ids has {}",
            s_ids.len(),
            t_ids.len()
        );
    }
    if let Some(&bad) = s_ids.iter().find(|&&i| i >= student_depth) {
        bail!("student layer {bad} out of range: the student has {student_depth} blocks");
    }
    if let Some(&bad) = t_ids.iter().find(|&&i| i >= teacher_depth) {
        bail!("teacher layer {bad} out of range: the teacher has {teacher_depth} blocks");
    }
    Ok(())
}

/// The parts of the HaTFAS loss, each a one-element tensor. Only `total` is meant for
/// `backward`; the others are for logging.
#[derive(Clone, Debug)]
pub struct LossParts {
    /// `(1 - alpha) * base + alpha * logit + beta * feature`.
    pub total: Tensor<1>,
    /// The base loss as given.
    pub base: Tensor<1>,
    /// The logit-distillation term (0 for [`DistillationType::None`]).
    pub logit: Tensor<1>,
    /// The head-aware feature loss (0 when no layer pairs are configured).
    pub feature: Tensor<1>,
}

/// The HaTFAS loss's settings, as `trainer distill` names them (`--distillation-type`,
/// `--distillation-alpha`, `-beta`, `-tau`, `--s-id`, `--t-id`, `--feature-tokens`); the
/// defaults are the paper's. [`HatfasLossConfig::init`] checks them.
#[derive(burn::config::Config, Debug, PartialEq)]
pub struct HatfasLossConfig {
    /// The logit-level term.
    #[config(default = "DistillationType::Soft")]
    pub kind: DistillationType,
    /// Weight of the logit term against the base loss, in [0, 1].
    #[config(default = 0.7)]
    pub alpha: f64,
    /// Weight of the head-aware feature loss, finite and >= 0.
    #[config(default = 1.0)]
    pub beta: f64,
    /// Temperature of the soft logit term, finite and > 0.
    #[config(default = 3.0)]
    pub tau: f64,
    /// Student blocks whose class tokens are distilled, paired in order with `t_ids`
    /// (both empty: no feature loss).
    #[config(default = "vec![4, 6, 8]")]
    pub s_ids: Vec<usize>,
    /// Teacher blocks, paired with `s_ids`.
    #[config(default = "vec![4, 6, 8]")]
    pub t_ids: Vec<usize>,
    /// What the distilled class tokens are computed from.
    #[config(default = "TokenInput::BlockInput")]
    pub tokens: TokenInput,
}

impl HatfasLossConfig {
    /// The loss, once the settings are checked: `alpha` in [0, 1], `beta` finite and >= 0,
    /// `tau` finite and > 0, `s_ids` and `t_ids` of equal length. The ids are checked
    /// against the models' depths by [`validate_layers`], which needs the models.
    pub fn init(&self) -> anyhow::Result<HatfasLoss> {
        let Self {
            alpha, beta, tau, ..
        } = *self;
        if !(0.0..=1.0).contains(&alpha) {
            bail!("alpha must be in [0, 1], got {alpha}");
        }
        if !(beta.is_finite() && beta >= 0.0) {
            bail!("beta must be finite and >= 0, got {beta}");
        }
        if !(tau.is_finite() && tau > 0.0) {
            bail!("tau must be finite and > 0, got {tau}");
        }
        if self.s_ids.len() != self.t_ids.len() {
            bail!(
                "s_ids has {} entries but t_ids has {}",
                self.s_ids.len(),
                self.t_ids.len()
            );
        }
        Ok(HatfasLoss {
            config: self.clone(),
        })
    }
}

/// The HaTFAS loss, from a checked [`HatfasLossConfig`].
#[derive(Clone, Debug, PartialEq)]
pub struct HatfasLoss {
    config: HatfasLossConfig,
}

impl HatfasLoss {
    /// The student's class tokens the feature loss needs, in pair order (`None` without
    /// layer pairs).
    pub fn student_tokens(&self) -> Option<TokenRequest<'_>> {
        self.request(&self.config.s_ids)
    }

    /// The teacher's class tokens the feature loss needs, in pair order.
    pub fn teacher_tokens(&self) -> Option<TokenRequest<'_>> {
        self.request(&self.config.t_ids)
    }

    fn request<'a>(&self, blocks: &'a [usize]) -> Option<TokenRequest<'a>> {
        (!blocks.is_empty()).then_some(TokenRequest {
            blocks,
            input: self.config.tokens,
        })
    }

    /// The settings it was made from.
    pub fn config(&self) -> &HatfasLossConfig {
        &self.config
    }

    /// `total = (1 - alpha) * base + alpha * logit + beta * feature`. For
    /// [`DistillationType::None`] ("base loss only" for the logit part) alpha is taken as 0:
    /// `total = base + beta * feature`, and the teacher logits are not used.
    ///
    /// The tokens are those of [`HatfasLoss::student_tokens`] and
    /// [`HatfasLoss::teacher_tokens`]: one per layer pair, in pair order.
    ///
    /// # Panics
    /// If the token lists do not have one entry per layer pair, or shapes disagree.
    pub fn compute(
        &self,
        base_loss: Tensor<1>,
        student_logits: Tensor<2>,
        teacher_logits: Tensor<2>,
        student_tokens: &[Tensor<2>],
        teacher_tokens: &[Tensor<2>],
    ) -> LossParts {
        let device = student_logits.device();
        let config = &self.config;
        let (alpha, logit) = match config.kind {
            DistillationType::None => (0.0, Tensor::<1>::zeros([1], &device)),
            DistillationType::Soft => (
                config.alpha,
                soft_distillation(student_logits, teacher_logits, config.tau),
            ),
            DistillationType::Hard => (
                config.alpha,
                hard_distillation(student_logits, teacher_logits),
            ),
        };
        let feature = if config.s_ids.is_empty() {
            Tensor::<1>::zeros([1], &device)
        } else {
            assert_eq!(
                student_tokens.len(),
                config.s_ids.len(),
                "one token per layer pair"
            );
            head_aware_feature_loss(student_tokens, teacher_tokens)
        };
        let total = base_loss.clone().mul_scalar(1.0 - alpha)
            + logit.clone().mul_scalar(alpha)
            + feature.clone().mul_scalar(config.beta);
        LossParts {
            total,
            base: base_loss,
            logit,
            feature,
        }
    }
}

#[cfg(test)]
mod tests;
