//! `trainer metrics` and `trainer::eval::metrics` against numpy / scikit-learn reference values
//! (tests/fixtures/metrics, from scripts/make_metric_fixtures.py), and its errors.

use std::path::PathBuf;

mod common;
use common::trainer;

use serde_json::Value;
use trainer::eval::metrics::{LevelMetrics, ScoreSet, TestMetrics, evaluate};

const TOLERANCE: f64 = 1e-9;

fn fixtures() -> PathBuf {
    common::fixtures().join("metrics")
}

fn expected() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v.as_object().unwrap().clone()
}

/// Same keys everywhere and every number within TOLERANCE.
fn assert_json_close(path: &str, got: &Value, want: &Value) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let mut gk: Vec<_> = g.keys().collect();
            let mut wk: Vec<_> = w.keys().collect();
            gk.sort();
            wk.sort();
            assert_eq!(gk, wk, "keys of {path}");
            for (k, wv) in w {
                assert_json_close(&format!("{path}.{k}"), &g[k], wv);
            }
        }
        (Value::Number(_), Value::Number(_)) => {
            let (g, w) = (got.as_f64().unwrap(), want.as_f64().unwrap());
            assert!(
                (g - w).abs() <= TOLERANCE,
                "{path}: {g} vs expected {w} (diff {:e})",
                (g - w).abs()
            );
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

fn close(path: &str, got: f64, want: &Value) {
    assert_json_close(path, &serde_json::json!(got), want);
}

fn check_test(path: &str, got: &TestMetrics, want: &Value) {
    for (key, value) in [
        ("apcer", got.apcer),
        ("bpcer", got.bpcer),
        ("acer", got.acer),
        ("hter", got.hter),
        ("eer", got.eer),
        ("auc", got.auc),
    ] {
        close(&format!("{path}.{key}"), value, &want[key]);
    }
    assert_json_close(
        &format!("{path}.apcer_by_type"),
        &serde_json::to_value(&got.apcer_by_type).unwrap(),
        &want["apcer_by_type"],
    );
    for (key, value) in [
        ("apcer", got.apcer),
        ("bpcer", got.bpcer),
        ("acer", got.acer),
        ("hter", got.hter),
        ("eer", got.eer),
        ("auc", got.auc),
    ] {
        assert!((0.0..=1.0).contains(&value), "{path}.{key} = {value}");
    }
}

fn check_counts(path: &str, got: &LevelMetrics, want: &Value) {
    for (split, counts) in [("dev", got.dev_counts), ("test", got.test_counts)] {
        assert_eq!(
            (counts.live as u64, counts.attacks as u64),
            (
                want[split]["live"].as_u64().unwrap(),
                want[split]["attacks"].as_u64().unwrap()
            ),
            "{path}.{split} counts"
        );
    }
}

#[test]
fn library_matches_numpy_and_sklearn() {
    let cases = expected();
    assert!(cases.len() >= 4, "fixture cases: {:?}", cases.keys());
    for (name, case) in &cases {
        let dev = ScoreSet::read_csv(&fixtures().join(case["dev_csv"].as_str().unwrap())).unwrap();
        let test =
            ScoreSet::read_csv(&fixtures().join(case["test_csv"].as_str().unwrap())).unwrap();
        let report = evaluate(&dev, &test).unwrap();
        let want = &case["json"];

        // Thresholds are dev scores: equal, not merely close.
        assert_eq!(
            report.frame.threshold,
            want["threshold"].as_f64().unwrap(),
            "{name} frame threshold"
        );
        assert_eq!(
            report.video.threshold,
            want["test"]["video"]["threshold"].as_f64().unwrap(),
            "{name} video threshold"
        );
        close(
            &format!("{name}.dev.eer"),
            report.frame.dev_eer,
            &want["dev"]["eer"],
        );
        close(
            &format!("{name}.dev.auc"),
            report.frame.dev_auc,
            &want["dev"]["auc"],
        );
        close(
            &format!("{name}.dev_video.eer"),
            report.video.dev_eer,
            &case["dev_video"]["eer"],
        );
        close(
            &format!("{name}.dev_video.auc"),
            report.video.dev_auc,
            &case["dev_video"]["auc"],
        );
        check_test(
            &format!("{name}.test.frame"),
            &report.frame.test,
            &want["test"]["frame"],
        );
        check_test(
            &format!("{name}.test.video"),
            &report.video.test,
            &want["test"]["video"],
        );
        check_counts(
            &format!("{name}.frame"),
            &report.frame,
            &case["counts"]["frame"],
        );
        check_counts(
            &format!("{name}.video"),
            &report.video,
            &case["counts"]["video"],
        );
        // The JSON the binary prints, built by the library.
        assert_json_close(name, &report.to_json(), want);
    }
}

#[test]
fn binary_json_matches_numpy_and_sklearn() {
    for (name, case) in expected() {
        let dev = fixtures().join(case["dev_csv"].as_str().unwrap());
        let test = fixtures().join(case["test_csv"].as_str().unwrap());
        let out = trainer(&[
            "metrics",
            "--dev",
            dev.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.trim().lines().count(), 1, "one object: {stdout}");
        let got: Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_json_close(&name, &got, &case["json"]);
    }
}

#[test]
fn binary_table_lists_levels_and_types() {
    let dev = fixtures().join("multi_type_dev.csv");
    let test = fixtures().join("multi_type_test.csv");
    let out = trainer(&[
        "metrics",
        "--dev",
        dev.to_str().unwrap(),
        "--test",
        test.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "frame", "video", "APCER%", "BPCER%", "ACER%", "HTER%", "EER%", "AUC%", "print", "replay",
        "mask",
    ] {
        assert!(stdout.contains(needle), "{needle} missing:\n{stdout}");
    }
}

fn fails_with(dev_text: &str, test_text: Option<&str>, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev_scores.csv");
    std::fs::write(&dev, dev_text).unwrap();
    let test = match test_text {
        Some(text) => {
            let p = dir.path().join("test_scores.csv");
            std::fs::write(&p, text).unwrap();
            p
        }
        None => fixtures().join("ties_test.csv"),
    };
    let out = trainer(&[
        "metrics",
        "--dev",
        dev.to_str().unwrap(),
        "--test",
        test.to_str().unwrap(),
        "--json",
    ]);
    assert!(!out.status.success(), "should fail: {dev_text:?}");
    assert!(out.stdout.is_empty(), "nothing on stdout on errors");
    let stderr = String::from_utf8(out.stderr).unwrap();
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    }
}

const GOOD: &str = "video,label,attack_type,score\nv1,1,,0.9\nv2,0,print,0.1\n";

#[test]
fn bad_inputs_are_clear_errors() {
    // Missing column.
    fails_with(
        "video,label,score\nv1,1,0.9\nv2,0,0.1\n",
        None,
        &["dev_scores.csv:1:", "no column \"attack_type\""],
    );
    // Bad label.
    fails_with(
        "video,label,attack_type,score\nv1,1,,0.9\nv2,live,,0.1\n",
        None,
        &["dev_scores.csv:3:", "label \"live\""],
    );
    // Non-finite score.
    fails_with(
        "video,label,attack_type,score\nv1,1,,0.9\nv2,0,,inf\n",
        None,
        &["dev_scores.csv:3:", "finite"],
    );
    // A video mixing labels.
    fails_with(
        "video,label,attack_type,score\nv1,1,,0.9\nv1,0,,0.1\n",
        None,
        &["dev_scores.csv:3:", "mixes live and attack"],
    );
    // Empty splits: no attack rows in dev, no live rows in test, nothing at all.
    fails_with(
        "video,label,attack_type,score\nv1,1,,0.9\nv2,1,,0.1\n",
        None,
        &["dev_scores.csv", "no attack rows"],
    );
    fails_with(
        GOOD,
        Some("video,label,attack_type,score\nv2,0,print,0.1\n"),
        &["test_scores.csv", "no live rows"],
    );
    fails_with(
        GOOD,
        Some("video,label,attack_type,score\n"),
        &["test_scores.csv", "no live rows"],
    );
    fails_with("", None, &["dev_scores.csv", "empty file"]);
    // A missing file.
    let out = trainer(&[
        "metrics",
        "--dev",
        "/nonexistent/dev.csv",
        "--test",
        "/nonexistent/test.csv",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dev.csv"));
}

#[test]
fn millions_of_frames_are_fast() {
    // 2 million frames in 20 000 videos: sorting once keeps this well under a second.
    let mut dev = ScoreSet::new("dev");
    let mut test = ScoreSet::new("test");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..2_000_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let live = (i / 100) % 2 == 0;
        let noise = (x >> 11) as f64 / (1u64 << 53) as f64;
        let score = if live { 0.3 + 0.7 * noise } else { 0.7 * noise };
        let ty = if live {
            None
        } else {
            Some(["print", "replay"][(i / 200 % 2) as usize])
        };
        let set = if i % 2 == 0 { &mut dev } else { &mut test };
        set.push(
            &format!("v{}", i / 100),
            live,
            ty,
            (score * 1e4).round() / 1e4,
        )
        .unwrap();
    }
    let start = std::time::Instant::now();
    let report = evaluate(&dev, &test).unwrap();
    let elapsed = start.elapsed();
    assert!(report.frame.test.auc > 0.8 && report.frame.test.auc < 1.0);
    assert!(report.video.test.auc > report.frame.test.auc);
    assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
}
