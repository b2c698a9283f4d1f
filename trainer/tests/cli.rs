//! The `trainer` binary end to end: import -> export -> infer / bench, and its errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("trainer runs")
}

fn ok(args: &[&str]) -> String {
    let out = trainer(args);
    assert!(
        out.status.success(),
        "trainer {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = trainer(args);
    assert!(!out.status.success(), "trainer {args:?} should have failed");
    String::from_utf8(out.stderr).unwrap()
}

fn imported_tiny(dir: &Path) -> PathBuf {
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

#[test]
fn import_export_infer_json() {
    let dir = tempfile::tempdir().unwrap();
    let model = imported_tiny(dir.path());
    let int8 = dir.path().join("tiny-int8.safetensors");
    let stdout = ok(&[
        "export",
        "--model",
        model.to_str().unwrap(),
        "--dtype",
        "int8",
        "--out",
        int8.to_str().unwrap(),
    ]);
    assert!(stdout.contains("int8"), "{stdout}");

    let photo = fixtures().join("preprocess/astronaut.png");
    let photo = photo.to_str().unwrap();
    let stdout = ok(&[
        "infer",
        "--backend",
        "cpu",
        "--no-detect",
        "--json",
        "--model",
        int8.to_str().unwrap(),
        photo,
        photo,
    ]);
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one line per image: {stdout}");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["image"], photo);
        let logits: Vec<f64> = serde_json::from_value(v["logits"].clone()).unwrap();
        assert_eq!(logits.len(), 2);
        let score = v["live_score"].as_f64().unwrap();
        let softmax = 1.0 / (1.0 + (logits[0] - logits[1]).exp());
        assert!((score - softmax).abs() < 1e-5, "{score} vs {softmax}");
        let threshold = v["threshold"].as_f64().unwrap();
        let label = if score >= threshold { "live" } else { "attack" };
        assert_eq!(v["label"], label);
    }
}

#[test]
fn bench_reports_timings_as_json_and_auto_never_crashes_without_a_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let model = imported_tiny(dir.path());
    let stdout = ok(&[
        "bench",
        "--model",
        model.to_str().unwrap(),
        "--batch",
        "2",
        "--iters",
        "3",
        "--warmup",
        "1",
        "--threads",
        "1",
        "--json",
        "--backend",
        "auto",
    ]);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["impl"], "burn");
    assert_eq!(v["batch"], 2);
    assert_eq!(v["iters"], 3);
    assert_eq!(v["threads"], 1);
    let (median, p90) = (
        v["median_ms"].as_f64().unwrap(),
        v["p90_ms"].as_f64().unwrap(),
    );
    assert!(median > 0.0 && p90 >= median, "{v}");
    let throughput = v["throughput_img_s"].as_f64().unwrap();
    assert!(
        (throughput - 2000.0 / median).abs() < 1e-6 * throughput,
        "{v}"
    );
}

#[test]
fn damaged_and_mismatched_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let photo = fixtures().join("preprocess/astronaut.png");

    // A truncated model file.
    let model = imported_tiny(dir.path());
    let bytes = std::fs::read(&model).unwrap();
    let broken = dir.path().join("broken.safetensors");
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let stderr = fails(&[
        "infer",
        "--backend",
        "cpu",
        "--no-detect",
        "--model",
        broken.to_str().unwrap(),
        photo.to_str().unwrap(),
    ]);
    assert!(stderr.contains("broken.safetensors"), "{stderr}");

    // An image that is not an image.
    let not_image = dir.path().join("notes.png");
    std::fs::write(&not_image, b"not a picture").unwrap();
    let stderr = fails(&[
        "infer",
        "--backend",
        "cpu",
        "--no-detect",
        "--model",
        model.to_str().unwrap(),
        not_image.to_str().unwrap(),
    ]);
    assert!(stderr.contains("notes.png"), "{stderr}");

    // A checkpoint of another architecture.
    let tiny_pth = fixtures().join("timm_tiny/checkpoint.pth");
    let stderr = fails(&[
        "import",
        "--pytorch",
        tiny_pth.to_str().unwrap(),
        "--model",
        "deit_tiny_patch16_224",
        "--out",
        dir.path().join("x.safetensors").to_str().unwrap(),
    ]);
    assert!(
        stderr.contains("does not match deit_tiny_patch16_224"),
        "{stderr}"
    );

    // Export never overwrites its input.
    let stderr = fails(&[
        "export",
        "--model",
        model.to_str().unwrap(),
        "--dtype",
        "f16",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(stderr.contains("is the input file"), "{stderr}");
}
