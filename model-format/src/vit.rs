//! DeiT / ViT as Burn modules, laid out like timm's `VisionTransformer`
//! (class token, learned position embeddings, pre-norm blocks, fused-qkv attention,
//! exact GELU, final LayerNorm, linear head on the class token).
//!
//! The forward pass can also return, from the same pass, blocks' *attention class
//! tokens*: row 0 of `Attn(LayerNorm1(x))` after the output projection and before the
//! residual addition (the feature HaTFAS distils). `x` is either the block's own input
//! ([`TokenInput::BlockInput`], docs/METHOD.md) or, for every block, the embeddings
//! ([`TokenInput::Embeddings`], what the HaTFAS reference code computes).
//!
//! LayerScale (DINOv2, [`VitConfig::layer_scale`]): timm's `Block` computes
//! `x + ls1(attn(norm1(x)))` and `x + ls2(mlp(norm2(x)))`. In such a block the attention
//! class token is taken *after* `ls1`, i.e. exactly what the attention sub-layer adds to
//! the residual stream, for two reasons: (1) it keeps the definition "the sub-layer's
//! output before the residual addition" literal, so a block without LayerScale (gamma = 1)
//! and DeiT's blocks give the same feature; (2) it depends only on the function the block
//! computes: scaling the output projection by `c` and `ls1` by `1 / c` changes nothing the
//! network does but would change a token taken before `ls1` (per channel, since gamma
//! differs per channel, not just its norm, which the loss normalises away). DINOv2's
//! gammas range over two orders of magnitude across channels, so the choice matters.
//!
//! Mixed precision: with a `compute` dtype other than f32 ([`Vit::forward_mixed`]), every
//! matrix product (the linear layers and both attention products) takes its inputs cast
//! down to that dtype and gives its result back as f32, like PyTorch's autocast; the
//! parameters, norms, softmax, GELU, residuals and the loss stay f32. The casts are
//! differentiable, so the gradients reach the f32 parameters.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::softmax;

use crate::gelu::gelu;
use burn::tensor::{Device, FloatDType, Tensor, TensorData};

use crate::config::VitConfig;
use crate::file::{WeightTensor, Weights};

/// Logits and, when asked for, attention class tokens.
#[derive(Debug, Clone)]
pub struct VitOutput {
    /// `[batch, num_classes]`
    pub logits: Tensor<2>,
    /// One `[batch, embed_dim]` tensor per requested block, in the order requested (empty
    /// unless requested).
    pub class_tokens: Vec<Tensor<2>>,
}

/// What a block's attention class token is computed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TokenInput {
    /// Block i's attention on block i's own input: the token of the forward pass itself
    /// (docs/METHOD.md).
    #[default]
    BlockInput,
    /// Block i's attention (with its `norm1`) applied to the embeddings (class token,
    /// patches and position embedding: the first block's input), for every block i. This
    /// is what the HaTFAS reference code distils: its `customized_forward.py` loops over
    /// the blocks calling `blk.attn(blk.norm1(x))` without ever updating `x`, then runs the
    /// blocks for the logits. Only the class-token row is computed here (query row 0),
    /// which gives the same values at about half the cost of a full attention sub-layer.
    Embeddings,
}

/// Which attention class tokens a forward pass also returns.
#[derive(Clone, Copy, Debug)]
pub struct TokenRequest<'a> {
    /// Block indices (0-based), in the order the tokens are returned; may repeat.
    pub blocks: &'a [usize],
    pub input: TokenInput,
}

/// Multi-head self-attention with one fused `qkv` projection (timm's layout).
#[derive(Module, Debug)]
pub struct Attention {
    pub qkv: Linear,
    pub proj: Linear,
    num_heads: usize,
}

impl Attention {
    /// `[batch, tokens, dim]` -> `[batch, tokens, dim]`, matrix products in `compute`.
    pub fn forward(&self, x: Tensor<3>, compute: FloatDType) -> Tensor<3> {
        let [batch, tokens, dim] = x.dims();
        let head_dim = dim / self.num_heads;
        // [B, N, 3D] -> [3, B, H, N, hd]: one reshape, one permute, then three views.
        let qkv = linear(&self.qkv, x, compute)
            .reshape([batch, tokens, 3, self.num_heads, head_dim])
            .permute([2, 0, 3, 1, 4]);
        let [q, k, v] = [0, 1, 2].map(|i| {
            qkv.clone()
                .narrow(0, i, 1)
                .reshape([batch, self.num_heads, tokens, head_dim])
        });
        let context = attend(q, k, v, compute)
            .swap_dims(1, 2)
            .reshape([batch, tokens, dim]);
        linear(&self.proj, context, compute)
    }

    /// Row 0 of [`Attention::forward`]: `[batch, tokens, dim]` -> `[batch, dim]`, with the
    /// query of the class token only (keys and values of every token).
    pub fn class_token(&self, x: Tensor<3>, compute: FloatDType) -> Tensor<2> {
        let [batch, tokens, dim] = x.dims();
        let (heads, head_dim) = (self.num_heads, dim / self.num_heads);
        // The fused [q | k | v] projection, split by output columns.
        let weight = self.qkv.weight.val();
        let bias = self.qkv.bias.as_ref().map(|b| b.val());
        let project = |x: Tensor<3>, columns: std::ops::Range<usize>| {
            let w = weight.clone().narrow(1, columns.start, columns.len());
            let y = matmul(x, w.unsqueeze(), compute);
            match &bias {
                Some(b) => {
                    y + b
                        .clone()
                        .narrow(0, columns.start, columns.len())
                        .unsqueeze()
                }
                None => y,
            }
        };
        let q = project(x.clone().narrow(1, 0, 1), 0..dim) // [B, 1, D]
            .reshape([batch, 1, heads, head_dim])
            .swap_dims(1, 2); // [B, H, 1, hd]
        let kv = project(x, dim..3 * dim)
            .reshape([batch, tokens, 2, heads, head_dim])
            .permute([2, 0, 3, 1, 4]); // [2, B, H, N, hd]
        let [k, v] = [0, 1].map(|i| {
            kv.clone()
                .narrow(0, i, 1)
                .reshape([batch, heads, tokens, head_dim])
        });
        let context = attend(q, k, v, compute).reshape([batch, 1, dim]); // from [B, H, 1, hd]
        linear(&self.proj, context, compute).reshape([batch, dim])
    }
}

/// `softmax(q k^T / sqrt(hd)) v` over `[B, H, queries, hd]` queries and `[B, H, N, hd]`
/// keys and values, as timm computes it. Written out rather than Burn's fused `attention`:
/// as fast on the CPU backend at batch 16, faster at batch 1, and differentiable on every
/// backend (training needs its gradient).
fn attend(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, compute: FloatDType) -> Tensor<4> {
    let [.., head_dim] = q.dims();
    let scores = matmul(
        q.mul_scalar((head_dim as f64).powf(-0.5)),
        k.swap_dims(2, 3),
        compute,
    );
    matmul(softmax(scores, 3), v, compute)
}

/// The two-layer MLP of a block.
#[derive(Module, Debug)]
pub struct Mlp {
    pub fc1: Linear,
    pub fc2: Linear,
}

impl Mlp {
    pub fn forward(&self, x: Tensor<3>, compute: FloatDType) -> Tensor<3> {
        linear(&self.fc2, gelu(linear(&self.fc1, x, compute)), compute)
    }
}

/// LayerScale: a learned factor per channel (timm's `LayerScale`, DINOv2's
/// `layer_scale1/2.lambda1`).
#[derive(Module, Debug)]
pub struct LayerScale {
    /// `[D]`
    pub gamma: Param<Tensor<1>>,
}

/// timm's `init_values` for a fresh DINOv2 (its `vit_small_patch14_dinov2`): blocks
/// start close to the identity. Imported weights replace it.
pub const LAYER_SCALE_INIT: f32 = 1e-5;

impl LayerScale {
    /// `x * gamma` over the last dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        x * self.gamma.val().unsqueeze()
    }
}

/// `x`, times the LayerScale factor when there is one.
fn scaled<const D: usize>(scale: &Option<LayerScale>, x: Tensor<D>) -> Tensor<D> {
    match scale {
        Some(scale) => scale.forward(x),
        None => x,
    }
}

/// A pre-norm transformer encoder block (with LayerScale when `ls1`/`ls2` are present).
#[derive(Module, Debug)]
pub struct Block {
    pub norm1: LayerNorm,
    pub attn: Attention,
    pub ls1: Option<LayerScale>,
    pub norm2: LayerNorm,
    pub mlp: Mlp,
    pub ls2: Option<LayerScale>,
}

impl Block {
    /// Returns the block output and its attention sub-layer output: what is added to the
    /// residual (after `ls1` when the block has LayerScale; see the module docs).
    pub fn forward(&self, x: Tensor<3>, compute: FloatDType) -> (Tensor<3>, Tensor<3>) {
        let attn_out = scaled(
            &self.ls1,
            self.attn.forward(self.norm1.forward(x.clone()), compute),
        );
        let x = x + attn_out.clone();
        let mlp_out = self.mlp.forward(self.norm2.forward(x.clone()), compute);
        let x = x + scaled(&self.ls2, mlp_out);
        (x, attn_out)
    }

    /// Row 0 of the attention sub-layer output (after `ls1`) for input `x`, computing the
    /// class token's query only: `[batch, tokens, dim]` -> `[batch, dim]`.
    pub fn attention_class_token(&self, x: Tensor<3>, compute: FloatDType) -> Tensor<2> {
        scaled(
            &self.ls1,
            self.attn.class_token(self.norm1.forward(x), compute),
        )
    }
}

/// A DeiT / ViT image classifier.
#[derive(Module, Debug)]
pub struct Vit {
    pub patch_embed: Conv2d,
    /// `[1, 1, D]`
    pub cls_token: Param<Tensor<3>>,
    /// `[1, tokens, D]`
    pub pos_embed: Param<Tensor<3>>,
    pub blocks: Vec<Block>,
    pub norm: LayerNorm,
    pub head: Linear,
}

/// Normal(0, std) values clipped to +-2 std, as timm's `trunc_normal_` initialisation.
fn trunc_normal<const D: usize>(shape: [usize; D], std: f64, device: &Device) -> Tensor<D> {
    use burn::tensor::Distribution;
    Tensor::random(shape, Distribution::Normal(0.0, std), device).clamp(-2.0 * std, 2.0 * std)
}

impl Vit {
    /// A freshly initialised model (timm's scheme: truncated normal 0.02 for the token
    /// embeddings and linear weights, zero biases, unit norms).
    pub fn new(config: &VitConfig, device: &Device) -> Self {
        let d = config.embed_dim;
        let eps = config.layer_norm_eps;
        let linear = |d_in: usize, d_out: usize| {
            let mut layer = LinearConfig::new(d_in, d_out).init(device);
            layer.weight = Param::from_tensor(trunc_normal([d_in, d_out], 0.02, device));
            layer.bias = Some(Param::from_tensor(Tensor::zeros([d_out], device)));
            layer
        };
        let norm = || LayerNormConfig::new(d).with_epsilon(eps).init(device);
        let layer_scale = || {
            config.layer_scale.then(|| LayerScale {
                gamma: Param::from_tensor(Tensor::full([d], LAYER_SCALE_INIT, device)),
            })
        };
        let blocks = (0..config.depth)
            .map(|_| Block {
                norm1: norm(),
                attn: Attention {
                    qkv: linear(d, 3 * d),
                    proj: linear(d, d),
                    num_heads: config.num_heads,
                },
                ls1: layer_scale(),
                norm2: norm(),
                mlp: Mlp {
                    fc1: linear(d, config.mlp_hidden_dim),
                    fc2: linear(config.mlp_hidden_dim, d),
                },
                ls2: layer_scale(),
            })
            .collect();
        let p = config.patch_size;
        Self {
            patch_embed: Conv2dConfig::new([config.in_channels, d], [p, p])
                .with_stride([p, p])
                .init(device),
            cls_token: Param::from_tensor(trunc_normal([1, 1, d], 0.02, device)),
            pos_embed: Param::from_tensor(trunc_normal([1, config.num_tokens(), d], 0.02, device)),
            blocks,
            norm: norm(),
            head: linear(d, config.num_classes),
        }
    }

    /// Builds the model from timm-named f32 weights (as a [`crate::ModelFile`] holds them).
    /// Shapes must already have been validated against `config` (the file reader does).
    pub fn from_weights(config: &VitConfig, weights: &Weights, device: &Device) -> Self {
        let mut model = Self::new(config, device);
        model.load_weights(weights, device);
        model
    }

    /// Replaces every parameter with the timm-named weight of the same name.
    ///
    /// # Panics
    /// When a tensor is missing or has the wrong size: validate the weights first
    /// (`ModelFile::validate`).
    pub fn load_weights(&mut self, weights: &Weights, device: &Device) {
        let get = |name: &str| -> &WeightTensor {
            weights
                .get(name)
                .unwrap_or_else(|| panic!("weight {name} missing (validate the file first)"))
        };
        let tensor = |name: &str| -> TensorData {
            let w = get(name);
            TensorData::new(w.data.clone(), w.shape.clone())
        };
        // timm stores Linear weights as [out, in]; Burn's Linear multiplies by [in, out].
        let linear = |layer: &mut Linear, prefix: &str| {
            let w = get(&format!("{prefix}.weight"));
            let (rows, cols) = (w.shape[0], w.shape[1]);
            let transposed = transpose(&w.data, rows, cols);
            layer.weight = Param::from_data(TensorData::new(transposed, [cols, rows]), device);
            layer.bias = Some(Param::from_data(tensor(&format!("{prefix}.bias")), device));
        };
        let norm = |layer: &mut LayerNorm, prefix: &str| {
            layer.gamma = Param::from_data(tensor(&format!("{prefix}.weight")), device);
            layer.beta = Some(Param::from_data(tensor(&format!("{prefix}.bias")), device));
        };
        let layer_scale = |scale: &mut Option<LayerScale>, name: &str| {
            if let Some(scale) = scale {
                scale.gamma = Param::from_data(tensor(name), device);
            }
        };

        self.patch_embed.weight = Param::from_data(tensor("patch_embed.proj.weight"), device);
        self.patch_embed.bias = Some(Param::from_data(tensor("patch_embed.proj.bias"), device));
        self.cls_token = Param::from_data(tensor("cls_token"), device);
        self.pos_embed = Param::from_data(tensor("pos_embed"), device);
        for (i, block) in self.blocks.iter_mut().enumerate() {
            let b = format!("blocks.{i}");
            norm(&mut block.norm1, &format!("{b}.norm1"));
            linear(&mut block.attn.qkv, &format!("{b}.attn.qkv"));
            linear(&mut block.attn.proj, &format!("{b}.attn.proj"));
            layer_scale(&mut block.ls1, &format!("{b}.ls1.gamma"));
            norm(&mut block.norm2, &format!("{b}.norm2"));
            linear(&mut block.mlp.fc1, &format!("{b}.mlp.fc1"));
            linear(&mut block.mlp.fc2, &format!("{b}.mlp.fc2"));
            layer_scale(&mut block.ls2, &format!("{b}.ls2.gamma"));
        }
        norm(&mut self.norm, "norm");
        linear(&mut self.head, "head");
    }

    /// The parameters as timm-named f32 weights (reads them back from the device).
    pub fn to_weights(&self) -> Weights {
        let mut entries: Vec<(String, Tensor<1>, Vec<usize>)> = Vec::new();
        let mut param = |name: String, value: Tensor<1>, shape: Vec<usize>| {
            entries.push((name, value, shape));
        };
        let flatten = |value: Tensor<4>| {
            let shape = value.dims().to_vec();
            (value.reshape([shape.iter().product::<usize>()]), shape)
        };
        let linear =
            |layer: &Linear, prefix: &str, param: &mut dyn FnMut(String, Tensor<1>, Vec<usize>)| {
                let [d_in, d_out] = layer.weight.dims();
                // Burn's [in, out] back to timm's [out, in].
                let weight = layer.weight.val().transpose().reshape([d_in * d_out]);
                param(format!("{prefix}.weight"), weight, vec![d_out, d_in]);
                let bias = layer
                    .bias
                    .as_ref()
                    .expect("linear layers have a bias")
                    .val();
                param(format!("{prefix}.bias"), bias, vec![d_out]);
            };
        let norm = |layer: &LayerNorm,
                    prefix: &str,
                    param: &mut dyn FnMut(String, Tensor<1>, Vec<usize>)| {
            let [d] = layer.gamma.dims();
            param(format!("{prefix}.weight"), layer.gamma.val(), vec![d]);
            let beta = layer.beta.as_ref().expect("layer norms have a bias").val();
            param(format!("{prefix}.bias"), beta, vec![d]);
        };

        let (weight, shape) = flatten(self.patch_embed.weight.val());
        param("patch_embed.proj.weight".into(), weight, shape);
        let bias = self
            .patch_embed
            .bias
            .as_ref()
            .expect("patch embedding has a bias");
        param(
            "patch_embed.proj.bias".into(),
            bias.val(),
            bias.dims().to_vec(),
        );
        for (name, token) in [
            ("cls_token", &self.cls_token),
            ("pos_embed", &self.pos_embed),
        ] {
            let shape = token.dims().to_vec();
            let n = shape.iter().product::<usize>();
            param(name.into(), token.val().reshape([n]), shape);
        }
        for (i, block) in self.blocks.iter().enumerate() {
            let b = format!("blocks.{i}");
            norm(&block.norm1, &format!("{b}.norm1"), &mut param);
            linear(&block.attn.qkv, &format!("{b}.attn.qkv"), &mut param);
            linear(&block.attn.proj, &format!("{b}.attn.proj"), &mut param);
            for (scale, name) in [(&block.ls1, "ls1"), (&block.ls2, "ls2")] {
                if let Some(scale) = scale {
                    let [d] = scale.gamma.dims();
                    param(format!("{b}.{name}.gamma"), scale.gamma.val(), vec![d]);
                }
            }
            norm(&block.norm2, &format!("{b}.norm2"), &mut param);
            linear(&block.mlp.fc1, &format!("{b}.mlp.fc1"), &mut param);
            linear(&block.mlp.fc2, &format!("{b}.mlp.fc2"), &mut param);
        }
        norm(&self.norm, "norm", &mut param);
        linear(&self.head, "head", &mut param);

        entries
            .into_iter()
            .map(|(name, value, shape)| {
                let data = value
                    .into_data()
                    .try_into_vec_as::<f32>()
                    .expect("parameters are float tensors");
                (name, WeightTensor { shape, data })
            })
            .collect()
    }

    /// `[batch, 3, H, W]` normalised images -> logits `[batch, classes]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_mixed(images, None, FloatDType::F32).logits
    }

    /// Logits and every block's attention class token on its own input, in block order
    /// (what the head-aware loss reads).
    pub fn forward_with_class_tokens(&self, images: Tensor<4>) -> VitOutput {
        let every_block: Vec<usize> = (0..self.blocks.len()).collect();
        let request = TokenRequest {
            blocks: &every_block,
            input: TokenInput::BlockInput,
        };
        self.forward_mixed(images, Some(request), FloatDType::F32)
    }

    /// Logits and the requested class tokens, with the matrix products in `compute` (mixed
    /// precision, see the module docs; `FloatDType::F32` is the plain forward).
    ///
    /// # Panics
    /// If a requested block index is not below the depth.
    pub fn forward_mixed(
        &self,
        images: Tensor<4>,
        tokens: Option<TokenRequest>,
        compute: FloatDType,
    ) -> VitOutput {
        let (features, class_tokens) = self.forward_features(images, tokens, compute);
        VitOutput {
            logits: linear(&self.head, class_token(features), compute),
            class_tokens,
        }
    }

    /// The final LayerNorm's output for every token, `[batch, tokens, dim]` (the
    /// backbone's features: the head reads row 0), and the requested class tokens.
    ///
    /// # Panics
    /// If a requested block index is not below the depth.
    pub fn forward_features(
        &self,
        images: Tensor<4>,
        tokens: Option<TokenRequest>,
        compute: FloatDType,
    ) -> (Tensor<3>, Vec<Tensor<2>>) {
        let requested = tokens.map_or(&[][..], |r| r.blocks);
        if let Some(&bad) = requested.iter().find(|&&b| b >= self.blocks.len()) {
            panic!(
                "class token of block {bad} requested; the model has {} blocks",
                self.blocks.len()
            );
        }
        let mut x = self.embed(images);
        let mut by_block: Vec<Option<Tensor<2>>> = vec![None; self.blocks.len()];
        if tokens.is_some_and(|r| r.input == TokenInput::Embeddings) {
            for &b in requested {
                let block = &self.blocks[b];
                by_block[b].get_or_insert_with(|| block.attention_class_token(x.clone(), compute));
            }
        }
        for (b, block) in self.blocks.iter().enumerate() {
            let (out, attn_out) = block.forward(x, compute);
            if by_block[b].is_none() && requested.contains(&b) {
                by_block[b] = Some(class_token(attn_out));
            }
            x = out;
        }
        let class_tokens = requested
            .iter()
            .map(|&b| by_block[b].clone().expect("computed above"))
            .collect();
        (self.norm.forward(x), class_tokens)
    }

    /// Patch embedding, class token and position embedding: `[B, tokens, D]` (the first
    /// block's input).
    pub fn embed(&self, images: Tensor<4>) -> Tensor<3> {
        let patches = self.patch_embed.forward(images); // [B, D, g, g]
        let [batch, dim, gh, gw] = patches.dims();
        let patches = patches.reshape([batch, dim, gh * gw]).swap_dims(1, 2);
        let cls = self.cls_token.val().expand([batch, 1, dim]);
        Tensor::cat(vec![cls, patches], 1) + self.pos_embed.val()
    }
}

/// `a @ b` with both inputs in `compute` and the result in f32.
fn matmul<const D: usize>(a: Tensor<D>, b: Tensor<D>, compute: FloatDType) -> Tensor<D> {
    if compute == FloatDType::F32 {
        return a.matmul(b);
    }
    a.cast(compute)
        .matmul(b.cast(compute))
        .cast(FloatDType::F32)
}

/// A linear layer whose product runs in `compute` (the bias is added in f32).
fn linear<const D: usize>(layer: &Linear, x: Tensor<D>, compute: FloatDType) -> Tensor<D> {
    if compute == FloatDType::F32 {
        return layer.forward(x);
    }
    let y = matmul(x, layer.weight.val().unsqueeze(), compute);
    match &layer.bias {
        Some(bias) => y + bias.val().unsqueeze(),
        None => y,
    }
}

/// Row 0 of every sequence: `[B, N, D]` -> `[B, D]`.
fn class_token(x: Tensor<3>) -> Tensor<2> {
    let [batch, _, dim] = x.dims();
    x.narrow(1, 0, 1).reshape([batch, dim])
}

/// Row-major `[rows, cols]` -> `[cols, rows]`.
fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = data[r * cols + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, ModuleMapper, Param};
    use burn::optim::GradientsParams;
    use burn::tensor::{DType, Distribution, FloatDType, Tensor};

    use super::{TokenInput, TokenRequest, Vit};
    use crate::config::VitConfig;

    /// Every block's token on its own input.
    const ALL_BLOCKS: TokenRequest = TokenRequest {
        blocks: &[0, 1],
        input: TokenInput::BlockInput,
    };

    fn max_abs(t: Tensor<2>) -> f32 {
        t.abs().max().into_scalar::<f32>()
    }

    /// Multiplies every parameter by a factor (new autodiff leaves).
    struct Scale(f64);

    impl ModuleMapper for Scale {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| t.mul_scalar(self.0).detach().require_grad())
        }
    }

    /// The largest difference between `a` and `b`, relative to `a`'s largest magnitude.
    fn relative_error(a: &Tensor<2>, b: &Tensor<2>) -> f32 {
        max_abs(a.clone() - b.clone()) / max_abs(a.clone())
    }

    fn model_and_images() -> (Vit, Tensor<4>) {
        let device = burn::tensor::Device::flex().autodiff();
        device.seed(3);
        // Weights larger than timm's init so that the products, not the biases, dominate.
        let config = VitConfig::custom(32, 8, 48, 2, 3, 2);
        let vit = Vit::new(&config, &device).map(&mut Scale(4.0));
        let images = Tensor::random([4, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
        (vit, images)
    }

    #[test]
    fn mixed_precision_forward_stays_close_to_f32_but_is_not_f32() {
        let (vit, images) = model_and_images();
        let exact = vit.forward_with_class_tokens(images.clone());
        let plain = vit.forward_mixed(images.clone(), Some(ALL_BLOCKS), FloatDType::F32);
        assert_eq!(relative_error(&exact.logits, &plain.logits), 0.0);
        // bf16 keeps 8 significant bits, f16 11: the errors must show that the products
        // really ran in reduced precision, and stay small.
        for (dtype, bound) in [(FloatDType::BF16, 5e-2), (FloatDType::F16, 1e-2)] {
            let mixed = vit.forward_mixed(images.clone(), Some(ALL_BLOCKS), dtype);
            assert_eq!(mixed.logits.dtype(), DType::F32);
            let error = relative_error(&exact.logits, &mixed.logits);
            assert!(
                error > 0.0 && error < bound,
                "{dtype:?}: logits error {error}"
            );
            for (block, (a, b)) in exact
                .class_tokens
                .iter()
                .zip(&mixed.class_tokens)
                .enumerate()
            {
                let error = relative_error(a, b);
                assert!(
                    error > 0.0 && error < bound,
                    "{dtype:?} block {block}: {error}"
                );
            }
        }
    }

    #[test]
    fn mixed_precision_gradients_reach_the_f32_parameters() {
        let (vit, images) = model_and_images();
        let grads_of = |dtype: FloatDType| {
            let out = vit.forward_mixed(images.clone(), Some(ALL_BLOCKS), dtype);
            let loss = out.logits.powf_scalar(2.0).sum() + out.class_tokens[1].clone().sum();
            GradientsParams::from_grads(loss.backward(), &vit)
        };
        let (exact, mixed) = (grads_of(FloatDType::F32), grads_of(FloatDType::BF16));
        let inner = burn::tensor::Device::flex();
        let block = &vit.blocks[0];
        let params: [(&str, burn::module::ParamId); 4] = [
            ("blocks.0.attn.qkv.weight", block.attn.qkv.weight.id),
            ("blocks.0.mlp.fc1.weight", block.mlp.fc1.weight.id),
            ("head.weight", vit.head.weight.id),
            ("pos_embed", vit.pos_embed.id),
        ];
        for (name, id) in params {
            let flat = |grads: &GradientsParams| -> Tensor<1> {
                if name == "pos_embed" {
                    grads.get::<3>(id).unwrap().reshape([-1])
                } else {
                    grads.get::<2>(id).unwrap().reshape([-1])
                }
            };
            let (a, b) = (flat(&exact), flat(&mixed));
            assert_eq!(b.dtype(), DType::F32, "{name}");
            let (a, b) = (a.to_device(&inner), b.to_device(&inner));
            let dot =
                |x: &Tensor<1>, y: &Tensor<1>| (x.clone() * y.clone()).sum().into_scalar::<f32>();
            let (ab, aa, bb) = (dot(&a, &b), dot(&a, &a), dot(&b, &b));
            let cosine = ab / (aa * bb).sqrt();
            let norm_ratio = (bb / aa).sqrt();
            assert!(cosine > 0.995, "{name}: cosine {cosine}");
            assert!(
                (norm_ratio - 1.0).abs() < 0.05,
                "{name}: norm ratio {norm_ratio}"
            );
        }
    }

    /// The class-token-only attention (query row 0) equals row 0 of the full attention,
    /// and the `Embeddings` tokens are each block's attention on the embeddings, in the
    /// order requested, while the logits stay those of the plain forward.
    #[test]
    fn embedding_tokens_are_each_blocks_attention_on_the_embeddings() {
        let (vit, images) = model_and_images();
        let blocks = [1, 0, 1];
        let out = vit.forward_mixed(
            images.clone(),
            Some(TokenRequest {
                blocks: &blocks,
                input: TokenInput::Embeddings,
            }),
            FloatDType::F32,
        );
        let plain = vit.forward_with_class_tokens(images.clone());
        assert_eq!(relative_error(&plain.logits, &out.logits), 0.0);
        let embeddings = vit.embed(images);
        assert_eq!(out.class_tokens.len(), blocks.len());
        for (&b, token) in blocks.iter().zip(&out.class_tokens) {
            let block = &vit.blocks[b];
            let full = block
                .attn
                .forward(block.norm1.forward(embeddings.clone()), FloatDType::F32);
            let [batch, _, dim] = full.dims();
            let row0 = full.narrow(1, 0, 1).reshape([batch, dim]);
            let error = relative_error(&row0, token);
            assert!(error < 1e-6, "block {b}: {error}");
        }
        // Block 1's input is not the embeddings: its own-input token differs.
        let error = relative_error(&plain.class_tokens[1], &out.class_tokens[0]);
        assert!(error > 1e-2, "block 1 tokens should differ, {error}");
        // Block 0's input is the embeddings: both definitions agree.
        let error = relative_error(&plain.class_tokens[0], &out.class_tokens[1]);
        assert!(error < 1e-6, "block 0: {error}");
    }

    /// LayerScale multiplies each branch before its residual addition; gamma = 1 is the
    /// plain network; the attention class token is taken after `ls1`, by both token paths;
    /// the gammas travel through `to_weights` / `from_weights`.
    #[test]
    fn layer_scale_scales_each_branch_and_the_class_token_is_taken_after_it() {
        let (plain, images) = model_and_images();
        let device = images.device();
        let config = VitConfig {
            layer_scale: true,
            ..VitConfig::custom(32, 8, 48, 2, 3, 2)
        };
        let with_gammas = |gamma: &dyn Fn(usize, usize) -> f32| {
            let mut weights = plain.to_weights();
            for block in 0..2 {
                for (k, name) in ["ls1", "ls2"].iter().enumerate() {
                    let values = (0..48).map(|c| gamma(2 * block + k, c)).collect();
                    let tensor = crate::file::WeightTensor::new(vec![48], values);
                    weights.insert(format!("blocks.{block}.{name}.gamma"), tensor);
                }
            }
            weights
        };
        let reference = plain.forward_with_class_tokens(images.clone());
        let ones = Vit::from_weights(&config, &with_gammas(&|_, _| 1.0), &device);
        let out = ones.forward_with_class_tokens(images.clone());
        assert!(relative_error(&reference.logits, &out.logits) < 1e-6);

        // Signed gammas from 0.05 to 2.4, different per channel and per branch.
        let gamma =
            |i: usize, c: usize| (0.05 + 0.05 * ((c * 7 + i * 5) % 48) as f32) * [1.0, -1.0][c % 2];
        let weights = with_gammas(&gamma);
        let scaled = Vit::from_weights(&config, &weights, &device);
        assert_eq!(scaled.to_weights(), weights);
        let out = scaled.forward_with_class_tokens(images.clone());
        assert!(relative_error(&reference.logits, &out.logits) > 1e-2);
        // Block 0 sees the same embeddings in both models: its token is gamma * the plain one.
        let gamma0: Vec<f32> = (0..48).map(|c| gamma(0, c)).collect();
        let gamma0 = Tensor::<1>::from_data(burn::tensor::TensorData::new(gamma0, [48]), &device);
        let expected = reference.class_tokens[0].clone() * gamma0.unsqueeze();
        assert!(relative_error(&expected, &out.class_tokens[0]) < 1e-6);

        // The embeddings path applies ls1 too: block 1 on the embeddings.
        let tokens = scaled.forward_mixed(
            images.clone(),
            Some(TokenRequest {
                blocks: &[0, 1],
                input: TokenInput::Embeddings,
            }),
            FloatDType::F32,
        );
        assert!(relative_error(&out.class_tokens[0], &tokens.class_tokens[0]) < 1e-6);
        let (_, attn_out) = scaled.blocks[1].forward(scaled.embed(images), FloatDType::F32);
        let [batch, _, dim] = attn_out.dims();
        let row0 = attn_out.narrow(1, 0, 1).reshape([batch, dim]);
        assert!(relative_error(&row0, &tokens.class_tokens[1]) < 1e-6);
    }
}
