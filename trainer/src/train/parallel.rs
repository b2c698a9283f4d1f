//! Data-parallel training on several devices (`--devices`) through burn-train's
//! multi-device strategy: its per-device workers (`MultiDevicesTrainStep`) each take a
//! share of the batch, run the forward and backward passes on their device and return
//! the gradients; these are then reduced as burn-train's `MultiDeviceOptim` modes do it:
//!
//! - `OptimSharded` (the default): `ModuleOptimizer::step_multi` sums each parameter's
//!   gradients on one device of the set and updates it there, spreading the optimiser's
//!   work and state over the devices;
//! - `OptimMainDevice` (with `--clip-grad`): the gradients are summed on the main device,
//!   where the global norm can be taken over all of them before the update.
//!
//! burn-train's `Learner` itself is not used: it has no model EMA, no best model by dev
//! ACER and no resume of the random state, which the HaTFAS recipe needs.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use burn::data::dataloader::{DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams, MultiGradientsParams};
use burn::tensor::{Device, FloatDType};
use burn_train::train::MultiDevicesTrainStep;
use burn_train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};
use model_format::vit::Vit;

use super::loader;
use super::objective::{LossValues, Objective, batch_tensors, loss, read_parts};

/// What every replica needs besides the network's parameters.
struct Shared {
    /// The autodiff device of each replica.
    devices: Vec<Device>,
    /// Each replica's objective, its frozen teacher on that replica's device.
    objectives: Vec<Objective>,
    compute: FloatDType,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} replica(s)", self.devices.len())
    }
}

/// The network as burn-train's workers see it: the parameters being trained (forked to
/// each worker's device every step) and the replicas' shared, frozen context.
#[derive(Module, Debug)]
pub struct Replica {
    network: Vit,
    #[module(skip)]
    shared: Arc<Shared>,
}

/// One replica's share of a batch.
pub struct Shard {
    replica: usize,
    images: Vec<f32>,
    targets: Vec<f32>,
    size: usize,
    /// The share's fraction of the batch: its loss is weighted by it, so that the summed
    /// gradients are those of the whole batch's mean loss.
    weight: f32,
}

/// A shard's loss parts (total, base, logit, feature), weighted by its share.
pub struct ShardLoss {
    replica: usize,
    parts: LossValues,
}

impl ItemLazy for ShardLoss {
    fn sync(self) -> Result<Self, burn_std::ExecutionError> {
        Ok(self) // read back on the worker already
    }
}

impl Replica {
    /// The loss parts of `shard` on its replica's device, and the total to differentiate.
    fn shard_loss(&self, shard: Shard) -> (ShardLoss, burn::tensor::Tensor<1>) {
        let device = &self.shared.devices[shard.replica];
        let (inputs, targets) = batch_tensors(shard.images, shard.targets, shard.size, device);
        let parts = loss(
            &self.network,
            &self.shared.objectives[shard.replica],
            inputs,
            targets,
            self.shared.compute,
        );
        // A failed read is a device failure: burn-train reports a worker's panic with
        // its device.
        let values = read_parts(&parts, shard.weight).expect("reading the loss back");
        let total = parts.total.mul_scalar(shard.weight);
        let replica = shard.replica;
        (
            ShardLoss {
                replica,
                parts: values,
            },
            total,
        )
    }
}

impl TrainStep for Replica {
    type Input = Shard;
    type Output = ShardLoss;

    fn step(&self, shard: Shard) -> TrainOutput<ShardLoss> {
        let (item, total) = self.shard_loss(shard);
        TrainOutput::new(self, total.backward(), item)
    }
}

impl InferenceStep for Replica {
    type Input = Shard;
    type Output = ShardLoss;

    fn step(&self, shard: Shard) -> ShardLoss {
        self.shard_loss(shard).0
    }
}

/// burn-train's workers pull their input from data-loader iterators; each step hands
/// every worker an iterator over its one shard.
struct OneShard(Option<Shard>);

impl Iterator for OneShard {
    type Item = Result<Shard, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.take().map(Ok)
    }
}

impl DataLoaderIterator<Shard> for OneShard {
    fn progress(&self) -> Progress {
        Progress::new(usize::from(self.0.is_none()), 1, None)
    }
}

/// A step's gradients, ready for the optimiser.
#[allow(clippy::large_enum_variant)] // one per step, moved once
pub enum Gradients {
    /// All of them on one device (one replica, or summed on the main device).
    Single(GradientsParams),
    /// Each replica's, for the sharded update.
    Sharded(MultiGradientsParams),
}

/// The replicas of one training run.
pub struct DataParallel {
    workers: MultiDevicesTrainStep<Replica>,
    shared: Arc<Shared>,
    /// Sum the gradients on the main device (`OptimMainDevice`) rather than sharded.
    on_main_device: bool,
}

impl DataParallel {
    /// Workers on `devices` (non-autodiff; an index may repeat), each with its copy of
    /// `objective`.
    pub fn new(
        devices: &[Device],
        objective: &Objective,
        compute: FloatDType,
        on_main_device: bool,
    ) -> Self {
        let objectives = devices.iter().map(|d| objective.on_device(d)).collect();
        let devices: Vec<Device> = devices.iter().map(|d| d.clone().autodiff()).collect();
        Self {
            workers: MultiDevicesTrainStep::new(&devices),
            shared: Arc::new(Shared {
                devices,
                objectives,
                compute,
            }),
            on_main_device,
        }
    }

    pub fn replicas(&self) -> usize {
        self.shared.devices.len()
    }

    /// Splits `batch` into its replicas' shares ([`loader::shares`]), runs them and
    /// returns the batch's loss parts (total, base, logit, feature) and its gradients.
    pub fn step(
        &self,
        network: &Vit,
        batch: &loader::Batch,
        size: usize,
    ) -> Result<(LossValues, Gradients)> {
        let n = batch.len;
        let (pixels, classes) = (3 * size * size, crate::spec::NUM_CLASSES);
        let mut inputs: Vec<Box<dyn DataLoaderIterator<Shard>>> =
            loader::shares(n, self.replicas())
                .into_iter()
                .enumerate()
                .map(|(replica, rows)| {
                    let shard = (!rows.is_empty()).then(|| Shard {
                        replica,
                        images: batch.images[rows.start * pixels..rows.end * pixels].to_vec(),
                        targets: batch.targets[rows.start * classes..rows.end * classes].to_vec(),
                        size,
                        weight: rows.len() as f32 / n as f32,
                    });
                    Box::new(OneShard(shard)) as Box<dyn DataLoaderIterator<Shard>>
                })
                .collect();
        let replica = Replica {
            network: network.clone(),
            shared: self.shared.clone(),
        };
        let (outputs, _) = self
            .workers
            .step(&mut inputs, &replica)
            .map_err(|err| anyhow!("data-parallel step: {err}"))?;

        // Replicas answer in any order; sum in replica order so that runs repeat exactly.
        let mut outputs: Vec<_> = outputs.into_iter().map(|o| o.output).collect();
        outputs.sort_by_key(|o| o.item.replica);
        let mut parts = LossValues::default();
        for output in &outputs {
            parts += output.item.parts;
        }
        let gradients = if self.on_main_device {
            let main = &self.shared.devices[0];
            let mut accumulator = GradientsAccumulator::<Vit>::new();
            for output in outputs {
                accumulator.accumulate(network, output.grads.to_device(main, network));
            }
            Gradients::Single(accumulator.grads())
        } else {
            let mut grads = MultiGradientsParams::default();
            for output in outputs {
                let device = self.shared.devices[output.item.replica].clone();
                grads.grads.push((output.grads, device));
            }
            Gradients::Sharded(grads)
        };
        Ok((parts, gradients))
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Distribution, Tensor};

    use super::*;
    use crate::train::distill::HatfasLossConfig;

    const SIZE: usize = 16;

    fn vit(spec: &str, device: &Device) -> Vit {
        Vit::new(&crate::spec::model_config(spec, None).unwrap(), device)
    }

    /// A batch of `n` random images with one-hot targets, alternating classes.
    fn batch(n: usize) -> loader::Batch {
        let device = Device::flex();
        let images = Tensor::<4>::random([n, 3, SIZE, SIZE], Distribution::Default, &device);
        let targets = (0..n).flat_map(|i| [(i % 2) as f32, ((i + 1) % 2) as f32]);
        loader::Batch {
            images: images.into_data().try_to_vec().unwrap(),
            targets: targets.collect(),
            len: n,
        }
    }

    /// The loss parts and two parameters' gradients of `rows` of `batch` alone, its loss
    /// weighted by `weight`: what one replica of the reference's DDP computes.
    fn share(
        network: &Vit,
        objective: &Objective,
        batch: &loader::Batch,
        rows: std::ops::Range<usize>,
        weight: f32,
    ) -> (LossValues, Vec<f32>, Vec<f32>) {
        let (pixels, classes) = (3 * SIZE * SIZE, 2);
        let (inputs, targets) = batch_tensors(
            batch.images[rows.start * pixels..rows.end * pixels].to_vec(),
            batch.targets[rows.start * classes..rows.end * classes].to_vec(),
            SIZE,
            &Device::flex().autodiff(),
        );
        let parts = loss(network, objective, inputs, targets, FloatDType::F32);
        let values = read_parts(&parts, weight).unwrap();
        let grads = GradientsParams::from_grads(parts.total.mul_scalar(weight).backward(), network);
        let (head, pos) = parameter_grads(network, &grads);
        (values, head, pos)
    }

    fn parameter_grads(network: &Vit, grads: &GradientsParams) -> (Vec<f32>, Vec<f32>) {
        let read = |data: burn::tensor::TensorData| data.try_to_vec::<f32>().unwrap();
        (
            read(grads.get::<2>(network.head.weight.id).unwrap().into_data()),
            read(grads.get::<3>(network.pos_embed.id).unwrap().into_data()),
        )
    }

    fn assert_close(what: &str, a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        let scale = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x - y).abs() <= 1e-5 * scale.max(1.0),
                "{what}: {a:?} vs {b:?}"
            );
        }
    }

    /// Each replica computes the HaTFAS loss of its own share, its head correlation matrix
    /// C from that share alone, as each process of the reference's DistributedDataParallel
    /// does; the parts and gradients are the shares' sums weighted by their sizes.
    #[test]
    fn replicas_compute_the_loss_of_their_own_share_as_ddp_does() {
        let device = Device::flex();
        device.seed(3);
        let student = vit(
            "custom:img=16,patch=8,dim=24,depth=2,heads=2",
            &device.clone().autodiff(),
        );
        let teacher = vit("custom:img=16,patch=8,dim=32,depth=2,heads=2", &device);
        let hatfas = HatfasLossConfig::new()
            .with_s_ids(vec![0, 1])
            .with_t_ids(vec![1, 1])
            .init();
        let objective = Objective::Distill {
            teacher: Box::new(teacher),
            loss: hatfas.unwrap(),
        };
        let batch = batch(7);

        // Shares of 7 over 3 replicas: 3, 3 and 1.
        let shares = [(0..3, 3.0 / 7.0), (3..6, 3.0 / 7.0), (6..7, 1.0 / 7.0)];
        let mut expected = (LossValues::default(), vec![0.0f32; 0], vec![0.0f32; 0]);
        for (rows, weight) in shares {
            let (parts, head, pos) = share(&student, &objective, &batch, rows, weight);
            let add = |sum: &mut Vec<f32>, v: Vec<f32>| {
                sum.resize(v.len(), 0.0);
                sum.iter_mut().zip(v).for_each(|(s, x)| *s += x);
            };
            expected.0 += parts;
            add(&mut expected.1, head);
            add(&mut expected.2, pos);
        }

        let cpu = vec![device.clone(); 3];
        for on_main_device in [true, false] {
            let parallel = DataParallel::new(&cpu, &objective, FloatDType::F32, on_main_device);
            let (parts, gradients) = parallel.step(&student, &batch, SIZE).unwrap();
            assert_close("loss parts", &parts.to_array(), &expected.0.to_array());
            let grads = match gradients {
                Gradients::Single(grads) => {
                    assert!(on_main_device);
                    grads
                }
                Gradients::Sharded(mut multi) => {
                    assert!(!on_main_device);
                    assert_eq!(multi.grads.len(), 3);
                    // Sum the replicas' gradients as the sharded update does.
                    let mut accumulator = GradientsAccumulator::<Vit>::new();
                    for (grads, _) in multi.grads.drain(..) {
                        accumulator.accumulate(&student, grads);
                    }
                    accumulator.grads()
                }
            };
            let (head, pos) = parameter_grads(&student, &grads);
            assert_close("head gradient", &head, &expected.1);
            assert_close("pos_embed gradient", &pos, &expected.2);
        }

        // The whole batch at once has another feature loss: C is a statistic of the batch.
        let (whole, _, _) = share(&student, &objective, &batch, 0..7, 1.0);
        assert!(
            (whole.feature - expected.0.feature).abs() > 1e-3 * whole.feature,
            "feature loss {} vs {}",
            whole.feature,
            expected.0.feature
        );
    }
}
