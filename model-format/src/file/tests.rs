use super::*;
use crate::config::{Architecture, ConfigError, VitConfig};
use crate::metadata::{Metadata, MetadataError};
use half::bf16;

const ORIGIN: &str = "damaged.safetensors";

/// A tiny deterministic generator (64-bit LCG), values in [-1, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

fn architecture() -> Architecture {
    Architecture::Vit(VitConfig::custom(32, 8, 48, 2, 3, 2))
}

/// A small model with pseudo-random weights of varied magnitudes, one all-zero output
/// channel and one channel of subnormal values.
fn model() -> ModelFile {
    let architecture = architecture();
    let mut metadata = Metadata::liveness(architecture.vit().expect("a ViT").clone());
    metadata.threshold = 0.625;
    metadata.provenance.command = Some("trainer train --epochs 3".into());
    metadata.provenance.sources = vec!["deit_tiny_patch16_224.pth".into()];
    metadata.provenance.metrics = Some(serde_json::json!({"acer": 0.031, "auc": 0.99}));
    let mut rng = Lcg(42);
    let mut weights = Weights::new();
    for (i, (name, shape)) in architecture.tensor_shapes().into_iter().enumerate() {
        let amplitude = [0.02, 0.1, 1.0, 3.5][i % 4];
        let n = shape.iter().product();
        let data = (0..n).map(|_| rng.next() * amplitude).collect();
        weights.insert(name, WeightTensor::new(shape, data));
    }
    let head = weights.get_mut("head.weight").unwrap();
    head.data[..48].fill(0.0);
    let fc2 = weights.get_mut("blocks.0.mlp.fc2.weight").unwrap();
    let cols = fc2.shape[1];
    for (j, v) in fc2.data[cols..2 * cols].iter_mut().enumerate() {
        *v = (j as f32 - 90.0) * 1e-40;
    }
    ModelFile { metadata, weights }
}

fn problem(bytes: &[u8]) -> Problem {
    let error = ModelFile::from_bytes(ORIGIN, bytes).expect_err("a damaged file was accepted");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{ORIGIN}: ")),
        "the message does not name the file: {message}"
    );
    error.problem
}

/// Splits a file into its header JSON and its data section.
fn split(bytes: &[u8]) -> (Map<String, Value>, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header, bytes[8 + n..].to_vec())
}

fn join(header: &Map<String, Value>, data: &[u8]) -> Vec<u8> {
    let header = serde_json::to_vec(header).unwrap();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

/// The file with its header edited.
fn edit(bytes: &[u8], f: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
    let (mut header, data) = split(bytes);
    f(&mut header);
    join(&header, &data)
}

/// The file with its `__metadata__` edited.
fn edit_info(bytes: &[u8], f: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
    edit(bytes, |header| {
        f(header["__metadata__"].as_object_mut().unwrap());
    })
}

/// The file with the metadata JSON edited.
fn edit_metadata(bytes: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    edit_info(bytes, |info| {
        let mut metadata: Value = serde_json::from_str(info["metadata"].as_str().unwrap()).unwrap();
        f(&mut metadata);
        info["metadata"] = Value::String(metadata.to_string());
    })
}

/// Byte range of a tensor's data in the whole file.
fn data_range(bytes: &[u8], name: &str) -> std::ops::Range<usize> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let (header, _) = split(bytes);
    let offsets = header[name]["data_offsets"].as_array().unwrap();
    let start = offsets[0].as_u64().unwrap() as usize;
    let end = offsets[1].as_u64().unwrap() as usize;
    8 + n + start..8 + n + end
}

fn dtype_of(bytes: &[u8], name: &str) -> String {
    split(bytes).0[name]["dtype"].as_str().unwrap().to_string()
}

#[test]
fn f32_round_trip_is_exact_and_keeps_the_metadata() {
    let model = model();
    let bytes = model.to_bytes(StorageDtype::F32).unwrap();
    assert_eq!(
        bytes,
        model.to_bytes(StorageDtype::F32).unwrap(),
        "output is deterministic"
    );
    let back = ModelFile::from_bytes("model.safetensors", &bytes).unwrap();
    assert_eq!(back.weights, model.weights);
    assert_eq!(back.metadata, model.metadata);
    assert_eq!(back.metadata.threshold, 0.625);
    assert_eq!(
        back.metadata.provenance.command.as_deref(),
        Some("trainer train --epochs 3")
    );
    assert_eq!(
        back.metadata.provenance.metrics,
        model.metadata.provenance.metrics
    );
    // The crate's own reader accepts what we write.
    let container = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(container.len(), model.weights.len());
    let info = SafeTensors::read_metadata(&bytes).unwrap().1;
    let info = info.metadata().as_ref().unwrap();
    assert_eq!(info["format"], FORMAT_NAME);
    assert_eq!(info["format_version"], FORMAT_VERSION.to_string());
}

#[test]
fn f16_round_trip_is_within_f16_rounding() {
    let model = model();
    let bytes = model.to_bytes(StorageDtype::F16).unwrap();
    let back = ModelFile::from_bytes("model.safetensors", &bytes).unwrap();
    assert_eq!(back.metadata.storage, StorageDtype::F16);
    assert_eq!(back.metadata.provenance, model.metadata.provenance);
    for (name, tensor) in &model.weights {
        assert_eq!(dtype_of(&bytes, name), "F16");
        let decoded = &back.weights[name];
        assert_eq!(decoded.shape, tensor.shape);
        for (&v, &d) in tensor.data.iter().zip(&decoded.data) {
            assert_eq!(d, f16::from_f32(v).to_f32());
            // Half an f16 ulp: relative 2^-11 for normals, 2^-25 absolute for subnormals.
            assert!(
                (d - v).abs() <= v.abs() * 2f32.powi(-11) + 2f32.powi(-25),
                "{name}: {v} -> {d}"
            );
        }
    }
}

#[test]
fn int8_round_trip_is_within_half_a_step() {
    let model = model();
    let architecture = &model.metadata.architecture;
    let bytes = model.to_bytes(StorageDtype::Int8).unwrap();
    let back = ModelFile::from_bytes("model.safetensors", &bytes).unwrap();
    assert_eq!(back.metadata.storage, StorageDtype::Int8);
    assert_eq!(back.weights.len(), model.weights.len());
    let mut quantised = 0;
    for (name, tensor) in &model.weights {
        let decoded = &back.weights[name];
        assert_eq!(decoded.shape, tensor.shape);
        if !architecture.is_quantisable(name, &tensor.shape) {
            assert_eq!(dtype_of(&bytes, name), "F32");
            assert_eq!(decoded, tensor, "{name} is kept exactly");
            continue;
        }
        quantised += 1;
        assert_eq!(dtype_of(&bytes, name), "I8");
        assert_eq!(dtype_of(&bytes, &format!("{name}.qscale")), "F32");
        let rows = tensor.shape[0];
        let cols = tensor.data.len() / rows;
        for (row, (orig, dec)) in tensor
            .data
            .chunks(cols)
            .zip(decoded.data.chunks(cols))
            .enumerate()
        {
            let max = orig.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0.0 {
                (max / 127.0).max(f32::MIN_POSITIVE)
            } else {
                1.0
            };
            for (&v, &d) in orig.iter().zip(dec) {
                assert!(
                    (d - v).abs() <= scale * 0.5 * (1.0 + 1e-5),
                    "{name} row {row}: {v} -> {d}, scale {scale}"
                );
            }
        }
    }
    assert_eq!(
        quantised,
        1 + 2 * 4 + 1,
        "patch embedding, 4 matrices per block, head"
    );
    // The all-zero channel stays exactly zero.
    assert!(
        back.weights["head.weight"].data[..48]
            .iter()
            .all(|&v| v == 0.0)
    );
}

#[test]
fn int8_is_smaller_than_f16_is_smaller_than_f32() {
    let model = model();
    let f32_len = model.to_bytes(StorageDtype::F32).unwrap().len();
    let f16_len = model.to_bytes(StorageDtype::F16).unwrap().len();
    let int8_len = model.to_bytes(StorageDtype::Int8).unwrap().len();
    assert!(
        int8_len < f16_len && f16_len < f32_len,
        "{int8_len} {f16_len} {f32_len}"
    );
    assert!(f16_len * 10 < f32_len * 6, "f16 about halves the file");
    assert!(
        int8_len * 10 < f32_len * 4,
        "int8 about quarters the weight matrices"
    );
}

#[test]
fn mixed_and_bf16_files_are_read() {
    let model = model();
    let mut entries = Vec::new();
    for (i, (name, tensor)) in model.weights.iter().enumerate() {
        let (dtype, bytes) = match i % 3 {
            0 => (
                Stored::F32,
                tensor.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            1 => (
                Stored::F16,
                tensor
                    .data
                    .iter()
                    .flat_map(|&v| f16::from_f32(v).to_bits().to_le_bytes())
                    .collect(),
            ),
            _ => (
                Stored::BF16,
                tensor
                    .data
                    .iter()
                    .flat_map(|&v| bf16::from_f32(v).to_bits().to_le_bytes())
                    .collect(),
            ),
        };
        entries.push(Entry {
            name: name.clone(),
            dtype,
            shape: tensor.shape.clone(),
            bytes,
        });
    }
    let info = BTreeMap::from([
        ("format".to_string(), FORMAT_NAME.to_string()),
        ("format_version".to_string(), "1".to_string()),
        (
            "metadata".to_string(),
            serde_json::to_string(&model.metadata).unwrap(),
        ),
    ]);
    let bytes = assemble(&info, entries).unwrap();
    let back = ModelFile::from_bytes("mixed.safetensors", &bytes).unwrap();
    for (i, (name, tensor)) in model.weights.iter().enumerate() {
        for (&v, &d) in tensor.data.iter().zip(&back.weights[name].data) {
            let expected = match i % 3 {
                0 => v,
                1 => f16::from_f32(v).to_f32(),
                _ => bf16::from_f32(v).to_f32(),
            };
            assert_eq!(d, expected, "{name}");
        }
    }
}

#[test]
fn write_and_read_a_file() {
    let dir = std::env::temp_dir().join(format!("hatfas-file-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let model = model();
    model.write(&path, StorageDtype::F32).unwrap();
    // Overwriting replaces the file.
    model.write(&path, StorageDtype::Int8).unwrap();
    let back = ModelFile::read(&path).unwrap();
    assert_eq!(back.metadata.storage, StorageDtype::Int8);
    assert_eq!(back.weights.len(), model.weights.len());
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        ["model.safetensors"],
        "no temporary file is left behind"
    );

    let missing = dir.join("missing.safetensors");
    let error = ModelFile::read(&missing).unwrap_err();
    assert!(matches!(error.problem, Problem::Io(_)));
    assert!(
        error
            .to_string()
            .starts_with(&missing.display().to_string())
    );

    // A sparse file over the size limit is refused before it is read.
    let huge = dir.join("huge.safetensors");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(MAX_FILE_BYTES + 1)
        .unwrap();
    let error = ModelFile::read(&huge).unwrap_err();
    assert!(matches!(error.problem, Problem::TooLarge { .. }), "{error}");
    std::fs::remove_file(&huge).unwrap();

    // A bad model is never written, and the old file stays.
    let mut bad = model.clone();
    bad.weights.remove("head.bias");
    let error = bad.write(&path, StorageDtype::F32).unwrap_err();
    assert_eq!(error.problem, Problem::MissingTensor("head.bias".into()));
    assert!(ModelFile::read(&path).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_models_are_not_serialised() {
    let model = model();
    let check = |model: &ModelFile, dtype: StorageDtype| {
        let error = model.to_bytes(dtype).unwrap_err();
        assert!(error.to_string().starts_with(IN_MEMORY));
        error.problem
    };
    let mut bad = model.clone();
    bad.weights.remove("blocks.1.attn.qkv.bias");
    assert_eq!(
        check(&bad, StorageDtype::F32),
        Problem::MissingTensor("blocks.1.attn.qkv.bias".into())
    );

    let mut bad = model.clone();
    bad.weights
        .insert("dist_token".into(), WeightTensor::new(vec![1], vec![0.0]));
    assert_eq!(
        check(&bad, StorageDtype::F32),
        Problem::UnexpectedTensor("dist_token".into())
    );

    let mut bad = model.clone();
    bad.weights.get_mut("norm.bias").unwrap().data[3] = f32::NAN;
    assert_eq!(
        check(&bad, StorageDtype::Int8),
        Problem::NonFinite("norm.bias".into())
    );

    let mut bad = model.clone();
    bad.weights.get_mut("norm.bias").unwrap().data.pop();
    assert!(matches!(
        check(&bad, StorageDtype::F32),
        Problem::DataLength {
            expected: 48,
            found: 47,
            ..
        }
    ));

    let mut bad = model.clone();
    bad.weights.get_mut("head.bias").unwrap().shape = vec![1, 2];
    assert!(matches!(
        check(&bad, StorageDtype::F32),
        Problem::WrongShape { .. }
    ));

    let mut bad = model.clone();
    bad.metadata.threshold = 1.5;
    assert!(
        matches!(check(&bad, StorageDtype::F32), Problem::InvalidMetadata(MetadataError::Threshold(t)) if t == 1.5)
    );

    let mut bad = model.clone();
    bad.metadata.format_version = FORMAT_VERSION + 1;
    assert!(matches!(
        check(&bad, StorageDtype::F32),
        Problem::NewerVersion { .. }
    ));

    // Beyond f16's range: fine in f32 and int8, refused in f16.
    let mut big = model.clone();
    big.weights.get_mut("head.weight").unwrap().data[60] = 1e6;
    assert!(big.to_bytes(StorageDtype::F32).is_ok());
    assert!(big.to_bytes(StorageDtype::Int8).is_ok());
    assert_eq!(
        check(&big, StorageDtype::F16),
        Problem::Unrepresentable {
            tensor: "head.weight".into(),
            dtype: StorageDtype::F16
        }
    );
}

#[test]
fn damaged_containers_are_refused() {
    let bytes = model().to_bytes(StorageDtype::F32).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let container = |bytes: &[u8]| match problem(bytes) {
        Problem::Container(text) => text,
        other => panic!("expected a container error, got {other:?}"),
    };

    assert_eq!(problem(&[]), Problem::Empty);
    assert!(container(&bytes[..5]).contains("truncated"));
    assert!(container(&bytes[..8]).contains("truncated"));
    assert!(container(&bytes[..8 + header_len / 2]).contains("truncated"));
    assert!(container(&bytes[..bytes.len() - 1]).contains("truncated"));
    assert!(container(&bytes[..8 + header_len]).contains("truncated"));

    // Absurd header lengths.
    for n in [u64::MAX, u64::MAX / 2, 1 << 40, bytes.len() as u64] {
        let mut damaged = bytes.clone();
        damaged[..8].copy_from_slice(&n.to_le_bytes());
        container(&damaged);
    }
    // A header length under the limit but over the file's size, and one over the limit
    // that the file backs.
    let mut big = vec![b' '; 8 + (MAX_HEADER_BYTES as usize) + 8];
    big[..8].copy_from_slice(&(MAX_HEADER_BYTES + 8).to_le_bytes());
    assert!(container(&big).contains("header too large"));

    // The header is not JSON, not an object, or has trailing bytes.
    let mut damaged = bytes.clone();
    damaged[8..8 + header_len].fill(b'x');
    assert!(container(&damaged).contains("not valid JSON"));
    let mut damaged = bytes.clone();
    damaged[8] = b'[';
    container(&damaged);
    let mut damaged = bytes.clone();
    damaged[8..16].copy_from_slice(b"\"abc\"   ");
    container(&damaged);
    // A valid container with nothing in it is no model file.
    assert_eq!(problem(&join(&Map::new(), b"")), Problem::MissingMetadata);
    let mut not_object = 2u64.to_le_bytes().to_vec();
    not_object.extend_from_slice(b"[]");
    assert!(container(&not_object).contains("not a JSON object"));
    // Data left over after the last tensor.
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 4]);
    container(&longer);
    // Invalid UTF-8 in the header.
    let mut damaged = bytes.clone();
    let quote = 8 + bytes[8..].iter().position(|&b| b == b'"').unwrap() + 1;
    damaged[quote] = 0xff;
    container(&damaged);
}

#[test]
fn damaged_tensor_entries_are_refused() {
    let bytes = model().to_bytes(StorageDtype::F32).unwrap();

    // Offsets past the end of the file (also sums that would overflow a usize).
    let damaged = edit(&bytes, |h| {
        h["norm.bias"]["data_offsets"][1] = (1u64 << 62).into()
    });
    assert!(matches!(problem(&damaged), Problem::Container(t) if t.contains("norm.bias")));
    let damaged = edit(&bytes, |h| {
        h["norm.bias"]["data_offsets"][1] = u64::MAX.into()
    });
    assert!(matches!(problem(&damaged), Problem::Container(_)));
    // Offsets inside the file but not matching the shape, or overlapping.
    let damaged = edit(&bytes, |h| h["norm.bias"]["data_offsets"][1] = 4.into());
    assert!(matches!(problem(&damaged), Problem::Container(_)));
    let damaged = edit(&bytes, |h| {
        h["norm.bias"]["data_offsets"] = serde_json::json!([0, 192])
    });
    assert!(matches!(problem(&damaged), Problem::Container(_)));
    // A shape whose element count overflows.
    let damaged = edit(&bytes, |h| {
        h["norm.bias"]["shape"] = serde_json::json!([1u64 << 40, 1u64 << 40])
    });
    assert!(matches!(problem(&damaged), Problem::Container(_)));
    let damaged = edit(&bytes, |h| {
        h["norm.bias"]["shape"] = serde_json::json!([-1])
    });
    assert!(matches!(problem(&damaged), Problem::Container(_)));

    // Dtypes: unknown to safetensors, or known but not ours.
    for dtype in ["Q4", "I32", "F64", "U8", "BOOL", ""] {
        let damaged = edit(&bytes, |h| h["head.bias"]["dtype"] = dtype.into());
        assert_eq!(
            problem(&damaged),
            Problem::UnknownDtype {
                tensor: "head.bias".into(),
                dtype: dtype.into()
            }
        );
    }
    let damaged = edit(&bytes, |h| h["head.bias"]["dtype"] = 7.into());
    assert!(matches!(problem(&damaged), Problem::Container(_)));

    // Same size, wrong shape.
    let damaged = edit(&bytes, |h| {
        h["head.weight"]["shape"] = serde_json::json!([48, 2])
    });
    assert_eq!(
        problem(&damaged),
        Problem::WrongShape {
            tensor: "head.weight".into(),
            expected: vec![2, 48],
            found: vec![48, 2]
        }
    );
    // Renamed tensors: missing one, unexpected other.
    let damaged = edit(&bytes, |h| {
        let entry = h.remove("cls_token").unwrap();
        h.insert("class_token".into(), entry);
    });
    assert_eq!(
        problem(&damaged),
        Problem::UnexpectedTensor("class_token".into())
    );
    let mut model = model();
    model.weights.remove("pos_embed");
    let damaged = model.serialise(StorageDtype::F16).unwrap();
    assert_eq!(
        problem(&damaged),
        Problem::MissingTensor("pos_embed".into())
    );

    // Non-finite values, in f32 and in f16.
    let mut model = self::model();
    model.weights.get_mut("blocks.0.norm1.weight").unwrap().data[0] = f32::INFINITY;
    let damaged = model.serialise(StorageDtype::F32).unwrap();
    assert_eq!(
        problem(&damaged),
        Problem::NonFinite("blocks.0.norm1.weight".into())
    );
    let mut damaged = self::model().to_bytes(StorageDtype::F16).unwrap();
    let range = data_range(&damaged, "norm.weight");
    damaged[range.start..range.start + 2].copy_from_slice(&f16::NAN.to_bits().to_le_bytes());
    assert_eq!(problem(&damaged), Problem::NonFinite("norm.weight".into()));
}

#[test]
fn damaged_int8_scales_are_refused() {
    let bytes = model().to_bytes(StorageDtype::Int8).unwrap();
    let name = "blocks.1.mlp.fc1.weight";
    let scales = format!("{name}.qscale");
    let bad_scale = |damaged: &[u8]| match problem(damaged) {
        Problem::BadScale { tensor, problem } => {
            assert_eq!(tensor, name);
            problem
        }
        other => panic!("expected a scale error, got {other:?}"),
    };

    // No scales at all: build the file without them.
    let (mut header, data) = split(&bytes);
    let range = header[&scales]["data_offsets"].clone();
    header.remove(&scales);
    let (start, end) = (
        range[0].as_u64().unwrap() as usize,
        range[1].as_u64().unwrap() as usize,
    );
    // Later tensors move down by the removed size.
    for (_, entry) in header.iter_mut().filter(|(k, _)| *k != "__metadata__") {
        let offsets = entry["data_offsets"].as_array_mut().unwrap();
        for offset in offsets.iter_mut() {
            let v = offset.as_u64().unwrap() as usize;
            if v >= end {
                *offset = (v - (end - start)).into();
            }
        }
    }
    let mut data = data;
    data.drain(start..end);
    assert!(bad_scale(&join(&header, &data)).contains("missing"));

    // Negative, zero, NaN and infinite scales.
    for value in [-1.0f32, 0.0, f32::NAN, f32::INFINITY] {
        let mut damaged = bytes.clone();
        let range = data_range(&damaged, &scales);
        damaged[range.start + 8..range.start + 12].copy_from_slice(&value.to_le_bytes());
        assert!(bad_scale(&damaged).contains("finite and positive"));
    }
    // Wrong shape (same size) and wrong dtype (same size).
    let rows = 192;
    let damaged = edit(&bytes, |h| {
        h[&scales]["shape"] = serde_json::json!([rows / 2, 2])
    });
    assert!(bad_scale(&damaged).contains("shape"));
    let damaged = edit(&bytes, |h| {
        h[&scales]["dtype"] = "I8".into();
        h[&scales]["shape"] = serde_json::json!([rows * 4]);
    });
    assert!(bad_scale(&damaged).contains("shape"));

    // Scales whose tensor is not int8, or with no tensor at all.
    let damaged = edit(&bytes, |h| {
        let entry = h.remove(&scales).unwrap();
        h.insert("head.bias.qscale".into(), entry);
    });
    assert_eq!(
        problem(&damaged),
        Problem::UnexpectedTensor("head.bias.qscale".into())
    );
    let damaged = edit(&bytes, |h| {
        let entry = h.remove(&scales).unwrap();
        h.insert("nothing.qscale".into(), entry);
    });
    assert_eq!(
        problem(&damaged),
        Problem::UnexpectedTensor("nothing.qscale".into())
    );
}

#[test]
fn damaged_metadata_is_refused() {
    let bytes = model().to_bytes(StorageDtype::F32).unwrap();

    // A newer version is reported as such even when the rest is unreadable.
    let damaged = edit_info(&bytes, |info| {
        info["format_version"] = "2".into();
        info["metadata"] = "{ a layout from the future".into();
    });
    assert_eq!(
        problem(&damaged),
        Problem::NewerVersion {
            found: 2,
            supported: FORMAT_VERSION
        }
    );
    let message = ModelFile::from_bytes(ORIGIN, &damaged)
        .unwrap_err()
        .to_string();
    assert!(message.contains("newer"), "{message}");
    let damaged = edit_info(&bytes, |info| {
        info["format_version"] = "99999999999999999999".into()
    });
    assert!(matches!(problem(&damaged), Problem::BadMetadata(_)));
    let damaged = edit_info(&bytes, |info| info["format_version"] = "one".into());
    assert!(matches!(problem(&damaged), Problem::BadMetadata(m) if m.contains("format_version")));
    let damaged = edit_info(&bytes, |info| info["format_version"] = "0".into());
    assert!(matches!(problem(&damaged), Problem::BadMetadata(_)));
    // The metadata JSON claims a newer version than the header.
    let damaged = edit_metadata(&bytes, |m| m["format_version"] = 2.into());
    assert!(matches!(
        problem(&damaged),
        Problem::NewerVersion { found: 2, .. }
    ));

    // Missing pieces.
    let damaged = edit(&bytes, |h| {
        h.remove("__metadata__");
    });
    assert_eq!(problem(&damaged), Problem::MissingMetadata);
    for key in ["format", "format_version", "metadata"] {
        let damaged = edit_info(&bytes, |info| {
            info.remove(key);
        });
        assert_eq!(problem(&damaged), Problem::MissingMetadata, "without {key}");
    }
    let damaged = edit_info(&bytes, |info| info["format"] = "pt".into());
    assert_eq!(
        problem(&damaged),
        Problem::NotAModelFile {
            format: "pt".into()
        }
    );
    let damaged = edit_info(&bytes, |info| info["format"] = 1.into());
    assert!(matches!(problem(&damaged), Problem::Container(_)));
    let damaged = edit(&bytes, |h| h["__metadata__"] = "hatfas-model".into());
    assert!(matches!(problem(&damaged), Problem::Container(_)));

    // Garbled or inconsistent metadata JSON.
    let damaged = edit_info(&bytes, |info| {
        info["metadata"] = "{\"format_version\": 1,".into()
    });
    assert!(matches!(problem(&damaged), Problem::BadMetadata(m) if m.contains("JSON")));
    let damaged = edit_metadata(&bytes, |m| {
        m.as_object_mut().unwrap().remove("architecture");
    });
    assert!(matches!(problem(&damaged), Problem::BadMetadata(m) if m.contains("architecture")));
    let damaged = edit_metadata(&bytes, |m| m["architecture"]["family"] = "resnet".into());
    assert!(matches!(problem(&damaged), Problem::BadMetadata(_)));
    let damaged = edit_metadata(&bytes, |m| m["threshold"] = 7.into());
    assert_eq!(
        problem(&damaged),
        Problem::InvalidMetadata(MetadataError::Threshold(7.0))
    );
    let damaged = edit_metadata(&bytes, |m| m["classes"] = serde_json::json!(["live"]));
    assert_eq!(
        problem(&damaged),
        Problem::InvalidMetadata(MetadataError::ClassNames {
            names: 1,
            outputs: 2
        })
    );
    // An architecture that asks for absurd sizes is refused before any tensor is sized.
    let damaged = edit_metadata(&bytes, |m| {
        m["architecture"]["depth"] = 1_000_000_000.into()
    });
    assert!(matches!(
        problem(&damaged),
        Problem::InvalidMetadata(MetadataError::Config(ConfigError::OverLimit {
            field: "depth",
            ..
        }))
    ));
    // An architecture that does not match the tensors.
    let damaged = edit_metadata(&bytes, |m| m["architecture"]["depth"] = 3.into());
    assert_eq!(
        problem(&damaged),
        Problem::MissingTensor("blocks.2.attn.proj.bias".into())
    );
    let damaged = edit_metadata(&bytes, |m| m["architecture"]["embed_dim"] = 96.into());
    assert!(matches!(problem(&damaged), Problem::WrongShape { .. }));
}

#[test]
fn long_names_are_shortened_in_messages() {
    let bytes = model().to_bytes(StorageDtype::F32).unwrap();
    let long = "x".repeat(100_000);
    let damaged = edit(&bytes, |h| {
        let entry = h.remove("cls_token").unwrap();
        h.insert(long.clone(), entry);
    });
    let message = ModelFile::from_bytes(ORIGIN, &damaged)
        .unwrap_err()
        .to_string();
    assert!(message.len() < 300, "{message}");
}
