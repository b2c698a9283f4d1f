//! How tensors are stored in a model file: the dtypes it understands, decoding them to
//! f32, and the per-output-channel int8 quantisation.

use half::{bf16, f16};
use safetensors::Dtype;

use super::WeightTensor;

/// Quantises a tensor per output channel (dimension 0): `scale = max|w| / 127` (1 for an
/// all-zero channel), `q = round(w / scale)` clamped to [-127, 127].
pub(super) fn quantise(tensor: &WeightTensor) -> (Vec<i8>, Vec<f32>) {
    let rows = tensor.shape.first().copied().unwrap_or(0);
    if rows == 0 || tensor.data.is_empty() {
        return (Vec::new(), vec![1.0; rows]);
    }
    let cols = tensor.data.len() / rows;
    let mut q = Vec::with_capacity(tensor.data.len());
    let mut scales = Vec::with_capacity(rows);
    for row in tensor.data.chunks(cols.max(1)) {
        let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // A tiny channel's scale must not underflow to zero (the reader wants it positive).
        let scale = if max > 0.0 {
            (max / 127.0).max(f32::MIN_POSITIVE)
        } else {
            1.0
        };
        q.extend(
            row.iter()
                .map(|&v| (v / scale).round().clamp(-127.0, 127.0) as i8),
        );
        scales.push(scale);
    }
    (q, scales)
}

/// A tensor dtype the model file understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Stored {
    I8,
    F16,
    BF16,
    F32,
}

impl Stored {
    pub(super) fn parse(name: &str) -> Option<Self> {
        match name {
            "F32" => Some(Self::F32),
            "F16" => Some(Self::F16),
            "BF16" => Some(Self::BF16),
            "I8" => Some(Self::I8),
            _ => None,
        }
    }

    pub(super) fn from_dtype(dtype: Dtype) -> Option<Self> {
        match dtype {
            Dtype::F32 => Some(Self::F32),
            Dtype::F16 => Some(Self::F16),
            Dtype::BF16 => Some(Self::BF16),
            Dtype::I8 => Some(Self::I8),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::BF16 => "BF16",
            Self::I8 => "I8",
        }
    }

    pub(super) fn size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
            Self::I8 => 1,
        }
    }
}

pub(super) fn decode_floats(stored: Stored, data: &[u8]) -> Vec<f32> {
    match stored {
        Stored::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Stored::F16 => data
            .chunks_exact(2)
            .map(|c| f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32())
            .collect(),
        Stored::BF16 => data
            .chunks_exact(2)
            .map(|c| bf16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32())
            .collect(),
        Stored::I8 => data.iter().map(|&b| b as i8 as f32).collect(),
    }
}

/// `q * scale[row]` with one scale per slice along dimension 0.
pub(super) fn dequantise(data: &[u8], scales: &[f32]) -> Vec<f32> {
    if data.is_empty() || scales.is_empty() {
        return Vec::new();
    }
    let cols = (data.len() / scales.len()).max(1);
    data.chunks(cols)
        .zip(scales)
        .flat_map(|(row, &scale)| row.iter().map(move |&b| b as i8 as f32 * scale))
        .collect()
}
