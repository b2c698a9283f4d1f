//! Replay attacks: a video (or photo) of the head played on a phone, tablet or monitor held
//! up to the camera. The screen is simulated as physics: the content resampled onto the
//! display's pixel grid of RGB stripes (or PenTile dots) behind a black matrix, which the
//! camera's pixels sample (3x3 per pixel) and its Bayer filter aliases into moiré; the
//! display's own gamma, white point and colour gamut and its black level; refresh banding
//! from the backlight's PWM beating with the rolling shutter; reflections of the room and
//! glare on the glass; the bezel when the device's edge is in view.

use super::Assets;
use super::background::Background;
use super::face::{dot, normalize, spec_lobe};
use super::held::{Framing, Glare, Held, Thumb, subsamples};
use super::people::Subject;
use super::raster::{Field, Plane, Rgb, add, kelvin, luma, mul, scale};
use super::rng::Rng;
use super::scene::{CROP_EXTENT, Jitter, Motion, Shot, Source, room_light};
use super::shading::Light;

const SUB: usize = 3;

/// Sub-pixel geometry of the display.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layout {
    /// Vertical stripes in this channel order, each `fill` of its third of the pixel wide
    /// and `fill_y` of the pixel high.
    Stripe {
        order: [usize; 3],
        fill: f32,
        fill_y: f32,
    },
    /// Every pixel a small green dot, red and blue dots on alternate pixels (OLED phones).
    PenTile,
}

impl Layout {
    /// The channel lit at display-pixel coordinates `(px, py)`, if any.
    #[inline]
    pub fn channel(&self, px: f32, py: f32) -> Option<usize> {
        let (fx, fy) = (px - px.floor(), py - py.floor());
        match *self {
            Layout::Stripe {
                order,
                fill,
                fill_y,
            } => {
                let third = ((fx * 3.0) as usize).min(2);
                let local = fx * 3.0 - third as f32;
                ((local - 0.5).abs() < fill * 0.5 && (fy - 0.5).abs() < fill_y * 0.5)
                    .then_some(order[third])
            }
            Layout::PenTile => {
                if (fx - 0.72).abs() < 0.2 && (fy - 0.5).abs() < 0.2 {
                    Some(1)
                } else if (fx - 0.26).abs() < 0.22 && (fy - 0.5).abs() < 0.3 {
                    let parity = (px.floor() as i64 + py.floor() as i64).rem_euclid(2);
                    Some(if parity == 0 { 0 } else { 2 })
                } else {
                    None
                }
            }
        }
    }

    /// The fraction of the screen's area lit by each channel (measured on a fine grid).
    pub fn lit_fraction(&self) -> Rgb {
        let n = 240;
        let mut count = [0usize; 3];
        for j in 0..n {
            for i in 0..n {
                let (px, py) = (
                    2.0 * (i as f32 + 0.5) / n as f32,
                    2.0 * (j as f32 + 0.5) / n as f32,
                );
                if let Some(c) = self.channel(px, py) {
                    count[c] += 1;
                }
            }
        }
        count.map(|c| (c as f32 / (n * n) as f32).max(1e-3))
    }
}

/// One replay attack video.
pub struct Replay {
    motion: Motion,
    framing: Framing,
    bezel: f32,
    bezel_colour: Rgb,
    source: Source,
    /// A still photo shown for the whole clip, or `None`: a video, rendered per frame.
    still: Option<Field<Rgb>>,
    region: [f32; 4],
    content_step: f32,
    /// Display pixel pitch (face units) and orientation.
    pitch: f32,
    rotated: bool,
    layout: Layout,
    lit: Rgb,
    gamma: f32,
    white: Rgb,
    saturation: f32,
    brightness: f32,
    black: f32,
    banding: (f32, f32, f32, f32),
    reflection: Background,
    reflectance: f32,
    glare: Option<Glare>,
    thumb: Option<Thumb>,
}

impl Layout {
    /// Mostly RGB stripes (in either order, with drawn fill factors), else PenTile.
    fn random(rng: &mut Rng) -> Layout {
        if rng.chance(0.7) {
            Layout::Stripe {
                order: if rng.chance(0.8) {
                    [0, 1, 2]
                } else {
                    [2, 1, 0]
                },
                fill: rng.range(0.55, 0.9),
                fill_y: rng.range(0.65, 0.95),
            }
        } else {
            Layout::PenTile
        }
    }
}

/// Rolling bands from the screen's refresh against the camera's exposure, for `n`
/// sensor pixels per crop: (amplitude, period in rows, phase, speed), or none.
fn random_banding(rng: &mut Rng, n: usize) -> (f32, f32, f32, f32) {
    if rng.chance(0.6) {
        (
            rng.range(0.02, 0.15),
            rng.log_range(8.0, 60.0) * n as f32 / 224.0,
            rng.range(0.0, std::f32::consts::TAU),
            rng.range(-20.0, 20.0),
        )
    } else {
        (0.0, 1.0, 0.0, 0.0)
    }
}

impl Replay {
    pub fn random(
        rng: &mut Rng,
        subject: &Subject,
        assets: &Assets,
        n: usize,
        duration: f32,
    ) -> Replay {
        let px = 2.0 * CROP_EXTENT / n as f32;
        // A fifth are high-quality recaptures: a fine screen filling the frame, no edge,
        // no glare or banding (the hardest replays to see).
        let high_quality = rng.chance(0.2);
        let framing = if high_quality {
            Framing::random(rng, 0.0)
        } else {
            Framing::random(rng, 0.3)
        };
        let region = framing.region(0.95);
        let source = Source::random(rng, assets, duration);
        let content_step = rng.range(1.0, 2.4) * px;
        let still = rng
            .chance(0.3)
            .then(|| source.render(subject, 0.0, region, content_step, &mut rng.fork()));
        let layout = Layout::random(rng);
        let white_k = rng.range(6000.0, 9500.0);
        let d65 = kelvin(6500.0);
        let w = kelvin(white_k);
        let glossy = rng.chance(0.7);
        let thumb = Thumb::random(rng, &framing, if high_quality { 0.0 } else { 0.35 });
        let mut replay = Replay {
            motion: Motion::random(rng, [0.4, 0.35, 0.15], [0.06, 0.06, 0.04]),
            framing,
            bezel: rng.range(0.02, 0.12),
            bezel_colour: if rng.chance(0.8) {
                [rng.range(0.015, 0.05); 3]
            } else {
                [rng.range(0.3, 0.6); 3]
            },
            source,
            still,
            region,
            content_step,
            pitch: rng.log_range(0.45, 1.6) * px,
            rotated: rng.chance(0.3),
            lit: layout.lit_fraction(),
            layout,
            gamma: rng.range(1.9, 2.6),
            white: [w[0] / d65[0], 1.0, w[2] / d65[2]],
            saturation: rng.range(0.8, 1.2),
            brightness: rng.log_range(0.5, 2.5),
            black: rng.log_range(0.001, 0.02),
            banding: random_banding(rng, n),
            reflection: Background::random(rng, &assets.brick),
            reflectance: if glossy {
                rng.range(0.01, 0.07)
            } else {
                rng.range(0.003, 0.015)
            },
            glare: Glare::random(rng, 0.4, 0.4, (0.05, 0.8), if glossy { 1.0 } else { 0.25 }),
            thumb,
        };
        if high_quality {
            replay.pitch = rng.log_range(0.3, 0.5) * px;
            replay.glare = None;
            replay.banding = (0.0, 1.0, 0.0, 0.0);
            replay.reflectance = rng.range(0.002, 0.01);
            replay.black = rng.log_range(0.0005, 0.004);
        }
        replay
    }

    /// Over the sub-samples `subs` around screen point `m`: the lit sub-pixels of each
    /// channel, the sub-samples on the screen and those on its bezel.
    fn subpixels_at(
        &self,
        m: (f32, f32),
        subs: &[(f32, f32)],
        inv_pitch: f32,
    ) -> ([f32; 3], usize, usize) {
        let (mut mask, mut active, mut bezel) = ([0.0f32; 3], 0, 0);
        for d in subs {
            let ms = (m.0 + d.0, m.1 + d.1);
            if self.framing.contains(ms, 0.0) {
                active += 1;
                let (a, b) = if self.rotated {
                    (ms.1, ms.0)
                } else {
                    (ms.0, ms.1)
                };
                if let Some(c) = self.layout.channel(a * inv_pitch, b * inv_pitch) {
                    mask[c] += 1.0;
                }
            } else if self.framing.contains(ms, -self.bezel) {
                bezel += 1;
            }
        }
        (mask, active, bezel)
    }

    /// What the glass reflects at screen point `m`: the room, the key light's highlight
    /// (half-vector `h`) and the glare spot.
    fn glass_at(
        &self,
        m: (f32, f32),
        normal: [f32; 3],
        angles: [f32; 3],
        light: &Light,
        h: [f32; 3],
        glare_centre: Option<(f32, f32)>,
    ) -> Rgb {
        let q = (-m.0 * 0.7 + angles[0], m.1 * 0.7 + angles[1]);
        let glass = scale(
            room_light(&self.reflection, light, 1.0, q),
            self.reflectance,
        );
        let mut spec = 0.05 * spec_lobe(dot(normal, h), 80.0);
        if let (Some(g), Some(c)) = (&self.glare, glare_centre) {
            spec += g.highlight(m, c);
        }
        add(glass, scale(light.key, spec))
    }

    /// Content colour `e` through the display's transfer curve and gamut (saturation).
    fn displayed(&self, e: Rgb) -> Rgb {
        let lin = e.map(|v| v.clamp(0.0, 1.0).powf(self.gamma));
        let yl = luma(lin);
        std::array::from_fn(|c| (yl + self.saturation * (lin[c] - yl)).max(0.0))
    }

    /// Scene radiance over the crop at time `t`.
    pub fn render(
        &self,
        subject: &Subject,
        shot: &Shot,
        t: f32,
        jitter: &Jitter,
        n: usize,
        rng: &mut Rng,
    ) -> Plane<Rgb> {
        let video;
        let content = match &self.still {
            Some(still) => still,
            None => {
                video = self
                    .source
                    .render(subject, t, self.region, self.content_step, rng);
                &video
            }
        };
        let angles = self.motion.at(t);
        let held = Held::new(angles, shot.focal, 0.0, true);
        let light = shot.light_at(t);
        let h = normalize([light.dir[0], light.dir[1], light.dir[2] + 1.0]);
        let level = self.brightness * (0.8 * luma(light.key) + luma(light.ambient));
        let emit_gain: Rgb =
            std::array::from_fn(|c| level * self.white[c] / (self.lit[c] * (SUB * SUB) as f32));
        let subs: Vec<(f32, f32)> = subsamples(SUB, 2.0 * CROP_EXTENT / n as f32 * jitter.scale)
            .into_iter()
            .map(|d| held.step((0.0, 0.0), d))
            .collect();
        let (band_amp, band_period, band_phase, band_speed) = self.banding;
        let phase = band_phase + band_speed * t;
        let glare_centre = self.glare.as_ref().map(|g| g.centre_at(angles));
        let inv_pitch = 1.0 / self.pitch;
        Plane::from_fn(n, n, |x, y| {
            let p = jitter.point(n, x as f32 + 0.5, y as f32 + 0.5);
            let m = held.unproject(p);
            if let Some(thumb) = self.thumb.as_ref().and_then(|h| h.shade(m, &light)) {
                return thumb;
            }
            let room = shot.room_at(&light, t, held.image_point(p));
            if !self.framing.contains(m, -self.bezel - 0.05) {
                return room;
            }
            let colour = self.displayed(content.sample(m.0, m.1));
            let (mask, active, bezel) = self.subpixels_at(m, &subs, inv_pitch);
            let total = (SUB * SUB) as f32;
            let band =
                1.0 + band_amp * (std::f32::consts::TAU * y as f32 / band_period + phase).sin();
            let mut out = scale(room, (SUB * SUB - active - bezel) as f32 / total);
            if active > 0 {
                let emitted: Rgb = std::array::from_fn(|c| {
                    colour[c] * mask[c] * emit_gain[c] * band
                        + self.black * level * active as f32 / total
                });
                out = add(out, emitted);
            }
            // The glass (and bezel) reflect the room and lights.
            let covered = (active + bezel) as f32 / total;
            if covered > 0.0 {
                let normal = held.normal(m);
                let glass = self.glass_at(m, normal, angles, &light, h, glare_centre);
                out = add(out, scale(glass, covered));
                if bezel > 0 {
                    let ndl = dot(normal, light.dir).max(0.0);
                    let lit = add(light.ambient, scale(light.key, ndl));
                    out = add(
                        out,
                        scale(mul(self.bezel_colour, lit), bezel as f32 / total),
                    );
                }
            }
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Power of a 1-D signal at integer frequency `k` (cycles over its length).
    fn power(signal: &[f32], k: usize) -> f32 {
        let n = signal.len() as f32;
        let mean = signal.iter().sum::<f32>() / n;
        let (mut re, mut im) = (0.0, 0.0);
        for (i, v) in signal.iter().enumerate() {
            let a = std::f32::consts::TAU * k as f32 * i as f32 / n;
            re += (v - mean) * a.cos();
            im += (v - mean) * a.sin();
        }
        (re * re + im * im) / (n * n)
    }

    #[test]
    fn sub_pixels_cover_each_channel_equally_on_average() {
        for layout in [
            Layout::Stripe {
                order: [0, 1, 2],
                fill: 0.7,
                fill_y: 0.8,
            },
            Layout::PenTile,
        ] {
            let lit = layout.lit_fraction();
            assert!(
                lit.iter().all(|&f| f > 0.05 && f < 0.34),
                "{layout:?} {lit:?}"
            );
        }
        let stripe = Layout::Stripe {
            order: [0, 1, 2],
            fill: 0.7,
            fill_y: 0.8,
        };
        assert!(((stripe.lit_fraction()[0]) - 0.7 * 0.8 / 3.0).abs() < 0.01);
    }

    #[test]
    fn sampling_a_pixel_grid_makes_moire_at_the_beat_frequency() {
        // A white screen of pitch 1.1 camera pixels, seen by a row of 256 camera pixels
        // each integrating 3 samples: the green stripes (period 1.1 px) alias to a beat of
        // |1/1.1 - 1| cycles per pixel, i.e. 256 * (1 - 1/1.1) ≈ 23 cycles over the row.
        let layout = Layout::Stripe {
            order: [0, 1, 2],
            fill: 0.7,
            fill_y: 1.0,
        };
        let pitch = 1.1;
        let row: Vec<f32> = (0..256)
            .map(|x| {
                (0..3)
                    .filter(|s| {
                        let pos = x as f32 + (*s as f32 + 0.5) / 3.0;
                        layout.channel(pos / pitch, 0.5) == Some(1)
                    })
                    .count() as f32
            })
            .collect();
        let beat = (256.0 * (1.0 - 1.0 / pitch)).round() as usize;
        let at_beat = (beat - 1..=beat + 1)
            .map(|k| power(&row, k))
            .fold(0.0, f32::max);
        let elsewhere: f32 = (5..15).map(|k| power(&row, k)).sum::<f32>() / 10.0;
        assert!(
            at_beat > 20.0 * elsewhere,
            "beat {beat}: {at_beat} vs {elsewhere}"
        );
    }
}
