//! The training data pipeline: frames from the decoded-frame cache, augmented on worker
//! threads (random resized crop, flip, RandAugment, normalisation, random erasing, then
//! mixup/cutmix per batch) while the device runs the previous batch.
//!
//! In data-parallel training a batch is made of one contiguous share per replica
//! ([`shares`]). Each share is what one process of the reference's distributed run would
//! load: mixup/cutmix pairs and mixes within the share, and DeiT's repeated-augmentation
//! sampler ([`repeated_order`]) deals each image's copies to neighbouring replicas.
//!
//! Every random draw is seeded from `(seed, epoch, position)`, so an epoch's batches are
//! the same whatever the thread count and whether the run was resumed.

use std::sync::mpsc::{Receiver, sync_channel};

use model_format::Preprocessing;
use model_format::preprocess::{normalise, resize_and_crop};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::data::augment::{Mixup, RandomResizedCrop, horizontal_flip, random_erasing};
use crate::data::cache::FrameCache;
use crate::data::randaugment::RandAugment;

/// The per-image and per-batch augmentation of the DeiT recipe; `None` or 0 turns a part off.
#[derive(Clone, Debug)]
pub struct Augmentation {
    pub random_resized_crop: Option<RandomResizedCrop>,
    pub hflip: f64,
    pub rand_augment: Option<RandAugment>,
    pub reprob: f64,
    /// Mixup/cutmix (its label smoothing is used with or without mixing).
    pub mixup: Mixup,
    pub mix: bool,
}

/// One batch ready for the device.
pub struct Batch {
    /// `[n, 3, size, size]` normalised images, row-major.
    pub images: Vec<f32>,
    /// `[n, classes]` soft targets (smoothed, mixed).
    pub targets: Vec<f32>,
    pub len: usize,
}

/// A split's readable frames with their labels (1 live, 0 attack).
pub struct TrainSet {
    pub cache: FrameCache,
    /// Cache indices of the readable frames.
    pub readable: Vec<usize>,
    pub labels: Vec<usize>,
}

impl TrainSet {
    pub fn new(cache: FrameCache, live: &[bool]) -> Self {
        let readable: Vec<usize> = (0..cache.len())
            .filter(|&i| cache.get(i).is_some())
            .collect();
        let labels = live.iter().map(|&l| usize::from(l)).collect();
        Self {
            cache,
            readable,
            labels,
        }
    }

    /// Batches per epoch: the last incomplete batch is dropped (as DeiT's loader), unless
    /// the split is smaller than one batch.
    pub fn batches(&self, batch_size: usize) -> usize {
        (self.readable.len() / batch_size).max(1)
    }
}

/// The rows of each replica in a batch of `n`: contiguous shares of `ceil(n / replicas)`,
/// the last ones smaller or empty.
pub fn shares(n: usize, replicas: usize) -> Vec<std::ops::Range<usize>> {
    let share = n.div_ceil(replicas.max(1));
    (0..replicas.max(1))
        .map(|r| (r * share).min(n)..((r + 1) * share).min(n))
        .collect()
}

/// How many augmented copies of each image DeiT's repeated-augmentation sampler deals.
pub const REPEATS: usize = 3;

/// The epoch's frame order under DeiT's repeated-augmentation sampler (`RASampler`):
/// the shuffled frames, each repeated [`REPEATS`] times in a row, dealt round-robin to
/// the replicas (replica r takes positions r, r + R, ..., wrapping around); each batch is
/// then every replica's next share. The three copies of an image thus land in the same
/// step on neighbouring replicas (on one replica, in the same batch), each augmented
/// differently. An epoch keeps the usual number of batches, so it sees about a third of
/// the distinct frames (DeiT also rounds the epoch down to a multiple of 256 frames; not
/// done here, so that small sets keep their batches).
pub fn repeated_order(
    shuffled: &[usize],
    replicas: usize,
    batches: usize,
    batch_size: usize,
) -> Vec<usize> {
    let dealt: Vec<usize> = shuffled
        .iter()
        .flat_map(|&i| std::iter::repeat_n(i, REPEATS))
        .collect();
    let replicas = replicas.max(1);
    let rows = shares(batch_size, replicas);
    let mut order = Vec::with_capacity(batches * batch_size);
    for b in 0..batches {
        for (r, range) in rows.iter().enumerate() {
            for j in 0..range.len() {
                let k = b * range.len() + j; // the replica's k-th frame of the epoch
                order.push(dealt[(r + k * replicas) % dealt.len()]);
            }
        }
    }
    order
}

/// A seed for draw `position` of `epoch` (SplitMix64 of the mixed inputs).
pub fn derive_seed(seed: u64, epoch: usize, position: u64) -> u64 {
    let mut z = seed
        ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ position.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The augmented input of one frame.
fn augment_one(
    set: &TrainSet,
    index: usize,
    aug: &Augmentation,
    preprocessing: &Preprocessing,
    rng: &mut StdRng,
) -> Vec<f32> {
    let size = preprocessing.input_size as u32;
    let image = set.cache.image(index).expect("readable frames decode");
    let image = match &aug.random_resized_crop {
        Some(rrc) => rrc.apply(rng, &image),
        // The evaluation geometry: shorter side to size / 0.875, centre crop.
        None => resize_and_crop(&image, preprocessing),
    };
    let image = horizontal_flip(rng, image, aug.hflip);
    let image = match &aug.rand_augment {
        Some(ra) => ra.apply(rng, image),
        None => image,
    };
    let mut input = normalise(&image, preprocessing);
    random_erasing(rng, &mut input, size as usize, aug.reprob);
    input
}

/// Mixup/cutmix of batch `b` (when on) and its soft targets, share by share: each
/// replica's share mixes within itself with its own draw, as each process of a
/// distributed run does. `seed_at(position)` seeds a draw.
fn mix_batch(
    aug: &Augmentation,
    inputs: &mut [Vec<f32>],
    labels: &[usize],
    size: usize,
    replicas: usize,
    seed_at: impl Fn(u64) -> u64,
    b: usize,
) -> Vec<Vec<f32>> {
    let mut targets = Vec::with_capacity(labels.len());
    for (r, rows) in shares(labels.len(), replicas).into_iter().enumerate() {
        // Share 0 keeps the one-device position, so one-device runs are unchanged.
        let position = match r {
            0 => u64::MAX - 1 - b as u64,
            r => (1 << 62) + (b * replicas + r) as u64,
        };
        let mut rng = StdRng::seed_from_u64(seed_at(position));
        targets.extend(if aug.mix && !rows.is_empty() {
            let labels = &labels[rows.clone()];
            aug.mixup.apply(&mut rng, &mut inputs[rows], size, labels).0
        } else {
            aug.mixup.targets(&labels[rows], 1.0)
        });
    }
    targets
}

/// What one epoch of batches is made from.
pub struct EpochPlan<'a> {
    pub set: &'a TrainSet,
    pub augmentation: &'a Augmentation,
    pub preprocessing: &'a Preprocessing,
    pub batch_size: usize,
    pub seed: u64,
    pub epoch: usize,
    /// Batches prepared ahead of the consumer.
    pub prefetch: usize,
    /// Data-parallel replicas the batches are split over (1: one device).
    pub replicas: usize,
    /// DeiT's repeated-augmentation sampler.
    pub repeated_aug: bool,
}

/// Starts producing the batches of `plan.epoch` on a background thread (and the rayon
/// pool), at most `plan.prefetch` ahead of the consumer.
pub fn epoch_batches<'a>(
    scope: &'a std::thread::Scope<'a, '_>,
    plan: EpochPlan<'a>,
) -> Receiver<Batch> {
    let EpochPlan {
        set,
        augmentation: aug,
        preprocessing,
        batch_size,
        seed,
        epoch,
        prefetch,
        replicas,
        repeated_aug,
    } = plan;
    let (sender, receiver) = sync_channel(prefetch.max(1));
    scope.spawn(move || {
        let mut order = set.readable.clone();
        order.shuffle(&mut StdRng::seed_from_u64(derive_seed(
            seed,
            epoch,
            u64::MAX,
        )));
        let size = preprocessing.input_size;
        let batch_size = batch_size.min(order.len());
        let batches = set.batches(batch_size);
        if repeated_aug {
            order = repeated_order(&order, replicas, batches, batch_size);
        }
        for (b, chunk) in order.chunks_exact(batch_size).take(batches).enumerate() {
            let start = (b * batch_size) as u64;
            let mut inputs: Vec<Vec<f32>> = chunk
                .par_iter()
                .enumerate()
                .map(|(i, &index)| {
                    let mut rng = StdRng::seed_from_u64(derive_seed(seed, epoch, start + i as u64));
                    augment_one(set, index, aug, preprocessing, &mut rng)
                })
                .collect();
            let labels: Vec<usize> = chunk.iter().map(|&i| set.labels[i]).collect();
            let targets = mix_batch(
                aug,
                &mut inputs,
                &labels,
                size,
                replicas,
                |position| derive_seed(seed, epoch, position),
                b,
            );
            let batch = Batch {
                len: chunk.len(),
                images: inputs.concat(),
                targets: targets.concat(),
            };
            if sender.send(batch).is_err() {
                return; // the consumer stopped (an error or a non-finite loss)
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_contiguous_and_cover_the_batch() {
        assert_eq!(shares(16, 3), vec![0..6, 6..12, 12..16]);
        assert_eq!(shares(2, 3), vec![0..1, 1..2, 2..2]);
        assert_eq!(shares(5, 1), vec![0..5]);
    }

    /// Hand-dealt like DeiT's `RASampler` (repeat each index 3 times, replica r takes
    /// every R-th from r) with per-replica batches of 2.
    #[test]
    fn repeated_order_deals_copies_like_deits_sampler() {
        // [10, 10, 10, 11, 11, 11, 12, 12, 12, 13, 13, 13]: replica 0 takes
        // 10 10 11 12 12 13, replica 1 takes 10 11 11 12 13 13.
        let order = repeated_order(&[10, 11, 12, 13], 2, 3, 4);
        assert_eq!(order, [10, 10, 10, 11, 11, 12, 11, 12, 12, 13, 13, 13]);
        // One replica: the copies of a frame in a row, in one batch.
        let order = repeated_order(&[10, 11, 12, 13], 1, 2, 3);
        assert_eq!(order, [10, 10, 10, 11, 11, 11]);
    }

    #[test]
    fn mixup_pairs_rows_within_each_replicas_share() {
        let aug = Augmentation {
            random_resized_crop: None,
            hflip: 0.0,
            rand_augment: None,
            reprob: 0.0,
            mixup: Mixup {
                mixup_alpha: 0.8,
                cutmix_alpha: 0.0,
                switch_prob: 0.5,
                label_smoothing: 0.0,
                num_classes: 2,
            },
            mix: true,
        };
        // Eight one-pixel "images" (size 1, 3 channels) with values 0..8.
        let original: Vec<Vec<f32>> = (0..8).map(|i| vec![i as f32; 3]).collect();
        let labels = [1, 1, 1, 0, 0, 0, 0, 1];
        for replicas in [1, 2] {
            let mut inputs = original.clone();
            let targets = mix_batch(&aug, &mut inputs, &labels, 1, replicas, |p| p, 0);
            for rows in shares(8, replicas) {
                let (first, last) = (rows.start, rows.end - 1);
                // Row j mixes with row (last - j) of its own share: lam x_j + (1-lam) x_k.
                let lam = |j: usize| {
                    let k = first + last - j;
                    (inputs[j][0] - k as f32) / (j as f32 - k as f32)
                };
                let l = lam(first);
                assert!(l > 0.0 && l < 1.0, "lam {l}");
                for j in rows.clone().filter(|&j| 2 * j != first + last) {
                    assert!((lam(j) - l).abs() < 1e-5, "replicas {replicas}: row {j}");
                    let k = first + last - j;
                    let live = l * labels[j] as f32 + (1.0 - l) * labels[k] as f32;
                    assert!((targets[j][1] - live).abs() < 1e-5, "row {j}: {targets:?}");
                }
            }
        }
    }
}
