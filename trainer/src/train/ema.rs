//! Model EMA (timm's `ModelEmaV3` with warm-up): after every optimiser step,
//! `ema = d * ema + (1 - d) * model` with `d = min(decay, (1 + step) / (10 + step))`, so
//! that short runs are not dominated by the initial weights. The EMA lives outside the
//! autodiff graph. Parameters the model trains without (frozen: on an autodiff device but
//! requiring no gradient, see `freeze`) are left as they are rather than blended with
//! themselves, which would round them by an ulp now and then.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

/// The parameters of a module in visiting order, flattened, detached from autodiff and
/// gathered on one device (data-parallel training leaves them on several); `None` for a
/// frozen parameter.
struct Flatten {
    values: Vec<Option<Tensor<1>>>,
    device: Device,
}

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        if value.is_autodiff() && !value.is_require_grad() {
            self.values.push(None);
            return;
        }
        let value = value.inner().to_device(&self.device);
        let n = value.shape().num_elements();
        self.values.push(Some(value.reshape([n])));
    }
}

/// Blends each parameter with the next of `sources`: `d * self + (1 - d) * source`
/// (unchanged where the source is frozen).
struct Blend {
    sources: std::vec::IntoIter<Option<Tensor<1>>>,
    decay: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let source = self
            .sources
            .next()
            .expect("EMA and model have the same parameters");
        let Some(source) = source else {
            return param;
        };
        param.map(|ema| {
            let dims = ema.dims();
            ema.mul_scalar(self.decay) + source.reshape(dims).mul_scalar(1.0 - self.decay)
        })
    }
}

/// The decay of optimiser step `step` (0-based).
pub fn decay_at(decay: f64, step: u64) -> f64 {
    decay.min((1.0 + step as f64) / (10.0 + step as f64))
}

/// `ema <- d * ema + (1 - d) * model` for the decay of `step`. `ema` is a copy of `model`
/// without autodiff (`model.valid()`).
pub fn update<M: Module>(ema: M, model: &M, decay: f64, step: u64, device: &Device) -> M {
    let mut flat = Flatten {
        values: Vec::new(),
        device: device.clone(),
    };
    model.visit(&mut flat);
    ema.map(&mut Blend {
        sources: flat.values.into_iter(),
        decay: decay_at(decay, step),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::TensorData;

    fn linear(value: f32, device: &Device) -> Linear {
        let mut layer = LinearConfig::new(2, 1).init(device);
        layer.weight = Param::from_data(TensorData::new(vec![value; 2], [2, 1]), device);
        layer.bias = Some(Param::from_data(TensorData::new(vec![value], [1]), device));
        layer
    }

    #[test]
    fn blends_with_the_warmed_up_decay() {
        let device = Device::flex();
        let ema = linear(1.0, &device);
        let model = linear(3.0, &device);
        assert_eq!(decay_at(0.99996, 0), 0.1);
        assert_eq!(decay_at(0.9, 1_000_000), 0.9);
        // Step 0: d = 0.1, so 0.1 * 1 + 0.9 * 3 = 2.8.
        let ema = update(ema, &model, 0.99996, 0, &device);
        let weight: Vec<f32> = ema.weight.val().into_data().try_to_vec().unwrap();
        let bias: Vec<f32> = ema.bias.unwrap().val().into_data().try_to_vec().unwrap();
        assert!(weight.iter().chain(&bias).all(|v| (v - 2.8).abs() < 1e-6));
        // The EMA follows an autodiff model without joining its graph.
        let autodiff = device.clone().autodiff();
        let model = linear(5.0, &autodiff);
        let ema = update(linear(1.0, &device), &model, 0.5, 1_000, &device);
        let weight: Vec<f32> = ema.weight.val().into_data().try_to_vec().unwrap();
        assert!(weight.iter().all(|v| (v - 3.0).abs() < 1e-6));
        assert!(!ema.weight.val().is_autodiff());
    }
}
