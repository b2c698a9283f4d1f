//! From an RGB(A) image to the model input: DeiT's evaluation transform
//! (torchvision `Resize(shorter side, bicubic)`, `CenterCrop`, `ToTensor`, `Normalize`).
//! Written once; the trainer and the page both call it.

use burn::tensor::{Device, Tensor, TensorData};
use image::imageops::{self, FilterType};
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
        Self { width, height, channels: 3, pixels }
    }

    pub fn rgba(width: u32, height: u32, pixels: &'a [u8]) -> Self {
        Self { width, height, channels: 4, pixels }
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
    if twice % 2 == 1 && half % 2 == 1 { half + 1 } else { half }
}

/// The evaluation transform as an owned RGB crop of `input_size` (before normalisation).
pub fn resize_and_crop(image: &RgbImage, p: &Preprocessing) -> RgbImage {
    let filter = match p.interpolation {
        // Catmull-Rom is the cubic with a = -0.5, PIL's and torchvision's bicubic; the
        // `image` crate widens the kernel when shrinking (antialias), as PIL does.
        Interpolation::Bicubic => FilterType::CatmullRom,
    };
    let (w, h) = resized_dims(image.width(), image.height(), p.resize_shorter_to as u32);
    let resized = if (w, h) == image.dimensions() {
        image.clone()
    } else {
        imageops::resize(image, w, h, filter)
    };
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
        let image = RgbImage::from_raw(2, 2, vec![255, 0, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0])
            .unwrap();
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
            ImageView { width: 1, height: 1, channels: 2, pixels: &[0, 0] }.to_rgb(),
            Err(PreprocessError::Channels(2))
        );
        assert_eq!(ImageView::rgb(0, 5, &[]).to_rgb(), Err(PreprocessError::Empty(0, 5)));
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
