//! MTCNN face detection (Zhang et al. 2016) as facenet-pytorch runs it: P-Net over an
//! image pyramid, R-Net and O-Net on the candidates, with their NMS, box regression,
//! squaring and five landmarks. The networks run on any Burn device; the glue (pyramid
//! resampling, candidate boxes, NMS) runs on the host in f32, as facenet-pytorch's does.
//!
//! Detection reads network outputs back from the device between stages; it is `async` so
//! that the page can await WebGPU reads. Native callers drive it with any executor.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PRelu, PReluConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::file::{WeightTensor, Weights};

/// Detection settings; the defaults are facenet-pytorch's.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MtcnnConfig {
    /// Smallest face side searched for, in pixels.
    pub min_face_size: f64,
    /// Score thresholds of P-Net, R-Net and O-Net.
    pub thresholds: [f32; 3],
    /// Ratio between pyramid levels.
    pub factor: f64,
}

impl Default for MtcnnConfig {
    fn default() -> Self {
        Self {
            min_face_size: 20.0,
            thresholds: [0.6, 0.7, 0.7],
            factor: 0.709,
        }
    }
}

impl MtcnnConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.min_face_size.is_finite() && self.min_face_size >= 12.0) {
            return Err(ConfigError::MinFaceSize(self.min_face_size));
        }
        if !(self.factor > 0.1 && self.factor < 0.95) {
            return Err(ConfigError::Factor(self.factor));
        }
        if self.thresholds.iter().any(|t| !(0.0..=1.0).contains(t)) {
            return Err(ConfigError::Thresholds(self.thresholds));
        }
        Ok(())
    }

    /// The tensors of the three networks (facenet-pytorch's names under `pnet.`, `rnet.`,
    /// `onet.`), with their shapes.
    pub fn tensor_shapes() -> Vec<(String, Vec<usize>)> {
        let conv = |net: &str, name: &str, out: usize, inp: usize, k: usize| {
            vec![
                (format!("{net}.{name}.weight"), vec![out, inp, k, k]),
                (format!("{net}.{name}.bias"), vec![out]),
            ]
        };
        let dense = |net: &str, name: &str, out: usize, inp: usize| {
            vec![
                (format!("{net}.{name}.weight"), vec![out, inp]),
                (format!("{net}.{name}.bias"), vec![out]),
            ]
        };
        let prelu =
            |net: &str, name: &str, n: usize| vec![(format!("{net}.{name}.weight"), vec![n])];
        [
            conv("pnet", "conv1", 10, 3, 3),
            prelu("pnet", "prelu1", 10),
            conv("pnet", "conv2", 16, 10, 3),
            prelu("pnet", "prelu2", 16),
            conv("pnet", "conv3", 32, 16, 3),
            prelu("pnet", "prelu3", 32),
            conv("pnet", "conv4_1", 2, 32, 1),
            conv("pnet", "conv4_2", 4, 32, 1),
            conv("rnet", "conv1", 28, 3, 3),
            prelu("rnet", "prelu1", 28),
            conv("rnet", "conv2", 48, 28, 3),
            prelu("rnet", "prelu2", 48),
            conv("rnet", "conv3", 64, 48, 2),
            prelu("rnet", "prelu3", 64),
            dense("rnet", "dense4", 128, 576),
            prelu("rnet", "prelu4", 128),
            dense("rnet", "dense5_1", 2, 128),
            dense("rnet", "dense5_2", 4, 128),
            conv("onet", "conv1", 32, 3, 3),
            prelu("onet", "prelu1", 32),
            conv("onet", "conv2", 64, 32, 3),
            prelu("onet", "prelu2", 64),
            conv("onet", "conv3", 64, 64, 3),
            prelu("onet", "prelu3", 64),
            conv("onet", "conv4", 128, 64, 2),
            prelu("onet", "prelu4", 128),
            dense("onet", "dense5", 256, 1152),
            prelu("onet", "prelu5", 256),
            dense("onet", "dense6_1", 2, 256),
            dense("onet", "dense6_2", 4, 256),
            dense("onet", "dense6_3", 10, 256),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Builds Burn layers from facenet-pytorch-named weights.
struct Loader<'a> {
    weights: &'a Weights,
    device: &'a Device,
    net: &'static str,
}

impl Loader<'_> {
    fn tensor<const D: usize>(&self, name: &str) -> Tensor<D> {
        let key = format!("{}.{name}", self.net);
        let w: &WeightTensor = self
            .weights
            .get(&key)
            .unwrap_or_else(|| panic!("weight {key} missing (validate the file first)"));
        Tensor::from_data(
            TensorData::new(w.data.clone(), w.shape.clone()),
            self.device,
        )
    }

    fn conv(&self, name: &str, channels: [usize; 2], kernel: usize) -> Conv2d {
        let mut conv = Conv2dConfig::new(channels, [kernel, kernel]).init(self.device);
        conv.weight = Param::from_tensor(self.tensor(&format!("{name}.weight")));
        conv.bias = Some(Param::from_tensor(self.tensor(&format!("{name}.bias"))));
        conv
    }

    fn prelu(&self, name: &str, channels: usize) -> PRelu {
        let mut prelu = PReluConfig::new()
            .with_num_parameters(channels)
            .init(self.device);
        prelu.alpha = Param::from_tensor(self.tensor(&format!("{name}.weight")));
        prelu
    }

    /// PyTorch's `[out, in]` weight, transposed to Burn's `[in, out]`.
    fn dense(&self, name: &str, d_in: usize, d_out: usize) -> Linear {
        let mut linear = LinearConfig::new(d_in, d_out).init(self.device);
        let weight: Tensor<2> = self.tensor(&format!("{name}.weight"));
        linear.weight = Param::from_tensor(weight.transpose());
        linear.bias = Some(Param::from_tensor(self.tensor(&format!("{name}.bias"))));
        linear
    }
}

fn max_pool(kernel: usize, stride: usize) -> MaxPool2d {
    MaxPool2dConfig::new([kernel, kernel])
        .with_strides([stride, stride])
        .with_ceil_mode(true)
        .init()
}

/// Flattens `[B, C, H, W]` in facenet's order: `permute(0, 3, 2, 1)` then row-major.
fn flatten_whc(x: Tensor<4>) -> Tensor<2> {
    let [b, c, h, w] = x.dims();
    x.permute([0, 3, 2, 1]).reshape([b, w * h * c])
}

/// Proposal network: fully convolutional, one candidate per 12x12 cell (stride 2).
#[derive(Module, Debug)]
pub struct PNet {
    conv1: Conv2d,
    prelu1: PRelu,
    pool1: MaxPool2d,
    conv2: Conv2d,
    prelu2: PRelu,
    conv3: Conv2d,
    prelu3: PRelu,
    conv4_1: Conv2d,
    conv4_2: Conv2d,
}

impl PNet {
    /// `[B, 3, H, W]` -> (box regression `[B, 4, h, w]`, face probability `[B, 2, h, w]`).
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self.prelu2.forward(self.conv2.forward(x));
        let x = self.prelu3.forward(self.conv3.forward(x));
        (
            self.conv4_2.forward(x.clone()),
            softmax(self.conv4_1.forward(x), 1),
        )
    }
}

/// Refinement network on 24x24 crops.
#[derive(Module, Debug)]
pub struct RNet {
    conv1: Conv2d,
    prelu1: PRelu,
    pool1: MaxPool2d,
    conv2: Conv2d,
    prelu2: PRelu,
    pool2: MaxPool2d,
    conv3: Conv2d,
    prelu3: PRelu,
    dense4: Linear,
    prelu4: PRelu,
    dense5_1: Linear,
    dense5_2: Linear,
}

impl RNet {
    /// `[B, 3, 24, 24]` -> (box regression `[B, 4]`, face probability `[B, 2]`).
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self
            .pool2
            .forward(self.prelu2.forward(self.conv2.forward(x)));
        let x = self.prelu3.forward(self.conv3.forward(x));
        let x = self.prelu4.forward(self.dense4.forward(flatten_whc(x)));
        (
            self.dense5_2.forward(x.clone()),
            softmax(self.dense5_1.forward(x), 1),
        )
    }
}

/// Output network on 48x48 crops, with landmarks.
#[derive(Module, Debug)]
pub struct ONet {
    conv1: Conv2d,
    prelu1: PRelu,
    pool1: MaxPool2d,
    conv2: Conv2d,
    prelu2: PRelu,
    pool2: MaxPool2d,
    conv3: Conv2d,
    prelu3: PRelu,
    pool3: MaxPool2d,
    conv4: Conv2d,
    prelu4: PRelu,
    dense5: Linear,
    prelu5: PRelu,
    dense6_1: Linear,
    dense6_2: Linear,
    dense6_3: Linear,
}

impl ONet {
    /// `[B, 3, 48, 48]` -> (box regression `[B, 4]`, landmarks `[B, 10]` (x1..x5, y1..y5),
    /// face probability `[B, 2]`).
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self
            .pool2
            .forward(self.prelu2.forward(self.conv2.forward(x)));
        let x = self
            .pool3
            .forward(self.prelu3.forward(self.conv3.forward(x)));
        let x = self.prelu4.forward(self.conv4.forward(x));
        let x = self.prelu5.forward(self.dense5.forward(flatten_whc(x)));
        (
            self.dense6_2.forward(x.clone()),
            self.dense6_3.forward(x.clone()),
            softmax(self.dense6_1.forward(x), 1),
        )
    }
}

/// The three networks.
#[derive(Module, Debug)]
pub struct MtcnnNets {
    pub pnet: PNet,
    pub rnet: RNet,
    pub onet: ONet,
}

impl MtcnnNets {
    /// Builds the networks from weights validated against [`MtcnnConfig::tensor_shapes`].
    pub fn from_weights(weights: &Weights, device: &Device) -> Self {
        let p = Loader {
            weights,
            device,
            net: "pnet",
        };
        let r = Loader {
            weights,
            device,
            net: "rnet",
        };
        let o = Loader {
            weights,
            device,
            net: "onet",
        };
        Self {
            pnet: PNet {
                conv1: p.conv("conv1", [3, 10], 3),
                prelu1: p.prelu("prelu1", 10),
                pool1: max_pool(2, 2),
                conv2: p.conv("conv2", [10, 16], 3),
                prelu2: p.prelu("prelu2", 16),
                conv3: p.conv("conv3", [16, 32], 3),
                prelu3: p.prelu("prelu3", 32),
                conv4_1: p.conv("conv4_1", [32, 2], 1),
                conv4_2: p.conv("conv4_2", [32, 4], 1),
            },
            rnet: RNet {
                conv1: r.conv("conv1", [3, 28], 3),
                prelu1: r.prelu("prelu1", 28),
                pool1: max_pool(3, 2),
                conv2: r.conv("conv2", [28, 48], 3),
                prelu2: r.prelu("prelu2", 48),
                pool2: max_pool(3, 2),
                conv3: r.conv("conv3", [48, 64], 2),
                prelu3: r.prelu("prelu3", 64),
                dense4: r.dense("dense4", 576, 128),
                prelu4: r.prelu("prelu4", 128),
                dense5_1: r.dense("dense5_1", 128, 2),
                dense5_2: r.dense("dense5_2", 128, 4),
            },
            onet: ONet {
                conv1: o.conv("conv1", [3, 32], 3),
                prelu1: o.prelu("prelu1", 32),
                pool1: max_pool(3, 2),
                conv2: o.conv("conv2", [32, 64], 3),
                prelu2: o.prelu("prelu2", 64),
                pool2: max_pool(3, 2),
                conv3: o.conv("conv3", [64, 64], 3),
                prelu3: o.prelu("prelu3", 64),
                pool3: max_pool(2, 2),
                conv4: o.conv("conv4", [64, 128], 2),
                prelu4: o.prelu("prelu4", 128),
                dense5: o.dense("dense5", 1152, 256),
                prelu5: o.prelu("prelu5", 256),
                dense6_1: o.dense("dense6_1", 256, 2),
                dense6_2: o.dense("dense6_2", 256, 4),
                dense6_3: o.dense("dense6_3", 256, 10),
            },
        }
    }
}
