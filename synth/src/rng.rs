//! Seeded randomness and noise, defined in this file rather than taken from `rand`: the
//! dataset's bytes are part of its identity (the manifest hashes them), so they must not
//! change when a dependency changes its generator.

/// SplitMix64's finaliser: a bijective 64-bit mix with good avalanche.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for a part of the dataset (identity, video, frame, …) from the run's seed, so
/// that every part is generated the same whatever order or thread it runs in.
pub fn derive(seed: u64, parts: &[u64]) -> u64 {
    parts.iter().fold(mix64(seed), |h, &p| {
        mix64(h ^ mix64(p.wrapping_add(0x632B_E59B_D9B4_E019)))
    })
}

/// SplitMix64: small, fast and good enough for parameters and noise.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(mix64(seed))
    }

    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f32(&mut self) -> f32 {
        (self.u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f32()
    }

    /// Log-uniform in [lo, hi) (scales, resolutions, noise levels).
    pub fn log_range(&mut self, lo: f32, hi: f32) -> f32 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.f32()).exp()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = 1.0 - self.f32();
        let u2 = self.f32();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }

    /// Approximately standard normal and cheaper (sum of four uniforms): for noise fields.
    pub fn gauss_fast(&mut self) -> f32 {
        let x = self.u64();
        let sum = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
        (sum as f32 * (1.0 / 65536.0) - 2.0) * 1.732_050_8
    }

    pub fn chance(&mut self, p: f32) -> bool {
        self.f32() < p
    }

    /// Uniform index in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.u64() >> 32) * n as u64) >> 32) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// An index drawn with the given (unnormalised) weights.
    pub fn weighted(&mut self, weights: &[f32]) -> usize {
        let total: f32 = weights.iter().sum();
        let mut x = self.f32() * total;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// `+1` or `-1`.
    pub fn sign(&mut self) -> f32 {
        if self.chance(0.5) { 1.0 } else { -1.0 }
    }

    /// An independent generator (for a sub-part whose draws must not shift the rest).
    pub fn fork(&mut self) -> Rng {
        Rng(mix64(self.u64()))
    }
}

/// A hash of a lattice point to [0, 1).
#[inline]
pub fn hash2(x: i32, y: i32, seed: u32) -> f32 {
    let mut h = (x as u32).wrapping_mul(0x8DA6_B343)
        ^ (y as u32).wrapping_mul(0xD816_3841)
        ^ seed.wrapping_mul(0xCB1A_B31F);
    h ^= h >> 16;
    h = h.wrapping_mul(0x7FEB_352D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846C_A68B);
    h ^= h >> 16;
    (h >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// Value noise in [0, 1] with unit lattice spacing and smooth (C1) interpolation.
#[inline]
pub fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
    let (fx, fy) = (x.floor(), y.floor());
    let (ix, iy) = (fx as i32, fy as i32);
    let (tx, ty) = (x - fx, y - fy);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let a = hash2(ix, iy, seed);
    let b = hash2(ix + 1, iy, seed);
    let c = hash2(ix, iy + 1, seed);
    let d = hash2(ix + 1, iy + 1, seed);
    let top = a + (b - a) * sx;
    let bottom = c + (d - c) * sx;
    top + (bottom - top) * sy
}

/// Fractal sum of `octaves` value noises (each twice the frequency, half the amplitude),
/// normalised to [0, 1] with mean 0.5.
pub fn fbm(x: f32, y: f32, seed: u32, octaves: u32) -> f32 {
    let (mut sum, mut amp, mut norm, mut freq) = (0.0, 1.0, 0.0, 1.0);
    for o in 0..octaves {
        // Each octave is offset so that the lattices do not line up.
        let off = o as f32 * 17.31;
        sum += amp * value_noise(x * freq + off, y * freq - off, seed.wrapping_add(o));
        norm += amp;
        amp *= 0.5;
        freq *= 2.0;
    }
    sum / norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_differ_and_repeat() {
        assert_eq!(derive(1, &[2, 3]), derive(1, &[2, 3]));
        assert_ne!(derive(1, &[2, 3]), derive(1, &[3, 2]));
        assert_ne!(derive(1, &[2, 3]), derive(2, &[2, 3]));
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut rng = Rng::new(7);
        let n = 20_000;
        let (mut s, mut s2, mut g, mut g2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for _ in 0..n {
            let u = rng.f32() as f64;
            assert!((0.0..1.0).contains(&u));
            s += u;
            s2 += u * u;
            let z = rng.gauss_fast() as f64;
            g += z;
            g2 += z * z;
        }
        let n = n as f64;
        assert!((s / n - 0.5).abs() < 0.01);
        assert!((s2 / n - 1.0 / 3.0).abs() < 0.01);
        assert!((g / n).abs() < 0.03);
        assert!((g2 / n - 1.0).abs() < 0.05);
    }

    #[test]
    fn noise_is_continuous_and_bounded() {
        for i in 0..1000 {
            let x = i as f32 * 0.037;
            let a = fbm(x, 0.3 * x, 5, 4);
            let b = fbm(x + 1e-3, 0.3 * x, 5, 4);
            assert!((0.0..=1.0).contains(&a));
            assert!((a - b).abs() < 0.02);
        }
    }
}
