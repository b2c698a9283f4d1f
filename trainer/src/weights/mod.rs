//! Model files in and out: foreign weights imported into the project's safetensors format
//! (timm checkpoints, facenet-pytorch's MTCNN, DINOv2 from an ONNX export) and files
//! rewritten with other storage dtypes for deployment.

use anyhow::{Result, bail};

pub(crate) mod export;
pub mod import;
pub(crate) mod onnx_graph;
pub mod onnx_import;

/// Refuses to write a converted file over its own input.
pub(crate) fn refuse_overwrite(input: &std::path::Path, output: &std::path::Path) -> Result<()> {
    let same = match (input.canonicalize(), output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        bail!(
            "--out {} is the input file; write to another path",
            output.display()
        );
    }
    Ok(())
}
