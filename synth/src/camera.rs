//! The camera every frame goes through, live or attack: lens blur and motion blur, auto
//! exposure, a Bayer sensor with shot and read noise, demosaicing, white balance (imperfect
//! automatic), denoising, colour matrix, tone curve, sharpening, JPEG compression, then the
//! crop's bicubic resize to the dataset size (the resize `trainer prepare` does). Its
//! settings are drawn per video from one distribution whatever the video shows, so that
//! they carry no label; a quarter of the cameras record grey or washed-out colour.

use image::RgbImage;
use model_format::metadata::Interpolation;
use model_format::preprocess::resize;

use super::raster::{Plane, Rgb, gaussian_blur, linear_to_srgb, luma};
use super::rng::Rng;

/// Mean scene luminance that auto exposure renders at exactly its target.
const METER_REFERENCE: f32 = 0.25;

/// One video's camera.
#[derive(Clone, Debug)]
pub struct Camera {
    /// Sensor pixels per output pixel: the face's size in the original frames.
    pub sensor_scale: f32,
    /// Lens blur (Gaussian sigma, sensor pixels).
    pub blur: f32,
    /// Typical motion-blur length (sensor pixels).
    pub shake: f32,
    /// Auto-exposure target: mean linear luminance of the frame's centre.
    pub exposure: f32,
    /// Photo-electrons at full scale: low means high ISO, more shot noise.
    pub full_well: f32,
    /// Read noise (fraction of full scale).
    pub read_noise: f32,
    /// Position of the red site in the 2x2 Bayer tile.
    pub bayer: (usize, usize),
    /// How completely white balance cancels the light's colour, and its error.
    pub awb: f32,
    pub wb_error: Rgb,
    pub denoise: f32,
    pub saturation: f32,
    pub contrast: f32,
    pub sharpen: f32,
    pub jpeg_quality: u8,
}

impl Camera {
    pub fn random(rng: &mut Rng) -> Camera {
        let mut camera = Camera {
            sensor_scale: rng.log_range(0.75, 1.5),
            blur: rng.range(0.35, 1.0),
            shake: rng.log_range(0.2, 2.5),
            exposure: rng.log_range(0.1, 0.24),
            full_well: rng.log_range(150.0, 4000.0),
            read_noise: rng.log_range(0.0015, 0.008),
            bayer: (rng.below(2), rng.below(2)),
            awb: rng.range(0.75, 1.0),
            wb_error: [1.0 + 0.06 * rng.normal(), 1.0, 1.0 + 0.06 * rng.normal()],
            denoise: rng.range(0.0, 0.6),
            saturation: rng.range(0.85, 1.25),
            contrast: rng.range(-0.1, 0.35),
            sharpen: rng.range(0.0, 0.8),
            jpeg_quality: rng.range(55.0, 96.0) as u8,
        };
        // Grey and washed-out pictures, for live and attack videos alike, so that colour
        // is no cue: night modes and infrared webcams record grey; old webcams and low
        // light give pale, noisy colour.
        let mode = rng.f32();
        if mode < 0.1 {
            camera.saturation = 0.0;
            camera.full_well = rng.log_range(100.0, 1500.0);
        } else if mode < 0.25 {
            camera.saturation = rng.range(0.15, 0.65);
            camera.full_well = rng.log_range(100.0, 1500.0);
            camera.exposure *= rng.range(0.6, 1.0);
        }
        camera
    }

    /// Side of the sensor image that maps to an `out`-pixel crop.
    pub fn sensor_size(&self, out: u32) -> usize {
        ((out as f32 * self.sensor_scale).round() as usize).max(16)
    }

    /// Records `scene` (linear radiance over the crop, sensor resolution) lit by light of
    /// colour `illuminant`; `rng` is the frame's own (noise, shake, small AE changes).
    pub fn capture(
        &self,
        scene: &Plane<Rgb>,
        illuminant: Rgb,
        rng: &mut Rng,
        out: u32,
    ) -> RgbImage {
        let n = scene.w;
        // Lens and motion blur.
        let length = self.shake * rng.f32().powi(2) * 2.0;
        let mut img = if length > 0.3 {
            motion_blur(scene, length, rng.range(0.0, std::f32::consts::PI))
        } else {
            scene.clone()
        };
        img = gaussian_blur(&img, self.blur * rng.range(0.9, 1.1));
        // Auto exposure on the centre.
        let (a, b) = (n / 4, 3 * n / 4);
        let mut sum = 0.0;
        for y in a..b {
            for x in a..b {
                sum += luma(img.data[y * n + x]);
            }
        }
        let mean = (sum / ((b - a) * (b - a)) as f32).max(1e-4);
        // Metering normalises only partly: darker subjects stay darker.
        let target = self.exposure * (mean / METER_REFERENCE).powf(0.4);
        let gain = (target * (0.05 * rng.normal()).exp() / mean).clamp(0.02, 200.0);
        // Bayer sampling with shot and read noise.
        let mut raw = vec![0.0f32; n * n];
        let fw = self.full_well;
        for y in 0..n {
            for x in 0..n {
                let c = self.channel(x, y);
                let v = (img.data[y * n + x][c] * gain).max(0.0);
                let noisy =
                    v + (v / fw).sqrt() * rng.gauss_fast() + self.read_noise * rng.gauss_fast();
                raw[y * n + x] = noisy.clamp(0.0, 1.0);
            }
        }
        let mut rgb = self.demosaic(&raw, n);
        // White balance: gains that cancel (most of) the light's colour.
        let gains: Rgb =
            std::array::from_fn(|c| illuminant[c].max(1e-3).powf(-self.awb) * self.wb_error[c]);
        let norm = gains[1];
        for p in &mut rgb.data {
            for c in 0..3 {
                p[c] *= gains[c] / norm;
            }
        }
        if self.denoise > 0.0 {
            let smooth = box3(&rgb);
            for (p, s) in rgb.data.iter_mut().zip(&smooth.data) {
                for c in 0..3 {
                    p[c] += self.denoise * (s[c] - p[c]);
                }
            }
        }
        // Colour matrix (saturation), tone curve.
        for p in &mut rgb.data {
            let y = luma(*p);
            for v in p.iter_mut() {
                let e = linear_to_srgb(y + self.saturation * (*v - y));
                *v = e + self.contrast * (e - 0.5) * 2.0 * e * (1.0 - e);
            }
        }
        if self.sharpen > 0.0 {
            let smooth = box3(&rgb);
            for (p, s) in rgb.data.iter_mut().zip(&smooth.data) {
                for c in 0..3 {
                    p[c] += self.sharpen * (p[c] - s[c]);
                }
            }
        }
        let frame = to_rgb8(&rgb);
        let quality = (self.jpeg_quality as i32 + rng.range(-3.0, 3.0) as i32).clamp(30, 98) as u8;
        let frame = jpeg_round_trip(&frame, quality);
        resize(&frame, out, out, Interpolation::Bicubic)
    }

    #[inline]
    fn channel(&self, x: usize, y: usize) -> usize {
        let (rx, ry) = self.bayer;
        match ((x + rx) & 1, (y + ry) & 1) {
            (0, 0) => 0,
            (1, 1) => 2,
            _ => 1,
        }
    }

    /// Bilinear demosaicing: each missing colour from the neighbours that have it.
    fn demosaic(&self, raw: &[f32], n: usize) -> Plane<Rgb> {
        const K: [[f32; 3]; 3] = [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]];
        let mut out = Plane::new(n, n);
        for y in 0..n {
            for x in 0..n {
                let mut acc = [0.0f32; 3];
                let mut wsum = [0.0f32; 3];
                for (dy, row) in K.iter().enumerate() {
                    let sy = (y + dy).wrapping_sub(1);
                    if sy >= n {
                        continue;
                    }
                    for (dx, &k) in row.iter().enumerate() {
                        let sx = (x + dx).wrapping_sub(1);
                        if sx >= n {
                            continue;
                        }
                        let c = self.channel(sx, sy);
                        acc[c] += k * raw[sy * n + sx];
                        wsum[c] += k;
                    }
                }
                out.data[y * n + x] = std::array::from_fn(|c| acc[c] / wsum[c].max(1e-6));
            }
        }
        out
    }
}

/// Averages `length` pixels along direction `angle` (camera or subject motion during the
/// exposure).
pub fn motion_blur(src: &Plane<Rgb>, length: f32, angle: f32) -> Plane<Rgb> {
    let taps = length.ceil() as usize + 1;
    let (dx, dy) = (angle.cos(), angle.sin());
    let mut out = Plane::new(src.w, src.h);
    for y in 0..src.h {
        for x in 0..src.w {
            let mut acc = [0.0f32; 3];
            for k in 0..taps {
                let t = (k as f32 / (taps - 1) as f32 - 0.5) * length;
                let v = src.bilinear(x as f32 + t * dx, y as f32 + t * dy);
                for c in 0..3 {
                    acc[c] += v[c];
                }
            }
            out.data[y * src.w + x] = acc.map(|a| a / taps as f32);
        }
    }
    out
}

fn box3(src: &Plane<Rgb>) -> Plane<Rgb> {
    let (w, h) = (src.w, src.h);
    Plane::from_fn(w, h, |x, y| {
        let mut acc = [0.0f32; 3];
        let mut n = 0.0;
        for sy in y.saturating_sub(1)..(y + 2).min(h) {
            for sx in x.saturating_sub(1)..(x + 2).min(w) {
                let v = src.data[sy * w + sx];
                for c in 0..3 {
                    acc[c] += v[c];
                }
                n += 1.0;
            }
        }
        acc.map(|a| a / n)
    })
}

/// Encoded values in [0, 1] to 8 bits (rounded, clamped).
pub fn to_rgb8(src: &Plane<Rgb>) -> RgbImage {
    let mut img = RgbImage::new(src.w as u32, src.h as u32);
    for (dst, p) in img.pixels_mut().zip(&src.data) {
        dst.0 = p.map(|v| (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8);
    }
    img
}

/// The frame as a JPEG of `quality` would decode (blocks, ringing, chroma subsampling).
pub fn jpeg_round_trip(img: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut bytes, quality,
    ))
    .expect("encoding to memory cannot fail");
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .expect("our own JPEG decodes")
        .to_rgb8()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_scene(n: usize, v: f32) -> Plane<Rgb> {
        Plane::from_fn(n, n, |_, _| [v; 3])
    }

    #[test]
    fn exposure_normalises_brightness_and_noise_grows_with_iso() {
        let mut cam = Camera::random(&mut Rng::new(1));
        cam.sharpen = 0.0;
        cam.denoise = 0.0;
        cam.contrast = 0.0;
        cam.jpeg_quality = 95;
        cam.shake = 0.0;
        let std_of = |cam: &Camera, level: f32| {
            let img = cam.capture(&flat_scene(64, level), [1.0; 3], &mut Rng::new(2), 64);
            let g: Vec<f32> = img.pixels().map(|p| p.0[1] as f32).collect();
            let m = g.iter().sum::<f32>() / g.len() as f32;
            let s = (g.iter().map(|v| (v - m).powi(2)).sum::<f32>() / g.len() as f32).sqrt();
            (m, s)
        };
        // A scene 25x brighter comes out brighter, but auto exposure compresses the step.
        let (dim, _) = std_of(&cam, 0.02);
        let (bright, _) = std_of(&cam, 0.5);
        assert!(bright > dim && bright < 2.5 * dim, "{dim} {bright}");
        cam.full_well = 100.0;
        let (_, noisy) = std_of(&cam, 0.2);
        cam.full_well = 20000.0;
        cam.read_noise = 0.0005;
        let (_, clean) = std_of(&cam, 0.2);
        assert!(noisy > clean * 2.0, "{noisy} {clean}");
    }

    #[test]
    fn demosaic_reconstructs_a_flat_colour() {
        let cam = Camera::random(&mut Rng::new(3));
        let raw: Vec<f32> = (0..16 * 16)
            .map(|i| [0.6, 0.3, 0.1][cam.channel(i % 16, i / 16)])
            .collect();
        let rgb = cam.demosaic(&raw, 16);
        for p in &rgb.data {
            assert!(
                (p[0] - 0.6).abs() < 1e-5 && (p[1] - 0.3).abs() < 1e-5 && (p[2] - 0.1).abs() < 1e-5
            );
        }
    }
}
