//! A read-only index over an ONNX graph and the patterns of a PyTorch-exported Hugging Face
//! transformer that [`crate::weights::onnx_import`] looks for: linear layers (a `MatMul` by a
//! constant, plus a named bias), LayerNorms (decomposed or `LayerNormalization`),
//! LayerScale, residual sums, the head split, GELU, the patch embedding and the bicubic
//! resize of a constant-folded position embedding.
//!
//! A file can hold anything: every lookup returns an error that says what was expected,
//! never panics, and every walk through the graph is bounded (a hostile graph may have
//! dangling names or cycles).

use std::collections::{BTreeSet, HashMap, HashSet};

use anyhow::{Context, Result, bail, ensure};
use model_format::WeightTensor;
use onnx_protobuf::{AttributeProto, GraphProto, NodeProto, TensorProto};

/// ONNX `TensorProto.DataType` values.
const FLOAT: i32 = 1;
const INT64: i32 = 7;
/// ONNX `TensorProto.DataLocation::EXTERNAL`.
const EXTERNAL: i32 = 1;
/// Largest tensor decoded (elements); ViT-Large's biggest matrix has 4.2 M.
const MAX_ELEMENTS: usize = 1 << 28;
/// Steps of a walk along a chain of reshapes, casts and transposes.
const MAX_STEPS: usize = 8;

/// A linear layer: `input @ weight + bias`.
pub struct Linear {
    /// `[in, out]`, as the graph multiplies by it.
    pub weight: WeightTensor,
    pub bias: WeightTensor,
    pub input: String,
    pub output: String,
}

/// The constant-folded position embedding, as the graph adds it.
pub struct PositionEmbedding {
    /// The class token's row, `[D]`.
    pub class: Vec<f32>,
    /// The patch grid before resizing, row-major, `side^2` rows of D.
    pub grid: Vec<f32>,
    pub side: usize,
    /// The tokens with the position embedding added: the first block's input.
    pub embeddings: String,
}

/// A LayerNorm over the last dimension.
pub struct Norm {
    pub weight: WeightTensor,
    pub bias: WeightTensor,
    pub eps: f32,
    pub input: String,
    pub output: String,
}

/// The graph's nodes by the tensors they produce and read, and its constants (initialisers
/// and `Constant` nodes) by name.
pub struct Graph<'a> {
    nodes: &'a [NodeProto],
    producers: HashMap<&'a str, &'a NodeProto>,
    consumers: HashMap<&'a str, Vec<&'a NodeProto>>,
    constants: HashMap<&'a str, &'a TensorProto>,
    initialisers: Vec<&'a str>,
}

impl<'a> Graph<'a> {
    pub fn new(graph: &'a GraphProto) -> Self {
        let mut index = Self {
            nodes: &graph.node,
            producers: HashMap::new(),
            consumers: HashMap::new(),
            constants: HashMap::new(),
            initialisers: graph.initializer.iter().map(|t| t.name.as_str()).collect(),
        };
        for tensor in &graph.initializer {
            index.constants.insert(&tensor.name, tensor);
        }
        for node in &graph.node {
            for output in node.output.iter().filter(|o| !o.is_empty()) {
                index.producers.insert(output, node);
            }
            for input in node.input.iter().filter(|i| !i.is_empty()) {
                index.consumers.entry(input).or_default().push(node);
            }
            if node.op_type == "Constant"
                && let (Some(output), Some(value)) = (
                    node.output.first(),
                    attribute(node, "value").and_then(|a| a.t.as_ref()),
                )
            {
                index.constants.insert(output, value);
            }
        }
        index
    }

    /// The part before `suffix` of the one initialiser name that ends with it.
    pub fn name_prefix(&self, suffix: &str) -> Option<String> {
        let mut found = self.initialisers.iter().filter(|n| n.ends_with(suffix));
        let first = found.next()?;
        Some(first[..first.len() - suffix.len()].to_string())
    }

    /// The number of blocks named `{prefix}N.`, which must be numbered 0, 1, ... without gaps.
    pub fn block_count(&self, prefix: &str) -> Result<usize> {
        let indices: BTreeSet<usize> = self
            .initialisers
            .iter()
            .filter_map(|name| name.strip_prefix(prefix)?.split('.').next()?.parse().ok())
            .collect();
        let Some(&last) = indices.last() else {
            bail!("no encoder blocks (no tensor named {prefix}N.*)");
        };
        ensure!(last < 1000, "an encoder block numbered {last}");
        if let Some(missing) = (0..last).find(|i| !indices.contains(i)) {
            bail!(
                "encoder block {missing} is missing (the graph has tensors of blocks {})",
                indices
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(last + 1)
    }

    /// The float tensor `name` (an initialiser or a `Constant` node's value).
    pub fn float_constant(&self, name: &str) -> Result<WeightTensor> {
        let tensor = self
            .constants
            .get(name)
            .with_context(|| format!("tensor {name} is missing"))?;
        decode_f32(tensor).with_context(|| format!("tensor {name}"))
    }

    /// The int64 tensor `name`, if it is a constant.
    fn int_constant(&self, name: &str) -> Option<Vec<i64>> {
        self.constants.get(name).and_then(|t| decode_i64(t).ok())
    }

    fn users(&self, name: &str) -> &[&'a NodeProto] {
        self.consumers.get(name).map_or(&[], Vec::as_slice)
    }

    /// The first node of type `op` that reads `name`.
    fn user(&self, name: &str, op: &str) -> Option<&'a NodeProto> {
        self.users(name).iter().copied().find(|n| n.op_type == op)
    }

    /// The node of type `op` that produces `name`.
    fn produced_by(&self, name: &str, op: &str) -> Result<&'a NodeProto> {
        match self.producers.get(name) {
            Some(&node) if node.op_type == op => Ok(node),
            Some(node) => bail!("{name} comes from a {} node, expected {op}", node.op_type),
            None => bail!("nothing produces {name}, expected a {op} node"),
        }
    }

    /// The LayerNorm whose weight and bias are `{prefix}.weight` and `{prefix}.bias`.
    pub fn layer_norm(&self, prefix: &str, dim: usize) -> Result<Norm> {
        let (weight_name, bias_name) = (format!("{prefix}.weight"), format!("{prefix}.bias"));
        let weight = self.float_constant(&weight_name)?;
        let bias = self.float_constant(&bias_name)?;
        ensure!(
            weight.shape == [dim] && bias.shape == [dim],
            "{prefix}: weight {:?} and bias {:?}, expected [{dim}]",
            weight.shape,
            bias.shape
        );
        if let Some(node) = self.user(&weight_name, "LayerNormalization") {
            ensure!(
                node.input.get(2) == Some(&bias_name),
                "{prefix}: the LayerNormalization does not use {bias_name}"
            );
            let eps = attribute(node, "epsilon").map_or(1e-5, |a| a.f);
            return Ok(Norm {
                weight,
                bias,
                eps,
                input: input(node, 0)?.to_string(),
                output: input_or_output(&node.output, 0)?,
            });
        }
        self.decomposed_layer_norm(prefix, weight, bias)
            .with_context(|| format!("{prefix} is not a LayerNorm"))
    }

    /// `(x - mean(x)) / sqrt(var(x) + eps) * weight + bias` as older exports spell it.
    fn decomposed_layer_norm(
        &self,
        prefix: &str,
        weight: WeightTensor,
        bias: WeightTensor,
    ) -> Result<Norm> {
        let (weight_name, bias_name) = (format!("{prefix}.weight"), format!("{prefix}.bias"));
        let mul = self
            .user(&weight_name, "Mul")
            .with_context(|| format!("no node multiplies by {weight_name}"))?;
        let scaled = input_or_output(&mul.output, 0)?;
        let add = self
            .user(&bias_name, "Add")
            .filter(|add| add.input.contains(&scaled))
            .with_context(|| {
                format!("{bias_name} is not added to the product with {weight_name}")
            })?;
        let div = self.produced_by(other_input(mul, &weight_name)?, "Div")?;
        let sqrt = self.produced_by(input(div, 1)?, "Sqrt")?;
        let add_eps = self.produced_by(input(sqrt, 0)?, "Add")?;
        let eps = add_eps
            .input
            .iter()
            .find_map(|i| self.float_constant(i).ok().filter(|t| t.data.len() == 1))
            .context("no epsilon is added to the variance")?
            .data[0];
        let sub = self.produced_by(input(div, 0)?, "Sub")?;
        let x = input(sub, 0)?;
        let mean = self.produced_by(input(sub, 1)?, "ReduceMean")?;
        ensure!(
            input(mean, 0)? == x,
            "the mean is not of the normalised input"
        );
        Ok(Norm {
            weight,
            bias,
            eps,
            input: x.to_string(),
            output: input_or_output(&add.output, 0)?,
        })
    }

    /// The linear layer whose bias is `bias_name`: its matrix is the constant operand of
    /// the `MatMul` whose product the bias is added to. `d_out` is checked when given
    /// (otherwise the bias decides it).
    pub fn linear(&self, bias_name: &str, d_in: usize, d_out: Option<usize>) -> Result<Linear> {
        let bias = self.float_constant(bias_name)?;
        let out = match bias.shape[..] {
            [n] if d_out.is_none_or(|d| d == n) => n,
            _ => bail!(
                "{bias_name} has shape {:?}, expected [{}]",
                bias.shape,
                d_out.map_or("N".to_string(), |d| d.to_string())
            ),
        };
        let add = self
            .user(bias_name, "Add")
            .with_context(|| format!("no node adds {bias_name}"))?;
        let matmul = self
            .produced_by(other_input(add, bias_name)?, "MatMul")
            .with_context(|| format!("{bias_name} is not added to a MatMul product"))?;
        let weight = self
            .float_constant(input(matmul, 1)?)
            .with_context(|| format!("the MatMul before {bias_name} has no constant matrix"))?;
        ensure!(
            weight.shape == [d_in, out],
            "the matrix of the layer with bias {bias_name} has shape {:?}, expected [{d_in}, {out}]",
            weight.shape
        );
        Ok(Linear {
            weight,
            bias,
            input: input(matmul, 0)?.to_string(),
            output: input_or_output(&add.output, 0)?,
        })
    }

    /// The number of heads: the reshape of the queries to `[batch, tokens, heads, head_dim]`
    /// (a constant shape, or a `Concat` whose last two parts are constants).
    pub fn head_count(&self, queries: &str, dim: usize) -> Result<usize> {
        for reshape in self
            .users(queries)
            .iter()
            .filter(|n| n.op_type == "Reshape")
        {
            let Some(shape) = reshape.input.get(1) else {
                continue;
            };
            let split = match self.int_constant(shape) {
                Some(dims) if dims.len() == 4 => Some((dims[2], dims[3])),
                _ => self
                    .producers
                    .get(shape.as_str())
                    .filter(|c| c.op_type == "Concat" && c.input.len() == 4)
                    .and_then(|c| {
                        Some((self.single_int(&c.input[2])?, self.single_int(&c.input[3])?))
                    }),
            };
            if let Some((heads, head_dim)) = split
                && heads > 0
                && head_dim > 0
            {
                ensure!(
                    heads.checked_mul(head_dim) == Some(dim as i64),
                    "the queries are split into {heads} heads of {head_dim}, not the width {dim}"
                );
                return Ok(heads as usize);
            }
        }
        bail!("cannot find the reshape that splits the queries into heads")
    }

    fn single_int(&self, name: &str) -> Option<i64> {
        match self.int_constant(name)?[..] {
            [v] => Some(v),
            _ => None,
        }
    }

    /// LayerScale `name` applied to `branch`: the factor and the scaled output, or no
    /// factor and `branch` itself when the graph has no tensor `name`.
    pub fn layer_scale(
        &self,
        name: &str,
        branch: &str,
        dim: usize,
    ) -> Result<(Option<WeightTensor>, String)> {
        if !self.constants.contains_key(name) {
            return Ok((None, branch.to_string()));
        }
        let gamma = self.float_constant(name)?;
        ensure!(
            gamma.shape == [dim],
            "{name} has shape {:?}, expected [{dim}]",
            gamma.shape
        );
        let mul = self
            .user(name, "Mul")
            .filter(|mul| mul.input.iter().any(|i| i == branch))
            .with_context(|| format!("{name} does not multiply the branch it scales"))?;
        Ok((Some(gamma), input_or_output(&mul.output, 0)?))
    }

    /// The sum `branch + residual` (a residual connection).
    pub fn residual_add(&self, branch: &str, residual: &str) -> Result<String> {
        let add = self
            .users(branch)
            .iter()
            .find(|n| n.op_type == "Add" && n.input.iter().any(|i| i == residual))
            .context("a sub-layer's output is not added to the residual stream")?;
        input_or_output(&add.output, 0)
    }

    /// Checks that `to` is computed from `from` by exact (erf) GELU.
    pub fn exact_gelu(&self, from: &str, to: &str) -> Result<()> {
        let (mut ops, mut reached) = (Vec::new(), false);
        let mut queue = vec![to];
        let mut seen = HashSet::new();
        while let Some(name) = queue.pop() {
            if name == from {
                reached = true;
                continue;
            }
            if !seen.insert(name) || seen.len() > 16 {
                continue;
            }
            if let Some(node) = self.producers.get(name) {
                ops.push(node.op_type.as_str());
                if node.op_type == "Gelu"
                    && attribute(node, "approximate").is_some_and(|a| a.s == b"tanh")
                {
                    ops.push("Tanh");
                }
                queue.extend(node.input.iter().map(String::as_str));
            }
        }
        ensure!(reached, "fc2 does not read fc1's activation");
        ensure!(
            !ops.contains(&"Tanh"),
            "the MLP uses tanh-approximated GELU; the ViT uses exact GELU"
        );
        ensure!(
            ops.iter().any(|op| *op == "Erf" || *op == "Gelu"),
            "no GELU (Erf) between fc1 and fc2"
        );
        Ok(())
    }

    /// The patch embedding's `[D, C, P, P]` convolution (stride P, no padding) and bias.
    pub fn patch_embedding(
        &self,
        prefix: &str,
        dim: usize,
    ) -> Result<(WeightTensor, WeightTensor)> {
        let weight_name = format!("{prefix}embeddings.patch_embeddings.projection.weight");
        let bias_name = format!("{prefix}embeddings.patch_embeddings.projection.bias");
        let weight = self.float_constant(&weight_name)?;
        let bias = self.float_constant(&bias_name)?;
        let patch = match weight.shape[..] {
            [d, c, p, q] if d == dim && (1..=4).contains(&c) && p == q && p > 0 => p,
            _ => bail!(
                "{weight_name} has shape {:?}, expected [{dim}, C, P, P]",
                weight.shape
            ),
        };
        ensure!(
            bias.shape == [dim],
            "{bias_name} has shape {:?}, expected [{dim}]",
            bias.shape
        );
        let conv = self
            .user(&weight_name, "Conv")
            .with_context(|| format!("no Conv node uses {weight_name}"))?;
        ensure!(
            conv.input.get(2) == Some(&bias_name),
            "the patch Conv does not add {bias_name}"
        );
        let ints = |name: &str| attribute(conv, name).map(|a| a.ints.clone());
        let p = patch as i64;
        ensure!(
            ints("strides").is_some_and(|s| s == [p, p]),
            "the patch Conv's stride is not {patch}"
        );
        ensure!(
            ints("pads").is_none_or(|v| v.iter().all(|&x| x == 0)),
            "the patch Conv pads its input"
        );
        ensure!(
            ints("dilations").is_none_or(|v| v.iter().all(|&x| x == 1)),
            "the patch Conv is dilated"
        );
        ensure!(
            attribute(conv, "group").is_none_or(|a| a.i == 1),
            "the patch Conv is grouped"
        );
        Ok((weight, bias))
    }

    /// The constant-folded position embedding. Its grid is the constant that the graph
    /// reshapes to `[1, side, side, D]`, transposes to `[1, D, side, side]` and resizes
    /// bicubically; the class row is concatenated in front of the resized grid, and the
    /// result added to the tokens.
    pub fn position_embedding(&self, dim: usize) -> Result<PositionEmbedding> {
        for resize in self.nodes.iter().filter(|n| n.op_type == "Resize") {
            let Some((grid, perms)) = self.constant_behind(input(resize, 0)?) else {
                continue;
            };
            let grid = decode_f32(grid).context("the position embedding's grid")?;
            let n = match grid.shape[..] {
                [1, n, d] if n > 1 && d == dim => n,
                _ => continue,
            };
            let side = (n as f64).sqrt().round() as usize;
            ensure!(
                side * side == n,
                "the position embedding's {n} patches are not a square grid"
            );
            check_resize(resize)?;
            ensure!(
                perms == [vec![0, 3, 1, 2]],
                "the position grid is not transposed from [1, g, g, D] to [1, D, g, g] before \
                 the Resize (transposes {perms:?})"
            );
            let (class, position) = self.class_position(resize, dim)?;
            let add = self
                .user(&position, "Add")
                .context("the position embedding is not added to the tokens")?;
            return Ok(PositionEmbedding {
                class,
                grid: grid.data,
                side,
                embeddings: input_or_output(&add.output, 0)?,
            });
        }
        bail!(
            "found no bicubic Resize of a [1, N, {dim}] constant (the position embedding): the \
             importer reads Hugging Face Dinov2Model exports whose position embedding is \
             constant-folded and interpolated in the graph"
        )
    }

    /// Walks back from `name` through casts, reshapes and transposes to a constant; returns
    /// it with the permutations of the transposes on the way.
    fn constant_behind(&self, mut name: &'a str) -> Option<(&'a TensorProto, Vec<Vec<i64>>)> {
        let mut perms = Vec::new();
        for _ in 0..MAX_STEPS {
            if let Some(&tensor) = self.constants.get(name) {
                return Some((tensor, perms));
            }
            let node = self.producers.get(name)?;
            match node.op_type.as_str() {
                "Cast" | "Reshape" => {}
                "Transpose" => perms.push(attribute(node, "perm")?.ints.clone()),
                _ => return None,
            }
            name = node.input.first()?.as_str();
        }
        None
    }

    /// The class row of the position embedding: the `[1, 1, D]` constant concatenated in
    /// front of the resized grid (after its transpose back to `[1, tokens, D]`); and the
    /// name of the whole position embedding (the concatenation).
    fn class_position(&self, resize: &NodeProto, dim: usize) -> Result<(Vec<f32>, String)> {
        let mut name = input_or_output(&resize.output, 0)?;
        let mut perms = Vec::new();
        for _ in 0..MAX_STEPS {
            let [node] = self.users(&name) else {
                bail!(
                    "the resized position grid is used by {} nodes, expected 1",
                    self.users(&name).len()
                );
            };
            match node.op_type.as_str() {
                "Cast" | "Reshape" => {}
                "Transpose" => perms.push(
                    attribute(node, "perm")
                        .map(|a| a.ints.clone())
                        .unwrap_or_default(),
                ),
                "Concat" => {
                    ensure!(
                        perms == [vec![0, 2, 3, 1]]
                            && node.input.len() == 2
                            && node.input[1] == name,
                        "the resized position grid is not laid back out as [1, tokens, D] after \
                         the class position"
                    );
                    let class = self.float_constant(&node.input[0])?;
                    ensure!(
                        class.shape == [1, 1, dim],
                        "the class position has shape {:?}",
                        class.shape
                    );
                    return Ok((class.data, input_or_output(&node.output, 0)?));
                }
                other => bail!("the resized position grid goes into a {other} node"),
            }
            name = input_or_output(&node.output, 0)?;
        }
        bail!("the resized position grid never reaches the class position's Concat")
    }
}

/// A Resize must do what `spec::resample_pos_embed` does: PyTorch's bicubic (a = -0.75,
/// half-pixel centres, no antialiasing, borders clamped) to given output sizes.
fn check_resize(node: &NodeProto) -> Result<()> {
    let text = |name: &str, default: &str| {
        attribute(node, name).map_or(default.to_string(), |a| {
            String::from_utf8_lossy(&a.s).into_owned()
        })
    };
    let mode = text("mode", "nearest");
    ensure!(
        mode == "cubic",
        "the position embedding is resized with mode {mode:?}, not cubic"
    );
    let a = attribute(node, "cubic_coeff_a").map_or(-0.75, |a| a.f);
    ensure!(
        (a + 0.75).abs() < 1e-6,
        "bicubic with a = {a}, not PyTorch's -0.75"
    );
    let mapping = text("coordinate_transformation_mode", "half_pixel");
    ensure!(
        mapping == "half_pixel" || mapping == "pytorch_half_pixel",
        "the position embedding's Resize maps coordinates with {mapping:?}, not half_pixel"
    );
    for flag in ["exclude_outside", "antialias"] {
        ensure!(
            attribute(node, flag).is_none_or(|a| a.i == 0),
            "the position embedding's Resize sets {flag}"
        );
    }
    ensure!(
        node.input.get(2).is_none_or(String::is_empty),
        "the position embedding is resized by scale factors (as older Hugging Face exports do, \
         with a +0.1 offset); only resizing to output sizes is supported"
    );
    ensure!(
        node.input.get(3).is_some_and(|s| !s.is_empty()),
        "the position embedding's Resize has no output sizes"
    );
    Ok(())
}

fn attribute<'n>(node: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn input(node: &NodeProto, index: usize) -> Result<&str> {
    node.input
        .get(index)
        .filter(|i| !i.is_empty())
        .map(String::as_str)
        .with_context(|| format!("a {} node has no input {index}", node.op_type))
}

fn input_or_output(names: &[String], index: usize) -> Result<String> {
    names
        .get(index)
        .filter(|n| !n.is_empty())
        .cloned()
        .context("a node has no output")
}

/// The input of a two-input node other than `known`.
fn other_input<'n>(node: &'n NodeProto, known: &str) -> Result<&'n str> {
    match &node.input[..] {
        [a, b] if a == known => Ok(b.as_str()),
        [a, b] if b == known => Ok(a.as_str()),
        _ => bail!(
            "a {} node with inputs {:?} does not combine {known} with one other value",
            node.op_type,
            node.input
        ),
    }
}

fn shape(tensor: &TensorProto) -> Result<(Vec<usize>, usize)> {
    let shape = tensor
        .dims
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<Vec<_>>>()
        .with_context(|| format!("negative dimension in {:?}", tensor.dims))?;
    let numel = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .with_context(|| format!("shape {shape:?} is too large"))?;
    Ok((shape, numel))
}

fn check_location(tensor: &TensorProto) -> Result<()> {
    ensure!(
        tensor.data_location.value() != EXTERNAL,
        "stored outside the .onnx file (external data), which the importer does not read"
    );
    Ok(())
}

/// A float32 tensor's values (raw little-endian bytes or `float_data`), all finite.
pub fn decode_f32(tensor: &TensorProto) -> Result<WeightTensor> {
    check_location(tensor)?;
    ensure!(
        tensor.data_type == FLOAT,
        "data type {} instead of float32 (1)",
        tensor.data_type
    );
    let (shape, numel) = shape(tensor)?;
    let data: Vec<f32> = if tensor.raw_data.is_empty() {
        tensor.float_data.clone()
    } else {
        ensure!(
            tensor.raw_data.len().is_multiple_of(4),
            "{} bytes of raw data",
            tensor.raw_data.len()
        );
        let chunks = tensor.raw_data.chunks_exact(4);
        chunks
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    ensure!(
        data.len() == numel,
        "holds {} values, its shape {shape:?} needs {numel}",
        data.len()
    );
    ensure!(
        data.iter().all(|v| v.is_finite()),
        "holds NaN or infinite values"
    );
    Ok(WeightTensor::new(shape, data))
}

fn decode_i64(tensor: &TensorProto) -> Result<Vec<i64>> {
    check_location(tensor)?;
    ensure!(
        tensor.data_type == INT64,
        "data type {} instead of int64 (7)",
        tensor.data_type
    );
    let (_, numel) = shape(tensor)?;
    let data: Vec<i64> = if tensor.raw_data.is_empty() {
        tensor.int64_data.clone()
    } else {
        ensure!(
            tensor.raw_data.len().is_multiple_of(8),
            "{} bytes of raw data",
            tensor.raw_data.len()
        );
        let chunks = tensor.raw_data.chunks_exact(8);
        chunks
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect()
    };
    ensure!(
        data.len() == numel,
        "holds {} values, its shape needs {numel}",
        data.len()
    );
    Ok(data)
}
