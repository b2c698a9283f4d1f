//! Float rasters in scene units, colour conversions and blurs. Scenes are computed in linear
//! light (`Rgb`, relative radiance); only the camera turns them into 8-bit sRGB.

use std::sync::LazyLock;

/// Linear RGB.
pub type Rgb = [f32; 3];

/// Linear interpolation for whatever a raster holds.
pub trait Blend: Copy + Default {
    fn lerp(self, other: Self, t: f32) -> Self;
}

impl Blend for f32 {
    #[inline]
    fn lerp(self, other: f32, t: f32) -> f32 {
        self + (other - self) * t
    }
}

impl Blend for Rgb {
    #[inline]
    fn lerp(self, o: Rgb, t: f32) -> Rgb {
        [
            self[0] + (o[0] - self[0]) * t,
            self[1] + (o[1] - self[1]) * t,
            self[2] + (o[2] - self[2]) * t,
        ]
    }
}

impl Blend for [f32; 4] {
    #[inline]
    fn lerp(self, o: [f32; 4], t: f32) -> [f32; 4] {
        std::array::from_fn(|i| self[i] + (o[i] - self[i]) * t)
    }
}

/// A `w` x `h` grid, row-major.
#[derive(Clone, Debug)]
pub struct Plane<T> {
    pub w: usize,
    pub h: usize,
    pub data: Vec<T>,
}

impl<T: Blend> Plane<T> {
    pub fn new(w: usize, h: usize) -> Self {
        Plane {
            w,
            h,
            data: vec![T::default(); w * h],
        }
    }

    pub fn from_fn(w: usize, h: usize, f: impl Fn(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                data.push(f(x, y));
            }
        }
        Plane { w, h, data }
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> T {
        self.data[y * self.w + x]
    }

    /// Bilinear sample at pixel coordinates (pixel centres at integers), edges clamped.
    #[inline]
    pub fn bilinear(&self, x: f32, y: f32) -> T {
        let x = x.clamp(0.0, (self.w - 1) as f32);
        let y = y.clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (tx, ty) = (x - x0 as f32, y - y0 as f32);
        let top = self.at(x0, y0).lerp(self.at(x1, y0), tx);
        let bottom = self.at(x0, y1).lerp(self.at(x1, y1), tx);
        top.lerp(bottom, ty)
    }
}

/// A raster laid over a rectangle of the scene: texel `(i, j)` has its centre at
/// `(x0 + (i + 0.5) step, y0 + (j + 0.5) step)`.
#[derive(Clone, Debug)]
pub struct Field<T> {
    pub plane: Plane<T>,
    pub x0: f32,
    pub y0: f32,
    pub step: f32,
}

impl<T: Blend> Field<T> {
    /// Evaluates `f` at every texel centre covering `[x0, x1] x [y0, y1]`.
    pub fn render(
        x0: f32,
        y0: f32,
        x1: f32,
        y1: f32,
        step: f32,
        f: impl Fn(f32, f32) -> T,
    ) -> Self {
        let w = ((x1 - x0) / step).ceil().max(1.0) as usize;
        let h = ((y1 - y0) / step).ceil().max(1.0) as usize;
        let plane = Plane::from_fn(w, h, |i, j| {
            f(x0 + (i as f32 + 0.5) * step, y0 + (j as f32 + 0.5) * step)
        });
        Field {
            plane,
            x0,
            y0,
            step,
        }
    }

    /// Bilinear sample at scene coordinates, edges clamped.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> T {
        let inv = 1.0 / self.step;
        self.plane
            .bilinear((x - self.x0) * inv - 0.5, (y - self.y0) * inv - 0.5)
    }

    /// The texel containing scene point `(x, y)` (edges clamped).
    #[inline]
    pub fn nearest(&self, x: f32, y: f32) -> T {
        let inv = 1.0 / self.step;
        let i = (((x - self.x0) * inv).max(0.0) as usize).min(self.plane.w - 1);
        let j = (((y - self.y0) * inv).max(0.0) as usize).min(self.plane.h - 1);
        self.plane.at(i, j)
    }
}

#[inline]
pub fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Coverage of a shape with signed distance `d` (negative inside), edge `w` wide.
#[inline]
pub fn coverage(d: f32, w: f32) -> f32 {
    smoothstep(w, -w, d)
}

#[inline]
pub fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    a.lerp(b, t)
}

#[inline]
pub fn scale(a: Rgb, s: f32) -> Rgb {
    [a[0] * s, a[1] * s, a[2] * s]
}

#[inline]
pub fn mul(a: Rgb, b: Rgb) -> Rgb {
    [a[0] * b[0], a[1] * b[1], a[2] * b[2]]
}

#[inline]
pub fn add(a: Rgb, b: Rgb) -> Rgb {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

#[inline]
pub fn luma(a: Rgb) -> f32 {
    0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]
}

pub fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb_exact(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

const ENCODE_LUT_SIZE: usize = 4096;
static ENCODE_LUT: LazyLock<Vec<f32>> = LazyLock::new(|| {
    (0..=ENCODE_LUT_SIZE)
        .map(|i| linear_to_srgb_exact(i as f32 / ENCODE_LUT_SIZE as f32))
        .collect()
});

/// The sRGB transfer function (linear -> encoded), clamped to [0, 1]; a table with linear
/// interpolation (it runs for every pixel of every frame).
#[inline]
pub fn linear_to_srgb(v: f32) -> f32 {
    let x = v.clamp(0.0, 1.0) * ENCODE_LUT_SIZE as f32;
    let i = (x as usize).min(ENCODE_LUT_SIZE - 1);
    let t = x - i as f32;
    let lut = &*ENCODE_LUT;
    lut[i] + (lut[i + 1] - lut[i]) * t
}

/// An sRGB colour given as 0–255 values, in linear light.
pub fn srgb8(r: u8, g: u8, b: u8) -> Rgb {
    [
        srgb_to_linear(r as f32 / 255.0),
        srgb_to_linear(g as f32 / 255.0),
        srgb_to_linear(b as f32 / 255.0),
    ]
}

/// Linear RGB of a black body at `kelvin` (Tanner Helland's fit of the Planckian locus),
/// normalised to green = 1: the colour of a light source.
pub fn kelvin(kelvin: f32) -> Rgb {
    let t = kelvin / 100.0;
    let r = if t <= 66.0 {
        255.0
    } else {
        329.698_73 * (t - 60.0).powf(-0.133_204_76)
    };
    let g = if t <= 66.0 {
        99.470_8 * t.ln() - 161.119_57
    } else {
        288.122_16 * (t - 60.0).powf(-0.075_514_846)
    };
    let b = if t >= 66.0 {
        255.0
    } else if t <= 19.0 {
        0.0
    } else {
        138.517_73 * (t - 10.0).ln() - 305.044_8
    };
    let lin = |c: f32| srgb_to_linear((c / 255.0).clamp(0.0, 1.0)).max(1e-3);
    let (r, g, b) = (lin(r), lin(g), lin(b));
    [r / g, 1.0, b / g]
}

/// Separable Gaussian blur of `src` (edges clamped); `sigma` in pixels.
pub fn gaussian_blur<T: Blend + Scaled>(src: &Plane<T>, sigma: f32) -> Plane<T> {
    if sigma < 0.05 {
        return src.clone();
    }
    let radius = (sigma * 3.0).ceil() as isize;
    let mut kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= total);
    let (w, h) = (src.w as isize, src.h as isize);
    let mut tmp = Plane::<T>::new(src.w, src.h);
    for y in 0..h {
        for x in 0..w {
            let mut acc = T::default();
            for (k, &kv) in kernel.iter().enumerate() {
                let sx = (x + k as isize - radius).clamp(0, w - 1);
                acc = acc.add_scaled(src.data[(y * w + sx) as usize], kv);
            }
            tmp.data[(y * w + x) as usize] = acc;
        }
    }
    let mut out = Plane::<T>::new(src.w, src.h);
    for y in 0..h {
        for x in 0..w {
            let mut acc = T::default();
            for (k, &kv) in kernel.iter().enumerate() {
                let sy = (y + k as isize - radius).clamp(0, h - 1);
                acc = acc.add_scaled(tmp.data[(sy * w + x) as usize], kv);
            }
            out.data[(y * w + x) as usize] = acc;
        }
    }
    out
}

/// `self + other * k`, for blurs.
pub trait Scaled: Copy {
    fn add_scaled(self, other: Self, k: f32) -> Self;
}

impl Scaled for f32 {
    #[inline]
    fn add_scaled(self, o: f32, k: f32) -> f32 {
        self + o * k
    }
}

impl Scaled for Rgb {
    #[inline]
    fn add_scaled(self, o: Rgb, k: f32) -> Rgb {
        [self[0] + o[0] * k, self[1] + o[1] * k, self[2] + o[2] * k]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_round_trip() {
        for i in 0..=255u8 {
            let v = i as f32 / 255.0;
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 2e-4, "{i}");
        }
    }

    #[test]
    fn warm_light_is_red_and_daylight_is_neutral() {
        let warm = kelvin(2800.0);
        assert!(warm[0] > 1.5 && warm[2] < 0.5, "{warm:?}");
        let day = kelvin(6500.0);
        assert!(
            (day[0] - 1.0).abs() < 0.1 && (day[2] - 1.0).abs() < 0.15,
            "{day:?}"
        );
    }

    #[test]
    fn blur_keeps_the_mean_and_field_samples_texel_centres() {
        let plane = Plane::from_fn(16, 16, |x, y| ((x * 7 + y * 3) % 5) as f32);
        let blurred = gaussian_blur(&plane, 1.5);
        let mean = |p: &Plane<f32>| p.data.iter().sum::<f32>() / p.data.len() as f32;
        assert!((mean(&plane) - mean(&blurred)).abs() < 0.1);
        let field = Field::render(-1.0, -1.0, 1.0, 1.0, 0.5, |x, y| x + 10.0 * y);
        assert_eq!(field.plane.w, 4);
        assert!((field.sample(-0.75, 0.25) - (-0.75 + 2.5)).abs() < 1e-5);
        assert!((field.sample(0.0, 0.0)).abs() < 1e-5);
    }
}
