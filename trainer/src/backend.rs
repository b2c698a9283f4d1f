//! Run-time choice of the Burn device: `--backend auto|cuda|wgpu|cpu`.
//!
//! Backends are probed before use: touching a CUDA or wgpu device that does not exist
//! panics on Burn's device thread and leaves the device unusable, so nothing is created
//! until the probe says it works.

use anyhow::{Result, bail};
use burn::tensor::{Device, FloatDType};
use clap::{Args, ValueEnum};
use serde::Serialize;

/// The backend a user asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum BackendChoice {
    /// The best that works here: CUDA, then a hardware wgpu adapter, then the CPU.
    #[default]
    Auto,
    /// NVIDIA GPU through Burn's CUDA backend (build with `--features cuda`).
    Cuda,
    /// Any Vulkan / Metal / DX12 GPU through Burn's wgpu backend.
    Wgpu,
    /// Burn's flex CPU backend (multi-threaded, SIMD).
    Cpu,
}

impl BackendChoice {
    /// The flag value naming this choice.
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Cuda => "cuda",
            BackendChoice::Wgpu => "wgpu",
            BackendChoice::Cpu => "cpu",
        }
    }
}

/// The precision of the matrix products in training (`--precision`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Everything in f32.
    #[default]
    F32,
    /// Mixed precision: matrix products in bfloat16 (f32's range, so no loss scaling),
    /// parameters, optimiser state, norms, softmax and losses in f32. For GPUs with bf16
    /// units (CUDA sm80+); on the CPU backend it is slower than f32.
    Bf16,
}

impl Precision {
    /// The dtype the model's matrix products run in.
    pub fn compute_dtype(self) -> FloatDType {
        match self {
            Precision::F32 => FloatDType::F32,
            Precision::Bf16 => FloatDType::BF16,
        }
    }

    /// The flag value naming this precision.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        }
    }

    /// Fails clearly when `selected` cannot compute in this precision.
    pub fn check(self, selected: &SelectedDevice) -> Result<()> {
        let name = self.name();
        if !selected.device.supports_dtype(self.compute_dtype()) {
            bail!(
                "--precision {name} needs {name} support, which {} lacks; use --precision f32",
                selected.description
            );
        }
        if self != Precision::F32 && selected.backend == "cpu" {
            tracing::warn!(
                "--precision {name} on the CPU backend emulates {name} products through f32: \
                 slower than f32, meant for GPUs"
            );
        }
        Ok(())
    }
}

/// A device ready for use and a human description of it.
#[derive(Clone, Debug)]
pub struct SelectedDevice {
    pub device: Device,
    /// `cpu`, `wgpu` or `cuda`.
    pub backend: &'static str,
    /// What was found, e.g. `wgpu (Vulkan, NVIDIA H200, discrete)`.
    pub description: String,
}

/// The `--backend` flag every command that computes takes.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct BackendArgs {
    /// Compute backend; `auto` takes CUDA, then a hardware wgpu GPU, then the CPU.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
}

/// [`select`] for a command's `--backend`, logging the choice.
pub fn select_device(args: BackendArgs) -> Result<SelectedDevice> {
    let selected = select(args.backend)?;
    tracing::info!("backend: {}", selected.description);
    Ok(selected)
}

/// Picks and initialises the device for `choice`.
pub fn select(choice: BackendChoice) -> Result<SelectedDevice> {
    match choice {
        BackendChoice::Cpu => Ok(cpu()),
        BackendChoice::Cuda => cuda(),
        BackendChoice::Wgpu => wgpu(false),
        BackendChoice::Auto => {
            if let Ok(device) = cuda() {
                return Ok(device);
            }
            match wgpu(true) {
                Ok(device) => Ok(device),
                Err(err) => {
                    tracing::debug!("wgpu not used: {err:#}");
                    Ok(cpu())
                }
            }
        }
    }
}

fn cpu() -> SelectedDevice {
    #[cfg(not(target_family = "wasm"))]
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    SelectedDevice {
        device: Device::flex(),
        backend: "cpu",
        description: format!("cpu (flex, {threads} threads)"),
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<SelectedDevice> {
    use burn::tensor::DeviceType;
    let count = Device::enumerate(DeviceType::Cuda).len();
    if count == 0 {
        bail!("no CUDA device found (no NVIDIA GPU or driver)");
    }
    Ok(SelectedDevice {
        device: Device::cuda(0),
        backend: "cuda",
        description: format!("cuda:0 ({count} CUDA device(s) found)"),
    })
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<SelectedDevice> {
    bail!(
        "this trainer was built without CUDA; rebuild with `--features cuda` (see docs/training.md)"
    )
}

/// The devices of `--devices INDICES` for data-parallel training on the backend of
/// `selected`: CUDA devices by index, or the one CPU device (index 0). An index may
/// repeat: two replicas on one device run the same code path as two devices do.
pub fn replica_devices(selected: &SelectedDevice, indices: &[usize]) -> Result<Vec<Device>> {
    match selected.backend {
        "cuda" => cuda_devices(indices),
        "cpu" => {
            if let Some(bad) = indices.iter().find(|&&i| i != 0) {
                bail!("--devices: the CPU backend has one device, 0 (got {bad})");
            }
            if indices.len() > 1 {
                tracing::warn!(
                    "--devices: {} replicas share the one CPU device: this runs the \
                     data-parallel path (for testing), not faster",
                    indices.len()
                );
            }
            Ok(vec![selected.device.clone(); indices.len()])
        }
        other => bail!(
            "--devices: data-parallel training runs on CUDA devices (or on the CPU's one \
             device), not on {other}; use --backend cuda"
        ),
    }
}

/// Every device of the backend of `selected` (`--distributed`): all CUDA devices, else
/// the selected device alone.
pub fn all_devices(selected: &SelectedDevice) -> Result<Vec<Device>> {
    match selected.backend {
        "cuda" => {
            let count = cuda_device_count();
            cuda_devices(&(0..count).collect::<Vec<_>>())
        }
        _ => Ok(vec![selected.device.clone()]),
    }
}

#[cfg(feature = "cuda")]
fn cuda_device_count() -> usize {
    Device::enumerate(burn::tensor::DeviceType::Cuda).len()
}

#[cfg(not(feature = "cuda"))]
fn cuda_device_count() -> usize {
    0
}

#[cfg(feature = "cuda")]
fn cuda_devices(indices: &[usize]) -> Result<Vec<Device>> {
    let count = cuda_device_count();
    if let Some(bad) = indices.iter().find(|&&i| i >= count) {
        bail!("--devices: CUDA device {bad} does not exist ({count} found)");
    }
    Ok(indices.iter().map(|&i| Device::cuda(i)).collect())
}

#[cfg(not(feature = "cuda"))]
fn cuda_devices(_indices: &[usize]) -> Result<Vec<Device>> {
    bail!("--devices: this trainer was built without CUDA; rebuild with `--features cuda`")
}

#[cfg(feature = "wgpu")]
fn wgpu(hardware_only: bool) -> Result<SelectedDevice> {
    use burn::tensor::wgpu::wgpu::DeviceType;
    let (device, setup) = Device::wgpu_options()
        .init_with_setup()
        .map_err(|err| anyhow::anyhow!("no wgpu adapter: {err}"))?;
    let info = setup.adapter.get_info();
    if hardware_only && info.device_type == DeviceType::Cpu {
        // A software rasteriser (llvmpipe, lavapipe) is far slower than the CPU backend.
        bail!("wgpu adapter {} is a software renderer", info.name);
    }
    Ok(SelectedDevice {
        device,
        backend: "wgpu",
        description: format!(
            "wgpu ({:?}, {}, {:?})",
            info.backend, info.name, info.device_type
        ),
    })
}

#[cfg(not(feature = "wgpu"))]
fn wgpu(_hardware_only: bool) -> Result<SelectedDevice> {
    bail!("this trainer was built without wgpu; rebuild with `--features wgpu`")
}
