//! Print attacks: the head's photo printed and held up to the camera. The print is
//! simulated as physics: colour separation into CMYK with dot gain, halftoning at the
//! printer's resolution (clustered-dot AM screens at the classic angles, as laser and
//! offset printers do, or error diffusion, as inkjets do), ink over paper as a
//! Neugebauer mixture (reduced gamut), a surface reflection that lifts the blacks and a
//! paper white that caps the whites (reduced dynamic range), paper texture, gloss and
//! glare under the room's light, a bend, and the sheet's edges when it is cut close. The
//! camera pixel integrates the dots over its area (3x3 samples).

use std::sync::LazyLock;

use super::Assets;
use super::face::{dot, normalize, spec_lobe};
use super::held::{Framing, Glare, Held, Thumb, subsamples};
use super::people::Subject;
use super::raster::{Field, Plane, Rgb, add, mix, mul, scale};
use super::rng::{Rng, fbm, value_noise};
use super::scene::{CROP_EXTENT, Jitter, Motion, Shot, Source, Wiggle};

/// Sub-samples per sensor pixel side.
const SUB: usize = 3;
/// Side of the halftone threshold array.
const CELL: usize = 64;
/// Screen angles of C, M, Y, K (degrees): the classic rosette.
const ANGLES: [f32; 4] = [15.0, 75.0, 0.0, 45.0];

/// Threshold array of a clustered round dot: thresholds are the ranks of a spot function,
/// so a coverage `a` inks exactly the fraction `a` of the cell.
static THRESHOLDS: LazyLock<Vec<f32>> = LazyLock::new(|| {
    let mut cells: Vec<(f32, usize)> = (0..CELL * CELL)
        .map(|k| {
            let (x, y) = (
                (k % CELL) as f32 / CELL as f32 + 0.5 / CELL as f32,
                (k / CELL) as f32 / CELL as f32 + 0.5 / CELL as f32,
            );
            let tau = std::f32::consts::TAU;
            let spot = 0.5 + 0.25 * ((tau * x).cos() + (tau * y).cos());
            // Tiny tie-breaker so that equal spot values rank deterministically.
            (spot + k as f32 * 1e-9, k)
        })
        .collect();
    cells.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut t = vec![0.0; CELL * CELL];
    for (rank, (_, k)) in cells.into_iter().enumerate() {
        t[k] = (rank as f32 + 0.5) / (CELL * CELL) as f32;
    }
    t
});

/// How the printer places its dots.
pub enum Screen {
    /// Clustered dots on rotated screens of `period` (face units), per ink.
    Am { period: f32, rot: [[f32; 4]; 4] },
    /// Error-diffused dots on a grid of `pitch` (face units): four ink bits per dot.
    Fm {
        bits: Plane<u8>,
        x0: f32,
        y0: f32,
        pitch: f32,
    },
}

impl Screen {
    fn am(period: f32) -> Screen {
        let rot = ANGLES.map(|deg| {
            let (s, c) = deg.to_radians().sin_cos();
            [c, s, -s, c]
        });
        Screen::Am { period, rot }
    }

    /// The inks (bit i: C, M, Y, K) at sheet point `m` for coverage `cov`.
    #[inline]
    fn inks(&self, m: (f32, f32), cov: &[f32; 4]) -> usize {
        match self {
            Screen::Am { period, rot } => {
                let inv = 1.0 / period;
                let t = &*THRESHOLDS;
                let mut bits = 0;
                for ink in 0..4 {
                    let r = &rot[ink];
                    let s = (r[0] * m.0 + r[1] * m.1) * inv;
                    let u = (r[2] * m.0 + r[3] * m.1) * inv;
                    let i = ((s - s.floor()) * CELL as f32) as usize % CELL;
                    let j = ((u - u.floor()) * CELL as f32) as usize % CELL;
                    if t[j * CELL + i] < cov[ink] {
                        bits |= 1 << ink;
                    }
                }
                bits
            }
            Screen::Fm {
                bits,
                x0,
                y0,
                pitch,
            } => {
                let i = ((m.0 - x0) / pitch).max(0.0) as usize;
                let j = ((m.1 - y0) / pitch).max(0.0) as usize;
                bits.data[j.min(bits.h - 1) * bits.w + i.min(bits.w - 1)] as usize
            }
        }
    }
}

/// Floyd–Steinberg error diffusion (serpentine) of each ink of `cov` sampled on a grid of
/// `pitch` over `region`.
fn diffuse(cov: &Field<[f32; 4]>, region: [f32; 4], pitch: f32) -> Screen {
    let [x0, y0, x1, y1] = region;
    let w = ((x1 - x0) / pitch).ceil().max(1.0) as usize;
    let h = ((y1 - y0) / pitch).ceil().max(1.0) as usize;
    let mut bits = Plane::<u8> {
        w,
        h,
        data: vec![0; w * h],
    };
    let mut err = vec![[0.0f32; 4]; 2 * (w + 2)];
    for j in 0..h {
        let y = y0 + (j as f32 + 0.5) * pitch;
        let (cur, next) = err.split_at_mut(w + 2);
        let forward = j % 2 == 0;
        for k in 0..w {
            let i = if forward { k } else { w - 1 - k };
            let x = x0 + (i as f32 + 0.5) * pitch;
            let c = cov.sample(x, y);
            let dir: isize = if forward { 1 } else { -1 };
            let mut b = 0u8;
            for ink in 0..4 {
                let v = c[ink] + cur[i + 1][ink];
                let out = if v > 0.5 { 1.0 } else { 0.0 };
                if out > 0.0 {
                    b |= 1 << ink;
                }
                let e = v - out;
                let ahead = (i as isize + 1 + dir) as usize;
                let behind = (i as isize + 1 - dir) as usize;
                cur[ahead][ink] += e * 7.0 / 16.0;
                next[behind][ink] += e * 3.0 / 16.0;
                next[i + 1][ink] += e * 5.0 / 16.0;
                next[ahead][ink] += e * 1.0 / 16.0;
            }
            bits.data[j * w + i] = b;
        }
        cur.copy_from_slice(next);
        next.iter_mut().for_each(|e| *e = [0.0; 4]);
    }
    Screen::Fm {
        bits,
        x0,
        y0,
        pitch,
    }
}

/// A printer's colour separation: sRGB in, ink coverages (C, M, Y, K) out, with grey
/// component replacement and dot gain.
pub fn separate(rgb: Rgb, tone: f32, gcr: f32, dot_gain: f32) -> [f32; 4] {
    let r = rgb.map(|v| v.clamp(0.0, 1.0).powf(tone));
    let (c, m, y) = (1.0 - r[0], 1.0 - r[1], 1.0 - r[2]);
    let k = c.min(m).min(y) * gcr;
    let s = if k < 0.999 { 1.0 / (1.0 - k) } else { 0.0 };
    [(c - k) * s, (m - k) * s, (y - k) * s, k]
        .map(|a| 1.0 - (1.0 - a.clamp(0.0, 1.0)).powf(1.0 + dot_gain))
}

/// Reflectance of paper under each of the 16 ink combinations (bit i: C, M, Y, K), with
/// the surface reflection that no ink removes.
pub fn neugebauer(paper: Rgb, inks: [Rgb; 4], surface: f32) -> [Rgb; 16] {
    std::array::from_fn(|bits| {
        let mut r = paper;
        for (i, ink) in inks.iter().enumerate() {
            if bits & (1 << i) != 0 {
                r = mul(r, *ink);
            }
        }
        r.map(|v| surface + (1.0 - surface) * v)
    })
}

/// One print attack video.
pub struct Print {
    motion: Motion,
    bend: f32,
    bend_wiggle: Wiggle,
    vertical: bool,
    framing: Framing,
    border: f32,
    coverage: Field<[f32; 4]>,
    screen: Screen,
    lut: [Rgb; 16],
    paper: Field<f32>,
    gloss: f32,
    shininess: f32,
    glare: Option<Glare>,
    thumb: Option<Thumb>,
}

/// The photo's colours separated into CMYK ink coverage, with a drawn tone curve, grey
/// component replacement and dot gain.
fn ink_coverage(rng: &mut Rng, photo: &Field<Rgb>) -> Field<[f32; 4]> {
    let (tone, gcr, gain) = (
        rng.range(0.8, 1.25),
        rng.range(0.3, 1.0),
        rng.range(0.0, 0.3),
    );
    Field {
        plane: Plane {
            w: photo.plane.w,
            h: photo.plane.h,
            data: photo
                .plane
                .data
                .iter()
                .map(|&c| separate(c, tone, gcr, gain))
                .collect(),
        },
        x0: photo.x0,
        y0: photo.y0,
        step: photo.step,
    }
}

/// The colour of every overlap of the paper and the four inks (a drawn paper white and
/// tint, inks varied around CMYK, a drawn surface reflection).
fn ink_colours(rng: &mut Rng) -> [Rgb; 16] {
    let white = rng.range(0.75, 0.92);
    let tint = rng.range(-0.03, 0.03);
    let paper = [white * (1.0 + tint), white, white * (1.0 - tint)];
    let vary = |rng: &mut Rng, ink: Rgb| ink.map(|v| (v * rng.range(0.85, 1.15)).min(0.97));
    let inks = [
        vary(rng, [0.12, 0.62, 0.88]),
        vary(rng, [0.85, 0.14, 0.5]),
        vary(rng, [0.94, 0.86, 0.1]),
        [rng.range(0.03, 0.1); 3],
    ];
    let surface = rng.range(0.005, 0.03);
    neugebauer(paper, inks, surface)
}

/// The paper's brightness texture over `region`: fibres and a cross-grain.
fn paper_texture(rng: &mut Rng, region: [f32; 4], px: f32) -> Field<f32> {
    let (amp, freq, seed) = (
        rng.range(0.01, 0.05),
        rng.range(20.0, 60.0),
        rng.u64() as u32,
    );
    let [x0, y0, x1, y1] = region;
    Field::render(x0, y0, x1, y1, 1.5 * px, |x, y| {
        1.0 + amp * (2.0 * fbm(x * freq, y * freq, seed, 3) - 1.0)
            + 0.5 * amp * (value_noise(x * freq * 6.0, y * freq * 1.5, seed + 9) - 0.5)
    })
}

impl Print {
    /// A printed photo of the head of `subject`, for a camera of `n` sensor pixels per crop.
    pub fn random(rng: &mut Rng, subject: &Subject, assets: &Assets, n: usize) -> Print {
        let px = 2.0 * CROP_EXTENT / n as f32;
        let framing = Framing::random(rng, 0.3);
        let region = framing.region(0.95);
        // The photo, printed at the printer's resolution.
        let source = Source::random(rng, assets, 1.0);
        let photo = source.render(
            subject,
            0.0,
            region,
            rng.range(0.8, 2.0) * px,
            &mut rng.fork(),
        );
        let coverage = ink_coverage(rng, &photo);
        let screen = if rng.chance(0.6) {
            Screen::am(rng.log_range(0.5, 1.6) * px)
        } else {
            diffuse(&coverage, region, rng.log_range(0.45, 1.0) * px)
        };
        let lut = ink_colours(rng);
        let paper_tex = paper_texture(rng, region, px);
        let glossy = rng.chance(0.5);
        let thumb = Thumb::random(rng, &framing, 0.35);
        Print {
            motion: Motion::random(rng, [0.4, 0.35, 0.15], [0.08, 0.08, 0.05]),
            bend: rng.range(-0.6, 0.6),
            bend_wiggle: {
                let amp = rng.range(0.0, 0.15);
                Wiggle::random(rng, amp)
            },
            vertical: rng.chance(0.6),
            framing,
            border: if rng.chance(0.3) {
                rng.range(0.01, 0.06)
            } else {
                0.0
            },
            coverage,
            screen,
            lut,
            paper: paper_tex,
            gloss: if glossy {
                rng.range(0.05, 0.3)
            } else {
                rng.range(0.0, 0.04)
            },
            shininess: if glossy {
                rng.range(30.0, 120.0)
            } else {
                rng.range(4.0, 15.0)
            },
            glare: Glare::random(rng, 0.45, 0.5, (0.03, 0.4), if glossy { 1.0 } else { 0.3 }),
            thumb,
        }
    }

    /// Scene radiance over the crop at time `t`.
    pub fn render(&self, shot: &Shot, t: f32, jitter: &Jitter, n: usize) -> Plane<Rgb> {
        let angles = self.motion.at(t);
        let held = Held::new(
            angles,
            shot.focal,
            self.bend + self.bend_wiggle.at(t),
            self.vertical,
        );
        let light = shot.light_at(t);
        let h = normalize([light.dir[0], light.dir[1], light.dir[2] + 1.0]);
        let subs: Vec<(f32, f32)> = subsamples(SUB, 2.0 * CROP_EXTENT / n as f32 * jitter.scale)
            .into_iter()
            .map(|d| {
                let m = held.step((0.0, 0.0), d);
                (m.0, m.1)
            })
            .collect();
        let glare_centre = self.glare.as_ref().map(|g| g.centre_at(angles));
        Plane::from_fn(n, n, |x, y| {
            let p = jitter.point(n, x as f32 + 0.5, y as f32 + 0.5);
            let m = held.unproject(p);
            if let Some(thumb) = self.thumb.as_ref().and_then(|h| h.shade(m, &light)) {
                return thumb;
            }
            let room = shot.room_at(&light, t, held.image_point(p));
            let margin = 0.05;
            if !self.framing.contains(m, -margin) {
                return room;
            }
            let cov = self.coverage.sample(m.0, m.1);
            let mut refl = [0.0f32; 3];
            let mut inside = 0;
            for d in &subs {
                let ms = (m.0 + d.0, m.1 + d.1);
                if !self.framing.contains(ms, 0.0) {
                    continue;
                }
                inside += 1;
                let bits = if self.border == 0.0 || self.framing.contains(ms, self.border) {
                    self.screen.inks(ms, &cov)
                } else {
                    0
                };
                refl = add(refl, self.lut[bits]);
            }
            if inside == 0 {
                return room;
            }
            let normal = held.normal(m);
            let ndl = dot(normal, light.dir).max(0.0);
            let hemi = 0.85 - 0.15 * normal[1];
            let irradiance = add(scale(light.ambient, hemi), scale(light.key, ndl));
            let texture = self.paper.sample(m.0, m.1);
            let mut sheet = mul(scale(refl, texture / inside as f32), irradiance);
            let mut spec = self.gloss * spec_lobe(dot(normal, h), self.shininess);
            if let (Some(g), Some(c)) = (&self.glare, glare_centre) {
                spec += g.highlight(m, c);
            }
            sheet = add(sheet, scale(light.key, spec));
            mix(room, sheet, inside as f32 / (SUB * SUB) as f32)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn am_threshold_array_inks_the_requested_fraction() {
        let screen = Screen::am(0.01);
        for a in [0.05f32, 0.25, 0.5, 0.8] {
            let cov = [a, 0.0, 0.0, 0.0];
            let mut inked = 0;
            let n = 200;
            for j in 0..n {
                for i in 0..n {
                    let m = (i as f32 * 0.0013 + 0.0003, j as f32 * 0.0011 + 0.0007);
                    inked += screen.inks(m, &cov) & 1;
                }
            }
            let frac = inked as f32 / (n * n) as f32;
            assert!((frac - a).abs() < 0.03, "coverage {a}: inked {frac}");
        }
    }

    #[test]
    fn halftone_reduces_distinct_levels() {
        // A smooth ramp of greys has many levels; printed, every point is one of at most 16
        // ink combinations.
        let screen = Screen::am(0.02);
        let lut = neugebauer(
            [0.85; 3],
            [
                [0.1, 0.6, 0.9],
                [0.85, 0.14, 0.5],
                [0.94, 0.86, 0.1],
                [0.05; 3],
            ],
            0.02,
        );
        let mut levels = std::collections::BTreeSet::new();
        for i in 0..2000 {
            let g = i as f32 / 2000.0;
            let cov = separate([g, g * 0.9, g * 0.8], 1.0, 0.8, 0.1);
            let r = lut[screen.inks((i as f32 * 0.0007, 0.3), &cov)];
            levels.insert((r[0] * 1e4) as i64);
        }
        assert!(levels.len() <= 16, "{} levels", levels.len());
        assert!(levels.len() >= 3);
    }

    #[test]
    fn print_dynamic_range_lies_between_ink_floor_and_paper_white() {
        let paper = [0.8, 0.79, 0.78];
        let surface = 0.03;
        let lut = neugebauer(
            paper,
            [
                [0.12, 0.62, 0.88],
                [0.85, 0.14, 0.5],
                [0.94, 0.86, 0.1],
                [0.05; 3],
            ],
            surface,
        );
        // Blank paper is the whitest a print gets; everything inked is darker; nothing is
        // darker than the surface reflection.
        for (bits, r) in lut.iter().enumerate() {
            for c in 0..3 {
                assert!(r[c] >= surface - 1e-6, "{bits}: {r:?}");
                assert!(r[c] <= lut[0][c] + 1e-6);
            }
        }
        let black = lut[15];
        assert!(black.iter().all(|&v| v < 0.035), "{black:?}");
        // Contrast ratio paper/black is far below a scene's (> 1000:1) and the sensor's.
        let ratio = lut[0][1] / lut[15][1];
        assert!(ratio > 10.0 && ratio < 30.0, "{ratio}");
        // White content leaves the paper bare, black inks it fully in K.
        assert_eq!(separate([1.0; 3], 1.0, 1.0, 0.2), [0.0; 4]);
        let k = separate([0.0; 3], 1.0, 1.0, 0.2);
        assert!(k[3] > 0.99);
    }

    #[test]
    fn error_diffusion_keeps_the_mean_coverage() {
        let field = Field::render(0.0, 0.0, 1.0, 1.0, 0.05, |x, _| [x * 0.8, 0.3, 0.0, 0.1]);
        let Screen::Fm { bits, .. } = diffuse(&field, [0.0, 0.0, 1.0, 1.0], 0.005) else {
            unreachable!()
        };
        let frac = |ink: u8| {
            bits.data.iter().filter(|&&b| b & (1 << ink) != 0).count() as f32
                / bits.data.len() as f32
        };
        assert!((frac(0) - 0.4).abs() < 0.02, "{}", frac(0));
        assert!((frac(1) - 0.3).abs() < 0.02);
        assert!(frac(2) < 0.001);
        assert!((frac(3) - 0.1).abs() < 0.02);
    }
}
