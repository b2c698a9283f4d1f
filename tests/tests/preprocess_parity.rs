//! The shared preprocessing against torchvision's DeiT evaluation transform
//! (Resize shorter side bicubic, CenterCrop, ToTensor, Normalize), on a real photo.
//! Pillow's resize is reproduced exactly, so the inputs match to f32 rounding.

use image::RgbImage;
use model_format::Preprocessing;
use model_format::preprocess::{ImageView, preprocess};
use tests::{fixture, reference_tensor};

/// The resize reproduces Pillow bit for bit, so what remains is f32 rounding of the
/// normalisation.
const TOLERANCE: f32 = 1e-5;

fn astronaut() -> RgbImage {
    image::open(fixture("preprocess/astronaut.png"))
        .expect("fixture photo")
        .to_rgb8()
}

fn check(image: &RgbImage, size: usize, name: &str) {
    let p = Preprocessing::imagenet(size);
    let ours = preprocess(ImageView::from(image), &p).unwrap();
    let (shape, want) = reference_tensor("preprocess/expected.safetensors", name);
    assert_eq!(shape, vec![3, size, size]);
    let diff = tests::max_abs_diff(&ours, &want);
    assert!(diff <= TOLERANCE, "{name}: values differ by up to {diff}");
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
