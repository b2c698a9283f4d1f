//! The native HaTFAS trainer: model import/export, inference and benchmarks on Burn
//! (CPU, wgpu or CUDA chosen at run time). The binary is a thin wrapper around [`cli`].

pub mod augment;
pub mod backend;
pub mod bench;
pub mod cache;
pub mod cli;
pub mod data;
pub mod detect;
pub mod distill;
pub mod eval;
pub mod export;
pub mod group_metrics;
pub mod import;
pub mod infer;
pub mod metrics;
pub mod model;
pub mod onnx_graph;
pub mod onnx_import;
pub mod plots;
pub mod prepare;
pub mod provenance;
pub mod quickstart;
pub mod randaugment;
pub mod synth;
pub mod train;
