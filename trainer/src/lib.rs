//! The native HaTFAS trainer on Burn (CPU, wgpu or CUDA chosen at run time), grouped by
//! stage: [`data`] (datasets, caching, augmentation, `prepare`), [`train`] (the teacher
//! and the head-aware distillation), [`eval`] (protocol metrics, reports, plots) and
//! [`weights`] (import and export of model files); the synthetic data is the `synth`
//! crate. The commands that use a trained model ([`infer`], [`detect`], [`bench`]) and the
//! one-command [`quickstart`] sit beside them. The binary is a thin wrapper around [`cli`].

pub(crate) mod backend;
pub(crate) mod bench;
pub mod cli;
pub mod data;
pub mod detect;
pub mod eval;
pub mod infer;
pub mod model;
pub(crate) mod provenance;
pub(crate) mod quickstart;
pub mod spec;
pub mod train;
pub mod weights;
