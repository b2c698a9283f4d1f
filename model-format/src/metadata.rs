//! The JSON metadata of a model file: everything needed to run the model without
//! outside knowledge (architecture, preprocessing, classes, threshold, provenance).

use serde::{Deserialize, Serialize};

use crate::config::{Architecture, ConfigError, VitConfig};
use crate::mtcnn::MtcnnConfig;

/// Why a model file's metadata is refused (or why a file is not what a caller asked for).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "format version {0} is newer than this build understands ({FORMAT_VERSION}); update the software"
    )]
    NewerFormat(u32),
    #[error("format version 0 is not valid")]
    FormatVersionZero,
    #[error("the classifier has no preprocessing")]
    NoPreprocessing,
    #[error("this is a face detector (MTCNN), not a liveness classifier")]
    NotAClassifier,
    #[error("input_size {0} is out of range")]
    InputSize(usize),
    #[error(
        "resize_shorter_to {resize_shorter_to} must be between input_size {input_size} and 8192"
    )]
    ResizeShorterTo {
        resize_shorter_to: usize,
        input_size: usize,
    },
    #[error("std values must be positive")]
    Std,
    #[error("mean values must be finite")]
    Mean,
    #[error(
        "preprocessing input_size {input_size} differs from the model's image_size {image_size}"
    )]
    InputSizeMismatch {
        input_size: usize,
        image_size: usize,
    },
    #[error("a detector file has no classifier preprocessing")]
    DetectorPreprocessing,
    #[error("threshold {threshold} differs from O-Net's threshold {onet}")]
    DetectorThreshold { threshold: f32, onet: f32 },
    #[error("{names} class names for a model with {outputs} outputs")]
    ClassNames { names: usize, outputs: usize },
    #[error("threshold {0} is not in [0, 1]")]
    Threshold(f32),
}

/// Version of the model file format this build writes. Files with a newer version are
/// refused (their meaning may have changed); older versions stay readable.
pub const FORMAT_VERSION: u32 = 1;

/// Class order of every liveness model: index 0 is an attack, index 1 a live face
/// (alphabetical, as an image-folder loader sorts `attack` and `true`).
pub const CLASSES: [&str; 2] = ["attack", "live"];

/// How weights are stored in the file. Computation is always f32.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageDtype {
    F32,
    F16,
    /// Weight matrices as int8 with one symmetric f32 scale per output channel;
    /// biases, norms and embeddings stay f32.
    Int8,
}

/// A storage dtype name other than `f32`, `f16` or `int8`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("unknown dtype {0:?} (expected f32, f16 or int8)")]
pub struct UnknownDtype(pub String);

impl std::str::FromStr for StorageDtype {
    type Err = UnknownDtype;
    fn from_str(s: &str) -> Result<Self, UnknownDtype> {
        match s {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            "int8" => Ok(Self::Int8),
            other => Err(UnknownDtype(other.to_string())),
        }
    }
}

impl std::fmt::Display for StorageDtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Int8 => "int8",
        })
    }
}

/// Resampling filter of the resize step.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    Bicubic,
}

/// The evaluation transform: resize the shorter side, centre-crop, normalise.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Preprocessing {
    /// Side of the square model input (the centre crop).
    pub input_size: usize,
    /// The shorter side is resized to this before cropping (timm: floor(input / 0.875)).
    pub resize_shorter_to: usize,
    pub interpolation: Interpolation,
    /// Per-channel RGB mean and standard deviation of values in [0, 1].
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Preprocessing {
    /// DeiT's evaluation transform for a model with `input_size` inputs (crop ratio 0.875,
    /// bicubic, ImageNet statistics).
    pub fn imagenet(input_size: usize) -> Self {
        Self {
            input_size,
            resize_shorter_to: (input_size as f64 / 0.875).floor() as usize,
            interpolation: Interpolation::Bicubic,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
        }
    }

    pub fn validate(&self) -> Result<(), MetadataError> {
        if self.input_size == 0 || self.input_size > 4096 {
            return Err(MetadataError::InputSize(self.input_size));
        }
        if self.resize_shorter_to < self.input_size || self.resize_shorter_to > 8192 {
            return Err(MetadataError::ResizeShorterTo {
                resize_shorter_to: self.resize_shorter_to,
                input_size: self.input_size,
            });
        }
        if self.std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(MetadataError::Std);
        }
        if self.mean.iter().any(|m| !m.is_finite()) {
            return Err(MetadataError::Mean);
        }
        Ok(())
    }
}

/// Where a model came from. Every field is optional: an imported checkpoint knows less
/// than a model trained here.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// The command line that produced the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Dataset description (path, manifest hash, protocol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_revision: Option<String>,
    /// Files this one was derived from (an imported checkpoint, the model an export read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// RFC 3339 time of writing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Evaluation results (free-form JSON, for example `trainer eval`'s report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<serde_json::Value>,
}

/// Metadata of a model file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Metadata {
    pub format_version: u32,
    pub architecture: Architecture,
    /// The input transform of a classifier (absent for the detector, whose pyramid and
    /// normalisation are part of the architecture).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocessing: Option<Preprocessing>,
    /// Class names by output index.
    pub classes: Vec<String>,
    /// A face is called live when softmax(logits)[1] >= threshold.
    pub threshold: f32,
    /// How the weights are stored (set by the writer).
    pub storage: StorageDtype,
    #[serde(default)]
    pub provenance: Provenance,
}

impl Metadata {
    /// Metadata for a liveness ViT: ImageNet preprocessing at its input size, the class
    /// order attack/live and the neutral threshold 0.5 (until a dev set calibrates it).
    pub fn liveness(config: VitConfig) -> Self {
        let classes = if config.num_classes == 2 {
            CLASSES.iter().map(|c| c.to_string()).collect()
        } else {
            (0..config.num_classes)
                .map(|i| format!("class_{i}"))
                .collect()
        };
        Self {
            format_version: FORMAT_VERSION,
            preprocessing: Some(Preprocessing::imagenet(config.image_size)),
            architecture: Architecture::Vit(config),
            classes,
            threshold: 0.5,
            storage: StorageDtype::F32,
            provenance: Provenance::default(),
        }
    }

    /// Metadata for the MTCNN detector: classes background/face, and O-Net's threshold as
    /// the decision threshold.
    pub fn detector(config: MtcnnConfig) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            preprocessing: None,
            threshold: config.thresholds[2],
            architecture: Architecture::Mtcnn(config),
            classes: vec!["background".into(), "face".into()],
            storage: StorageDtype::F32,
            provenance: Provenance::default(),
        }
    }

    /// The classifier's config and input transform, or why this file is not a classifier.
    pub fn classifier(&self) -> Result<(&VitConfig, &Preprocessing), MetadataError> {
        match (&self.architecture, &self.preprocessing) {
            (Architecture::Vit(config), Some(p)) => Ok((config, p)),
            (Architecture::Vit(_), None) => Err(MetadataError::NoPreprocessing),
            (Architecture::Mtcnn(_), _) => Err(MetadataError::NotAClassifier),
        }
    }

    /// Consistency of the fields among themselves (shapes are checked against the tensors
    /// by the file reader).
    pub fn validate(&self) -> Result<(), MetadataError> {
        if self.format_version > FORMAT_VERSION {
            return Err(MetadataError::NewerFormat(self.format_version));
        }
        if self.format_version == 0 {
            return Err(MetadataError::FormatVersionZero);
        }
        self.architecture.validate()?;
        let num_classes = match &self.architecture {
            Architecture::Vit(config) => {
                let (_, p) = self.classifier()?;
                p.validate()?;
                if p.input_size != config.image_size {
                    return Err(MetadataError::InputSizeMismatch {
                        input_size: p.input_size,
                        image_size: config.image_size,
                    });
                }
                config.num_classes
            }
            Architecture::Mtcnn(config) => {
                if self.preprocessing.is_some() {
                    return Err(MetadataError::DetectorPreprocessing);
                }
                if self.threshold != config.thresholds[2] {
                    return Err(MetadataError::DetectorThreshold {
                        threshold: self.threshold,
                        onet: config.thresholds[2],
                    });
                }
                2
            }
        };
        if self.classes.len() != num_classes {
            return Err(MetadataError::ClassNames {
                names: self.classes.len(),
                outputs: num_classes,
            });
        }
        if !(self.threshold.is_finite() && (0.0..=1.0).contains(&self.threshold)) {
            return Err(MetadataError::Threshold(self.threshold));
        }
        Ok(())
    }
}
