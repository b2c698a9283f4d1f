//! timm's RandAugment (`timm/data/auto_augment.py`, timm 1.0.31) as DeiT uses it:
//! `rand_augment_transform('rand-m9-mstd0.5-inc1', hparams)` with DeiT's hparams
//! (`translate_const = int(0.45 * size)`, the ImageNet mean `(124, 116, 104)` as the fill
//! colour, bicubic resampling for the geometric ops).
//!
//! Per image, `layers` ops are drawn uniformly with replacement from the op list (numpy's
//! `choice(ops, n, replace=True)`); each one is applied with probability `prob`; its
//! magnitude is `magnitude + magnitude_std * N(0, 1)` (uniform in `[0, magnitude]` when
//! the std is infinite, i.e. `mstd` > 100), clipped to `[0, magnitude_max or 10]`, and
//! mapped to the op's argument by timm's level function (the signed ones flip their sign
//! with probability 1/2).
//!
//! The ops reproduce Pillow 13 (the version the fixtures were made with):
//! - point ops (AutoContrast, Equalize, Invert, Posterize, Solarize, SolarizeAdd) are
//!   ports of `ImageOps`' look-up tables (integer arithmetic; the Python float scale of
//!   `autocontrast` in f64; LUT entries clipped to 0..255 as `Image.point` does);
//! - the enhancers (Color, Contrast, Brightness, Sharpness) are `ImageEnhance`, i.e.
//!   `Image.blend(degenerate, image, factor)` with C's single-precision arithmetic and
//!   truncation (`ImagingBlend`), the ITU-R 601 `L` conversion in 16-bit fixed point,
//!   Contrast's degenerate grey `int(mean(L) + 0.5)` and Sharpness's `SMOOTH` 3x3 filter
//!   (single precision, +0.5 rounding, border pixels kept);
//! - the geometric ops (Rotate, ShearX/Y, TranslateX/Y, TranslateXRel/YRel) are
//!   `Image.transform(size, AFFINE, data, BICUBIC, fillcolor=fill)` (`Image.rotate` builds
//!   its matrix the same way, with its fast paths for 0/90/180/270 degrees), ported from
//!   `libImaging/Geometry.c`: output pixel centres `(x + 0.5, y + 0.5)` mapped through the
//!   matrix, the fill colour where the source point falls outside `[0, w) x [0, h)`, and
//!   otherwise Pillow's transform bicubic, which is the cubic convolution with `a = -1`
//!   (not the `a = -0.5` of `Image.resize`) on a clamped 4x4 neighbourhood, evaluated in
//!   f64 and truncated to 8 bits (no rounding).
//!
//! Where this port deliberately differs from timm on Pillow 13:
//! - PosterizeIncreasing at magnitude 10 (reached when the Gaussian noise is clipped) asks
//!   for 0 bits, which `ImageOps.posterize` rejects since Pillow 11 (DeiT's data loader
//!   would raise); here 0 or fewer bits give black, as the 0-bit mask of older Pillow did.
//! - [`RandAugment::parse`] rejects config sections that timm silently skips (no number,
//!   e.g. `rand-m9-` or `rand-foo`) and the transform-set key `t...`; only the bicubic
//!   interpolation is implemented (timm's `'random'` interpolation is not).

use image::{Rgb, RgbImage};
use rand::RngExt;
use rand_distr::StandardNormal;

/// timm's `_LEVEL_DENOM`: magnitudes are in 0..10 (the default upper clip).
pub const LEVEL_DENOM: f64 = 10.0;

/// The ImageNet mean in 0..255 as timm rounds it (`round(255 * m)`): DeiT's fill colour.
pub const IMAGENET_FILL: [u8; 3] = [124, 116, 104];

/// The config string of the DeiT recipe.
pub const DEIT_SPEC: &str = "rand-m9-mstd0.5-inc1";

/// One RandAugment op, named as in timm's `NAME_TO_OP` / `LEVEL_TO_ARG`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    AutoContrast,
    Equalize,
    Invert,
    Rotate,
    Posterize,
    PosterizeIncreasing,
    Solarize,
    SolarizeIncreasing,
    SolarizeAdd,
    Color,
    ColorIncreasing,
    Contrast,
    ContrastIncreasing,
    Brightness,
    BrightnessIncreasing,
    Sharpness,
    SharpnessIncreasing,
    ShearX,
    ShearY,
    TranslateX,
    TranslateY,
    TranslateXRel,
    TranslateYRel,
}

/// timm's `_RAND_TRANSFORMS` (`inc0`, the default).
pub const RAND_TRANSFORMS: [Op; 15] = [
    Op::AutoContrast,
    Op::Equalize,
    Op::Invert,
    Op::Rotate,
    Op::Posterize,
    Op::Solarize,
    Op::SolarizeAdd,
    Op::Color,
    Op::Contrast,
    Op::Brightness,
    Op::Sharpness,
    Op::ShearX,
    Op::ShearY,
    Op::TranslateXRel,
    Op::TranslateYRel,
];

/// timm's `_RAND_INCREASING_TRANSFORMS` (`inc1`, DeiT's).
pub const RAND_INCREASING_TRANSFORMS: [Op; 15] = [
    Op::AutoContrast,
    Op::Equalize,
    Op::Invert,
    Op::Rotate,
    Op::PosterizeIncreasing,
    Op::SolarizeIncreasing,
    Op::SolarizeAdd,
    Op::ColorIncreasing,
    Op::ContrastIncreasing,
    Op::BrightnessIncreasing,
    Op::SharpnessIncreasing,
    Op::ShearX,
    Op::ShearY,
    Op::TranslateXRel,
    Op::TranslateYRel,
];

const ALL_OPS: [Op; 23] = [
    Op::AutoContrast,
    Op::Equalize,
    Op::Invert,
    Op::Rotate,
    Op::Posterize,
    Op::PosterizeIncreasing,
    Op::Solarize,
    Op::SolarizeIncreasing,
    Op::SolarizeAdd,
    Op::Color,
    Op::ColorIncreasing,
    Op::Contrast,
    Op::ContrastIncreasing,
    Op::Brightness,
    Op::BrightnessIncreasing,
    Op::Sharpness,
    Op::SharpnessIncreasing,
    Op::ShearX,
    Op::ShearY,
    Op::TranslateX,
    Op::TranslateY,
    Op::TranslateXRel,
    Op::TranslateYRel,
];

impl Op {
    /// timm's name of the op.
    pub fn name(self) -> &'static str {
        match self {
            Op::AutoContrast => "AutoContrast",
            Op::Equalize => "Equalize",
            Op::Invert => "Invert",
            Op::Rotate => "Rotate",
            Op::Posterize => "Posterize",
            Op::PosterizeIncreasing => "PosterizeIncreasing",
            Op::Solarize => "Solarize",
            Op::SolarizeIncreasing => "SolarizeIncreasing",
            Op::SolarizeAdd => "SolarizeAdd",
            Op::Color => "Color",
            Op::ColorIncreasing => "ColorIncreasing",
            Op::Contrast => "Contrast",
            Op::ContrastIncreasing => "ContrastIncreasing",
            Op::Brightness => "Brightness",
            Op::BrightnessIncreasing => "BrightnessIncreasing",
            Op::Sharpness => "Sharpness",
            Op::SharpnessIncreasing => "SharpnessIncreasing",
            Op::ShearX => "ShearX",
            Op::ShearY => "ShearY",
            Op::TranslateX => "TranslateX",
            Op::TranslateY => "TranslateY",
            Op::TranslateXRel => "TranslateXRel",
            Op::TranslateYRel => "TranslateYRel",
        }
    }

    /// The op with timm's name `name`.
    pub fn from_name(name: &str) -> Option<Op> {
        ALL_OPS.into_iter().find(|op| op.name() == name)
    }

    /// Whether the level function flips the sign at random (timm's `_randomly_negate`).
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Op::Rotate
                | Op::ColorIncreasing
                | Op::ContrastIncreasing
                | Op::BrightnessIncreasing
                | Op::SharpnessIncreasing
                | Op::ShearX
                | Op::ShearY
                | Op::TranslateX
                | Op::TranslateY
                | Op::TranslateXRel
                | Op::TranslateYRel
        )
    }

    /// timm's `LEVEL_TO_ARG[name](magnitude, hparams)`: the op's argument for a (clipped)
    /// magnitude, `None` for the ops without one. `negate` is the outcome of the random
    /// sign flip (ignored by unsigned ops); `translate_const` is the hparam of the absolute
    /// translations. Integer arguments (posterize bits, solarize thresholds) are whole
    /// numbers.
    pub fn level_to_arg(self, magnitude: f64, negate: bool, translate_const: u32) -> Option<f64> {
        let level = magnitude / LEVEL_DENOM;
        let sign = |v: f64| if negate { -v } else { v };
        let posterize = (level * 4.0).trunc();
        let solarize = (level * 256.0).trunc().min(256.0);
        let arg = match self {
            Op::AutoContrast | Op::Equalize | Op::Invert => return None,
            Op::Rotate => sign(level * 30.0),
            Op::Posterize => posterize,
            Op::PosterizeIncreasing => 4.0 - posterize,
            Op::Solarize => solarize,
            Op::SolarizeIncreasing => 256.0 - solarize,
            Op::SolarizeAdd => (level * 110.0).trunc().min(128.0),
            Op::Color | Op::Contrast | Op::Brightness | Op::Sharpness => level * 1.8 + 0.1,
            Op::ColorIncreasing
            | Op::ContrastIncreasing
            | Op::BrightnessIncreasing
            | Op::SharpnessIncreasing => f64::max(0.1, 1.0 + sign(level * 0.9)),
            Op::ShearX | Op::ShearY => sign(level * 0.3),
            Op::TranslateX | Op::TranslateY => sign(level * translate_const as f64),
            Op::TranslateXRel | Op::TranslateYRel => sign(level * 0.45),
        };
        Some(arg)
    }

    /// timm's `NAME_TO_OP[name](img, arg, fillcolor=fill, resample=BICUBIC)`.
    ///
    /// Panics when an op that takes an argument gets `None`.
    pub fn run(self, img: &RgbImage, arg: Option<f64>, fill: [u8; 3]) -> RgbImage {
        let a = || arg.unwrap_or_else(|| panic!("{} needs an argument", self.name()));
        match self {
            Op::AutoContrast => auto_contrast(img),
            Op::Equalize => equalize(img),
            Op::Invert => invert(img),
            Op::Rotate => rotate(img, a(), fill),
            Op::Posterize | Op::PosterizeIncreasing => posterize(img, a() as i32),
            Op::Solarize | Op::SolarizeIncreasing => solarize(img, a() as i32),
            Op::SolarizeAdd => solarize_add(img, a() as i32, 128),
            Op::Color | Op::ColorIncreasing => enhance_color(img, a()),
            Op::Contrast | Op::ContrastIncreasing => enhance_contrast(img, a()),
            Op::Brightness | Op::BrightnessIncreasing => enhance_brightness(img, a()),
            Op::Sharpness | Op::SharpnessIncreasing => enhance_sharpness(img, a()),
            Op::ShearX => shear_x(img, a(), fill),
            Op::ShearY => shear_y(img, a(), fill),
            Op::TranslateX => translate_x_abs(img, a(), fill),
            Op::TranslateY => translate_y_abs(img, a(), fill),
            Op::TranslateXRel => translate_x_rel(img, a(), fill),
            Op::TranslateYRel => translate_y_rel(img, a(), fill),
        }
    }
}

/// timm's `RandAugment` with its `AugmentOp`s (all ops share prob, magnitude and hparams).
#[derive(Clone, Debug, PartialEq)]
pub struct RandAugment {
    /// The ops to draw from (uniformly, with replacement).
    pub ops: Vec<Op>,
    /// Ops drawn per image (`n`, default 2).
    pub layers: usize,
    /// Mean magnitude (`m`, default 10) on the 0..10 scale.
    pub magnitude: f64,
    /// Std of the Gaussian magnitude noise (`mstd`); 0 = fixed, infinite = uniform in
    /// `[0, magnitude]`.
    pub magnitude_std: f64,
    /// Upper clip of the magnitude (`mmax`); `None` (or 0, as in timm) = 10.
    pub magnitude_max: Option<f64>,
    /// Probability of applying each drawn op (`p`, default 0.5).
    pub prob: f64,
    /// Fill colour of the geometric ops (RGB, 0..255).
    pub fill: [u8; 3],
    /// Pixels of TranslateX/Y at magnitude 10 (`int(0.45 * size)`; unused by the rand and
    /// rand-inc op sets, which translate relative to the image size).
    pub translate_const: u32,
}

/// The random decisions for one drawn op.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Draw {
    pub op: Op,
    /// `None` when the op was skipped (probability `1 - prob`).
    pub magnitude: Option<f64>,
    /// The sign flip of signed ops (always `false` for unsigned ones).
    pub negate: bool,
}

impl RandAugment {
    /// Parses a timm RandAugment config string (`rand-m9-mstd0.5-inc1`): sections after
    /// `rand` are `m` (integer magnitude), `n` (integer layers), `mstd` (float; > 100 means
    /// uniform), `mmax` (integer clip), `inc` (0/1: the increasing op set), `p` (float
    /// probability in 0..1). As in timm, later `m`/`n`/`inc`/`p` sections override earlier
    /// ones and the first `mstd`/`mmax` wins. `image_size` gives
    /// `translate_const = int(0.45 * image_size)`; the fill is the ImageNet mean.
    pub fn parse(spec: &str, image_size: u32) -> anyhow::Result<Self> {
        let mut sections = spec.split('-');
        if sections.next() != Some("rand") {
            anyhow::bail!("RandAugment spec {spec:?}: must start with \"rand\"");
        }
        let mut magnitude = LEVEL_DENOM;
        let mut layers = 2usize;
        let mut increasing = false;
        let mut prob = 0.5;
        let mut magnitude_std: Option<f64> = None;
        let mut magnitude_max: Option<f64> = None;
        for section in sections {
            let bad = |why: &str| {
                anyhow::anyhow!("RandAugment spec {spec:?}: section {section:?}: {why}")
            };
            let Some(split) = section.find(|c: char| c.is_ascii_digit()) else {
                return Err(bad("expected a key followed by a number"));
            };
            let (key, value) = section.split_at(split);
            let int = || value.parse::<u32>().map_err(|_| bad("expected an integer"));
            let float = || {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad("expected a number"))
            };
            match key {
                "m" => magnitude = int()? as f64,
                "n" => layers = int()? as usize,
                "inc" => increasing = int()? != 0,
                "mmax" => {
                    let v = int()? as f64;
                    magnitude_max.get_or_insert(v);
                }
                "mstd" => {
                    let v = float()?;
                    magnitude_std.get_or_insert(if v > 100.0 { f64::INFINITY } else { v });
                }
                "p" => {
                    let v = float()?;
                    if !(0.0..=1.0).contains(&v) {
                        return Err(bad("the probability must be in [0, 1]"));
                    }
                    prob = v;
                }
                _ => return Err(bad("unknown key (known: m, n, mstd, mmax, inc, p)")),
            }
        }
        let ops = if increasing {
            RAND_INCREASING_TRANSFORMS.to_vec()
        } else {
            RAND_TRANSFORMS.to_vec()
        };
        Ok(Self {
            ops,
            layers,
            magnitude,
            magnitude_std: magnitude_std.unwrap_or(0.0),
            magnitude_max,
            prob,
            fill: IMAGENET_FILL,
            translate_const: (image_size as f64 * 0.45) as u32,
        })
    }

    /// Augments one image (timm's `RandAugment.__call__`).
    pub fn apply(&self, rng: &mut impl RngExt, image: RgbImage) -> RgbImage {
        let draws = self.draw(rng);
        self.run(&draws, image)
    }

    /// The random part of [`apply`](Self::apply): the ops drawn for one image and, per op,
    /// whether it applies, its magnitude and sign.
    pub fn draw(&self, rng: &mut impl RngExt) -> Vec<Draw> {
        if self.ops.is_empty() {
            return Vec::new();
        }
        let ops: Vec<Op> = (0..self.layers)
            .map(|_| self.ops[rng.random_range(0..self.ops.len())])
            .collect();
        ops.into_iter()
            .map(|op| {
                // AugmentOp.__call__: `if prob < 1 and random() > prob: return img`.
                if self.prob < 1.0 && rng.random::<f64>() > self.prob {
                    return Draw {
                        op,
                        magnitude: None,
                        negate: false,
                    };
                }
                let magnitude = self.sample_magnitude(rng);
                // _randomly_negate: `-v if random() > 0.5 else v`.
                let negate = op.is_signed() && rng.random::<f64>() > 0.5;
                Draw {
                    op,
                    magnitude: Some(magnitude),
                    negate,
                }
            })
            .collect()
    }

    /// Applies drawn ops to `image` in order.
    pub fn run(&self, draws: &[Draw], image: RgbImage) -> RgbImage {
        draws.iter().fold(image, |img, d| match d.magnitude {
            None => img,
            Some(m) => {
                let arg = d.op.level_to_arg(m, d.negate, self.translate_const);
                d.op.run(&img, arg, self.fill)
            }
        })
    }

    /// One op's magnitude: Gaussian noise (or uniform for an infinite std), clipped to
    /// `[0, magnitude_max or 10]`.
    pub fn sample_magnitude(&self, rng: &mut impl RngExt) -> f64 {
        let mut m = self.magnitude;
        if self.magnitude_std == f64::INFINITY {
            m *= rng.random::<f64>();
        } else if self.magnitude_std > 0.0 {
            let z: f64 = rng.sample(StandardNormal);
            m += self.magnitude_std * z;
        }
        // `self.magnitude_max or _LEVEL_DENOM`: 0 falls back to 10 too.
        let upper = match self.magnitude_max {
            Some(v) if v != 0.0 => v,
            _ => LEVEL_DENOM,
        };
        m.min(upper).max(0.0)
    }
}

// ------------------------------------------------------------------------------------
// Point ops (ImageOps)
// ------------------------------------------------------------------------------------

type Luts = [[u8; 256]; 3];

fn apply_luts(img: &RgbImage, luts: &Luts) -> RgbImage {
    let mut out = img.clone();
    for px in out.pixels_mut() {
        for c in 0..3 {
            px.0[c] = luts[c][px.0[c] as usize];
        }
    }
    out
}

fn same_lut(f: impl Fn(u8) -> u8) -> Luts {
    let lut: [u8; 256] = std::array::from_fn(|i| f(i as u8));
    [lut; 3]
}

fn histograms(img: &RgbImage) -> [[u64; 256]; 3] {
    let mut h = [[0u64; 256]; 3];
    for px in img.pixels() {
        for c in 0..3 {
            h[c][px.0[c] as usize] += 1;
        }
    }
    h
}

/// `ImageOps.autocontrast(img)` (cutoff 0): each channel's range stretched to 0..255.
pub fn auto_contrast(img: &RgbImage) -> RgbImage {
    let hist = histograms(img);
    let mut luts = [[0u8; 256]; 3];
    for (lut, h) in luts.iter_mut().zip(&hist) {
        let lo = h.iter().position(|&n| n != 0).unwrap_or(255);
        let hi = h.iter().rposition(|&n| n != 0).unwrap_or(0);
        if hi <= lo {
            *lut = std::array::from_fn(|i| i as u8);
        } else {
            let scale = 255.0 / (hi - lo) as f64;
            let offset = -(lo as f64) * scale;
            *lut = std::array::from_fn(|i| {
                (i as f64 * scale + offset).trunc().clamp(0.0, 255.0) as u8
            });
        }
    }
    apply_luts(img, &luts)
}

/// `ImageOps.equalize(img)`: per-channel histogram equalisation (Pillow's integer steps).
pub fn equalize(img: &RgbImage) -> RgbImage {
    let hist = histograms(img);
    let mut luts = [[0u8; 256]; 3];
    for (lut, h) in luts.iter_mut().zip(&hist) {
        *lut = std::array::from_fn(|i| i as u8);
        let nonzero: Vec<u64> = h.iter().copied().filter(|&n| n != 0).collect();
        if nonzero.len() <= 1 {
            continue;
        }
        let step = (nonzero.iter().sum::<u64>() - nonzero[nonzero.len() - 1]) / 255;
        if step == 0 {
            continue;
        }
        let mut n = step / 2;
        for (entry, &count) in lut.iter_mut().zip(h) {
            // Image.point clips the table to 8 bits.
            *entry = (n / step).min(255) as u8;
            n += count;
        }
    }
    apply_luts(img, &luts)
}

/// `ImageOps.invert(img)`.
pub fn invert(img: &RgbImage) -> RgbImage {
    apply_luts(img, &same_lut(|i| 255 - i))
}

/// timm's `posterize(img, bits)`: `ImageOps.posterize` keeps the `bits` high bits; 8 or
/// more keep the image; 0 or fewer give black (Pillow >= 11 raises there; see the module
/// docs).
pub fn posterize(img: &RgbImage, bits: i32) -> RgbImage {
    if bits >= 8 {
        return img.clone();
    }
    let mask = if bits <= 0 {
        0u8
    } else {
        !((1u32 << (8 - bits)) - 1) as u8
    };
    apply_luts(img, &same_lut(|i| i & mask))
}

/// `ImageOps.solarize(img, threshold)`: values >= threshold are inverted.
pub fn solarize(img: &RgbImage, threshold: i32) -> RgbImage {
    apply_luts(
        img,
        &same_lut(|i| if (i as i32) < threshold { i } else { 255 - i }),
    )
}

/// timm's `solarize_add(img, add, thresh)`: values below `threshold` get `add` (capped at
/// 255).
pub fn solarize_add(img: &RgbImage, add: i32, threshold: i32) -> RgbImage {
    apply_luts(
        img,
        &same_lut(|i| {
            if (i as i32) < threshold {
                (i as i32 + add).clamp(0, 255) as u8
            } else {
                i
            }
        }),
    )
}

// ------------------------------------------------------------------------------------
// Enhancers (ImageEnhance = Image.blend(degenerate, image, factor))
// ------------------------------------------------------------------------------------

/// `Image.blend(degenerate, image, factor)` (`ImagingBlend`): single precision, truncated,
/// clipped only when extrapolating.
fn blend(degenerate: &RgbImage, image: &RgbImage, factor: f64) -> RgbImage {
    let alpha = factor as f32;
    if alpha == 0.0 {
        return degenerate.clone();
    }
    if alpha == 1.0 {
        return image.clone();
    }
    let interpolate = (0.0..=1.0).contains(&alpha);
    let mut out = image.clone();
    for (o, (&d, &i)) in out.iter_mut().zip(degenerate.iter().zip(image.iter())) {
        let v = d as i32 as f32 + alpha * (i as i32 - d as i32) as f32;
        *o = if interpolate {
            v as u8
        } else if v <= 0.0 {
            0
        } else if v >= 255.0 {
            255
        } else {
            v as u8
        };
    }
    out
}

/// Pillow's RGB -> L conversion (ITU-R 601-2 luma in 16-bit fixed point).
fn luma(px: &Rgb<u8>) -> u8 {
    let [r, g, b] = px.0.map(u32::from);
    ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) as u8
}

/// `ImageEnhance.Color(img).enhance(factor)`: blend with the greyscale image.
pub fn enhance_color(img: &RgbImage, factor: f64) -> RgbImage {
    let mut grey = img.clone();
    for px in grey.pixels_mut() {
        let l = luma(px);
        *px = Rgb([l, l, l]);
    }
    blend(&grey, img, factor)
}

/// `ImageEnhance.Contrast(img).enhance(factor)`: blend with the uniform grey
/// `int(mean(L) + 0.5)`.
pub fn enhance_contrast(img: &RgbImage, factor: f64) -> RgbImage {
    let count = img.width() as u64 * img.height() as u64;
    let sum: u64 = img.pixels().map(|px| luma(px) as u64).sum();
    let mean = if count == 0 {
        0.0
    } else {
        sum as f64 / count as f64
    };
    let m = (mean + 0.5) as u8;
    let grey = RgbImage::from_pixel(img.width(), img.height(), Rgb([m, m, m]));
    blend(&grey, img, factor)
}

/// `ImageEnhance.Brightness(img).enhance(factor)`: blend with black.
pub fn enhance_brightness(img: &RgbImage, factor: f64) -> RgbImage {
    let black = RgbImage::new(img.width(), img.height());
    blend(&black, img, factor)
}

/// `ImageEnhance.Sharpness(img).enhance(factor)`: blend with `img.filter(SMOOTH)`.
pub fn enhance_sharpness(img: &RgbImage, factor: f64) -> RgbImage {
    blend(&smooth(img), img, factor)
}

/// `img.filter(ImageFilter.SMOOTH)`: the 3x3 kernel (1 1 1 / 1 5 1 / 1 1 1) / 13 in single
/// precision with +0.5 rounding (`ImagingFilter3x3`); the one-pixel border is copied.
pub fn smooth(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    if w < 3 || h < 3 {
        return img.clone();
    }
    let side = 1.0f32 / 13.0f32;
    let centre = 5.0f32 / 13.0f32;
    let k = [side, side, side, side, centre, side, side, side, side];
    let mut out = img.clone();
    let at = |x: u32, y: u32, c: usize| img.get_pixel(x, y).0[c] as f32;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let mut px = [0u8; 3];
            for (c, v) in px.iter_mut().enumerate() {
                let row = |yy: u32, k: &[f32]| {
                    at(x - 1, yy, c) * k[0] + at(x, yy, c) * k[1] + at(x + 1, yy, c) * k[2]
                };
                // Pillow's order: offset + row below (kernel[0..3]) + row + row above.
                let mut ss = 0.5f32;
                ss += row(y + 1, &k[0..3]);
                ss += row(y, &k[3..6]);
                ss += row(y - 1, &k[6..9]);
                *v = ss.clamp(0.0, 255.0) as u8;
            }
            out.put_pixel(x, y, Rgb(px));
        }
    }
    out
}

// ------------------------------------------------------------------------------------
// Geometric ops (Image.transform AFFINE / Image.rotate, BICUBIC, fillcolor)
// ------------------------------------------------------------------------------------

/// `img.transform(img.size, Image.AFFINE, matrix, resample=BICUBIC, fillcolor=fill)`: the
/// output pixel `(x, y)` samples the input at `(a x' + b y' + c, d x' + e y' + f)` with
/// `x' = x + 0.5`, `y' = y + 0.5` (Pillow's `affine_transform` + `bicubic_filter32RGB`).
pub fn affine(img: &RgbImage, matrix: [f64; 6], fill: [u8; 3]) -> RgbImage {
    let (w, h) = img.dimensions();
    let [a0, a1, a2, a3, a4, a5] = matrix;
    let mut out = RgbImage::from_pixel(w, h, Rgb(fill));
    for y in 0..h {
        for x in 0..w {
            let xin = x as f64 + 0.5;
            let yin = y as f64 + 0.5;
            let sx = a0 * xin + a1 * yin + a2;
            let sy = a3 * xin + a4 * yin + a5;
            if let Some(px) = bicubic_sample(img, sx, sy) {
                out.put_pixel(x, y, Rgb(px));
            }
        }
    }
    out
}

/// Pillow's transform cubic (`BICUBIC` in Geometry.c): the cubic convolution with a = -1.
#[inline]
fn cubic(v1: f64, v2: f64, v3: f64, v4: f64, d: f64) -> f64 {
    let p1 = v2;
    let p2 = -v1 + v3;
    let p3 = 2.0 * (v1 - v2) + v3 - v4;
    let p4 = -v1 + v2 - v3 + v4;
    p1 + d * (p2 + d * (p3 + d * p4))
}

/// `bicubic_filter32RGB`: `None` outside `[0, w) x [0, h)` (the pixel keeps the fill).
fn bicubic_sample(img: &RgbImage, xin: f64, yin: f64) -> Option<[u8; 3]> {
    let (w, h) = img.dimensions();
    if xin < 0.0 || xin >= w as f64 || yin < 0.0 || yin >= h as f64 {
        return None;
    }
    let xin = xin - 0.5;
    let yin = yin - 0.5;
    let xf = xin.floor();
    let yf = yin.floor();
    let dx = xin - xf;
    let dy = yin - yf;
    let x = xf as i64 - 1;
    let y = yf as i64 - 1;
    // Geometry.c clamps the columns and repeats the last valid row, which is the same as
    // clamping the rows.
    let clamp = |v: i64, n: u32| v.clamp(0, n as i64 - 1) as u32;
    let xs = [0, 1, 2, 3].map(|k| clamp(x + k, w));
    let ys = [0, 1, 2, 3].map(|k| clamp(y + k, h));
    let mut px = [0u8; 3];
    for (c, out) in px.iter_mut().enumerate() {
        let row = |yy: u32| {
            let v = xs.map(|xx| img.get_pixel(xx, yy).0[c] as f64);
            cubic(v[0], v[1], v[2], v[3], dx)
        };
        let v = cubic(row(ys[0]), row(ys[1]), row(ys[2]), row(ys[3]), dy);
        *out = if v <= 0.0 {
            0
        } else if v >= 255.0 {
            255
        } else {
            v as u8
        };
    }
    Some(px)
}

/// Python's `round(v, 15)` (correctly rounded through the decimal string, as CPython's).
fn round15(v: f64) -> f64 {
    format!("{v:.15}")
        .parse()
        .expect("a formatted float parses")
}

/// timm's `rotate(img, degrees)` = `img.rotate(degrees, resample=BICUBIC,
/// fillcolor=fill)`: counter-clockwise about the image centre, same size.
pub fn rotate(img: &RgbImage, degrees: f64, fill: [u8; 3]) -> RgbImage {
    let (w, h) = img.dimensions();
    // Python's `angle % 360.0` (the sign of the divisor).
    let angle = degrees.rem_euclid(360.0);
    if angle == 0.0 {
        return img.clone();
    }
    if angle == 180.0 {
        return image::imageops::rotate180(img);
    }
    if (angle == 90.0 || angle == 270.0) && w == h {
        // Pillow's ROTATE_90 is counter-clockwise; image's rotate90 is clockwise.
        return if angle == 90.0 {
            image::imageops::rotate270(img)
        } else {
            image::imageops::rotate90(img)
        };
    }
    let a = -angle.to_radians();
    let mut m = [
        round15(a.cos()),
        round15(a.sin()),
        0.0,
        round15(-a.sin()),
        round15(a.cos()),
        0.0,
    ];
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let (tx, ty) = (-cx, -cy);
    let c = m[0] * tx + m[1] * ty + m[2];
    let f = m[3] * tx + m[4] * ty + m[5];
    m[2] = c + cx;
    m[5] = f + cy;
    affine(img, m, fill)
}

/// timm's `shear_x(img, factor)`: AFFINE `(1, factor, 0, 0, 1, 0)`.
pub fn shear_x(img: &RgbImage, factor: f64, fill: [u8; 3]) -> RgbImage {
    affine(img, [1.0, factor, 0.0, 0.0, 1.0, 0.0], fill)
}

/// timm's `shear_y(img, factor)`: AFFINE `(1, 0, 0, factor, 1, 0)`.
pub fn shear_y(img: &RgbImage, factor: f64, fill: [u8; 3]) -> RgbImage {
    affine(img, [1.0, 0.0, 0.0, factor, 1.0, 0.0], fill)
}

/// timm's `translate_x_abs(img, pixels)`: AFFINE `(1, 0, pixels, 0, 1, 0)` (the content
/// moves left for positive `pixels`).
pub fn translate_x_abs(img: &RgbImage, pixels: f64, fill: [u8; 3]) -> RgbImage {
    affine(img, [1.0, 0.0, pixels, 0.0, 1.0, 0.0], fill)
}

/// timm's `translate_y_abs(img, pixels)`: AFFINE `(1, 0, 0, 0, 1, pixels)`.
pub fn translate_y_abs(img: &RgbImage, pixels: f64, fill: [u8; 3]) -> RgbImage {
    affine(img, [1.0, 0.0, 0.0, 0.0, 1.0, pixels], fill)
}

/// timm's `translate_x_rel(img, pct)`: `pct * width` pixels.
pub fn translate_x_rel(img: &RgbImage, pct: f64, fill: [u8; 3]) -> RgbImage {
    translate_x_abs(img, pct * img.width() as f64, fill)
}

/// timm's `translate_y_rel(img, pct)`: `pct * height` pixels.
pub fn translate_y_rel(img: &RgbImage, pct: f64, fill: [u8; 3]) -> RgbImage {
    translate_y_abs(img, pct * img.height() as f64, fill)
}

#[cfg(test)]
mod tests;
