//! A sheet held in front of the camera (a print or a screen): its pose, a gentle bend, the
//! perspective projection, and the crop normalisation a face detector applies to the face
//! on it. Also where the sheet ends ([`Framing`]), so that its edges are sometimes in view.

use super::face::{Light, SKIN, apply, dot, normalize, rotation};
use super::raster::{Rgb, srgb_to_linear};
use super::rng::Rng;

/// The sheet at one instant.
pub struct Held {
    r: [[f32; 3]; 3],
    focal: f32,
    /// Curvature (1 / face units) of a cylindrical bend.
    bend: f32,
    /// Bend about the vertical axis (the sheet curls left-right), else about the horizontal.
    vertical: bool,
    centre: (f32, f32),
    box_h: f32,
    jinv: [[f32; 2]; 2],
}

impl Held {
    pub fn new(angles: [f32; 3], focal: f32, bend: f32, vertical: bool) -> Held {
        let [yaw, pitch, roll] = angles;
        let mut held = Held {
            r: rotation(yaw, pitch, roll),
            focal,
            bend,
            vertical,
            centre: (0.0, 0.0),
            box_h: 1.0,
            jinv: [[1.0, 0.0], [0.0, 1.0]],
        };
        // The detector's box around the face on the sheet normalises the crop.
        let pts = [
            held.raw((0.0, -0.5)),
            held.raw((0.0, 0.5)),
            held.raw((-0.42, 0.0)),
            held.raw((0.42, 0.0)),
        ];
        let (mut lo, mut hi) = ((f32::MAX, f32::MAX), (f32::MIN, f32::MIN));
        for (x, y) in pts {
            lo = (lo.0.min(x), lo.1.min(y));
            hi = (hi.0.max(x), hi.1.max(y));
        }
        held.centre = ((lo.0 + hi.0) / 2.0, (lo.1 + hi.1) / 2.0);
        held.box_h = (hi.1 - lo.1).max((hi.0 - lo.0) / 0.84).max(0.2);
        // Jacobian of the normalised projection at the face centre, inverted: Newton steps
        // for the inverse, and sub-pixel offsets on the sheet.
        let e = 1e-3;
        let (a, b) = (held.project((e, 0.0)), held.project((-e, 0.0)));
        let (c, d) = (held.project((0.0, e)), held.project((0.0, -e)));
        let j = [
            [(a.0 - b.0) / (2.0 * e), (c.0 - d.0) / (2.0 * e)],
            [(a.1 - b.1) / (2.0 * e), (c.1 - d.1) / (2.0 * e)],
        ];
        let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
        held.jinv = [
            [j[1][1] / det, -j[0][1] / det],
            [-j[1][0] / det, j[0][0] / det],
        ];
        held
    }

    #[inline]
    fn raw(&self, m: (f32, f32)) -> (f32, f32) {
        let s = if self.vertical { m.0 } else { m.1 };
        let q = apply(&self.r, [m.0, m.1, -0.5 * self.bend * s * s]);
        let k = self.focal / (self.focal - q[2]);
        (q[0] * k, q[1] * k)
    }

    /// Normalised crop point of sheet point `m`.
    #[inline]
    pub fn project(&self, m: (f32, f32)) -> (f32, f32) {
        let (x, y) = self.raw(m);
        (
            (x - self.centre.0) / self.box_h,
            (y - self.centre.1) / self.box_h,
        )
    }

    /// The sheet point seen at normalised crop point `p` (Newton with a fixed Jacobian).
    #[inline]
    pub fn unproject(&self, p: (f32, f32)) -> (f32, f32) {
        let mut m = (0.0, 0.0);
        for _ in 0..6 {
            let q = self.project(m);
            m = self.step(m, (p.0 - q.0, p.1 - q.1));
        }
        m
    }

    /// `m` moved by the sheet displacement that moves its image by `d`.
    #[inline]
    pub fn step(&self, m: (f32, f32), d: (f32, f32)) -> (f32, f32) {
        let j = &self.jinv;
        (
            m.0 + j[0][0] * d.0 + j[0][1] * d.1,
            m.1 + j[1][0] * d.0 + j[1][1] * d.1,
        )
    }

    /// The sheet's normal at `m`, camera coordinates.
    #[inline]
    pub fn normal(&self, m: (f32, f32)) -> [f32; 3] {
        let local = if self.vertical {
            [self.bend * m.0, 0.0, 1.0]
        } else {
            [0.0, self.bend * m.1, 1.0]
        };
        normalize(apply(&self.r, local))
    }

    /// The image point (face units around the sheet's face, before normalisation) of `p`.
    #[inline]
    pub fn image_point(&self, p: (f32, f32)) -> (f32, f32) {
        (
            p.0 * self.box_h + self.centre.0,
            p.1 * self.box_h + self.centre.1,
        )
    }
}

/// Where a sheet ends, from the face centre (face units): sometimes close enough to the
/// face that its edge is in the crop.
#[derive(Clone, Copy, Debug)]
pub struct Framing {
    pub left: f32,
    pub right: f32,
    pub top: f32,
    pub bottom: f32,
}

impl Framing {
    pub fn random(rng: &mut Rng, edge_chance: f32) -> Framing {
        let tight = rng.chance(edge_chance);
        let mut side = || {
            if tight && rng.chance(0.5) {
                rng.range(0.5, 0.72)
            } else {
                rng.range(0.85, 2.5)
            }
        };
        Framing {
            left: side(),
            right: side(),
            top: side(),
            bottom: side(),
        }
    }

    /// Whether `m` lies inside, `inset` from the edges.
    #[inline]
    pub fn contains(&self, m: (f32, f32), inset: f32) -> bool {
        m.0 >= -self.left + inset
            && m.0 <= self.right - inset
            && m.1 >= -self.top + inset
            && m.1 <= self.bottom - inset
    }

    /// The part of the sheet within `limit` of the face centre: what the crop can see.
    pub fn region(&self, limit: f32) -> [f32; 4] {
        [
            (-self.left).max(-limit),
            (-self.top).max(-limit),
            self.right.min(limit),
            self.bottom.min(limit),
        ]
    }
}

/// A thumb holding the sheet (or the phone) at one of its edges, in sheet coordinates, so
/// that it moves with the sheet: a capsule from beyond the edge onto the sheet. Attackers
/// hold what they show; a hand at the edge of the frame is a recapture cue.
#[derive(Clone, Debug)]
pub struct Thumb {
    /// The capsule's axis, from its base (off the sheet) to its tip (on the sheet).
    base: (f32, f32),
    tip: (f32, f32),
    radius: f32,
    /// Linear albedo.
    albedo: Rgb,
}

impl Thumb {
    /// A thumb on the edge of `framing` nearest the face, or (with probability
    /// `1 - chance`) none.
    pub fn random(rng: &mut Rng, framing: &Framing, chance: f32) -> Option<Thumb> {
        if !rng.chance(chance) {
            return None;
        }
        let sides = [framing.left, framing.right, framing.top, framing.bottom];
        let side = (0..4)
            .min_by(|&a, &b| sides[a].total_cmp(&sides[b]))
            .expect("four sides");
        let along = rng.range(-0.6, 0.6);
        let reach = rng.range(0.12, 0.3);
        // (edge point, inward direction)
        let (edge, inward) = match side {
            0 => ((-framing.left, along), (1.0, 0.0)),
            1 => ((framing.right, along), (-1.0, 0.0)),
            2 => ((along, -framing.top), (0.0, 1.0)),
            _ => ((along, framing.bottom), (0.0, -1.0)),
        };
        let tilt = rng.range(-0.5, 0.5);
        let dir = normalize([inward.0 + tilt * inward.1, inward.1 + tilt * inward.0, 0.0]);
        let skin = SKIN[rng.below(SKIN.len())];
        let shade = rng.range(0.85, 1.1);
        Some(Thumb {
            base: (edge.0 - dir[0] * 0.3, edge.1 - dir[1] * 0.3),
            tip: (edge.0 + dir[0] * reach, edge.1 + dir[1] * reach),
            radius: rng.range(0.07, 0.11),
            albedo: skin.map(|c| srgb_to_linear(c as f32 / 255.0) * shade),
        })
    }

    /// The thumb's radiance at sheet point `m` under `light`, if it covers `m`.
    #[inline]
    pub fn shade(&self, m: (f32, f32), light: &Light) -> Option<Rgb> {
        let (ax, ay) = (self.tip.0 - self.base.0, self.tip.1 - self.base.1);
        let len2 = ax * ax + ay * ay;
        let k = (((m.0 - self.base.0) * ax + (m.1 - self.base.1) * ay) / len2).clamp(0.0, 1.0);
        let (dx, dy) = (m.0 - self.base.0 - k * ax, m.1 - self.base.1 - k * ay);
        let d = (dx * dx + dy * dy).sqrt() / self.radius;
        if d >= 1.0 {
            return None;
        }
        // A cylinder's normal across the capsule (towards the camera in the middle).
        let z = (1.0 - d * d).sqrt();
        let n = normalize([dx / self.radius, dy / self.radius, z]);
        let ndl = dot(n, light.dir).max(0.0);
        Some(std::array::from_fn(|c| {
            self.albedo[c] * (light.ambient[c] * (0.6 + 0.4 * z) + light.key[c] * ndl)
        }))
    }
}

/// Sub-sample offsets inside a pixel of `pixel` size (normalised units): an `s` x `s` grid
/// (the sensor pixel integrates light over its area).
pub fn subsamples(s: usize, pixel: f32) -> Vec<(f32, f32)> {
    let mut out = Vec::with_capacity(s * s);
    for j in 0..s {
        for i in 0..s {
            out.push((
                ((i as f32 + 0.5) / s as f32 - 0.5) * pixel,
                ((j as f32 + 0.5) / s as f32 - 0.5) * pixel,
            ));
        }
    }
    out
}

/// The bright spot a light makes on a held glossy surface (a print or a screen), in
/// surface coordinates; it moves as the surface turns.
pub struct Glare {
    centre: (f32, f32),
    radius: f32,
    strength: f32,
}

impl Glare {
    /// With probability `p`, a spot of radius up to `max_radius` and a strength drawn from
    /// `strength`, times `matte` (below 1 on a matte surface).
    pub fn random(
        rng: &mut Rng,
        p: f32,
        max_radius: f32,
        strength: (f32, f32),
        matte: f32,
    ) -> Option<Glare> {
        rng.chance(p).then(|| Glare {
            centre: (rng.range(-0.8, 0.8), rng.range(-0.8, 0.8)),
            radius: rng.range(0.08, max_radius),
            strength: rng.range(strength.0, strength.1) * matte,
        })
    }

    /// The spot's centre when the surface is turned by `angles`.
    pub fn centre_at(&self, angles: [f32; 3]) -> (f32, f32) {
        (
            self.centre.0 + angles[0] * 1.5,
            self.centre.1 + angles[1] * 1.5,
        )
    }

    /// The highlight at surface point `m` with the spot at `centre`.
    pub fn highlight(&self, m: (f32, f32), centre: (f32, f32)) -> f32 {
        let r2 =
            ((m.0 - centre.0).powi(2) + (m.1 - centre.1).powi(2)) / (self.radius * self.radius);
        self.strength * (-r2).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unproject_inverts_project_and_the_face_box_is_normalised() {
        let held = Held::new([0.3, -0.2, 0.1], 4.0, 0.4, true);
        for &m in &[(0.0, 0.0), (0.3, -0.4), (-0.6, 0.5), (0.7, 0.7)] {
            let p = held.project(m);
            let back = held.unproject(p);
            assert!(
                (back.0 - m.0).abs() < 1e-3 && (back.1 - m.1).abs() < 1e-3,
                "{m:?} {back:?}"
            );
        }
        // The face box's height maps to about one unit, centred.
        let (top, bottom) = (held.project((0.0, -0.5)), held.project((0.0, 0.5)));
        assert!(((bottom.1 - top.1) - 1.0).abs() < 0.1);
        let c = held.project((0.0, 0.0));
        assert!(c.0.abs() < 0.1 && c.1.abs() < 0.1);
    }
}
