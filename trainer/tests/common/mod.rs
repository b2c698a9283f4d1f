//! Helpers shared by the `trainer` binary's integration tests.
#![allow(dead_code)] // each test binary uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tests/fixtures/` of the workspace.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Runs the `trainer` binary.
pub fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("trainer runs")
}

/// Runs `trainer`, asserts success and returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = trainer(args);
    assert!(
        out.status.success(),
        "trainer {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `trainer`, asserts failure and returns its stderr.
pub fn fails(args: &[&str]) -> String {
    let out = trainer(args);
    assert!(!out.status.success(), "trainer {args:?} should have failed");
    String::from_utf8(out.stderr).unwrap()
}

/// The DeiT-Tiny timm fixture imported into `dir/tiny.safetensors`.
pub fn imported_tiny(dir: &Path) -> PathBuf {
    let checkpoint = fixtures().join("deit_tiny/checkpoint.safetensors");
    let out = dir.join("tiny.safetensors");
    ok(&[
        "import",
        "--pytorch",
        checkpoint.to_str().unwrap(),
        "--model",
        "deit_tiny_patch16_224",
        "--out",
        out.to_str().unwrap(),
    ]);
    out
}
