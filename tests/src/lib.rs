//! Helpers shared by the workspace-level tests in `tests/tests/`.

pub mod server;

use std::path::PathBuf;

/// `tests/fixtures/<relative>` of this checkout.
pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// A named f32 tensor of a reference `expected.safetensors` file: (shape, values).
pub fn reference_tensor(file: &str, name: &str) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let tensors = safetensors::SafeTensors::deserialize(&bytes).expect("valid fixture");
    let view = tensors
        .tensor(name)
        .unwrap_or_else(|e| panic!("{file}/{name}: {e}"));
    assert_eq!(
        view.dtype(),
        safetensors::Dtype::F32,
        "{file}/{name} is not f32"
    );
    let values = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (view.shape().to_vec(), values)
}

/// Largest absolute difference; panics on a length mismatch.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
