//! The pieces of HaTFAS that both the native trainer and the browser page need, written
//! once: the networks (DeiT/ViT as Burn modules), the preprocessing from an image to the
//! model input, and the model file (a safetensors container with JSON metadata).
//!
//! The crate does no I/O beyond bytes in and bytes out (plus a path helper), and runs on
//! whatever Burn `Device` it is given, so it compiles for `wasm32-unknown-unknown`.

pub mod config;
pub mod crop;
pub mod detect;
pub mod file;
pub mod gelu;
pub mod liveness;
pub mod metadata;
pub mod mtcnn;
pub mod preprocess;
pub mod vit;

pub use config::{Architecture, ConfigError, PRESET_NAMES, VitConfig};
pub use detect::{Detector, Face};
pub use file::{FileError, ModelFile, WeightTensor, Weights};
pub use liveness::{Liveness, LivenessError, live_score};
pub use metadata::{
    CLASSES, FORMAT_VERSION, Interpolation, Metadata, MetadataError, Preprocessing, Provenance,
    StorageDtype, UnknownDtype,
};
pub use mtcnn::{MtcnnConfig, MtcnnNets};
pub use vit::{TokenInput, TokenRequest};
