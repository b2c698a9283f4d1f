//! `trainer prepare` end to end: a short video made here with ffmpeg from a public-domain
//! face photo, a face-free video and a folder of frames -> the dataset layout.

use std::path::Path;
use std::process::Command;

mod common;
use common::{fails, fixtures, imported_tiny, ok};

/// A `seconds`-long 10 fps video of a still, slowly zoomed so that frames differ.
fn make_video(still: &Path, seconds: &str, out: &Path) {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-i"])
        .arg(still)
        .args([
            "-t",
            seconds,
            "-r",
            "10",
            "-vf",
            "scale=320:-2,zoompan=z='1+0.01*on':d=1:s=320x320",
        ])
        .args(["-pix_fmt", "yuv420p"])
        .arg(out)
        .status()
        .expect("ffmpeg must be installed for this test (scripts/test.sh installs it)");
    assert!(status.success());
}

fn prepare(input: &Path, output: &Path) -> String {
    ok(&[
        "prepare",
        "--backend",
        "cpu",
        "--every",
        "4",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ])
}

#[test]
fn videos_and_frame_folders_become_the_dataset_layout() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    make_video(
        &fixtures().join("preprocess/astronaut.png"),
        "2",
        &input.join("train/true/astronaut.mp4"),
    );
    make_video(
        &fixtures().join("mtcnn/coffee.png"),
        "1",
        &input.join("test/attack/coffee.mp4"),
    );
    let frames = input.join("val/true/cameraman");
    std::fs::create_dir_all(&frames).unwrap();
    std::fs::copy(fixtures().join("mtcnn/camera.png"), frames.join("0001.png")).unwrap();

    let stdout = prepare(&input, &output);
    // 20 frames, every 4th: 0, 4, 8, 12, 16 with a face; 10 coffee frames: 0, 4, 8 without.
    assert!(
        stdout.contains("6 face crops from 9 frames (3 frames without a face"),
        "{stdout}"
    );
    let astronaut = output.join("train/true/astronaut");
    let mut names: Vec<String> = std::fs::read_dir(&astronaut)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".prepared",
            "00000.png",
            "00004.png",
            "00008.png",
            "00012.png",
            "00016.png"
        ]
    );
    let crop = image::open(astronaut.join("00008.png")).unwrap();
    assert_eq!((crop.width(), crop.height()), (224, 224));
    assert!(output.join("val/true/cameraman/00000.png").exists());
    assert!(output.join("test/attack/coffee/.prepared").exists());
    assert_eq!(
        std::fs::read_to_string(output.join("attack_types.csv")).unwrap(),
        "video,attack_type\ncoffee,attack\n"
    );

    // A rerun skips finished videos and keeps their files.
    let before = std::fs::metadata(astronaut.join("00008.png"))
        .unwrap()
        .modified()
        .unwrap();
    let stdout = prepare(&input, &output);
    assert!(stdout.contains("6 face crops from 9 frames"), "{stdout}");
    let after = std::fs::metadata(astronaut.join("00008.png"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "a finished video was prepared again");
}

#[test]
fn an_unreadable_video_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("in/train/true/broken.mp4");
    std::fs::create_dir_all(video.parent().unwrap()).unwrap();
    std::fs::write(&video, b"not a video").unwrap();
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    let stderr = fails(&[
        "prepare",
        "--backend",
        "cpu",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(stderr.contains("broken.mp4"), "{stderr}");
}

#[test]
fn eval_reads_the_prepared_layout_and_calibrates_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (input, data) = (dir.path().join("in"), dir.path().join("data"));
    for split in ["val", "test"] {
        make_video(
            &fixtures().join("preprocess/astronaut.png"),
            "1",
            &input.join(format!("{split}/true/astro_{split}.mp4")),
        );
        make_video(
            &fixtures().join("mtcnn/camera.png"),
            "1",
            &input.join(format!("{split}/attack/camera_{split}.mp4")),
        );
    }
    prepare(&input, &data);

    // A model to evaluate: the timm fixture checkpoint.
    let model = imported_tiny(dir.path());

    let report_dir = dir.path().join("report");
    let stdout = ok(&[
        "eval",
        "--backend",
        "cpu",
        "--calibrate",
        "--model",
        model.to_str().unwrap(),
        "--data-path",
        data.to_str().unwrap(),
        "--output-dir",
        report_dir.to_str().unwrap(),
    ]);
    assert!(stdout.contains("calibrated"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report_dir.join("report.json")).unwrap())
            .unwrap();
    // 10 frames per video, every 4th kept: 3 crops per video, 2 videos per split.
    assert_eq!(report["frames"]["dev"], 6);
    assert_eq!(report["frames"]["test"], 6);
    let metrics = &report["metrics"];
    for key in ["apcer", "bpcer", "acer", "hter", "eer", "auc"] {
        for level in ["frame", "video"] {
            let value = metrics["test"][level][key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&value), "{level} {key} = {value}");
        }
    }
    for plot in ["roc.png", "roc.svg", "det.png", "det.svg"] {
        let bytes = std::fs::metadata(report_dir.join(plot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(bytes > 1000, "{plot}: {bytes} bytes");
    }
    let roc = image::open(report_dir.join("roc.png")).unwrap();
    assert_eq!((roc.width(), roc.height()), (720, 560));
    let scores = std::fs::read_to_string(report_dir.join("test_scores.csv")).unwrap();
    let rows: Vec<&str> = scores.lines().collect();
    assert_eq!(rows[0], "video,label,attack_type,score");
    assert_eq!(rows.len(), 7);
    assert!(
        rows.iter().any(|r| r.starts_with("camera_test,0,attack,")),
        "{scores}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with("astro_test,1,,")),
        "{scores}"
    );

    // --calibrate stored the frame-level dev threshold and the metrics in the file.
    let file = model_format::ModelFile::read(&model).unwrap();
    let threshold = metrics["threshold"].as_f64().unwrap();
    assert_eq!(file.metadata.threshold as f64, threshold);
    assert_eq!(file.metadata.provenance.metrics.as_ref(), Some(metrics));

    // --threshold-group: refused at once while no video is in the group; with every
    // video in it, the same threshold as the whole dev split, and the report says so.
    let eval_group = |group: &str| {
        vec![
            "eval".to_string(),
            "--backend".into(),
            "cpu".into(),
            "--model".into(),
            model.to_str().unwrap().into(),
            "--data-path".into(),
            data.to_str().unwrap().into(),
            "--output-dir".into(),
            report_dir.to_str().unwrap().into(),
            "--threshold-group".into(),
            group.into(),
        ]
    };
    let args = eval_group("real");
    let stderr = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(stderr.contains("--threshold-group real"), "{stderr}");
    let groups =
        "video,group\nastro_val,real\ncamera_val,real\nastro_test,real\ncamera_test,real\n";
    std::fs::write(data.join("video_groups.csv"), groups).unwrap();
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["threshold_group"], "real");
    assert_eq!(report["metrics"]["threshold"].as_f64().unwrap(), threshold);
    assert!(report["metrics"]["groups"]["real"]["frame"]["auc"].is_number());
}
