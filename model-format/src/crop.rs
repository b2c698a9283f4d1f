//! The face crop: from a detected box to the square image the liveness model sees.
//! One definition for `trainer prepare`, `trainer infer` and the page, so that faces are
//! cropped at inference exactly as the training data were.
//!
//! The crop is the square centred on the box centre whose side is the box's longer side
//! times `1 + margin` (default margin 0.2: 10 % of context on each side, which keeps paper
//! edges, screen bezels and moiré near the face in view). Parts outside the image are
//! black. The square is resized to `size` x `size` with Pillow's bicubic filter.

use image::{Rgb, RgbImage};

use crate::metadata::Interpolation;
use crate::preprocess::resize;

/// Context added around the face: the square's side is `(1 + margin)` x the box's longer side.
pub const DEFAULT_MARGIN: f32 = 0.2;
/// Side of the saved face crops (the datasets' 224 x 224 frames).
pub const CROP_SIZE: u32 = 224;

/// The square crop window `[x0, y0, side]` in whole pixels for a box `[x1, y1, x2, y2]`.
pub fn crop_window(face_box: [f32; 4], margin: f32) -> (i64, i64, u32) {
    let [x1, y1, x2, y2] = face_box;
    let side = ((x2 - x1).max(y2 - y1) * (1.0 + margin)).round().max(1.0);
    let (cx, cy) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
    let x0 = (cx - side / 2.0).round() as i64;
    let y0 = (cy - side / 2.0).round() as i64;
    (x0, y0, side as u32)
}

/// The face crop of `image` for `face_box`, `size` x `size`.
pub fn face_crop(image: &RgbImage, face_box: [f32; 4], margin: f32, size: u32) -> RgbImage {
    let (x0, y0, side) = crop_window(face_box, margin);
    let mut square = RgbImage::from_pixel(side, side, Rgb([0, 0, 0]));
    let (w, h) = (image.width() as i64, image.height() as i64);
    // Copy the part of the window that lies inside the image.
    let (sx0, sy0) = (x0.max(0), y0.max(0));
    let (sx1, sy1) = ((x0 + side as i64).min(w), (y0 + side as i64).min(h));
    for y in sy0..sy1 {
        for x in sx0..sx1 {
            let px = *image.get_pixel(x as u32, y as u32);
            square.put_pixel((x - x0) as u32, (y - y0) as u32, px);
        }
    }
    resize(&square, size, size, Interpolation::Bicubic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_a_centred_square_with_margin() {
        // 100 x 50 box centred at (150, 75): side 120.
        assert_eq!(crop_window([100.0, 50.0, 200.0, 100.0], 0.2), (90, 15, 120));
        assert_eq!(crop_window([10.0, 10.0, 20.0, 30.0], 0.0), (5, 10, 20));
    }

    #[test]
    fn outside_the_image_is_black_and_inside_is_copied() {
        let image = RgbImage::from_pixel(10, 10, Rgb([200, 100, 50]));
        // A box at the corner: the window starts at (-2, -2).
        let crop = face_crop(&image, [0.0, 0.0, 4.0, 4.0], 0.0, 4);
        assert_eq!(crop_window([0.0, 0.0, 4.0, 4.0], 0.0), (0, 0, 4));
        assert_eq!(crop.get_pixel(0, 0), &Rgb([200, 100, 50]));
        let crop = face_crop(&image, [-4.0, -4.0, 2.0, 2.0], 0.0, 6);
        assert_eq!(crop.get_pixel(0, 0), &Rgb([0, 0, 0]));
        assert_eq!(crop.get_pixel(5, 5), &Rgb([200, 100, 50]));
    }
}
