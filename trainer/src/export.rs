//! `trainer export`: rewrite a model file with another storage dtype (f32, f16, int8).

use std::path::Path;

use anyhow::Result;
use model_format::{ModelFile, StorageDtype};

/// Reads `input`, keeps its metadata (provenance gains the input as a source) and writes
/// `output` with `dtype` storage. Returns the size of the written file in bytes.
pub fn export(input: &Path, output: &Path, dtype: StorageDtype) -> Result<u64> {
    let mut file = ModelFile::read(input)?;
    file.metadata
        .provenance
        .sources
        .push(input.display().to_string());
    file.write(output, dtype)?;
    Ok(std::fs::metadata(output)?.len())
}
