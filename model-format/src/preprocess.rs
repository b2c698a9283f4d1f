//! From an RGB(A) image to the model input: DeiT's evaluation transform
//! (torchvision `Resize(shorter side, bicubic)`, `CenterCrop`, `ToTensor`, `Normalize`).
//! Written once; the trainer and the page both call it.

use burn::tensor::{Device, Tensor, TensorData};
use image::imageops;
use image::{RgbImage, RgbaImage};

use crate::metadata::{Interpolation, Preprocessing};

/// A borrowed 8-bit image, row-major, 3 (RGB) or 4 (RGBA, alpha ignored) channels.
#[derive(Clone, Copy, Debug)]
pub struct ImageView<'a> {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub pixels: &'a [u8],
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PreprocessError {
    #[error("image has {0} channels; expected 3 (RGB) or 4 (RGBA)")]
    Channels(u8),
    #[error("image buffer holds {found} bytes; {width}x{height}x{channels} needs {expected}")]
    BufferSize {
        width: u32,
        height: u32,
        channels: u8,
        expected: usize,
        found: usize,
    },
    #[error("image is empty ({0}x{1})")]
    Empty(u32, u32),
}

impl<'a> ImageView<'a> {
    pub fn rgb(width: u32, height: u32, pixels: &'a [u8]) -> Self {
        Self {
            width,
            height,
            channels: 3,
            pixels,
        }
    }

    pub fn rgba(width: u32, height: u32, pixels: &'a [u8]) -> Self {
        Self {
            width,
            height,
            channels: 4,
            pixels,
        }
    }

    /// Copies the pixels into an owned RGB image (dropping alpha), checking the buffer.
    pub fn to_rgb(&self) -> Result<RgbImage, PreprocessError> {
        if self.width == 0 || self.height == 0 {
            return Err(PreprocessError::Empty(self.width, self.height));
        }
        if self.channels != 3 && self.channels != 4 {
            return Err(PreprocessError::Channels(self.channels));
        }
        let expected = self.width as usize * self.height as usize * self.channels as usize;
        if self.pixels.len() != expected {
            return Err(PreprocessError::BufferSize {
                width: self.width,
                height: self.height,
                channels: self.channels,
                expected,
                found: self.pixels.len(),
            });
        }
        let rgb = if self.channels == 3 {
            self.pixels.to_vec()
        } else {
            self.pixels
                .chunks_exact(4)
                .flat_map(|px| [px[0], px[1], px[2]])
                .collect()
        };
        Ok(RgbImage::from_raw(self.width, self.height, rgb).expect("size checked above"))
    }
}

impl<'a> From<&'a RgbImage> for ImageView<'a> {
    fn from(image: &'a RgbImage) -> Self {
        Self::rgb(image.width(), image.height(), image.as_raw())
    }
}

impl<'a> From<&'a RgbaImage> for ImageView<'a> {
    fn from(image: &'a RgbaImage) -> Self {
        Self::rgba(image.width(), image.height(), image.as_raw())
    }
}

/// Output size of torchvision's `Resize(size)` with an int: the shorter side becomes `size`,
/// the longer one keeps the aspect ratio (truncated, as torchvision does).
pub fn resized_dims(width: u32, height: u32, shorter: u32) -> (u32, u32) {
    if width <= height {
        let h = (shorter as u64 * height as u64 / width as u64) as u32;
        (shorter, h.max(1))
    } else {
        let w = (shorter as u64 * width as u64 / height as u64) as u32;
        (w.max(1), shorter)
    }
}

/// Top-left offset of torchvision's `CenterCrop`: `int(round((size - crop) / 2))`, where
/// Python rounds halves to even.
fn center_offset(size: u32, crop: u32) -> u32 {
    let twice = size.saturating_sub(crop); // (size - crop) / 2 = twice / 2
    let half = twice / 2;
    // An odd difference lands exactly on .5: round to the even neighbour.
    if twice % 2 == 1 && half % 2 == 1 {
        half + 1
    } else {
        half
    }
}

/// Resizes to exactly `width` x `height`, reproducing Pillow's `Image.resize` (what
/// torchvision's `Resize` runs on PIL images, so what the reference training saw) to the
/// bit: separable convolution with fixed-point coefficients, the kernel widened by the
/// scale when shrinking (antialias), horizontal pass first into an 8-bit intermediate.
/// No crate reproduces Pillow exactly (`fast_image_resize` and `image` differ by up to
/// four levels), hence this port of Pillow's `Resample.c`.
pub fn resize(image: &RgbImage, width: u32, height: u32, interpolation: Interpolation) -> RgbImage {
    if (width, height) == image.dimensions() {
        return image.clone();
    }
    let filter = match interpolation {
        Interpolation::Bicubic => Filter::BICUBIC,
    };
    let (in_w, in_h) = (image.width() as usize, image.height() as usize);
    let (out_w, out_h) = (width as usize, height as usize);
    let horizontal = Coefficients::new(in_w, out_w, filter);
    let vertical = Coefficients::new(in_h, out_h, filter);

    // Horizontal pass over the rows the vertical pass will read.
    let first_row = vertical.bounds[0].0;
    let last_row = vertical.bounds[out_h - 1].0 + vertical.bounds[out_h - 1].1;
    let src = image.as_raw();
    let mut temp = vec![0u8; (last_row - first_row) * out_w * 3];
    if in_w == out_w {
        temp.copy_from_slice(&src[first_row * in_w * 3..last_row * in_w * 3]);
    } else {
        for (y, out_row) in temp.chunks_exact_mut(out_w * 3).enumerate() {
            let row = &src[(y + first_row) * in_w * 3..][..in_w * 3];
            for (x, out_px) in out_row.chunks_exact_mut(3).enumerate() {
                let (start, len) = horizontal.bounds[x];
                let weights = horizontal.weights(x);
                for c in 0..3 {
                    let mut sum = ROUNDING;
                    for (i, w) in weights[..len].iter().enumerate() {
                        sum += row[(start + i) * 3 + c] as i64 * *w as i64;
                    }
                    out_px[c] = clip8(sum);
                }
            }
        }
    }
    if in_h == out_h {
        return RgbImage::from_raw(width, height, temp).expect("sizes match");
    }
    // Vertical pass.
    let mut out = vec![0u8; out_w * out_h * 3];
    for (y, out_row) in out.chunks_exact_mut(out_w * 3).enumerate() {
        let (start, len) = vertical.bounds[y];
        let start = start - first_row;
        let weights = &vertical.weights(y)[..len];
        for (i, value) in out_row.iter_mut().enumerate() {
            let mut sum = ROUNDING;
            for (j, w) in weights.iter().enumerate() {
                sum += temp[(start + j) * out_w * 3 + i] as i64 * *w as i64;
            }
            *value = clip8(sum);
        }
    }
    RgbImage::from_raw(width, height, out).expect("sizes match")
}

/// Pillow's fixed point for 8-bit images: coefficients scaled by 2^22.
const PRECISION_BITS: u32 = 32 - 8 - 2;
const ROUNDING: i64 = 1 << (PRECISION_BITS - 1);

fn clip8(sum: i64) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// A resampling kernel and its support radius.
#[derive(Clone, Copy)]
struct Filter {
    kernel: fn(f64) -> f64,
    support: f64,
}

impl Filter {
    /// Keys' cubic with a = -0.5 (Catmull-Rom), Pillow's `BICUBIC`.
    const BICUBIC: Filter = Filter {
        kernel: |x| {
            const A: f64 = -0.5;
            let x = x.abs();
            if x < 1.0 {
                ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
            } else if x < 2.0 {
                (((x - 5.0) * x + 8.0) * x - 4.0) * A
            } else {
                0.0
            }
        },
        support: 2.0,
    };
}

/// Per output pixel: the first input pixel, how many contribute, and their fixed-point
/// weights (Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`).
struct Coefficients {
    bounds: Vec<(usize, usize)>,
    kernel_size: usize,
    values: Vec<i32>,
}

impl Coefficients {
    fn new(in_size: usize, out_size: usize, filter: Filter) -> Self {
        let scale = in_size as f64 / out_size as f64;
        let filter_scale = scale.max(1.0);
        let support = filter.support * filter_scale;
        let kernel_size = support.ceil() as usize * 2 + 1;
        let mut bounds = Vec::with_capacity(out_size);
        let mut values = vec![0i32; out_size * kernel_size];
        let mut weights = vec![0f64; kernel_size];
        for (xx, k) in values.chunks_exact_mut(kernel_size).enumerate() {
            let center = (xx as f64 + 0.5) * scale;
            // C's (int) truncation of values that are >= -0.5 + 0.5 after the clamp.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let count = xmax.saturating_sub(xmin);
            let mut total = 0.0;
            for (x, w) in weights[..count].iter_mut().enumerate() {
                *w = (filter.kernel)((x as f64 + xmin as f64 - center + 0.5) / filter_scale);
                total += *w;
            }
            for (x, w) in weights[..count].iter().enumerate() {
                let w = if total != 0.0 { w / total } else { *w };
                let scaled = w * (1u32 << PRECISION_BITS) as f64;
                // Round half away from zero, as Pillow's normalize_coeffs_8bpc.
                k[x] = if scaled < 0.0 {
                    (scaled - 0.5) as i32
                } else {
                    (scaled + 0.5) as i32
                };
            }
            bounds.push((xmin, count));
        }
        Self {
            bounds,
            kernel_size,
            values,
        }
    }

    fn weights(&self, index: usize) -> &[i32] {
        &self.values[index * self.kernel_size..(index + 1) * self.kernel_size]
    }
}

/// The evaluation transform as an owned RGB crop of `input_size` (before normalisation).
pub fn resize_and_crop(image: &RgbImage, p: &Preprocessing) -> RgbImage {
    let (w, h) = resized_dims(image.width(), image.height(), p.resize_shorter_to as u32);
    let resized = resize(image, w, h, p.interpolation);
    let crop = p.input_size as u32;
    let (left, top) = (center_offset(w, crop), center_offset(h, crop));
    imageops::crop_imm(&resized, left, top, crop.min(w), crop.min(h)).to_image()
}

/// Normalised CHW values (`[3, input_size, input_size]`, row-major) of one image.
pub fn preprocess(image: ImageView<'_>, p: &Preprocessing) -> Result<Vec<f32>, PreprocessError> {
    let cropped = resize_and_crop(&image.to_rgb()?, p);
    Ok(normalise(&cropped, p))
}

/// `ToTensor` + `Normalize`: HWC bytes -> CHW `(x / 255 - mean) / std`.
/// A crop smaller than the input (an image smaller than the crop) is zero-padded
/// centred, as torchvision pads.
pub fn normalise(image: &RgbImage, p: &Preprocessing) -> Vec<f32> {
    let size = p.input_size;
    let plane = size * size;
    let mut out = vec![0.0f32; 3 * plane];
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (pad_x, pad_y) = ((size - w.min(size)) / 2, (size - h.min(size)) / 2);
    let scale: [f32; 3] = std::array::from_fn(|c| 1.0 / (255.0 * p.std[c]));
    let shift: [f32; 3] = std::array::from_fn(|c| p.mean[c] / p.std[c]);
    // Padding is value 0 before normalisation.
    for c in 0..3 {
        out[c * plane..(c + 1) * plane].fill(-shift[c]);
    }
    for (y, row) in image.as_raw().chunks_exact(3 * w).enumerate().take(size) {
        for (x, px) in row.chunks_exact(3).enumerate().take(size) {
            let at = (y + pad_y) * size + x + pad_x;
            for c in 0..3 {
                out[c * plane + at] = px[c] as f32 * scale[c] - shift[c];
            }
        }
    }
    out
}

/// Stacks preprocessed images (each `3 * size * size` values) into a `[B, 3, size, size]`
/// tensor on `device`.
pub fn batch_tensor(images: &[Vec<f32>], size: usize, device: &Device) -> Tensor<4> {
    let plane = 3 * size * size;
    let mut data = Vec::with_capacity(images.len() * plane);
    for image in images {
        assert_eq!(image.len(), plane, "preprocessed image of the wrong size");
        data.extend_from_slice(image);
    }
    Tensor::from_data(TensorData::new(data, [images.len(), 3, size, size]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_aspect_like_torchvision() {
        assert_eq!(resized_dims(512, 512, 256), (256, 256));
        assert_eq!(resized_dims(300, 200, 256), (384, 256));
        assert_eq!(resized_dims(200, 300, 256), (256, 384));
        // 50x40 -> shorter 36: 36 * 50 / 40 = 45
        assert_eq!(resized_dims(50, 40, 36), (45, 36));
    }

    #[test]
    fn center_offset_rounds_half_to_even() {
        assert_eq!(center_offset(256, 224), 16);
        assert_eq!(center_offset(225, 224), 0); // round(0.5) = 0
        assert_eq!(center_offset(227, 224), 2); // round(1.5) = 2
        assert_eq!(center_offset(229, 224), 2); // round(2.5) = 2
        assert_eq!(center_offset(45, 32), 6); // round(6.5) = 6
    }

    #[test]
    fn normalise_uses_imagenet_statistics() {
        let p = Preprocessing::imagenet(2);
        let image = RgbImage::from_raw(2, 2, vec![255, 0, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        let out = normalise(&image, &p);
        assert!((out[0] - (1.0 - 0.485) / 0.229).abs() < 1e-6);
        assert!((out[4] - (0.0 - 0.456) / 0.224).abs() < 1e-6);
        assert!((out[8] - (128.0 / 255.0 - 0.406) / 0.225).abs() < 1e-6);
    }

    #[test]
    fn rgba_drops_alpha_and_bad_buffers_are_errors() {
        let rgba = [10u8, 20, 30, 255, 40, 50, 60, 0];
        let rgb = ImageView::rgba(2, 1, &rgba).to_rgb().unwrap();
        assert_eq!(rgb.as_raw(), &vec![10, 20, 30, 40, 50, 60]);
        assert!(matches!(
            ImageView::rgb(2, 2, &rgba).to_rgb(),
            Err(PreprocessError::BufferSize { .. })
        ));
        assert_eq!(
            ImageView {
                width: 1,
                height: 1,
                channels: 2,
                pixels: &[0, 0]
            }
            .to_rgb(),
            Err(PreprocessError::Channels(2))
        );
        assert_eq!(
            ImageView::rgb(0, 5, &[]).to_rgb(),
            Err(PreprocessError::Empty(0, 5))
        );
    }

    #[test]
    fn preprocess_output_has_model_shape() {
        let p = Preprocessing::imagenet(32);
        let pixels = vec![100u8; 50 * 40 * 3];
        let out = preprocess(ImageView::rgb(50, 40, &pixels), &p).unwrap();
        assert_eq!(out.len(), 3 * 32 * 32);
        let expected = (100.0 / 255.0 - 0.485) / 0.229;
        assert!((out[0] - expected).abs() < 1e-2, "{}", out[0]);
    }
}
