//! The `trainer` binary end to end: import -> export -> infer / bench, and its errors.

mod common;

use common::{fails, fixtures, imported_tiny, ok};

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

#[test]
fn detect_json_reports_every_face() {
    let group = fixtures().join("mtcnn/group.png");
    let coffee = fixtures().join("mtcnn/coffee.png");
    let stdout = ok(&[
        "detect",
        "--backend",
        "cpu",
        "--json",
        group.to_str().unwrap(),
        coffee.to_str().unwrap(),
    ]);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["image"], group.to_str().unwrap());
    let faces = lines[0]["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 2, "{stdout}");
    // facenet-pytorch's boxes for this frame (tests/fixtures/mtcnn/detections.json).
    for (face, want) in faces
        .iter()
        .zip([[113.4, 119.0, 168.4, 189.0], [449.9, 161.5, 481.6, 204.3]])
    {
        let got: Vec<f64> = serde_json::from_value(face["box"].clone()).unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 0.1, "{got:?} vs {want:?}");
        }
        assert!(face["prob"].as_f64().unwrap() > 0.99);
        assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);
    }
    assert_eq!(
        lines[1]["faces"].as_array().unwrap().len(),
        0,
        "no face in the coffee photo"
    );
}

#[test]
fn infer_classifies_the_detected_face_crop() {
    use burn::tensor::Device;
    use model_format::crop::{CROP_SIZE, DEFAULT_MARGIN, face_crop};
    use model_format::preprocess::{ImageView, batch_tensor, preprocess};

    let dir = tempfile::tempdir().unwrap();
    let model = imported_tiny(dir.path());
    let coffee = fixtures().join("mtcnn/coffee.png");
    let photo = fixtures().join("preprocess/astronaut.png");
    let stdout = ok(&[
        "infer",
        "--backend",
        "cpu",
        "--json",
        "--model",
        model.to_str().unwrap(),
        coffee.to_str().unwrap(),
        photo.to_str().unwrap(),
    ]);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["label"], "no_face");
    assert!(lines[0]["logits"].is_null() && lines[0]["face"].is_null());

    // The same pipeline through the library: detect, crop, preprocess, classify.
    let device = Device::flex();
    let loaded = trainer::model::LoadedModel::read(&model, &device).unwrap();
    let detector = trainer::detect::load_detector(None, &device).unwrap();
    let image = image::open(&photo).unwrap().to_rgb8();
    let face = trainer::detect::detect(&detector, &image, "astronaut").unwrap()[0].clone();
    let crop = face_crop(&image, face.bbox, DEFAULT_MARGIN, CROP_SIZE);
    let preprocessing = &loaded.liveness.preprocessing;
    let input = preprocess(ImageView::from(&crop), preprocessing).unwrap();
    let want = trainer::model::read_logits(loaded.liveness.vit.forward(batch_tensor(
        &[input],
        preprocessing.input_size,
        &device,
    )))
    .unwrap();

    let got: Vec<f32> = serde_json::from_value(lines[1]["logits"].clone()).unwrap();
    for (g, w) in got.iter().zip(&want[0]) {
        assert!((g - w).abs() < 1e-4, "{got:?} vs {want:?}");
    }
    let got_box: Vec<f32> = serde_json::from_value(lines[1]["face"]["box"].clone()).unwrap();
    assert_eq!(got_box, face.bbox.to_vec());
}

/// The wgpu backend against the CPU: same logits, same faces. Opt-in (`cargo test
/// --release -p trainer --test cli -- --ignored`): on a machine without a GPU it runs on a
/// software Vulkan driver and takes about a minute of shader compilation.
#[test]
#[ignore = "needs a wgpu adapter (a GPU or software Vulkan); slow without a GPU"]
fn wgpu_matches_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let model = imported_tiny(dir.path());
    let photo = fixtures().join("preprocess/astronaut.png");
    let run = |backend: &str| -> serde_json::Value {
        let stdout = ok(&[
            "infer",
            "--backend",
            backend,
            "--json",
            "--model",
            model.to_str().unwrap(),
            photo.to_str().unwrap(),
        ]);
        serde_json::from_str(stdout.trim()).unwrap()
    };
    let (cpu, gpu) = (run("cpu"), run("wgpu"));
    let logits = |v: &serde_json::Value| -> Vec<f64> {
        serde_json::from_value(v["logits"].clone()).unwrap()
    };
    for (a, b) in logits(&cpu).iter().zip(logits(&gpu)) {
        assert!((a - b).abs() < 1e-4, "cpu {cpu} vs wgpu {gpu}");
    }
    let boxes = |v: &serde_json::Value| -> Vec<f64> {
        serde_json::from_value(v["face"]["box"].clone()).unwrap()
    };
    for (a, b) in boxes(&cpu).iter().zip(boxes(&gpu)) {
        assert!((a - b).abs() < 0.01, "cpu {cpu} vs wgpu {gpu}");
    }
}
