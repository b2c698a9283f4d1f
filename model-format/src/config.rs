//! Architecture descriptions: the DeiT/ViT presets and the tensors each one owns.
//!
//! A config is plain data (serialised into the model file's metadata), so the file
//! layer can validate a file without building any Burn module.
//!
//! Besides DeiT, the presets include DINOv2's ViT-S/14 (`dinov2_vits14`, timm's
//! `vit_small_patch14_dinov2` at 224 px): the same blocks with LayerScale, patch 14, and a
//! position embedding for the 16x16 grid of a 224 px input (resampled once, when the
//! weights are imported, from the 37x37 grid DINOv2 was trained with), so that the forward
//! pass never interpolates.

use serde::{Deserialize, Serialize};

use crate::mtcnn::MtcnnConfig;

/// Why a network's config is refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{field} must be positive")]
    NotPositive { field: &'static str },
    /// Bounds keep a hostile file from asking for absurd allocations.
    #[error("{field} = {value} exceeds the limit {max}")]
    OverLimit {
        field: &'static str,
        value: usize,
        max: usize,
    },
    #[error("{field} {value} is not a multiple of {of} {divisor}")]
    NotMultiple {
        field: &'static str,
        value: usize,
        of: &'static str,
        divisor: usize,
    },
    #[error("layer_norm_eps {0} is out of range")]
    LayerNormEps(f64),
    #[error("min_face_size {0} must be at least 12")]
    MinFaceSize(f64),
    #[error("factor {0} must be in (0.1, 0.95)")]
    Factor(f64),
    #[error("thresholds {0:?} must be in [0, 1]")]
    Thresholds([f32; 3]),
}

/// Hyper-parameters of a DeiT / ViT classifier (class token, no distillation token).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct VitConfig {
    /// Preset name (for example `deit_tiny_patch16_224`) or `custom`.
    pub name: String,
    pub image_size: usize,
    pub patch_size: usize,
    pub in_channels: usize,
    pub embed_dim: usize,
    pub depth: usize,
    pub num_heads: usize,
    /// Hidden width of each block's MLP (timm: `embed_dim * mlp_ratio`).
    pub mlp_hidden_dim: usize,
    pub num_classes: usize,
    /// LayerNorm epsilon; timm's DeiT uses 1e-6 (Burn's default is 1e-5).
    pub layer_norm_eps: f64,
    /// LayerScale (CaiT, DINOv2): a learned per-channel factor on the attention and on the
    /// MLP output before each residual addition, the tensors `blocks.N.ls1.gamma` and
    /// `blocks.N.ls2.gamma` (timm's names; DINOv2's `layer_scale1/2.lambda1`). Left out of
    /// the metadata when off, so files and run settings written before it existed stay
    /// byte-for-byte what they were and still load.
    #[serde(default, skip_serializing_if = "is_false")]
    pub layer_scale: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// The presets a user can name on the command line.
pub const PRESET_NAMES: [&str; 4] = [
    "deit_tiny_patch16_224",
    "deit_small_patch16_224",
    "deit_base_patch16_224",
    DINOV2_VITS14,
];

/// DINOv2's ViT-S/14 at 224 px (16x16 patches, 257 tokens), with LayerScale. Pretrained
/// weights come from an ONNX export of the Hugging Face `Dinov2Model` (`trainer import
/// --onnx`); the classification head is always new.
pub const DINOV2_VITS14: &str = "dinov2_vits14";

impl VitConfig {
    /// A DeiT preset by its timm name, with `num_classes` outputs.
    pub fn preset(name: &str, num_classes: usize) -> Option<Self> {
        if name == DINOV2_VITS14 {
            return Some(Self {
                name: name.to_string(),
                layer_scale: true,
                ..Self::custom(224, 14, 384, 12, 6, num_classes)
            });
        }
        let (embed_dim, num_heads) = match name {
            "deit_tiny_patch16_224" => (192, 3),
            "deit_small_patch16_224" => (384, 6),
            "deit_base_patch16_224" => (768, 12),
            _ => return None,
        };
        Some(Self {
            name: name.to_string(),
            image_size: 224,
            patch_size: 16,
            in_channels: 3,
            embed_dim,
            depth: 12,
            num_heads,
            mlp_hidden_dim: embed_dim * 4,
            num_classes,
            layer_norm_eps: 1e-6,
            layer_scale: false,
        })
    }

    /// A free configuration (for small test models); `mlp_hidden_dim` is 4x `embed_dim`.
    pub fn custom(
        image_size: usize,
        patch_size: usize,
        embed_dim: usize,
        depth: usize,
        num_heads: usize,
        num_classes: usize,
    ) -> Self {
        Self {
            name: "custom".to_string(),
            image_size,
            patch_size,
            in_channels: 3,
            embed_dim,
            depth,
            num_heads,
            mlp_hidden_dim: embed_dim * 4,
            num_classes,
            layer_norm_eps: 1e-6,
            layer_scale: false,
        }
    }

    /// Checks the numbers fit together; a model file with an inconsistent config is refused.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("image_size", self.image_size),
            ("patch_size", self.patch_size),
            ("in_channels", self.in_channels),
            ("embed_dim", self.embed_dim),
            ("depth", self.depth),
            ("num_heads", self.num_heads),
            ("mlp_hidden_dim", self.mlp_hidden_dim),
            ("num_classes", self.num_classes),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ConfigError::NotPositive { field });
            }
        }
        // Bounds keep a hostile file from asking for absurd allocations.
        let limits = [
            ("image_size", self.image_size, 4096),
            ("in_channels", self.in_channels, 4),
            ("embed_dim", self.embed_dim, 8192),
            ("depth", self.depth, 128),
            ("num_heads", self.num_heads, 128),
            ("mlp_hidden_dim", self.mlp_hidden_dim, 65536),
            ("num_classes", self.num_classes, 100_000),
        ];
        for (field, value, max) in limits {
            if value > max {
                return Err(ConfigError::OverLimit { field, value, max });
            }
        }
        if !self.image_size.is_multiple_of(self.patch_size) {
            return Err(ConfigError::NotMultiple {
                field: "image_size",
                value: self.image_size,
                of: "patch_size",
                divisor: self.patch_size,
            });
        }
        if !self.embed_dim.is_multiple_of(self.num_heads) {
            return Err(ConfigError::NotMultiple {
                field: "embed_dim",
                value: self.embed_dim,
                of: "num_heads",
                divisor: self.num_heads,
            });
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps < 1.0) {
            return Err(ConfigError::LayerNormEps(self.layer_norm_eps));
        }
        Ok(())
    }

    pub fn head_dim(&self) -> usize {
        self.embed_dim / self.num_heads
    }

    /// Patches along one side of the input.
    pub fn grid_size(&self) -> usize {
        self.image_size / self.patch_size
    }

    /// Tokens per image: the patches and the class token.
    pub fn num_tokens(&self) -> usize {
        self.grid_size() * self.grid_size() + 1
    }

    /// Every tensor of the model with its shape, named and laid out as in timm's state dict
    /// (`Linear` weights are `[out, in]`, the patch embedding is a `[D, C, P, P]` convolution).
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let d = self.embed_dim;
        let h = self.mlp_hidden_dim;
        let p = self.patch_size;
        let mut shapes = vec![
            ("cls_token".to_string(), vec![1, 1, d]),
            ("pos_embed".to_string(), vec![1, self.num_tokens(), d]),
            (
                "patch_embed.proj.weight".to_string(),
                vec![d, self.in_channels, p, p],
            ),
            ("patch_embed.proj.bias".to_string(), vec![d]),
        ];
        for i in 0..self.depth {
            let b = format!("blocks.{i}");
            shapes.extend([
                (format!("{b}.norm1.weight"), vec![d]),
                (format!("{b}.norm1.bias"), vec![d]),
                (format!("{b}.attn.qkv.weight"), vec![3 * d, d]),
                (format!("{b}.attn.qkv.bias"), vec![3 * d]),
                (format!("{b}.attn.proj.weight"), vec![d, d]),
                (format!("{b}.attn.proj.bias"), vec![d]),
            ]);
            if self.layer_scale {
                shapes.push((format!("{b}.ls1.gamma"), vec![d]));
            }
            shapes.extend([
                (format!("{b}.norm2.weight"), vec![d]),
                (format!("{b}.norm2.bias"), vec![d]),
                (format!("{b}.mlp.fc1.weight"), vec![h, d]),
                (format!("{b}.mlp.fc1.bias"), vec![h]),
                (format!("{b}.mlp.fc2.weight"), vec![d, h]),
                (format!("{b}.mlp.fc2.bias"), vec![d]),
            ]);
            if self.layer_scale {
                shapes.push((format!("{b}.ls2.gamma"), vec![d]));
            }
        }
        shapes.extend([
            ("norm.weight".to_string(), vec![d]),
            ("norm.bias".to_string(), vec![d]),
            ("head.weight".to_string(), vec![self.num_classes, d]),
            ("head.bias".to_string(), vec![self.num_classes]),
        ]);
        shapes
    }

    /// Number of learned parameters.
    pub fn num_params(&self) -> usize {
        self.tensor_shapes()
            .iter()
            .map(|(_, shape)| shape.iter().product::<usize>())
            .sum()
    }
}

/// The network a model file holds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum Architecture {
    /// A DeiT/ViT liveness classifier.
    Vit(VitConfig),
    /// The MTCNN face detector (P-, R- and O-Net in one file).
    Mtcnn(MtcnnConfig),
}

impl Architecture {
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Architecture::Vit(config) => config.validate(),
            Architecture::Mtcnn(config) => config.validate(),
        }
    }

    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        match self {
            Architecture::Vit(config) => config.tensor_shapes(),
            Architecture::Mtcnn(_) => MtcnnConfig::tensor_shapes(),
        }
    }

    /// The ViT config, when the file holds a liveness classifier.
    pub fn vit(&self) -> Option<&VitConfig> {
        match self {
            Architecture::Vit(config) => Some(config),
            Architecture::Mtcnn(_) => None,
        }
    }

    /// Whether a tensor is a weight matrix (quantised to int8 per output channel) rather than
    /// a bias, a norm, a LayerScale factor (`.gamma`, rank 1) or an embedding (kept in f32
    /// even in int8 files: small and sensitive).
    pub fn is_quantisable(&self, name: &str, shape: &[usize]) -> bool {
        match self {
            Architecture::Vit(_) => shape.len() >= 2 && name.ends_with(".weight"),
            // The detector is small (2 MB in f32) and its boxes must match the reference.
            Architecture::Mtcnn(_) => false,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Architecture::Vit(config) => &config.name,
            Architecture::Mtcnn(_) => "mtcnn",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_parameter_counts_match_timm() {
        // timm's counts with a 2-class head.
        let tiny = VitConfig::preset("deit_tiny_patch16_224", 2).unwrap();
        assert_eq!(tiny.num_params(), 5_524_802);
        let base = VitConfig::preset("deit_base_patch16_224", 2).unwrap();
        assert_eq!(base.num_params(), 85_800_194);
        let small = VitConfig::preset("deit_small_patch16_224", 1000).unwrap();
        assert_eq!(small.num_params(), 22_050_664);
        // DINOv2 ViT-S/14 at 224 px: 257 position embeddings, 24 LayerScale vectors and a
        // 2-class head. Hugging Face's Dinov2Model (1370 position embeddings, a mask token,
        // no head) has 22_056_576 = this - 257 * 384 - 770 + 1370 * 384 + 384.
        let dinov2 = VitConfig::preset(DINOV2_VITS14, 2).unwrap();
        assert_eq!(dinov2.num_params(), 21_629_570);
        assert_eq!(
            dinov2.num_params() - 257 * 384 - 770 + 1370 * 384 + 384,
            22_056_576
        );
        assert_eq!((dinov2.grid_size(), dinov2.num_tokens()), (16, 257));
        assert_eq!((dinov2.mlp_hidden_dim, dinov2.head_dim()), (1536, 64));
    }

    #[test]
    fn layer_scale_adds_two_vectors_per_block_and_stays_out_of_old_metadata() {
        let plain = VitConfig::custom(32, 8, 48, 2, 3, 2);
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("layer_scale"), "{json}");
        // A config written before the field existed reads as one without LayerScale.
        let old: VitConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(old, plain);

        let scaled = VitConfig {
            layer_scale: true,
            ..plain.clone()
        };
        let json = serde_json::to_string(&scaled).unwrap();
        assert_eq!(serde_json::from_str::<VitConfig>(&json).unwrap(), scaled);
        let names: Vec<String> = scaled.tensor_shapes().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), plain.tensor_shapes().len() + 4);
        // timm's state-dict order: ls1 after the attention, ls2 after the MLP.
        let at = |name: &str| names.iter().position(|n| n == name).unwrap();
        assert_eq!(at("blocks.1.ls1.gamma"), at("blocks.1.attn.proj.bias") + 1);
        assert_eq!(at("blocks.1.ls2.gamma"), at("blocks.1.mlp.fc2.bias") + 1);
        let architecture = Architecture::Vit(scaled);
        assert!(!architecture.is_quantisable("blocks.0.ls1.gamma", &[48]));
        assert!(architecture.is_quantisable("blocks.0.attn.qkv.weight", &[144, 48]));
    }

    #[test]
    fn validate_rejects_inconsistent_configs() {
        let mut config = VitConfig::custom(32, 8, 48, 2, 3, 2);
        assert!(config.validate().is_ok());
        config.image_size = 30;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("multiple of patch_size")
        );
        let mut config = VitConfig::custom(32, 8, 48, 2, 5, 2);
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("num_heads")
        );
        config.num_heads = 0;
        assert_eq!(
            config.validate(),
            Err(ConfigError::NotPositive { field: "num_heads" })
        );
    }
}
