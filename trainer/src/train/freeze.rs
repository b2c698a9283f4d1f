//! Partial fine-tuning (`trainer teacher --freeze-blocks N`): the first N blocks, and with
//! them everything before the first block (the patch embedding, the class token and the
//! position embedding), stop requiring gradients. Autodiff then records nothing for them
//! (backward ends before them, which also saves time), the optimiser leaves parameters
//! without a gradient untouched (no update and no weight decay: AdamW's decay is part of
//! its step), and the EMA keeps them as they are (`ema::update`), so frozen weights stay
//! bit-identical through training and in the exported model.
//!
//! Freezing the first blocks rather than the last keeps the pretrained low-level features
//! (DINOv2's) and adapts the later, more task-specific ones; the embeddings feed the first
//! block, so they are frozen with it.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use model_format::vit::Vit;

/// `model` with blocks `0..n` and, when `n > 0`, the embeddings frozen.
pub fn freeze_first_blocks(mut model: Vit, n: usize) -> Vit {
    if n == 0 {
        return model;
    }
    model.patch_embed = model.patch_embed.no_grad();
    model.cls_token = model.cls_token.set_require_grad(false);
    model.pos_embed = model.pos_embed.set_require_grad(false);
    model.blocks = model
        .blocks
        .into_iter()
        .enumerate()
        .map(|(i, block)| if i < n { block.no_grad() } else { block })
        .collect();
    model
}

/// Counts the elements of the parameters that require gradients.
struct Trainable(usize);

impl ModuleVisitor for Trainable {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        if value.is_require_grad() {
            self.0 += value.shape().num_elements();
        }
    }
}

/// The number of parameters that train (on an autodiff device).
pub fn trainable_parameters(model: &Vit) -> usize {
    let mut visitor = Trainable(0);
    model.visit(&mut visitor);
    visitor.0
}

#[cfg(test)]
mod tests {
    use burn::optim::GradientsParams;
    use burn::tensor::{Device, Distribution, Tensor};
    use model_format::VitConfig;
    use model_format::vit::Vit;

    use super::*;
    use crate::train::{ema, optim};

    /// One AdamW step (with weight decay) and one EMA update: the frozen tensors are
    /// bit-identical in the model and in the EMA, every other tensor moved.
    #[test]
    fn frozen_weights_do_not_move_and_the_others_do() {
        let device = Device::flex().autodiff();
        device.seed(11);
        let config = VitConfig {
            layer_scale: true,
            ..VitConfig::custom(28, 14, 24, 3, 3, 2)
        };
        let model = freeze_first_blocks(Vit::new(&config, &device), 2);
        let before = model.to_weights();
        let frozen = |name: &str| {
            [
                "patch_embed.",
                "cls_token",
                "pos_embed",
                "blocks.0.",
                "blocks.1.",
            ]
            .iter()
            .any(|p| name.starts_with(p))
        };
        let count: usize = before
            .iter()
            .filter(|(name, _)| !frozen(name.as_str()))
            .map(|(_, w)| w.data.len())
            .sum();
        assert_eq!(trainable_parameters(&model), count);

        let mut optimizer = optim::adamw_with(0.05, 1e-8, &model);
        let average = model.valid();
        let images = Tensor::<4>::random([2, 3, 28, 28], Distribution::Normal(0.0, 1.0), &device);
        let out = model.forward_with_class_tokens(images);
        let loss = out.logits.square().sum() + out.class_tokens[2].clone().sum();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = optimizer.step(1e-2, model, grads);
        let average = ema::update(average, &model, 0.9, 100, &Device::flex());

        for (what, after) in [("model", model.to_weights()), ("EMA", average.to_weights())] {
            for (name, old) in &before {
                let new = &after[name].data;
                if frozen(name.as_str()) {
                    assert!(
                        old.data
                            .iter()
                            .zip(new)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{what}: frozen {name} changed"
                    );
                } else {
                    assert!(old.data != *new, "{what}: {name} did not move");
                }
            }
        }
        // Freezing nothing changes nothing.
        let plain = Vit::new(&config, &device);
        let all = trainable_parameters(&plain);
        assert_eq!(trainable_parameters(&freeze_first_blocks(plain, 0)), all);
        assert_eq!(all, config.num_params());
    }
}
