//! Which network to train and what it starts from: a preset (DeiT, DINOv2) or a small
//! custom ViT (`custom:img=32,patch=8,dim=48,depth=4,heads=3[,mlp=96][,ls=1]`, for tests
//! and quick runs; `ls=1` adds LayerScale), optionally initialised from a model file
//! (`--init`, whose architecture is also the default one), with the head re-initialised
//! when the class count differs and the position embedding interpolated when the grid does.

use anyhow::{Context, Result, bail};
use model_format::{ModelFile, VitConfig, Weights};

/// The liveness classes: attack (0) and live (1).
pub const NUM_CLASSES: usize = 2;

/// The configuration named by `spec`, at `input_size` when given.
pub fn model_config(spec: &str, input_size: Option<usize>) -> Result<VitConfig> {
    let config = if let Some(fields) = spec.strip_prefix("custom:") {
        let mut values = std::collections::HashMap::new();
        for field in fields.split(',').filter(|f| !f.is_empty()) {
            let (key, value) = field
                .split_once('=')
                .with_context(|| format!("{spec}: expected key=value, got {field:?}"))?;
            let value: usize = value
                .parse()
                .with_context(|| format!("{spec}: {key} must be a positive integer"))?;
            if !["img", "patch", "dim", "depth", "heads", "mlp", "ls"].contains(&key) {
                bail!("{spec}: unknown key {key:?} (img, patch, dim, depth, heads, mlp, ls)");
            }
            values.insert(key, value);
        }
        let get = |key: &str| {
            values
                .get(key)
                .copied()
                .filter(|v| *v > 0)
                .with_context(|| format!("{spec}: {key}=N (positive) is required"))
        };
        let (img, patch, dim, heads) = (get("img")?, get("patch")?, get("dim")?, get("heads")?);
        if img % patch != 0 || dim % heads != 0 {
            bail!("{spec}: img must be a multiple of patch and dim a multiple of heads");
        }
        let mut config = VitConfig::custom(img, patch, dim, get("depth")?, heads, NUM_CLASSES);
        if let Some(mlp) = values.get("mlp") {
            config.mlp_hidden_dim = *mlp;
        }
        config.layer_scale = match values.get("ls") {
            None | Some(0) => false,
            Some(1) => true,
            Some(_) => bail!("{spec}: ls must be 0 or 1"),
        };
        config
    } else {
        VitConfig::preset(spec, NUM_CLASSES).with_context(|| {
            format!(
                "unknown model {spec:?}: use a preset ({}) or custom:img=..,patch=..,dim=..,depth=..,heads=..",
                model_format::PRESET_NAMES.join(", ")
            )
        })?
    };
    with_input_size(config, input_size)
}

/// The architecture of the model file `path` (`--init` without `--model`), with
/// [`NUM_CLASSES`] outputs (the head is re-initialised if the file has another count) and
/// `input_size` when given.
pub fn config_of_file(path: &std::path::Path, input_size: Option<usize>) -> Result<VitConfig> {
    let file = ModelFile::read(path)?;
    let (config, _) = file
        .metadata
        .classifier()
        .with_context(|| format!("--init {}", path.display()))?;
    let config = VitConfig {
        num_classes: NUM_CLASSES,
        ..config.clone()
    };
    with_input_size(config, input_size)
}

fn with_input_size(mut config: VitConfig, input_size: Option<usize>) -> Result<VitConfig> {
    if let Some(size) = input_size {
        if size % config.patch_size != 0 {
            bail!(
                "--input-size {size} is not a multiple of the patch size {}",
                config.patch_size
            );
        }
        config.image_size = size;
    }
    Ok(config)
}

/// `fresh` (the initial weights of `config`) with every weight of `file` that fits:
/// the head is kept fresh when its shape differs and the position embedding is resampled
/// to the new grid; any other difference is an error. Returns the weights and notes on
/// what was adapted.
pub fn init_weights(
    config: &VitConfig,
    mut fresh: Weights,
    file: &ModelFile,
) -> Result<(Weights, Vec<String>)> {
    let mut notes = Vec::new();
    let absent: Vec<&String> = fresh
        .keys()
        .filter(|name| !file.weights.contains_key(*name))
        .collect();
    if !absent.is_empty() {
        let shown: Vec<&str> = absent.iter().take(4).map(|s| s.as_str()).collect();
        notes.push(format!(
            "{} tensor(s) not in the file, newly initialised: {}{}",
            absent.len(),
            shown.join(", "),
            if absent.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        ));
    }
    for (name, weight) in &file.weights {
        let Some(target) = fresh.get_mut(name) else {
            bail!(
                "--init: the file has {name}, which {} does not",
                config.name
            );
        };
        if target.shape == weight.shape {
            target.data.clone_from(&weight.data);
        } else if name.starts_with("head.") {
            notes.push(format!(
                "{name}: {:?} in the file, {:?} here: re-initialised",
                weight.shape, target.shape
            ));
        } else if name == "pos_embed"
            && weight.shape.len() == 3
            && weight.shape[2] == target.shape[2]
        {
            let dim = weight.shape[2];
            let from = grid_side(weight.shape[1] - 1)?;
            let to = grid_side(target.shape[1] - 1)?;
            target.data = resample_pos_embed(&weight.data, from, to, dim);
            notes.push(format!(
                "pos_embed: {from}x{from} grid resampled to {to}x{to} (bicubic)"
            ));
        } else {
            bail!(
                "--init: {name} is {:?} in the file but {:?} in {}",
                weight.shape,
                target.shape,
                config.name
            );
        }
    }
    Ok((fresh, notes))
}

fn grid_side(patches: usize) -> Result<usize> {
    let side = (patches as f64).sqrt().round() as usize;
    if side * side != patches {
        bail!("position embedding of {patches} patches is not a square grid");
    }
    Ok(side)
}

/// PyTorch's cubic convolution kernel (a = -0.75).
fn cubic(x: f64) -> f64 {
    let a = -0.75;
    let x = x.abs();
    if x <= 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    } else {
        0.0
    }
}

/// 1-D resampling weights of `F.interpolate(mode="bicubic", align_corners=False)`:
/// for each output index, four (input index, weight) pairs with borders clamped.
fn cubic_taps(from: usize, to: usize) -> Vec<[(usize, f64); 4]> {
    let scale = from as f64 / to as f64;
    (0..to)
        .map(|o| {
            let src = (o as f64 + 0.5) * scale - 0.5;
            let base = src.floor();
            let t = src - base;
            std::array::from_fn(|k| {
                let i = (base as i64 + k as i64 - 1).clamp(0, from as i64 - 1) as usize;
                (i, cubic(t + 1.0 - k as f64))
            })
        })
        .collect()
}

/// timm's `resample_abs_pos_embed` for one class token: the class token's row is kept, the
/// `from x from` grid of patch embeddings is resized bicubically to `to x to`.
pub fn resample_pos_embed(data: &[f32], from: usize, to: usize, dim: usize) -> Vec<f32> {
    let taps = cubic_taps(from, to);
    let grid = &data[dim..];
    let mut out = data[..dim].to_vec();
    out.resize(dim * (1 + to * to), 0.0);
    for (oy, ty) in taps.iter().enumerate() {
        for (ox, tx) in taps.iter().enumerate() {
            let row = &mut out[dim * (1 + oy * to + ox)..dim * (2 + oy * to + ox)];
            for &(iy, wy) in ty {
                for &(ix, wx) in tx {
                    let w = (wy * wx) as f32;
                    let src = &grid[dim * (iy * from + ix)..dim * (iy * from + ix + 1)];
                    for (o, s) in row.iter_mut().zip(src) {
                        *o += w * s;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_and_custom_specs() {
        let tiny = model_config("deit_tiny_patch16_224", None).unwrap();
        assert_eq!(
            (tiny.embed_dim, tiny.num_heads, tiny.image_size),
            (192, 3, 224)
        );
        assert_eq!(
            model_config("deit_tiny_patch16_224", Some(112))
                .unwrap()
                .image_size,
            112
        );
        let custom = model_config("custom:img=32,patch=8,dim=48,depth=4,heads=3", None).unwrap();
        assert_eq!(
            (
                custom.image_size,
                custom.patch_size,
                custom.embed_dim,
                custom.depth,
                custom.num_heads
            ),
            (32, 8, 48, 4, 3)
        );
        assert_eq!(custom.mlp_hidden_dim, 4 * 48);
        assert!(!custom.layer_scale);
        let scaled = model_config("custom:img=28,patch=14,dim=24,depth=2,heads=3,ls=1", None);
        assert!(scaled.unwrap().layer_scale);
        let dinov2 = model_config("dinov2_vits14", Some(112)).unwrap();
        assert_eq!(
            (dinov2.image_size, dinov2.grid_size(), dinov2.layer_scale),
            (112, 8, true)
        );
        assert!(model_config("dinov2_vits14", Some(224 - 16)).is_err());
        for bad in [
            "custom:img=28,patch=14,dim=24,depth=2,heads=3,ls=2",
            "deit_huge",
            "custom:img=32,patch=8,dim=48,depth=4",
            "custom:img=30,patch=8,dim=48,depth=4,heads=3",
            "custom:img=32,patch=8,dim=48,depth=4,heads=3,drop=1",
        ] {
            assert!(model_config(bad, None).is_err(), "{bad}");
        }
        assert!(model_config("deit_tiny_patch16_224", Some(100)).is_err());
    }

    /// Against `torch.nn.functional.interpolate(x, size=.., mode="bicubic",
    /// align_corners=False)` (torch 2.15): a 2x2 grid to 3x3 and a 3x3 grid of squares to 5x5.
    #[test]
    fn resamples_like_torch_bicubic() {
        // One channel; the class token (9) is kept.
        let data = [9.0f32, 0.0, 1.0, 2.0, 3.0];
        let out = resample_pos_embed(&data, 2, 3, 1);
        let torch = [
            -0.260_416_8,
            0.326_388_96,
            0.913_194_4,
            0.913_194_7,
            1.5,
            2.086_805_8,
            2.086_805_8,
            2.673_611,
            3.260_417,
        ];
        assert_eq!(out[0], 9.0);
        for (a, b) in out[1..].iter().zip(torch) {
            assert!((a - b).abs() < 1e-5, "{out:?}");
        }
        let squares: Vec<f32> = std::iter::once(0.0)
            .chain((0..9).map(|i| (i * i) as f32))
            .collect();
        let out = resample_pos_embed(&squares, 3, 5, 1);
        let torch = [
            -0.904_703_7,
            -0.874_014_9,
            -0.439_999_2,
            1.074_017_2,
            2.216_705_8,
            1.269_992,
            2.319_146_6,
            4.444_011,
            7.648_876,
            9.810_03,
            8.328_001,
            11.068_004,
            16.0,
            22.012_001,
            25.864_002,
            25.106_02,
            29.536_871,
            37.276,
            46.095_142,
            51.637_993,
            37.288_71,
            42.738_03,
            52.168_01,
            62.678,
            69.239_32,
        ];
        for (a, b) in out[1..].iter().zip(torch) {
            assert!((a - b).abs() < 1e-4, "{out:?}");
        }
        assert_eq!(resample_pos_embed(&data, 2, 2, 1), data.to_vec());
    }
}
