//! The DeiT learning-rate schedule (timm's `CosineLRScheduler`, stepped per epoch): linear
//! warm-up from `warmup_lr`, a cosine from the peak down to `min_lr` over the remaining
//! epochs, then `cooldown_epochs` at `min_lr`.

/// The per-epoch learning rate.
#[derive(Clone, Debug, PartialEq)]
pub struct CosineSchedule {
    pub peak_lr: f64,
    pub warmup_lr: f64,
    pub min_lr: f64,
    pub warmup_epochs: usize,
    /// Epochs of the cosine (warm-up included), as timm's `t_initial`.
    pub epochs: usize,
}

impl CosineSchedule {
    /// The rate of epoch `epoch` (0-based). timm: during warm-up
    /// `warmup_lr + epoch * (peak - warmup_lr) / warmup_epochs`; afterwards
    /// `min + (peak - min) * (1 + cos(pi * epoch / epochs)) / 2`, and `min` from `epochs` on.
    pub fn lr(&self, epoch: usize) -> f64 {
        if epoch < self.warmup_epochs {
            return self.warmup_lr
                + epoch as f64 * (self.peak_lr - self.warmup_lr) / self.warmup_epochs as f64;
        }
        if epoch >= self.epochs {
            return self.min_lr;
        }
        let progress = epoch as f64 / self.epochs as f64;
        self.min_lr
            + 0.5 * (self.peak_lr - self.min_lr) * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// DeiT's linear scaling: `base_lr * global_batch / 512`.
pub fn scaled_lr(base_lr: f64, global_batch: usize) -> f64 {
    base_lr * global_batch as f64 / 512.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of timm 1.0's `CosineLRScheduler(t_initial=10, lr_min=1e-5, warmup_t=3,
    /// warmup_lr_init=1e-6)` over a base lr of 1e-3, `scheduler.step(epoch)` per epoch,
    /// computed by hand from its formulas.
    #[test]
    fn follows_timms_cosine_with_warmup() {
        let s = CosineSchedule {
            peak_lr: 1e-3,
            warmup_lr: 1e-6,
            min_lr: 1e-5,
            warmup_epochs: 3,
            epochs: 10,
        };
        let expected = [
            1e-6,
            1e-6 + 1.0 * (1e-3 - 1e-6) / 3.0,
            1e-6 + 2.0 * (1e-3 - 1e-6) / 3.0,
            // 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + cos(0.3 pi))
            1e-5 + 0.5 * 0.99e-3 * (1.0 + 0.587_785_252_292_473_1),
        ];
        for (epoch, want) in expected.iter().enumerate() {
            assert!((s.lr(epoch) - want).abs() < 1e-12, "epoch {epoch}");
        }
        // Halfway through the cosine: the mean of peak and floor.
        assert!((s.lr(5) - (1e-3 + 1e-5) / 2.0).abs() < 1e-12);
        // Cool-down epochs stay at the floor.
        assert_eq!(s.lr(10), 1e-5);
        assert_eq!(s.lr(14), 1e-5);
        // Monotone after the warm-up.
        assert!((3..10).all(|e| s.lr(e + 1) <= s.lr(e)));
        assert!((scaled_lr(5e-4, 128) - 1.25e-4).abs() < 1e-15);
    }
}
