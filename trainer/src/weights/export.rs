//! `trainer export`: rewrite a model file with another storage dtype (f32, f16, int8).

use std::path::Path;

use anyhow::Result;
use clap::Args;
use model_format::{ModelFile, StorageDtype};
use std::path::PathBuf;

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

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model file to read.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Storage dtype: f32, f16 or int8 (per-output-channel symmetric; compute stays f32).
    #[arg(long)]
    pub dtype: StorageDtype,
    /// Model file to write (never the input).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `trainer export`.
pub fn command(args: ExportArgs) -> Result<()> {
    super::refuse_overwrite(&args.model, &args.out)?;
    let bytes = export(&args.model, &args.out, args.dtype)?;
    println!(
        "exported {} -> {} ({}, {:.2} MB)",
        args.model.display(),
        args.out.display(),
        args.dtype,
        bytes as f64 / 1e6
    );
    Ok(())
}
