//! The training data pipeline: frames from the decoded-frame cache, augmented on worker
//! threads (random resized crop, flip, RandAugment, normalisation, random erasing, then
//! mixup/cutmix per batch) while the device runs the previous batch.
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

use crate::augment::{Mixup, RandomResizedCrop, horizontal_flip, random_erasing};
use crate::cache::FrameCache;
use crate::randaugment::RandAugment;

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
        for (b, chunk) in order
            .chunks_exact(batch_size)
            .take(set.batches(batch_size))
            .enumerate()
        {
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
            let mut rng = StdRng::seed_from_u64(derive_seed(seed, epoch, u64::MAX - 1 - b as u64));
            let targets = if aug.mix {
                aug.mixup.apply(&mut rng, &mut inputs, size, &labels).0
            } else {
                aug.mixup.targets(&labels, 1.0)
            };
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
