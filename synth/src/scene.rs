//! One video. [`Shot`] holds what every video has whatever it shows (camera, room light,
//! room, the subject's drift in the frame, detector jitter) and is drawn from one
//! distribution for live and attack videos alike; the live scene is the head itself, the
//! attacks ([`super::print`], [`super::replay`]) show the same head's photo or video.

use image::RgbImage;

use super::background::Background;
use super::camera::{Camera, jpeg_round_trip, to_rgb8};
use super::face::{EyeState, Light, Pose, drift_light, random_light};
use super::people::Subject;
use super::raster::{Field, Plane, Rgb, kelvin, linear_to_srgb, luma, mix, mul, scale};
use super::rng::{Rng, derive};
use super::{Assets, print, replay};

/// Seconds between kept frames (every 6th frame of a 30 fps video).
pub const FRAME_INTERVAL: f32 = 0.2;
/// The crop covers ±0.6 face units: its side is (1 + 0.2) x the face box, the margin of
/// `model_format::crop`.
pub const CROP_EXTENT: f32 = 0.5 * (1.0 + model_format::crop::DEFAULT_MARGIN);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Live,
    Print,
    Replay,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Live => "live",
            Kind::Print => "print",
            Kind::Replay => "replay",
        }
    }

    pub fn is_attack(self) -> bool {
        self != Kind::Live
    }
}

/// A smooth random motion: two sines of random frequency and phase.
#[derive(Clone, Debug)]
pub struct Wiggle {
    amp: f32,
    f1: f32,
    f2: f32,
    p1: f32,
    p2: f32,
}

impl Wiggle {
    pub fn random(rng: &mut Rng, amp: f32) -> Wiggle {
        Wiggle {
            amp,
            f1: rng.range(0.1, 0.6),
            f2: rng.range(0.6, 2.0),
            p1: rng.range(0.0, std::f32::consts::TAU),
            p2: rng.range(0.0, std::f32::consts::TAU),
        }
    }

    pub fn at(&self, t: f32) -> f32 {
        let tau = std::f32::consts::TAU;
        self.amp
            * (0.75 * (tau * self.f1 * t + self.p1).sin()
                + 0.25 * (tau * self.f2 * t + self.p2).sin())
    }
}

/// A head's (or a held sheet's) orientation over time.
#[derive(Clone, Debug)]
pub struct Motion {
    base: [f32; 3],
    wiggle: [Wiggle; 3],
}

impl Motion {
    /// `base` and `amp`: (yaw, pitch, roll) ranges in radians.
    pub fn random(rng: &mut Rng, base: [f32; 3], amp: [f32; 3]) -> Motion {
        Motion {
            base: std::array::from_fn(|i| rng.range(-base[i], base[i])),
            wiggle: std::array::from_fn(|i| {
                let a = rng.range(0.2, 1.0) * amp[i];
                Wiggle::random(rng, a)
            }),
        }
    }

    /// (yaw, pitch, roll) at time `t`.
    pub fn at(&self, t: f32) -> [f32; 3] {
        std::array::from_fn(|i| self.base[i] + self.wiggle[i].at(t))
    }

    /// The head's pose at time `t` seen through a lens of `focal`.
    pub fn pose(&self, t: f32, focal: f32) -> Pose {
        let [yaw, pitch, roll] = self.at(t);
        Pose {
            yaw,
            pitch,
            roll,
            focal,
        }
    }
}

/// Blinks and gaze over a clip.
#[derive(Clone, Debug)]
pub struct Eyes {
    open: f32,
    blinks: Vec<f32>,
    blink_width: f32,
    gaze: Vec<(f32, (f32, f32))>,
}

impl Eyes {
    pub fn random(rng: &mut Rng, duration: f32) -> Eyes {
        let mut blinks = Vec::new();
        // People blink every 2-10 s; a short clip catches one now and then.
        let mut t = rng.range(-3.0, 2.0);
        while t < duration + 0.5 {
            blinks.push(t);
            t += rng.range(1.5, 6.0);
        }
        let mut gaze = Vec::new();
        let mut t = -1.0;
        while t < duration + 1.0 {
            gaze.push((
                t,
                (
                    (0.4 * rng.normal()).clamp(-1.0, 1.0),
                    (0.3 * rng.normal()).clamp(-1.0, 1.0),
                ),
            ));
            t += rng.range(0.3, 1.2);
        }
        Eyes {
            open: rng.range(0.75, 1.0),
            blinks,
            blink_width: rng.range(0.05, 0.1),
            gaze,
        }
    }

    pub fn at(&self, t: f32) -> EyeState {
        let closing = self
            .blinks
            .iter()
            .map(|b| (-((t - b) / self.blink_width).powi(2)).exp())
            .fold(0.0, f32::max);
        let gaze = self
            .gaze
            .iter()
            .rev()
            .find(|(start, _)| *start <= t)
            .map_or((0.0, 0.0), |g| g.1);
        EyeState {
            open: self.open * (1.0 - closing),
            gaze,
        }
    }
}

/// What every video has, drawn the same way for live and attack videos.
pub struct Shot {
    pub camera: Camera,
    pub illuminant: Rgb,
    pub light: Light,
    light_drift: [Wiggle; 3],
    pub room: Background,
    /// Light on the room relative to the subject's.
    room_level: f32,
    /// Where the subject is in the camera frame (the crop follows it): the room moves.
    track: [Wiggle; 2],
    track_offset: (f32, f32),
    /// Focal length in face units (short: close to the camera, strong perspective).
    pub focal: f32,
}

impl Shot {
    pub fn random(rng: &mut Rng, assets: &Assets) -> Shot {
        let illuminant = kelvin(rng.log_range(2700.0, 7500.0));
        let light = random_light(rng, illuminant);
        Shot {
            camera: Camera::random(rng),
            illuminant,
            light,
            light_drift: [
                Wiggle::random(rng, 0.05),
                Wiggle::random(rng, 0.05),
                Wiggle::random(rng, 0.04),
            ],
            room: Background::random(rng, &assets.brick),
            room_level: rng.log_range(0.3, 1.5),
            track: {
                let (ax, ay) = (rng.range(0.02, 0.2), rng.range(0.02, 0.12));
                [Wiggle::random(rng, ax), Wiggle::random(rng, ay)]
            },
            track_offset: (rng.range(-0.3, 0.3), rng.range(-0.3, 0.3)),
            focal: rng.range(3.5, 9.0),
        }
    }

    pub fn light_at(&self, t: f32) -> Light {
        let [dx, dy, g] = &self.light_drift;
        drift_light(&self.light, dx.at(t), dy.at(t), 1.0 + g.at(t))
    }

    /// Light from the room at image point `q` (face units around the subject) at time `t`.
    #[inline]
    pub fn room_at(&self, light: &Light, t: f32, q: (f32, f32)) -> Rgb {
        let x = q.0 + self.track_offset.0 + self.track[0].at(t);
        let y = q.1 + self.track_offset.1 + self.track[1].at(t);
        room_light(&self.room, light, self.room_level, (x, y))
    }
}

/// A background lit by a scene's light.
#[inline]
pub fn room_light(room: &Background, light: &Light, level: f32, q: (f32, f32)) -> Rgb {
    let illum = [
        (light.ambient[0] + 0.6 * light.key[0]) * level,
        (light.ambient[1] + 0.6 * light.key[1]) * level,
        (light.ambient[2] + 0.6 * light.key[2]) * level,
    ];
    mul(room.sample(q.0, q.1), illum)
}

/// The detector's box on one frame: scale and offset of the crop around the true face box.
#[derive(Clone, Copy, Debug)]
pub struct Jitter {
    pub scale: f32,
    pub offset: (f32, f32),
}

impl Jitter {
    pub fn random(rng: &mut Rng) -> Jitter {
        Jitter {
            scale: (0.025 * rng.normal()).exp(),
            offset: (0.015 * rng.normal(), 0.015 * rng.normal()),
        }
    }

    /// Normalised scene point (face box `[-0.5, 0.5]²`) seen at sensor pixel `(x, y)` of
    /// an `n` x `n` crop; `(fx, fy)` is the position inside the pixel (0.5: centre).
    #[inline]
    pub fn point(&self, n: usize, x: f32, y: f32) -> (f32, f32) {
        let k = 2.0 * CROP_EXTENT / n as f32;
        (
            ((x - n as f32 / 2.0) * k) * self.scale + self.offset.0,
            ((y - n as f32 / 2.0) * k) * self.scale + self.offset.1,
        )
    }
}

/// A live head: its motion and eyes over the clip.
pub struct Live {
    motion: Motion,
    eyes: Eyes,
    /// Where in a real person's clip this video starts (seconds).
    start: f32,
}

impl Live {
    pub fn random(rng: &mut Rng, duration: f32) -> Live {
        Live {
            motion: Motion::random(rng, [0.3, 0.2, 0.12], [0.15, 0.1, 0.06]),
            eyes: Eyes::random(rng, duration),
            start: rng.range(0.0, CLIP_START_RANGE),
        }
    }

    /// Scene radiance over the crop at time `t`.
    pub fn render(
        &self,
        subject: &Subject,
        shot: &Shot,
        t: f32,
        jitter: &Jitter,
        n: usize,
    ) -> Plane<Rgb> {
        let model = subject.at(self.start + t);
        let view = model.view(&subject.pose(&self.motion, t, shot.focal));
        let light = shot.light_at(t);
        let eyes = self.eyes.at(t);
        Plane::from_fn(n, n, |x, y| {
            let p = jitter.point(n, x as f32 + 0.5, y as f32 + 0.5);
            let (person, alpha) = model.shade(&view, &eyes, &light, p);
            if alpha >= 1.0 {
                return person;
            }
            let room = shot.room_at(&light, t, view.image_point(p));
            mix(room, person, alpha)
        })
    }
}

/// The photo or video an attack shows: the same head, filmed earlier elsewhere by another
/// camera (own pose, eyes, light, background, exposure and compression).
pub struct Source {
    motion: Motion,
    eyes: Eyes,
    illuminant: Rgb,
    light: Light,
    room: Background,
    room_level: f32,
    focal: f32,
    exposure: f32,
    awb: f32,
    contrast: f32,
    saturation: f32,
    noise: f32,
    jpeg_quality: u8,
    /// Where in a real person's clip the recording starts (seconds).
    start: f32,
}

/// Videos start anywhere in a real person's clip (played back and forth, so any start
/// works).
const CLIP_START_RANGE: f32 = 30.0;

impl Source {
    pub fn random(rng: &mut Rng, assets: &Assets, duration: f32) -> Source {
        let illuminant = kelvin(rng.log_range(2700.0, 7500.0));
        Source {
            motion: Motion::random(rng, [0.3, 0.2, 0.1], [0.15, 0.1, 0.05]),
            eyes: Eyes::random(rng, duration),
            illuminant,
            light: random_light(rng, illuminant),
            room: Background::random(rng, &assets.brick),
            room_level: rng.log_range(0.3, 1.5),
            focal: rng.range(3.5, 9.0),
            exposure: rng.log_range(0.12, 0.25),
            awb: rng.range(0.7, 1.0),
            contrast: rng.range(0.0, 0.3),
            saturation: rng.range(0.9, 1.3),
            noise: rng.log_range(0.002, 0.02),
            jpeg_quality: rng.range(60.0, 96.0) as u8,
            start: rng.range(0.0, CLIP_START_RANGE),
        }
    }

    /// The frame shown at time `t` (a photo: always `t = 0`) over `region` of the medium
    /// (face units of the photo) at texel `step`, as sRGB values in [0, 1].
    pub fn render(
        &self,
        subject: &Subject,
        t: f32,
        region: [f32; 4],
        step: f32,
        rng: &mut Rng,
    ) -> Field<Rgb> {
        let model = subject.at(self.start + t);
        let view = model.view(&subject.pose(&self.motion, t, self.focal));
        let eyes = self.eyes.at(t);
        let [x0, y0, x1, y1] = region;
        let mut field = Field::render(x0, y0, x1, y1, step, |x, y| {
            let (person, alpha) = model.shade(&view, &eyes, &self.light, (x, y));
            if alpha >= 1.0 {
                return person;
            }
            let room = room_light(
                &self.room,
                &self.light,
                self.room_level,
                view.image_point((x, y)),
            );
            mix(room, person, alpha)
        });
        // The source camera: exposure on the face, white balance, tone curve, noise, JPEG.
        let mut sum = 0.0;
        for j in -4..=4 {
            for i in -4..=4 {
                sum += luma(field.sample(i as f32 * 0.06, j as f32 * 0.06));
            }
        }
        let gain = self.exposure / (sum / 81.0).max(1e-4);
        let wb: Rgb = std::array::from_fn(|c| self.illuminant[c].powf(-self.awb));
        for p in &mut field.plane.data {
            let v = mul(scale(*p, gain), wb);
            let y = luma(v);
            *p = std::array::from_fn(|c| {
                let e = linear_to_srgb(y + self.saturation * (v[c] - y));
                let e = e + self.contrast * (e - 0.5) * 2.0 * e * (1.0 - e);
                e + self.noise * rng.gauss_fast()
            });
        }
        let jpeg = jpeg_round_trip(&to_rgb8(&field.plane), self.jpeg_quality);
        for (p, q) in field.plane.data.iter_mut().zip(jpeg.pixels()) {
            *p = q.0.map(|v| v as f32 / 255.0);
        }
        field
    }
}

/// A planned video: whose, what, and its seed.
#[derive(Clone, Debug)]
pub struct VideoPlan {
    pub identity: usize,
    pub kind: Kind,
    pub index: usize,
    pub seed: u64,
}

/// Renders frames `which` (indices into a clip of `frames` frames) of a video at `size`
/// pixels. Every frame depends only on the video's seed and its index.
pub fn render_video(
    subject: &Subject,
    plan: &VideoPlan,
    frames: usize,
    which: &[usize],
    size: u32,
    assets: &Assets,
) -> Vec<RgbImage> {
    let duration = frames as f32 * FRAME_INTERVAL;
    let shot = Shot::random(&mut Rng::new(derive(plan.seed, &[1])), assets);
    let n = shot.camera.sensor_size(size);
    let mut kind_rng = Rng::new(derive(plan.seed, &[2]));
    enum Scene {
        Live(Live),
        Print(print::Print),
        Replay(replay::Replay),
    }
    let scene = match plan.kind {
        Kind::Live => Scene::Live(Live::random(&mut kind_rng, duration)),
        Kind::Print => Scene::Print(print::Print::random(&mut kind_rng, subject, assets, n)),
        Kind::Replay => Scene::Replay(replay::Replay::random(
            &mut kind_rng,
            subject,
            assets,
            n,
            duration,
        )),
    };
    which
        .iter()
        .map(|&f| {
            let mut rng = Rng::new(derive(plan.seed, &[3, f as u64]));
            let t = f as f32 * FRAME_INTERVAL;
            let jitter = Jitter::random(&mut rng);
            let radiance = match &scene {
                Scene::Live(live) => live.render(subject, &shot, t, &jitter, n),
                Scene::Print(p) => p.render(&shot, t, &jitter, n),
                Scene::Replay(r) => r.render(subject, &shot, t, &jitter, n, &mut rng),
            };
            shot.camera
                .capture(&radiance, shot.illuminant, &mut rng, size)
        })
        .collect()
}
