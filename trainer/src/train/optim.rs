//! The optimiser of the DeiT recipe: AdamW (eps 1e-8, weight decay 0.05) with no weight
//! decay on biases, norms, the class token and the position embedding (timm's
//! `param_groups_weight_decay`), and timm's global-norm gradient clipping.

use burn::module::{Module, ModuleVisitor, Param, ParamGroup, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use model_format::vit::Vit;

use super::RecipeArgs;

/// Parameters of rank <= 1 (biases, norm scales and shifts).
struct LowRank(Vec<ParamId>);

impl ModuleVisitor for LowRank {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if D <= 1 {
            self.0.push(param.id);
        }
    }
}

/// The ids of the parameters that get no weight decay.
pub fn no_decay_ids(model: &Vit) -> Vec<ParamId> {
    let mut visitor = LowRank(vec![model.cls_token.id, model.pos_embed.id]);
    model.visit(&mut visitor);
    visitor.0
}

/// AdamW for `model` with the recipe's settings and groups.
pub fn adamw(recipe: &RecipeArgs, model: &Vit) -> ModuleOptimizer {
    adamw_with(recipe.weight_decay, recipe.opt_eps, model)
}

/// AdamW with `weight_decay` on the matrices only, and epsilon `eps`.
pub fn adamw_with(weight_decay: f64, eps: f64, model: &Vit) -> ModuleOptimizer {
    let config = |weight_decay: f64| {
        AdamWConfig::new()
            .with_epsilon(eps as f32)
            .with_weight_decay(weight_decay as f32)
    };
    config(weight_decay).init().with_group(
        ParamGroup::from_ids(no_decay_ids(model)),
        config(0.0).build(),
        None,
    )
}

/// Sums the squared gradients of a module's parameters.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = grad.square().sum();
            self.sum = Some(match self.sum.take() {
                Some(sum) => sum + squares,
                None => squares,
            });
        }
    }
}

/// Multiplies every gradient of a module's parameters by `factor`.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad.mul_scalar(self.factor));
        }
    }
}

/// The global L2 norm of the gradients of `model`'s parameters.
pub fn global_norm<M: Module>(grads: &GradientsParams, model: &M) -> f64 {
    let mut visitor = SquaredNorm { grads, sum: None };
    model.visit(&mut visitor);
    visitor
        .sum
        .map_or(0.0, |sum| (sum.into_scalar::<f32>() as f64).sqrt())
}

/// timm's `clip_grad_norm_`: when the global norm exceeds `max_norm`, every gradient is
/// scaled by `max_norm / (norm + 1e-6)`.
pub fn clip_global_norm<M: Module>(
    mut grads: GradientsParams,
    model: &M,
    max_norm: f64,
) -> GradientsParams {
    let norm = global_norm(&grads, model);
    if norm > max_norm {
        model.visit(&mut Scale {
            grads: &mut grads,
            factor: max_norm / (norm + 1e-6),
        });
    }
    grads
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, TensorData};

    #[test]
    fn clips_the_global_norm_like_torch() {
        let device = Device::flex().autodiff();
        let mut layer: Linear = LinearConfig::new(2, 1).init(&device);
        layer.weight = Param::from_data(TensorData::new(vec![1.0f32, 2.0], [2, 1]), &device);
        layer.bias = Some(Param::from_data(
            TensorData::new(vec![0.5f32], [1]),
            &device,
        ));
        // loss = sum(x W + b) with x = [3, 4]: grads W = [3, 4], b = 1, norm sqrt(26).
        let x = Tensor::<2>::from_data(TensorData::new(vec![3.0f32, 4.0], [1, 2]), &device);
        let loss = layer.forward(x).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &layer);
        assert!((global_norm(&grads, &layer) - 26f64.sqrt()).abs() < 1e-5);
        let clipped = clip_global_norm(grads, &layer, 1.0);
        assert!((global_norm(&clipped, &layer) - 1.0).abs() < 1e-5);
        let w: Vec<f32> = clipped
            .get::<2>(layer.weight.id)
            .unwrap()
            .into_data()
            .try_to_vec()
            .unwrap();
        let scale = 1.0 / (26f32.sqrt() + 1e-6);
        assert!((w[0] - 3.0 * scale).abs() < 1e-6 && (w[1] - 4.0 * scale).abs() < 1e-6);
        // Under the limit nothing changes.
        let loss = layer
            .forward(Tensor::<2>::from_data(
                TensorData::new(vec![0.1f32, 0.1], [1, 2]),
                &device,
            ))
            .sum();
        let grads = clip_global_norm(
            GradientsParams::from_grads(loss.backward(), &layer),
            &layer,
            10.0,
        );
        let b: Vec<f32> = grads
            .get::<1>(layer.bias.as_ref().unwrap().id)
            .unwrap()
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(b, vec![1.0]);
    }

    #[test]
    fn decays_matrices_only() {
        let config = model_format::VitConfig::custom(16, 8, 8, 1, 2, 2);
        let model = Vit::new(&config, &Device::flex());
        let ids = no_decay_ids(&model);
        // cls, pos, patch bias, per block: 2 norms x 2 + qkv/proj/fc1/fc2 biases, final norm 2,
        // head bias.
        assert_eq!(ids.len(), 2 + 1 + (4 + 4) + 2 + 1);
        assert!(ids.contains(&model.cls_token.id) && !ids.contains(&model.head.weight.id));
    }
}
