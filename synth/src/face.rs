//! The procedural head: an identity's parameters ([`Face`]), its texture-space model
//! ([`FaceModel`]: albedo, height, materials over face-local coordinates, built once per
//! identity), and the per-frame render of the head at a pose under a light, with eyes that
//! look around and blink.
//!
//! Face-local coordinates `(u, v)` are in *face units*: the face box a detector such as
//! MTCNN puts on the face is `[-0.5, 0.5]²` (u right, v down; landmarks measured on the
//! public-domain astronaut photo: eyes at v ≈ -0.14, u ≈ ±0.19, nose tip v ≈ 0.1, mouth
//! corners v ≈ 0.21). Heights `z` point towards the camera.

use rayon::prelude::*;

use super::face_paint::{eye_overlay, texel};
use super::raster::{Blend, Field, Plane, Rgb, luma, scale, smoothstep, srgb_to_linear, srgb8};
use super::rng::Rng;
pub use super::shading::{
    Light, apply, dot, drift_light, matmul, normalize, random_light, rotation, shade_surface,
    spec_lobe,
};

/// The part of face-local space the texture covers: the crop sees about ±0.6 around the
/// face box, turned heads and held photos a little more.
pub const DOMAIN: [f32; 4] = [-1.1, -1.15, 1.1, 1.4];
/// Texture resolution in face units (a 224 px crop has 0.0054 units per pixel).
pub const TEXEL: f32 = 0.005;

/// What one texel of a head holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Texel {
    pub albedo: Rgb,
    /// Coverage by the person (0: background).
    pub alpha: f32,
    pub height: f32,
    pub normal: [f32; 3],
    pub spec: f32,
    pub shininess: f32,
    /// Light wrapping around the terminator (sub-surface scattering of skin).
    pub wrap: f32,
    /// Ambient occlusion.
    pub ao: f32,
}

impl Blend for Texel {
    #[inline]
    fn lerp(self, o: Texel, t: f32) -> Texel {
        let l = |a: f32, b: f32| a + (b - a) * t;
        Texel {
            albedo: self.albedo.lerp(o.albedo, t),
            alpha: l(self.alpha, o.alpha),
            height: l(self.height, o.height),
            normal: self.normal.lerp(o.normal, t),
            spec: l(self.spec, o.spec),
            shininess: l(self.shininess, o.shininess),
            wrap: l(self.wrap, o.wrap),
            ao: l(self.ao, o.ao),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HairStyle {
    Bald,
    Buzz,
    Short,
    Medium,
    Long,
    Curly,
    Tied,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FacialHair {
    None,
    Stubble,
    Moustache,
    Beard,
}

#[derive(Clone, Debug)]
pub struct Glasses {
    pub half_w: f32,
    pub half_h: f32,
    pub radius: f32,
    pub thickness: f32,
    pub color: Rgb,
    pub spec: f32,
}

/// One identity's parameters.
#[derive(Clone, Debug)]
pub struct Face {
    pub skin: Rgb,
    pub melanin: f32,
    pub cheek_w: f32,
    pub skull_w: f32,
    pub jaw: f32,
    pub jaw_square: f32,
    pub chin_v: f32,
    pub top_v: f32,
    pub depth: f32,
    pub eye_u: f32,
    pub eye_v: f32,
    pub eye_w: f32,
    pub eye_h: f32,
    pub eye_tilt: f32,
    pub iris_r: f32,
    pub iris: Rgb,
    pub brow_gap: f32,
    pub brow_thick: f32,
    pub brow_arch: f32,
    pub brow: Rgb,
    pub nose_v: f32,
    pub nose_w: f32,
    pub nose_h: f32,
    pub mouth_v: f32,
    pub mouth_w: f32,
    pub lip_up: f32,
    pub lip_low: f32,
    /// Mouth corners raised (face units at the corners; negative: turned down).
    pub smile: f32,
    pub lips: Rgb,
    pub ear_v: f32,
    pub ear_h: f32,
    pub ear_w: f32,
    pub neck_w: f32,
    pub shoulder_v: f32,
    pub shoulder_w: f32,
    pub clothes: Rgb,
    pub neckline: f32,
    pub hair_style: HairStyle,
    pub hair: Rgb,
    pub hairline_v: f32,
    pub recess: f32,
    pub part_u: f32,
    pub fringe: Option<f32>,
    pub hair_len_v: f32,
    pub hair_vol: f32,
    pub facial_hair: FacialHair,
    pub beard_density: f32,
    pub glasses: Option<Glasses>,
    pub freckles: f32,
    pub moles: Vec<[f32; 3]>,
    pub eye_shadow: f32,
    pub seed: u32,
}

/// Skin tones from very light to very dark (sRGB), interpolated.
pub const SKIN: [[u8; 3]; 8] = [
    [247, 218, 200],
    [236, 196, 170],
    [222, 172, 140],
    [200, 145, 110],
    [170, 118, 86],
    [135, 90, 64],
    [100, 66, 48],
    [72, 48, 36],
];
const HAIR: [[u8; 3]; 10] = [
    [22, 18, 16],
    [48, 34, 26],
    [86, 60, 42],
    [128, 92, 62],
    [160, 128, 86],
    [205, 172, 120],
    [132, 58, 32],
    [178, 88, 46],
    [140, 138, 134],
    [210, 206, 198],
];
const IRIS: [[u8; 3]; 6] = [
    [92, 56, 32],
    [52, 32, 20],
    [124, 92, 50],
    [84, 112, 70],
    [84, 122, 158],
    [116, 126, 132],
];
const CLOTHES: [[u8; 3]; 12] = [
    [30, 30, 34],
    [235, 235, 230],
    [40, 60, 110],
    [120, 30, 40],
    [60, 90, 60],
    [140, 140, 145],
    [200, 170, 120],
    [90, 60, 100],
    [20, 80, 120],
    [180, 80, 40],
    [70, 70, 70],
    [160, 190, 210],
];

fn rgb8(c: [u8; 3]) -> Rgb {
    srgb8(c[0], c[1], c[2])
}

fn jitter(rng: &mut Rng, c: Rgb, amount: f32) -> Rgb {
    let k = 1.0 + amount * rng.normal();
    [
        c[0] * k * (1.0 + amount * 0.5 * rng.normal()),
        c[1] * k,
        c[2] * k * (1.0 + amount * 0.5 * rng.normal()),
    ]
}

impl Face {
    /// A random identity: every parameter from a plausible human range. The draws come
    /// in a fixed order (colours, styling, glasses, moles, then the table below), so that
    /// a seed always gives the same face.
    pub fn random(rng: &mut Rng) -> Face {
        let Colouring {
            melanin,
            skin,
            hair,
            iris,
        } = Colouring::random(rng);
        let Styling {
            hair_style,
            masculine,
            facial_hair,
            lips,
        } = Styling::random(rng, skin);
        let glasses = rng.chance(0.18).then(|| Glasses::random(rng));
        let moles = (0..rng.below(4))
            .map(|_| {
                [
                    rng.range(-0.35, 0.35),
                    rng.range(-0.4, 0.45),
                    rng.range(0.004, 0.009),
                ]
            })
            .collect();
        let clothes = rgb8(rng.pick(&CLOTHES));
        let clothes = jitter(rng, clothes, 0.15);
        let cheek_w = rng.range(0.41, 0.47);
        let eye_v = rng.range(-0.155, -0.105);
        Face {
            skin,
            melanin,
            cheek_w,
            skull_w: cheek_w * rng.range(1.0, 1.08),
            jaw: rng.range(0.55, 0.85),
            jaw_square: rng.range(2.0, 5.0),
            chin_v: rng.range(0.47, 0.53),
            top_v: rng.range(-1.02, -0.94),
            depth: rng.range(0.42, 0.52),
            eye_u: rng.range(0.18, 0.205),
            eye_v,
            eye_w: rng.range(0.082, 0.098),
            eye_h: rng.range(0.03, 0.04),
            eye_tilt: rng.range(-0.08, 0.15),
            iris_r: rng.range(0.033, 0.039),
            iris,
            brow_gap: rng.range(0.085, 0.12),
            brow_thick: rng.range(0.012, 0.028),
            brow_arch: rng.range(0.0, 0.03),
            brow: scale(hair, rng.range(0.7, 1.0)),
            nose_v: rng.range(0.07, 0.13),
            nose_w: rng.range(0.05, 0.085),
            nose_h: rng.range(0.1, 0.17),
            mouth_v: rng.range(0.2, 0.265),
            mouth_w: rng.range(0.12, 0.18),
            lip_up: rng.range(0.012, 0.028),
            lip_low: rng.range(0.018, 0.038),
            smile: rng.range(-0.004, 0.014),
            lips,
            ear_v: rng.range(-0.09, 0.0),
            ear_h: rng.range(0.11, 0.15),
            ear_w: rng.range(0.05, 0.08),
            neck_w: rng.range(0.27, 0.34),
            shoulder_v: rng.range(0.95, 1.1),
            shoulder_w: rng.range(1.1, 1.4),
            clothes,
            neckline: rng.range(0.0, 0.2),
            hair_style,
            hair,
            hairline_v: rng.range(-0.52, -0.36),
            recess: if masculine { rng.range(0.0, 0.12) } else { 0.0 },
            part_u: rng.range(-0.15, 0.15),
            fringe: (matches!(
                hair_style,
                HairStyle::Short | HairStyle::Medium | HairStyle::Long
            ) && rng.chance(0.3))
            .then(|| rng.range(-0.34, -0.24)),
            hair_len_v: match hair_style {
                HairStyle::Medium => rng.range(0.2, 0.55),
                HairStyle::Long => rng.range(0.8, 1.4),
                HairStyle::Curly => rng.range(0.1, 0.6),
                _ => 0.0,
            },
            hair_vol: match hair_style {
                HairStyle::Curly => rng.range(0.12, 0.28),
                HairStyle::Bald | HairStyle::Buzz => 0.01,
                HairStyle::Tied => rng.range(0.02, 0.04),
                _ => rng.range(0.03, 0.09),
            },
            facial_hair,
            beard_density: rng.range(0.5, 1.0),
            glasses,
            freckles: if melanin < 0.3 && rng.chance(0.2) {
                rng.range(0.3, 1.0)
            } else {
                0.0
            },
            moles,
            eye_shadow: if !masculine && rng.chance(0.3) {
                rng.range(0.1, 0.35)
            } else {
                0.0
            },
            seed: rng.u64() as u32,
        }
    }

    /// Half-width of the head's outline (skull above the cheek line, jaw below).
    pub fn half_width(&self, v: f32) -> f32 {
        if v <= 0.0 {
            self.skull_hw(v, 0.0)
        } else {
            let s = v / self.chin_v;
            if s >= 1.0 {
                return 0.0;
            }
            let narrowing = 1.0 - (1.0 - self.jaw) * s * s.sqrt();
            self.cheek_w * narrowing * (1.0 - s.powf(self.jaw_square)).sqrt()
        }
    }

    /// Half-width of the skull (a superellipse from the cheek line to the crown) grown by
    /// `grow` all round (hair volume).
    pub fn skull_hw(&self, v: f32, grow: f32) -> f32 {
        let t = (v / (self.top_v - grow)).max(0.0);
        if t >= 1.0 {
            return 0.0;
        }
        // Widest above the ears, narrowing to the cheeks below.
        let w = self.cheek_w + (self.skull_w - self.cheek_w) * smoothstep(0.0, 0.3, t);
        (w + grow) * (1.0 - t.powf(2.2)).powf(1.0 / 2.2)
    }

    /// The head's front surface (an ellipsoid flattened at the front), 0 outside.
    pub(super) fn head_z(&self, u: f32, v: f32) -> f32 {
        let hw = self.half_width(v);
        if hw <= 1e-4 {
            return 0.0;
        }
        let x = (u / hw).abs();
        if x >= 1.0 {
            return 0.0;
        }
        let p = (v + 0.15).clamp(-1.0, 1.0);
        let profile = (1.0 - p * p).sqrt();
        self.depth * profile * (1.0 - x.powf(2.5)).powf(0.4)
    }

    /// Bumps and hollows of the face (nose, sockets, cheekbones, lips, chin).
    pub(super) fn features_z(&self, u: f32, v: f32) -> f32 {
        let au = u.abs();
        let g = |x: f32, y: f32| (-(x * x + y * y)).exp();
        let mut z = 0.0;
        // Nose: a ridge from between the eyes, widening to the tip, then the tip and wings.
        let top = self.eye_v - 0.03;
        if v > top - 0.05 && v < self.nose_v + 0.08 && au < 0.15 {
            let t = ((v - top) / (self.nose_v - top)).clamp(0.0, 1.0);
            let width = 0.045 + (self.nose_w * 0.7 - 0.045) * t;
            let on = smoothstep(top - 0.04, top + 0.02, v);
            let off = if v > self.nose_v {
                (-((v - self.nose_v) / 0.022).powi(2)).exp()
            } else {
                1.0
            };
            z += self.nose_h * (0.15 + 0.85 * t * t) * on * off * (-(u / width).powi(2)).exp();
            z += self.nose_h * 0.35 * g(u / (self.nose_w * 0.55), (v - self.nose_v) / 0.04);
            z += 0.035
                * g(
                    (au - self.nose_w * 0.8) / 0.028,
                    (v - self.nose_v - 0.005) / 0.025,
                );
        }
        // Eye sockets, the eyeballs in them, the brow ridge.
        let (ex, ey) = ((au - self.eye_u) / 0.1, (v - self.eye_v) / 0.065);
        z -= 0.06 * g(ex, ey);
        z += 0.035
            * g(
                (au - self.eye_u) / self.eye_w,
                (v - self.eye_v) / (self.eye_h * 1.6),
            );
        z += 0.03
            * (-((v - (self.eye_v - self.brow_gap)) / 0.045).powi(2)).exp()
            * smoothstep(0.34, 0.24, au);
        // Cheekbones and the nasolabial folds.
        z += 0.035 * g((au - 0.23) / 0.09, (v - 0.03) / 0.07);
        let fold = au - (self.nose_w + 0.02 + (v - self.nose_v) * 0.55);
        if v > self.nose_v && v < self.mouth_v + 0.04 {
            z -= 0.004 * g(fold / 0.02, 0.0);
        }
        // Lips, the groove under them, the chin.
        let (lu, lv) = (u / self.mouth_w, v - self.mouth_v);
        if lu.abs() < 1.3 {
            let arc = (1.0 - lu * lu).max(0.0);
            z += 0.01 * arc.sqrt() * g(0.0, (lv + self.lip_up * 0.5) / (self.lip_up * 0.8));
            z += 0.014 * arc.sqrt() * g(0.0, (lv - self.lip_low * 0.5) / (self.lip_low * 0.7));
            z -= 0.01 * arc * g(0.0, lv / 0.004);
        }
        z -= 0.01 * g(u / 0.08, (v - self.mouth_v - self.lip_low - 0.03) / 0.02);
        z += 0.03 * g(u / 0.09, (v - self.chin_v + 0.08) / 0.06);
        z
    }

    /// Where the hair starts on the forehead at `u` (temples lower, receding sides higher).
    pub(super) fn hairline(&self, u: f32) -> f32 {
        let au = u.abs();
        let centre = self.hairline_v - self.recess * smoothstep(0.05, 0.22, au);
        let temple = self.ear_v - self.ear_h * 0.6;
        centre + (temple - centre) * smoothstep(0.27, 0.37, au)
    }
}

/// An identity's head, ready to render at any pose.
pub struct FaceModel {
    pub tex: Field<Texel>,
    pub height: Field<f32>,
    /// Eyes that blink and move (procedural heads); photos have theirs painted in.
    pub eyes: Option<Face>,
    /// Depth of the head's pivot (the neck) behind the face plane.
    pub pivot: f32,
}

/// Blinking and gaze at one instant.
#[derive(Clone, Copy, Debug)]
pub struct EyeState {
    /// 1 open, 0 closed.
    pub open: f32,
    /// Gaze in [-1, 1]², fractions of the eye's reach.
    pub gaze: (f32, f32),
}

/// Head pose: rotations in radians, focal length in face units (perspective).
#[derive(Clone, Copy, Debug)]
pub struct Pose {
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
    pub focal: f32,
}

/// A pose prepared for inverse projection.
pub struct View {
    r: [[f32; 3]; 3],
    inv2: [[f32; 2]; 2],
    focal: f32,
    pivot: f32,
    /// Image point of the face-box centre and its height: the crop normalisation.
    centre: (f32, f32),
    box_h: f32,
}

impl View {
    /// The image point (face units around the subject, before the crop's normalisation) of
    /// normalised point `p`: where the room behind is seen.
    #[inline]
    pub fn image_point(&self, p: (f32, f32)) -> (f32, f32) {
        (
            p.0 * self.box_h + self.centre.0,
            p.1 * self.box_h + self.centre.1,
        )
    }
}

impl FaceModel {
    /// Builds the texture of a procedural identity (rows in parallel).
    pub fn procedural(face: &Face) -> FaceModel {
        let [x0, y0, x1, y1] = DOMAIN;
        let w = ((x1 - x0) / TEXEL).ceil() as usize;
        let h = ((y1 - y0) / TEXEL).ceil() as usize;
        let rows: Vec<Vec<Texel>> = (0..h)
            .into_par_iter()
            .map(|j| {
                let v = y0 + (j as f32 + 0.5) * TEXEL;
                (0..w)
                    .map(|i| texel(face, x0 + (i as f32 + 0.5) * TEXEL, v))
                    .collect()
            })
            .collect();
        let plane = Plane {
            w,
            h,
            data: rows.into_iter().flatten().collect(),
        };
        finish(plane, Some(face.clone()), 0.15)
    }

    /// A head made from a photo crop (sRGB) whose face box is `[-0.5, 0.5]²` inside
    /// `extent` (the crop covers `[-extent, extent]²`): the photo's own light stays painted
    /// in, a gentle ellipsoid gives it a little relief and relighting.
    pub fn photo(photo: &image::RgbImage, extent: f32) -> FaceModel {
        let lin = Plane::from_fn(photo.width() as usize, photo.height() as usize, |x, y| {
            let p = photo.get_pixel(x as u32, y as u32).0;
            [
                srgb_to_linear(p[0] as f32 / 255.0),
                srgb_to_linear(p[1] as f32 / 255.0),
                srgb_to_linear(p[2] as f32 / 255.0),
            ]
        });
        let step = 2.0 * extent / photo.width() as f32;
        let src = Field {
            plane: lin,
            x0: -extent,
            y0: -extent,
            step,
        };
        let [x0, y0, x1, y1] = DOMAIN;
        let field = Field::render(x0, y0, x1, y1, TEXEL, |u, v| {
            let r2 = (u / 0.45).powi(2) + ((v - 0.02) / 0.62).powi(2);
            let bulge = (1.0 - r2).max(0.0).sqrt();
            Texel {
                albedo: scale(src.sample(u, v), 1.6),
                alpha: 1.0,
                height: 0.3 * bulge,
                normal: [0.0, 0.0, 1.0],
                spec: 0.04 * bulge,
                shininess: 20.0,
                wrap: 0.8,
                ao: 1.0,
            }
        });
        finish(field.plane, None, 0.1)
    }

    /// Prepares a pose: the rotation, and the face box's place in the image (a detector
    /// follows the face, so the crop is normalised to it).
    pub fn view(&self, pose: &Pose) -> View {
        let r = rotation(pose.yaw, pose.pitch, pose.roll);
        let det = r[0][0] * r[1][1] - r[0][1] * r[1][0];
        let inv2 = [
            [r[1][1] / det, -r[0][1] / det],
            [-r[1][0] / det, r[0][0] / det],
        ];
        let mut view = View {
            r,
            inv2,
            focal: pose.focal,
            pivot: self.pivot,
            centre: (0.0, 0.0),
            box_h: 1.0,
        };
        let project = |u: f32, v: f32| {
            let z = self.height.sample(u, v) - view.pivot;
            let q = apply(&view.r, [u, v, z]);
            let k = view.focal / (view.focal - q[2]);
            (q[0] * k, q[1] * k)
        };
        let pts = [
            project(0.0, -0.5),
            project(0.0, 0.5),
            project(-0.42, 0.0),
            project(0.42, 0.0),
        ];
        let (mut lo, mut hi) = ((f32::MAX, f32::MAX), (f32::MIN, f32::MIN));
        for (x, y) in pts {
            lo = (lo.0.min(x), lo.1.min(y));
            hi = (hi.0.max(x), hi.1.max(y));
        }
        view.centre = ((lo.0 + hi.0) / 2.0, (lo.1 + hi.1) / 2.0);
        view.box_h = (hi.1 - lo.1).max((hi.0 - lo.0) / 0.84).max(0.2);
        view
    }

    /// Face-local coordinates of normalised image point `p` (fixed-point inversion of the
    /// projection of the height field).
    #[inline]
    pub fn unproject(&self, view: &View, p: (f32, f32)) -> (f32, f32) {
        let (tx, ty) = (
            p.0 * view.box_h + view.centre.0,
            p.1 * view.box_h + view.centre.1,
        );
        let inv = &view.inv2;
        let (mut u, mut v) = (
            inv[0][0] * tx + inv[0][1] * ty,
            inv[1][0] * tx + inv[1][1] * ty,
        );
        for _ in 0..4 {
            let z = self.height.sample(u, v) - view.pivot;
            let qz = view.r[2][0] * u + view.r[2][1] * v + view.r[2][2] * z;
            let k = (view.focal - qz) / view.focal;
            let bx = tx * k - view.r[0][2] * z;
            let by = ty * k - view.r[1][2] * z;
            let (nu, nv) = (
                inv[0][0] * bx + inv[0][1] * by,
                inv[1][0] * bx + inv[1][1] * by,
            );
            // Damped: converges at the steep silhouette too.
            u = 0.3 * u + 0.7 * nu;
            v = 0.3 * v + 0.7 * nv;
        }
        (u, v)
    }

    /// Linear radiance and coverage of the head at normalised image point `p`.
    #[inline]
    pub fn shade(&self, view: &View, eyes: &EyeState, light: &Light, p: (f32, f32)) -> (Rgb, f32) {
        let (u, v) = self.unproject(view, p);
        let mut t = self.tex.sample(u, v);
        if t.alpha <= 1e-3 {
            return ([0.0; 3], 0.0);
        }
        if let Some(face) = &self.eyes {
            eye_overlay(face, eyes, u, v, &mut t);
        }
        let n = normalize(apply(&view.r, t.normal));
        let radiance = shade_surface(light, t.albedo, n, t.ao, t.wrap, t.spec, t.shininess);
        (radiance, t.alpha.min(1.0))
    }
}

/// Normals from the height field, ambient occlusion from its local hollows.
fn finish(mut plane: Plane<Texel>, eyes: Option<Face>, pivot_behind: f32) -> FaceModel {
    let (w, h) = (plane.w, plane.h);
    let heights = Plane {
        w,
        h,
        data: plane.data.iter().map(|t| t.height).collect(),
    };
    let blurred = super::raster::gaussian_blur(&heights, 0.03 / TEXEL);
    let at = |x: isize, y: isize| {
        heights.data
            [(y.clamp(0, h as isize - 1) as usize) * w + x.clamp(0, w as isize - 1) as usize]
    };
    for y in 0..h {
        for x in 0..w {
            let (xi, yi) = (x as isize, y as isize);
            let dx = (at(xi + 1, yi) - at(xi - 1, yi)) / (2.0 * TEXEL);
            let dy = (at(xi, yi + 1) - at(xi, yi - 1)) / (2.0 * TEXEL);
            let t = &mut plane.data[y * w + x];
            t.normal = normalize([-dx, -dy, 1.0]);
            let hollow = (blurred.data[y * w + x] - t.height).max(0.0);
            t.ao *= (1.0 - 9.0 * hollow).clamp(0.35, 1.0);
        }
    }
    let [x0, y0, _, _] = DOMAIN;
    // Parallax uses a shallower head than shading: the height field has only a front
    // surface, and a real head's far contour lies further back than its edge.
    let heights = Plane {
        w,
        h,
        data: heights.data.iter().map(|z| z * PARALLAX_DEPTH).collect(),
    };
    FaceModel {
        height: Field {
            plane: heights,
            x0,
            y0,
            step: TEXEL,
        },
        tex: Field {
            plane,
            x0,
            y0,
            step: TEXEL,
        },
        eyes,
        pivot: -pivot_behind,
    }
}

/// Fraction of the shading height used for parallax when the head turns.
const PARALLAX_DEPTH: f32 = 0.6;

/// Mean luminance of a model's albedo over the face box (tests and sanity checks).
pub fn mean_face_luma(model: &FaceModel) -> f32 {
    let mut total = 0.0;
    let mut n = 0;
    for j in -10..=10 {
        for i in -10..=10 {
            let t = model.tex.sample(i as f32 * 0.04, j as f32 * 0.04);
            total += luma(t.albedo);
            n += 1;
        }
    }
    total / n as f32
}

mod draw;

use draw::{Colouring, Styling};
#[cfg(test)]
mod tests;
