//! What the network learns from ([`Objective`]: labels, or labels and a frozen teacher)
//! and one batch's loss under it, as the training loop, the data-parallel replicas and the
//! benchmark compute it.

use anyhow::{Result, bail};
use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use model_format::vit::Vit;

use super::distill::{DistillationType, HatfasLoss, LossParts};
use crate::spec;

/// What the network learns from.
pub enum Objective {
    /// Labels only (the teacher's training).
    Labels,
    /// Labels and a frozen teacher (on the non-autodiff device).
    Distill { teacher: Box<Vit>, loss: HatfasLoss },
}

impl Objective {
    /// A copy whose teacher lives on `device` (one per replica in data-parallel training).
    pub(crate) fn on_device(&self, device: &Device) -> Objective {
        match self {
            Objective::Labels => Objective::Labels,
            Objective::Distill { teacher, loss } => Objective::Distill {
                teacher: Box::new(teacher.as_ref().clone().to_device(device)),
                loss: loss.clone(),
            },
        }
    }

    pub(crate) fn needs_teacher(&self) -> bool {
        matches!(self, Objective::Distill { loss, .. }
            if loss.config().kind != DistillationType::None
                || !loss.config().s_ids.is_empty())
    }
}

/// One batch's loss parts read back from the device (each weighted by its share of the
/// batch in a data-parallel step).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossValues {
    pub total: f32,
    pub base: f32,
    pub logit: f32,
    pub feature: f32,
}

impl LossValues {
    pub(crate) fn is_finite(&self) -> bool {
        self.to_array().iter().all(|v| v.is_finite())
    }

    /// `[total, base, logit, feature]`.
    pub fn to_array(self) -> [f32; 4] {
        [self.total, self.base, self.logit, self.feature]
    }
}

impl std::ops::AddAssign for LossValues {
    fn add_assign(&mut self, other: LossValues) {
        self.total += other.total;
        self.base += other.base;
        self.logit += other.logit;
        self.feature += other.feature;
    }
}

/// The loss parts of one batch: soft-target cross-entropy, plus the HaTFAS terms when
/// distilling.
pub fn loss(
    model: &Vit,
    objective: &Objective,
    inputs: Tensor<4>,
    targets: Tensor<2>,
    compute: FloatDType,
) -> LossParts {
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
            LossParts {
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
pub(crate) fn batch_tensors(
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

/// The loss parts read back, times `weight`.
pub(crate) fn read_parts(parts: &LossParts, weight: f32) -> Result<LossValues> {
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
    let [total, base, logit, feature] = values[..] else {
        bail!("reading the loss: {} values, expected 4", values.len());
    };
    Ok(LossValues {
        total: total * weight,
        base: base * weight,
        logit: logit * weight,
        feature: feature * weight,
    })
}
