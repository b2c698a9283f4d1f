//! Light and geometry shared by everything the camera films (heads, prints, screens): the
//! scene's lights, rotations and small vector helpers, and the surface shading model.

use super::raster::{Rgb, add, mul, scale};
use super::rng::Rng;

/// The lights of a scene, in camera coordinates (x right, y down, z towards the camera).
#[derive(Clone, Copy, Debug)]
pub struct Light {
    /// Unit vector towards the key light.
    pub dir: [f32; 3],
    /// Key light colour times intensity.
    pub key: Rgb,
    /// Ambient (fill) light.
    pub ambient: Rgb,
}

/// Rotation matrix `Rz(roll) Rx(pitch) Ry(yaw)` (head -> camera).
pub fn rotation(yaw: f32, pitch: f32, roll: f32) -> [[f32; 3]; 3] {
    let (sy, cy) = yaw.sin_cos();
    let (sp, cp) = pitch.sin_cos();
    let (sr, cr) = roll.sin_cos();
    let ry = [[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]];
    let rx = [[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]];
    let rz = [[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]];
    matmul(&rz, &matmul(&rx, &ry))
}

pub fn matmul(a: &[[f32; 3]; 3], b: &[[f32; 3]; 3]) -> [[f32; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}

#[inline]
pub fn apply(m: &[[f32; 3]; 3], p: [f32; 3]) -> [f32; 3] {
    [
        m[0][0] * p[0] + m[0][1] * p[1] + m[0][2] * p[2],
        m[1][0] * p[0] + m[1][1] * p[1] + m[1][2] * p[2],
        m[2][0] * p[0] + m[2][1] * p[1] + m[2][2] * p[2],
    ]
}

#[inline]
pub fn normalize(v: [f32; 3]) -> [f32; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-12);
    [v[0] / n, v[1] / n, v[2] / n]
}

#[inline]
pub fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// A Blinn–Phong lobe `x^shininess`, normalised so that broader lobes are dimmer.
#[inline]
pub fn spec_lobe(x: f32, shininess: f32) -> f32 {
    if x <= 0.0 {
        return 0.0;
    }
    x.powf(shininess) * (shininess + 8.0) / 48.0
}

/// Light leaving a diffuse-plus-specular surface with normal `n` (camera coordinates).
#[inline]
pub fn shade_surface(
    light: &Light,
    albedo: Rgb,
    n: [f32; 3],
    ao: f32,
    wrap: f32,
    spec: f32,
    shininess: f32,
) -> Rgb {
    let ndl = dot(n, light.dir);
    let wraps = [wrap, wrap * 0.75, wrap * 0.6];
    let diffuse = |c: usize| ((ndl + wraps[c]) / (1.0 + wraps[c])).max(0.0);
    // Light from above reaches surfaces facing up more (y points down).
    let hemi = ao * (0.85 - 0.15 * n[1]);
    let h = normalize([light.dir[0], light.dir[1], light.dir[2] + 1.0]);
    let s = spec * spec_lobe(dot(n, h), shininess) * ao.sqrt() * (ndl > 0.0) as u8 as f32;
    let occl = ao.sqrt();
    let mut out = [0.0; 3];
    for c in 0..3 {
        out[c] = albedo[c] * (light.ambient[c] * hemi + light.key[c] * diffuse(c) * occl)
            + light.key[c] * s;
    }
    out
}

/// The lights of a scene: a key light from a random direction above-front, a softer fill.
pub fn random_light(rng: &mut Rng, illuminant: Rgb) -> Light {
    let azimuth = rng.range(-1.2, 1.2);
    let elevation = rng.range(-0.15, 0.9);
    let dir = normalize([
        azimuth.sin() * elevation.cos(),
        -elevation.sin(),
        azimuth.cos() * elevation.cos(),
    ]);
    let key = rng.range(0.7, 1.3);
    let fill = rng.range(0.15, 0.6);
    let fill_tint = [
        1.0 + rng.range(-0.08, 0.05),
        1.0,
        1.0 + rng.range(-0.05, 0.12),
    ];
    Light {
        dir,
        key: scale(illuminant, key),
        ambient: mul(scale(illuminant, key * fill), fill_tint),
    }
}

/// `light` turned and dimmed a little (per-frame drift).
pub fn drift_light(light: &Light, dx: f32, dy: f32, gain: f32) -> Light {
    Light {
        dir: normalize(add(light.dir, [dx, dy, 0.0])),
        key: scale(light.key, gain),
        ambient: scale(light.ambient, gain),
    }
}
