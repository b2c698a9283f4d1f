//! What is behind the face: plain walls with gradients, rooms (corners, doors, windows,
//! shelves of books, pictures, lamps, plants, brick), out-of-focus lights, outdoors. The
//! same generator serves the room a live face is filmed in, the room around a held print or
//! screen, and the background inside the printed or displayed photo, so that backgrounds
//! carry no label.

use super::raster::{Field, Plane, Rgb, add, gaussian_blur, mix, mul, scale, smoothstep, srgb8};
use super::rng::{Rng, fbm, value_noise};

/// Half-size of the square a background covers, in face units (the crop is ±0.6; motion,
/// held media and reflections look further out).
pub const EXTENT: f32 = 1.8;
const STEP: f32 = 0.025;

/// A background: light leaving it under a unit white light (emitters above 1).
#[derive(Clone, Debug)]
pub struct Background {
    field: Field<Rgb>,
}

const WALLS: [[u8; 3]; 12] = [
    [236, 232, 222],
    [220, 212, 196],
    [200, 200, 205],
    [180, 170, 150],
    [150, 160, 170],
    [190, 210, 200],
    [210, 190, 170],
    [120, 100, 80],
    [90, 90, 95],
    [230, 220, 190],
    [170, 190, 215],
    [60, 55, 50],
];

impl Background {
    pub fn sample(&self, x: f32, y: f32) -> Rgb {
        self.field.sample(x, y)
    }

    /// A random background; `brick` is a grey brick texture (CC0) used for some walls.
    pub fn random(rng: &mut Rng, brick: &Plane<f32>) -> Background {
        let kind = rng.weighted(&[1.0, 3.0, 1.0, 0.8]);
        let mut c = Canvas::new();
        let seed = rng.u64() as u32;
        match kind {
            0 => wall(&mut c, rng, seed),
            1 => {
                wall(&mut c, rng, seed);
                for _ in 0..1 + rng.below(3) {
                    match rng.weighted(&[1.0, 1.0, 1.0, 1.2, 1.0, 0.6, 0.8, 0.8]) {
                        0 => corner(&mut c, rng),
                        1 => door(&mut c, rng),
                        2 => window(&mut c, rng),
                        3 => shelf(&mut c, rng),
                        4 => picture(&mut c, rng),
                        5 => lamp(&mut c, rng),
                        6 => plant(&mut c, rng),
                        _ => bricks(&mut c, rng, brick),
                    }
                }
            }
            2 => {
                wall(&mut c, rng, seed);
                bokeh(&mut c, rng);
            }
            _ => outdoors(&mut c, rng, seed),
        }
        let sigma = rng.range(0.0, 2.5);
        let plane = gaussian_blur(&c.field.plane, sigma);
        Background {
            field: Field { plane, ..c.field },
        }
    }
}

struct Canvas {
    field: Field<Rgb>,
}

impl Canvas {
    fn new() -> Canvas {
        Canvas {
            field: Field::render(-EXTENT, -EXTENT, EXTENT, EXTENT, STEP, |_, _| [0.0; 3]),
        }
    }

    /// Applies `f(x, y, old) -> new` to the texels whose centres lie in the box.
    fn paint(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, f: impl Fn(f32, f32, Rgb) -> Rgb) {
        let field = &mut self.field;
        let to_i = |x: f32| ((x - field.x0) / field.step).floor().max(0.0) as usize;
        let to_j = |y: f32| ((y - field.y0) / field.step).floor().max(0.0) as usize;
        let (i0, i1) = (to_i(x0), (to_i(x1) + 1).min(field.plane.w));
        let (j0, j1) = (to_j(y0), (to_j(y1) + 1).min(field.plane.h));
        for j in j0..j1 {
            let y = field.y0 + (j as f32 + 0.5) * field.step;
            for i in i0..i1 {
                let x = field.x0 + (i as f32 + 0.5) * field.step;
                let k = j * field.plane.w + i;
                field.plane.data[k] = f(x, y, field.plane.data[k]);
            }
        }
    }

    fn all(&mut self, f: impl Fn(f32, f32, Rgb) -> Rgb) {
        self.paint(-EXTENT, -EXTENT, EXTENT, EXTENT, f);
    }

    /// A soft-edged rectangle of colour `col(x, y)`.
    #[allow(clippy::too_many_arguments)]
    fn rect(
        &mut self,
        x0: f32,
        y0: f32,
        x1: f32,
        y1: f32,
        soft: f32,
        col: impl Fn(f32, f32) -> Rgb,
    ) {
        self.paint(x0 - soft, y0 - soft, x1 + soft, y1 + soft, |x, y, old| {
            let a = smoothstep(x0 - soft, x0 + soft, x)
                * smoothstep(x1 + soft, x1 - soft, x)
                * smoothstep(y0 - soft, y0 + soft, y)
                * smoothstep(y1 + soft, y1 - soft, y);
            mix(old, col(x, y), a)
        });
    }
}

fn random_colour(rng: &mut Rng) -> Rgb {
    let c = rng.pick(&WALLS);
    let base = srgb8(c[0], c[1], c[2]);
    let tint = [rng.range(0.85, 1.15), 1.0, rng.range(0.85, 1.15)];
    scale(mul(base, tint), rng.range(0.6, 1.1))
}

fn vivid(rng: &mut Rng) -> Rgb {
    let h = rng.f32() * 6.0;
    let x = 1.0 - (h % 2.0 - 1.0).abs();
    let (r, g, b) = match h as u32 {
        0 => (1.0, x, 0.0),
        1 => (x, 1.0, 0.0),
        2 => (0.0, 1.0, x),
        3 => (0.0, x, 1.0),
        4 => (x, 0.0, 1.0),
        _ => (1.0, 0.0, x),
    };
    let sat = rng.range(0.3, 0.9);
    let v = rng.range(0.1, 0.7);
    [
        v * (1.0 - sat + sat * r),
        v * (1.0 - sat + sat * g),
        v * (1.0 - sat + sat * b),
    ]
}

fn wall(c: &mut Canvas, rng: &mut Rng, seed: u32) {
    let base = random_colour(rng);
    let angle = rng.range(0.0, std::f32::consts::TAU);
    let (dx, dy) = (angle.cos(), angle.sin());
    let strength = rng.range(0.0, 0.35);
    let stains = rng.range(0.0, 0.12);
    c.all(|x, y, _| {
        let g = 1.0 + strength * (x * dx + y * dy) / EXTENT;
        let n = 1.0 + stains * (fbm(x * 1.5, y * 1.5, seed, 3) - 0.5);
        scale(base, g * n)
    });
}

fn corner(c: &mut Canvas, rng: &mut Rng) {
    let x = rng.range(-1.4, 1.4);
    let k = rng.range(0.6, 0.9);
    let right = rng.chance(0.5);
    c.all(|px, _, old| {
        let side = if right {
            smoothstep(x - 0.01, x + 0.01, px)
        } else {
            smoothstep(x + 0.01, x - 0.01, px)
        };
        scale(old, 1.0 - (1.0 - k) * side)
    });
}

fn door(c: &mut Canvas, rng: &mut Rng) {
    let x = rng.range(-1.5, 1.0);
    let w = rng.range(0.5, 0.8);
    let top = rng.range(-1.5, -0.6);
    let frame = random_colour(rng);
    let leaf = if rng.chance(0.5) {
        mul(srgb8(120, 80, 50), [rng.range(0.7, 1.3); 3])
    } else {
        random_colour(rng)
    };
    c.rect(x - 0.05, top - 0.05, x + w + 0.05, EXTENT, 0.005, |_, _| {
        frame
    });
    c.rect(x, top, x + w, EXTENT, 0.005, |px, py| {
        let grain = 1.0 + 0.08 * (value_noise(px * 40.0, py * 3.0, 5) - 0.5);
        scale(leaf, grain)
    });
}

fn window(c: &mut Canvas, rng: &mut Rng) {
    let x = rng.range(-1.6, 0.8);
    let w = rng.range(0.5, 1.0);
    let y = rng.range(-1.6, -0.4);
    let h = rng.range(0.6, 1.2);
    let brightness = rng.range(1.5, 5.0);
    let sky = [rng.range(0.7, 0.9), rng.range(0.85, 0.95), 1.0];
    let frame = random_colour(rng);
    c.rect(
        x - 0.04,
        y - 0.04,
        x + w + 0.04,
        y + h + 0.04,
        0.005,
        |_, _| frame,
    );
    c.rect(x, y, x + w, y + h, 0.005, |_, py| {
        scale(sky, brightness * (1.0 - 0.3 * (py - y) / h))
    });
    let bar = 0.015;
    c.rect(
        x + w / 2.0 - bar,
        y,
        x + w / 2.0 + bar,
        y + h,
        0.003,
        |_, _| frame,
    );
    c.rect(
        x,
        y + h / 2.0 - bar,
        x + w,
        y + h / 2.0 + bar,
        0.003,
        |_, _| frame,
    );
    if rng.chance(0.5) {
        let curtain = vivid(rng);
        let cw = rng.range(0.1, 0.25);
        for x0 in [x - 0.1, x + w + 0.1 - cw] {
            c.rect(x0, y - 0.1, x0 + cw, y + h + 0.2, 0.01, |px, _| {
                scale(curtain, 0.7 + 0.3 * (px * 60.0).sin().abs())
            });
        }
    }
}

fn shelf(c: &mut Canvas, rng: &mut Rng) {
    let x0 = rng.range(-1.8, 0.0);
    let x1 = x0 + rng.range(0.8, 1.8);
    let y = rng.range(-1.2, 1.2);
    let wood = mul(srgb8(140, 100, 60), [rng.range(0.6, 1.3); 3]);
    let mut x = x0;
    while x < x1 {
        let w = rng.range(0.03, 0.08);
        let h = rng.range(0.2, 0.35);
        let col = vivid(rng);
        c.rect(x, y - h, x + w, y, 0.003, |_, py| {
            scale(col, 0.85 + 0.3 * ((py - y) / h).abs())
        });
        x += w + rng.range(0.0, 0.02);
    }
    c.rect(x0 - 0.05, y, x1 + 0.05, y + 0.04, 0.003, |_, _| wood);
}

fn picture(c: &mut Canvas, rng: &mut Rng) {
    let x = rng.range(-1.7, 1.0);
    let y = rng.range(-1.6, 0.6);
    let (w, h) = (rng.range(0.3, 0.7), rng.range(0.3, 0.6));
    let frame = scale(random_colour(rng), 0.6);
    let (a, b) = (vivid(rng), vivid(rng));
    let seed = rng.u64() as u32;
    c.rect(
        x - 0.03,
        y - 0.03,
        x + w + 0.03,
        y + h + 0.03,
        0.003,
        |_, _| frame,
    );
    c.rect(x, y, x + w, y + h, 0.003, |px, py| {
        mix(a, b, fbm(px * 4.0, py * 4.0, seed, 3))
    });
}

fn lamp(c: &mut Canvas, rng: &mut Rng) {
    let (cx, cy) = (rng.range(-1.6, 1.6), rng.range(-1.6, 0.5));
    let r = rng.range(0.08, 0.2);
    let glow = rng.range(2.0, 6.0);
    let warm = [1.0, rng.range(0.75, 0.95), rng.range(0.5, 0.8)];
    c.paint(
        cx - r * 4.0,
        cy - r * 4.0,
        cx + r * 4.0,
        cy + r * 4.0,
        |x, y, old| {
            let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() / r;
            let core = smoothstep(1.05, 0.95, d) * glow;
            let halo = 0.3 * (-d * d / 6.0).exp();
            add(old, scale(warm, core + halo))
        },
    );
}

fn plant(c: &mut Canvas, rng: &mut Rng) {
    let (cx, cy) = (rng.range(-1.6, 1.6), rng.range(-0.5, 1.5));
    let green = [
        rng.range(0.03, 0.08),
        rng.range(0.1, 0.25),
        rng.range(0.02, 0.06),
    ];
    let seed = rng.u64() as u32;
    let r = rng.range(0.2, 0.45);
    c.paint(
        cx - r * 1.5,
        cy - r * 1.5,
        cx + r * 1.5,
        cy + r * 1.5,
        |x, y, old| {
            let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() / r;
            let leaves = fbm(x * 14.0, y * 14.0, seed, 3);
            let a = smoothstep(1.2, 0.7, d + 0.5 * (leaves - 0.5));
            mix(old, scale(green, 0.6 + 0.9 * leaves), a)
        },
    );
}

fn bricks(c: &mut Canvas, rng: &mut Rng, brick: &Plane<f32>) {
    let x0 = rng.range(-1.8, 0.5);
    let x1 = x0 + rng.range(0.6, 2.5);
    let tint = [
        rng.range(0.5, 0.75),
        rng.range(0.25, 0.4),
        rng.range(0.15, 0.3),
    ];
    let size = rng.range(0.8, 1.6);
    c.rect(x0, -EXTENT, x1, EXTENT, 0.01, |x, y| {
        // Mirror-repeat the texture so that it tiles without seams.
        let tile = |t: f32, n: usize| {
            let p = (t / size).rem_euclid(2.0);
            let p = if p > 1.0 { 2.0 - p } else { p };
            p * (n - 1) as f32
        };
        let g = brick.bilinear(tile(x, brick.w), tile(y, brick.h));
        scale(tint, 0.4 + 1.2 * g)
    });
}

fn bokeh(c: &mut Canvas, rng: &mut Rng) {
    for _ in 0..4 + rng.below(10) {
        let (cx, cy) = (rng.range(-1.8, 1.8), rng.range(-1.8, 1.8));
        let r = rng.range(0.05, 0.25);
        let col = scale(vivid(rng), rng.range(0.5, 3.0));
        c.paint(
            cx - r * 1.2,
            cy - r * 1.2,
            cx + r * 1.2,
            cy + r * 1.2,
            |x, y, old| {
                let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() / r;
                add(old, scale(col, smoothstep(1.05, 0.85, d) * (0.7 + 0.3 * d)))
            },
        );
    }
}

fn outdoors(c: &mut Canvas, rng: &mut Rng, seed: u32) {
    let horizon = rng.range(-0.5, 1.2);
    let sky_bright = rng.range(1.2, 3.5);
    let foliage = [
        rng.range(0.04, 0.12),
        rng.range(0.1, 0.25),
        rng.range(0.03, 0.08),
    ];
    let ground = scale(random_colour(rng), 0.6);
    c.all(|x, y, _| {
        let sky = scale(
            [0.65, 0.8, 1.0],
            sky_bright * (0.8 + 0.2 * (y + EXTENT) / EXTENT),
        );
        let trees = fbm(x * 3.0, y * 3.0, seed, 4);
        let tree_line = horizon - 0.6 * trees;
        let t = smoothstep(tree_line - 0.05, tree_line + 0.05, y);
        let leaves = fbm(x * 20.0, y * 20.0, seed + 1, 2);
        let mut col = mix(sky, scale(foliage, 0.5 + leaves), t);
        col = mix(col, ground, smoothstep(horizon + 0.3, horizon + 0.5, y));
        col
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backgrounds_vary_and_stay_finite() {
        let brick = Plane::from_fn(8, 8, |x, y| ((x + y) % 2) as f32);
        let mut means = Vec::new();
        for s in 0..12 {
            let bg = Background::random(&mut Rng::new(s), &brick);
            let mut sum = [0.0f32; 3];
            for j in -8..=8 {
                for i in -8..=8 {
                    let v = bg.sample(i as f32 * 0.1, j as f32 * 0.1);
                    assert!(v.iter().all(|c| c.is_finite() && *c >= 0.0));
                    sum = add(sum, v);
                }
            }
            means.push(sum[0] + sum[1] + sum[2]);
        }
        means.sort_by(f32::total_cmp);
        assert!(means[11] > means[0] * 1.3, "{means:?}");
    }
}
