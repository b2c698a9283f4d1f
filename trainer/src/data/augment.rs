//! Training augmentation of the DeiT recipe (timm), each part switchable:
//! random resized crop (bicubic) and horizontal flip on images, random erasing (per-pixel
//! noise) on the normalised input, and mixup / cutmix with label smoothing on the batch.
//! RandAugment (rand-m9-mstd0.5-inc1) is in [`crate::data::randaugment`]; the pipeline that
//! chains them is [`crate::train::loader`].

use image::RgbImage;
use model_format::Interpolation;
use model_format::preprocess::resize;
use rand::RngExt;
use rand_distr::{Beta, Distribution, StandardNormal};

/// torchvision's `RandomResizedCrop` (scale 0.08-1, ratio 3/4-4/3), resized with the
/// project's Pillow-exact bicubic filter.
#[derive(Clone, Debug)]
pub struct RandomResizedCrop {
    pub size: u32,
    pub scale: (f64, f64),
    pub ratio: (f64, f64),
}

impl RandomResizedCrop {
    pub fn new(size: u32) -> Self {
        Self {
            size,
            scale: (0.08, 1.0),
            ratio: (3.0 / 4.0, 4.0 / 3.0),
        }
    }

    /// The crop window `(left, top, width, height)` for a `width` x `height` image
    /// (torchvision's `get_params`: ten tries, then a centre crop clamped to the ratios).
    pub fn window(&self, rng: &mut impl RngExt, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let area = (width * height) as f64;
        let (log_lo, log_hi) = (self.ratio.0.ln(), self.ratio.1.ln());
        for _ in 0..10 {
            let target = area * rng.random_range(self.scale.0..=self.scale.1);
            let aspect = rng.random_range(log_lo..=log_hi).exp();
            let w = (target * aspect).sqrt().round() as u32;
            let h = (target / aspect).sqrt().round() as u32;
            if 0 < w && w <= width && 0 < h && h <= height {
                let top = rng.random_range(0..=height - h);
                let left = rng.random_range(0..=width - w);
                return (left, top, w, h);
            }
        }
        let in_ratio = width as f64 / height as f64;
        let (w, h) = if in_ratio < self.ratio.0 {
            (width, (width as f64 / self.ratio.0).round() as u32)
        } else if in_ratio > self.ratio.1 {
            ((height as f64 * self.ratio.1).round() as u32, height)
        } else {
            (width, height)
        };
        ((width - w) / 2, (height - h) / 2, w, h)
    }

    pub fn apply(&self, rng: &mut impl RngExt, image: &RgbImage) -> RgbImage {
        let (left, top, w, h) = self.window(rng, image.width(), image.height());
        let crop = image::imageops::crop_imm(image, left, top, w, h).to_image();
        resize(&crop, self.size, self.size, Interpolation::Bicubic)
    }
}

/// Mirrors `image` left-right with probability `p`.
pub fn horizontal_flip(rng: &mut impl RngExt, image: RgbImage, p: f64) -> RgbImage {
    if rng.random_bool(p) {
        image::imageops::flip_horizontal(&image)
    } else {
        image
    }
}

/// timm's `RandomErasing` in `pixel` mode (one box, area 2-33 %, aspect 0.3-3.3) on a
/// normalised `[3, size, size]` input: the box gets standard normal noise per value.
pub fn random_erasing(rng: &mut impl RngExt, input: &mut [f32], size: usize, p: f64) {
    if !rng.random_bool(p) {
        return;
    }
    let area = (size * size) as f64;
    let (log_lo, log_hi) = (0.3f64.ln(), (1.0f64 / 0.3).ln());
    for _ in 0..10 {
        let target = area * rng.random_range(0.02..=1.0 / 3.0);
        let aspect = rng.random_range(log_lo..=log_hi).exp();
        let h = (target * aspect).sqrt().round() as usize;
        let w = (target / aspect).sqrt().round() as usize;
        if w < size && h < size {
            let top = rng.random_range(0..=size - h);
            let left = rng.random_range(0..=size - w);
            for c in 0..3 {
                for y in top..top + h {
                    for x in left..left + w {
                        input[c * size * size + y * size + x] = StandardNormal.sample(rng);
                    }
                }
            }
            return;
        }
    }
}

/// timm's `Mixup` in batch mode with label smoothing: mixup (Beta(0.8, 0.8)) or, with
/// probability `switch_prob`, cutmix (Beta(1, 1), the pasted box's area corrects lambda),
/// mixing each sample with the batch reversed.
#[derive(Clone, Debug)]
pub struct Mixup {
    pub mixup_alpha: f64,
    pub cutmix_alpha: f64,
    pub switch_prob: f64,
    pub label_smoothing: f64,
    pub num_classes: usize,
}

impl Mixup {
    pub fn deit(num_classes: usize) -> Self {
        Self {
            mixup_alpha: 0.8,
            cutmix_alpha: 1.0,
            switch_prob: 0.5,
            label_smoothing: 0.1,
            num_classes,
        }
    }

    /// Smoothed one-hot targets mixed with weight `lam` (timm's `mixup_target`).
    pub fn targets(&self, labels: &[usize], lam: f64) -> Vec<Vec<f32>> {
        let off = self.label_smoothing / self.num_classes as f64;
        let on = 1.0 - self.label_smoothing + off;
        let n = labels.len();
        (0..n)
            .map(|i| {
                (0..self.num_classes)
                    .map(|c| {
                        let a = if labels[i] == c { on } else { off };
                        let b = if labels[n - 1 - i] == c { on } else { off };
                        (a * lam + b * (1.0 - lam)) as f32
                    })
                    .collect()
            })
            .collect()
    }

    /// Mixes `batch` (each a `[3, size, size]` input) in place and returns the soft targets
    /// and lambda (the weight of each sample's own image).
    pub fn apply(
        &self,
        rng: &mut impl RngExt,
        batch: &mut [Vec<f32>],
        size: usize,
        labels: &[usize],
    ) -> (Vec<Vec<f32>>, f64) {
        let use_cutmix = self.cutmix_alpha > 0.0
            && (self.mixup_alpha <= 0.0 || rng.random_bool(self.switch_prob));
        let alpha = if use_cutmix {
            self.cutmix_alpha
        } else {
            self.mixup_alpha
        };
        if alpha <= 0.0 {
            return (self.targets(labels, 1.0), 1.0);
        }
        let mut lam = Beta::new(alpha, alpha).expect("positive alpha").sample(rng);
        let flipped: Vec<Vec<f32>> = batch.iter().rev().cloned().collect();
        if use_cutmix {
            // timm's rand_bbox: a box of side sqrt(1 - lam) around a random centre, clipped.
            let cut = (1.0 - lam).sqrt();
            let (ch, cw) = ((size as f64 * cut) as usize, (size as f64 * cut) as usize);
            let (cy, cx) = (rng.random_range(0..size), rng.random_range(0..size));
            let (y0, y1) = (cy.saturating_sub(ch / 2), (cy + ch / 2).min(size));
            let (x0, x1) = (cx.saturating_sub(cw / 2), (cx + cw / 2).min(size));
            for (image, other) in batch.iter_mut().zip(&flipped) {
                for c in 0..3 {
                    for y in y0..y1 {
                        let row = c * size * size + y * size;
                        image[row + x0..row + x1].copy_from_slice(&other[row + x0..row + x1]);
                    }
                }
            }
            lam = 1.0 - ((y1 - y0) * (x1 - x0)) as f64 / (size * size) as f64;
        } else {
            let (a, b) = (lam as f32, (1.0 - lam) as f32);
            for (image, other) in batch.iter_mut().zip(&flipped) {
                for (x, o) in image.iter_mut().zip(other) {
                    *x = *x * a + *o * b;
                }
            }
        }
        (self.targets(labels, lam), lam)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn crop_windows_stay_inside_and_follow_the_scale_and_ratio() {
        let mut rng = StdRng::seed_from_u64(1);
        let rrc = RandomResizedCrop::new(224);
        for _ in 0..500 {
            let (left, top, w, h) = rrc.window(&mut rng, 224, 224);
            assert!(left + w <= 224 && top + h <= 224 && w > 0 && h > 0);
            let fraction = (w * h) as f64 / (224.0 * 224.0);
            assert!((0.07..=1.0).contains(&fraction), "{fraction}");
            let aspect = w as f64 / h as f64;
            assert!((0.7..=1.43).contains(&aspect), "{aspect}");
        }
        // A thin image falls back to a centre crop at the ratio limit.
        let (left, top, w, h) = RandomResizedCrop {
            scale: (0.99, 1.0),
            ..rrc.clone()
        }
        .window(&mut rng, 400, 10);
        // ratio 400/10 > 4/3: height 10, width round(10 * 4/3) = 13, left (400 - 13) / 2.
        assert_eq!((left, top, w, h), (193, 0, 13, 10));
        let out = rrc.apply(&mut rng, &RgbImage::new(100, 80));
        assert_eq!(out.dimensions(), (224, 224));
    }

    #[test]
    fn flip_mirrors_with_its_probability() {
        let mut rng = StdRng::seed_from_u64(2);
        let image = RgbImage::from_fn(3, 1, |x, _| image::Rgb([x as u8, 0, 0]));
        assert_eq!(
            horizontal_flip(&mut rng, image.clone(), 1.0).get_pixel(0, 0)[0],
            2
        );
        assert_eq!(horizontal_flip(&mut rng, image.clone(), 0.0), image);
    }

    #[test]
    fn erasing_replaces_one_box_of_the_right_size() {
        let mut rng = StdRng::seed_from_u64(3);
        let size = 32;
        for _ in 0..50 {
            let mut input = vec![100.0f32; 3 * size * size];
            random_erasing(&mut rng, &mut input, size, 1.0);
            let erased = input.iter().filter(|v| **v != 100.0).count() as f64 / input.len() as f64;
            assert!((0.015..=0.34).contains(&erased), "{erased}");
        }
        let mut input = vec![100.0f32; 3 * size * size];
        random_erasing(&mut rng, &mut input, size, 0.0);
        assert!(input.iter().all(|v| *v == 100.0));
    }

    #[test]
    fn mixup_and_cutmix_weights_match_their_targets() {
        let mut rng = StdRng::seed_from_u64(4);
        let size = 16;
        let labels = [0usize, 1, 0, 1];
        let deit = Mixup::deit(2);
        // No mixing: smoothed one-hot targets (0.95 / 0.05 for two classes).
        assert_eq!(deit.targets(&[1], 1.0), vec![vec![0.05, 0.95]]);
        // Image i is constant i, so the mix shows in every value; sample 0 is mixed with
        // sample 3 (the batch reversed), labels 0 and 1.
        let batch =
            || -> Vec<Vec<f32>> { (0..4).map(|i| vec![i as f32; 3 * size * size]).collect() };
        let expected_target = |lam: f64| (0.95 * lam + 0.05 * (1.0 - lam)) as f32;
        let mixup_only = Mixup {
            cutmix_alpha: 0.0,
            ..deit.clone()
        };
        let cutmix_only = Mixup {
            mixup_alpha: 0.0,
            ..deit.clone()
        };
        for _ in 0..20 {
            let mut images = batch();
            let (targets, lam) = mixup_only.apply(&mut rng, &mut images, size, &labels);
            // value = 0 * lam + 3 * (1 - lam) everywhere.
            assert!(
                images[0]
                    .iter()
                    .all(|v| (*v as f64 - 3.0 * (1.0 - lam)).abs() < 1e-5)
            );
            assert!((targets[0][0] - expected_target(lam)).abs() < 1e-6);
            assert!((targets[0].iter().sum::<f32>() - 1.0).abs() < 1e-6);

            let mut images = batch();
            let (targets, lam) = cutmix_only.apply(&mut rng, &mut images, size, &labels);
            // lam is exactly the share of sample 0's own pixels; the rest come from sample 3.
            let own = images[0].iter().filter(|v| **v == 0.0).count() as f64;
            assert!((own / images[0].len() as f64 - lam).abs() < 1e-9);
            assert!(images[0].iter().all(|v| *v == 0.0 || *v == 3.0));
            assert!((targets[0][0] - expected_target(lam)).abs() < 1e-6);
        }
        // The DeiT setting uses both.
        let (mut cut, mut mixed) = (false, false);
        for _ in 0..40 {
            let mut images = batch();
            deit.apply(&mut rng, &mut images, size, &labels);
            let values: std::collections::BTreeSet<u32> =
                images[0].iter().map(|v| v.to_bits()).collect();
            cut |= values.contains(&0.0f32.to_bits()) && values.contains(&3.0f32.to_bits());
            mixed |= values.len() == 1 && !values.contains(&0.0f32.to_bits());
        }
        assert!(cut && mixed);
    }
}
