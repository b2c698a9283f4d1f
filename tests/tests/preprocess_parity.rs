//! The shared preprocessing against torchvision's DeiT evaluation transform
//! (Resize shorter side bicubic, CenterCrop, ToTensor, Normalize), on a real photo.

use image::RgbImage;
use model_format::Preprocessing;
use model_format::preprocess::{ImageView, preprocess};
use tests::{fixture, reference_tensor};

/// Pillow resamples in 8-bit fixed point with a rounded intermediate pass; the `image`
/// crate keeps the intermediate in f32. One 8-bit level after normalisation is
/// 1 / (255 * 0.224) ≈ 0.0175.
const MAX_LEVELS: f32 = 2.0;
const MEAN_LEVELS: f32 = 0.25;

fn astronaut() -> RgbImage {
    image::open(fixture("preprocess/astronaut.png")).expect("fixture photo").to_rgb8()
}

fn check(image: &RgbImage, size: usize, name: &str) {
    let p = Preprocessing::imagenet(size);
    let ours = preprocess(ImageView::from(image), &p).unwrap();
    let (shape, want) = reference_tensor("preprocess/expected.safetensors", name);
    assert_eq!(shape, vec![3, size, size]);
    // Compare in units of 8-bit levels (undo the per-channel std).
    let plane = size * size;
    let mut max = 0.0f32;
    let mut sum = 0.0f32;
    for (i, (a, b)) in ours.iter().zip(&want).enumerate() {
        let levels = (a - b).abs() * 255.0 * p.std[i / plane];
        max = max.max(levels);
        sum += levels;
    }
    let mean = sum / ours.len() as f32;
    assert!(max <= MAX_LEVELS, "{name}: max difference {max} levels");
    assert!(mean <= MEAN_LEVELS, "{name}: mean difference {mean} levels");
}

fn crop(image: &RgbImage, left: u32, upper: u32, right: u32, lower: u32) -> RgbImage {
    image::imageops::crop_imm(image, left, upper, right - left, lower - upper).to_image()
}

#[test]
fn whole_photo_downsampled() {
    check(&astronaut(), 224, "astronaut");
}

#[test]
fn non_square_crop() {
    check(&crop(&astronaut(), 40, 10, 340, 210), 224, "astronaut_crop");
}

#[test]
fn small_images_are_upsampled_and_cropped_with_half_to_even_offsets() {
    check(&crop(&astronaut(), 100, 50, 150, 90), 32, "small_up");
    check(&crop(&astronaut(), 200, 90, 250, 130), 32, "small_up_face");
}
