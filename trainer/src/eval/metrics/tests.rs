use super::*;

fn set(rows: &[(&str, bool, &str, f64)]) -> ScoreSet {
    let mut s = ScoreSet::new("test");
    for &(video, live, ty, score) in rows {
        s.push(video, live, Some(ty), score).unwrap();
    }
    s
}

/// One frame per video, named by index.
fn frames(live: &[f64], attacks: &[f64]) -> ScoreSet {
    let mut s = ScoreSet::new("frames");
    for (i, &x) in live.iter().enumerate() {
        s.push(&format!("l{i}"), true, None, x).unwrap();
    }
    for (i, &x) in attacks.iter().enumerate() {
        s.push(&format!("a{i}"), false, None, x).unwrap();
    }
    s
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

#[test]
fn four_scores_by_hand() {
    // live 0.9, 0.6; attacks 0.4, 0.7. Thresholds 0.4 (FAR 1, FRR 0), 0.6 (1/2, 0),
    // 0.7 (1/2, 1/2) <- |FAR - FRR| = 0, 0.9 (0, 1/2).
    let dev = frames(&[0.9, 0.6], &[0.4, 0.7]);
    let p = dev_threshold(&dev).unwrap();
    assert_eq!(p.threshold, 0.7);
    close(p.far, 0.5);
    close(p.frr, 0.5);
    let roc = Roc::new(dev.samples()).unwrap();
    close(roc.eer(), 0.5);
    // Pairs (live, attack): (.9,.4) (.9,.7) (.6,.4) win, (.6,.7) loses.
    close(roc.auc(), 0.75);

    // Test at 0.7: live 0.8 accepted, 0.65 rejected, 0.7 accepted (>=);
    // attacks 0.7 accepted (>=), 0.1 rejected.
    let test = frames(&[0.8, 0.65, 0.7], &[0.7, 0.1]);
    let m = test_metrics(&test, 0.7).unwrap();
    close(m.bpcer, 1.0 / 3.0);
    close(m.apcer, 0.5);
    assert_eq!(m.apcer_by_type.len(), 1);
    close(m.apcer_by_type[POOLED_ATTACK_TYPE], 0.5);
    close(m.acer, (0.5 + 1.0 / 3.0) / 2.0);
    close(m.hter, m.acer);
    // Test's own thresholds: 0.1 (1, 0), 0.65 (1/2, 0), 0.7 (1/2, 1/3) <- gap 1/6,
    // 0.8 (0, 2/3).
    close(m.eer, (0.5 + 1.0 / 3.0) / 2.0);
    // Pairs: .8 beats both, .65 beats .1 only, .7 ties .7 and beats .1: 4.5 / 6.
    close(m.auc, 4.5 / 6.0);
}

#[test]
fn ties_in_the_gap_go_to_the_smallest_threshold() {
    // live 0.5; attacks 0.3, 0.7. 0.3: (1, 0) gap 1; 0.5: (1/2, 0) gap 1/2;
    // 0.7: (1/2, 1) gap 1/2 -> tie, 0.5 wins, EER 1/4 (0.7 would give 3/4).
    let dev = frames(&[0.5], &[0.3, 0.7]);
    let p = dev_threshold(&dev).unwrap();
    assert_eq!(p.threshold, 0.5);
    close(p.half_total(), 0.25);
}

#[test]
fn ties_in_the_gap_are_exact_not_floating_point() {
    // 10 live, 10 attacks. 0.5: FAR 2/10, FRR 1/10, gap 0.1; 0.6: FAR 2/10, FRR 3/10,
    // gap 0.1 too, but 0.3 - 0.2 = 0.09999999999999998 in f64 < 0.2 - 0.1 = 0.1: a
    // floating-point argmin would take 0.6 (EER 0.25) instead of 0.5 (EER 0.15).
    let n = std::hint::black_box(10.0_f64);
    assert!(3.0 / n - 2.0 / n < 2.0 / n - 1.0 / n);
    let mut live = vec![0.2, 0.5, 0.5];
    live.extend([0.95; 7]);
    let mut attacks = vec![0.1; 8];
    attacks.extend([0.6, 0.9]);
    let p = dev_threshold(&frames(&live, &attacks)).unwrap();
    assert_eq!(p.threshold, 0.5);
    close(p.far, 0.2);
    close(p.frr, 0.1);
    close(p.half_total(), 0.15);
}

#[test]
fn auc_counts_ties_as_half() {
    // (0.5, 0.5) ties: 1/2; (0.5, 0.2), (0.8, 0.5), (0.8, 0.2) win: 3.5 / 4.
    let roc = Roc::new(frames(&[0.5, 0.8], &[0.5, 0.2]).samples()).unwrap();
    close(roc.auc(), 0.875);
    // All scores equal: AUC 1/2; every threshold is the one score: FAR 1, FRR 0.
    let roc = Roc::new(frames(&[0.3; 3], &[0.3; 2]).samples()).unwrap();
    close(roc.auc(), 0.5);
    let p = roc.equal_error_point();
    assert_eq!((p.threshold, p.far, p.frr), (0.3, 1.0, 0.0));
    // Perfect and inverted separation.
    close(
        Roc::new(frames(&[0.9], &[0.1]).samples()).unwrap().auc(),
        1.0,
    );
    close(
        Roc::new(frames(&[0.1], &[0.9]).samples()).unwrap().auc(),
        0.0,
    );
    // -0.0 and 0.0 are one score.
    close(
        Roc::new(frames(&[-0.0], &[0.0]).samples()).unwrap().auc(),
        0.5,
    );
}

#[test]
fn apcer_is_the_worst_type_and_hter_pools() {
    let test = set(&[
        ("l1", true, "", 0.9),
        ("l2", true, "", 0.2),
        ("p1", false, "print", 0.6),
        ("p2", false, "print", 0.1),
        ("r1", false, "replay", 0.1),
        ("r2", false, "replay", 0.2),
        ("r3", false, "replay", 0.3),
        ("r4", false, "replay", 0.4),
    ]);
    let m = test_metrics(&test, 0.5).unwrap();
    close(m.apcer_by_type["print"], 0.5);
    close(m.apcer_by_type["replay"], 0.0);
    close(m.apcer, 0.5);
    close(m.bpcer, 0.5);
    close(m.acer, 0.5);
    close(m.far, 1.0 / 6.0);
    close(m.hter, (1.0 / 6.0 + 0.5) / 2.0);
}

#[test]
fn video_level_means_frames_and_has_its_own_threshold() {
    let dev = set(&[
        ("live_a", true, "", 0.9),
        ("live_a", true, "", 0.1), // mean 0.5
        ("live_b", true, "", 0.8),
        ("att_a", false, "print", 0.6),
        ("att_a", false, "print", 0.0), // mean 0.3
        ("att_b", false, "mask", 0.4),
    ]);
    let videos = dev.video_level();
    assert_eq!(videos.len(), 4);
    assert_eq!(videos.scores(), &[0.5, 0.8, 0.3, 0.4]);
    assert_eq!(videos.video(0), "live_a");
    assert_eq!(videos.attack_type(3), Some("mask"));
    // Videos: live 0.5, 0.8; attacks 0.3, 0.4 -> separable, threshold 0.5, EER 0.
    let report = evaluate(&dev, &dev).unwrap();
    assert_eq!(report.video.threshold, 0.5);
    close(report.video.dev_eer, 0.0);
    close(report.video.dev_auc, 1.0);
    // Frames: live 0.9 0.1 0.8; attacks 0.6 0.0 0.4. 0.4: FAR 2/3, FRR 1/3 -> gap 1/3;
    // 0.6: FAR 1/3, FRR 1/3 -> gap 0.
    assert_eq!(report.frame.threshold, 0.6);
    let json = report.to_json();
    assert_eq!(json["threshold"], 0.6);
    assert_eq!(json["test"]["video"]["threshold"], 0.5);
    assert_eq!(json["test"]["frame"]["apcer_by_type"]["mask"], 0.0);
    assert!(report.table().contains("frame"));
}

#[test]
fn video_means_equal_in_exact_arithmetic_tie() {
    // Both means are 2.703 / 4 = 0.67575 exactly; summed in floating point in row
    // order the attack's comes out one ulp above the live video's, which would count
    // as a win for the attack (AUC 0) instead of a tie (AUC 1/2).
    let live = [0.695, 0.721, 0.703, 0.584];
    let attack = [0.666, 0.724, 0.564, 0.749];
    let naive = |x: &[f64]| x.iter().sum::<f64>() / 4.0;
    assert!(naive(&live) < naive(&attack));
    let mut rows: Vec<(&str, bool, &str, f64)> = live.iter().map(|&s| ("l", true, "", s)).collect();
    rows.extend(attack.iter().map(|&s| ("a", false, "print", s)));
    let videos = set(&rows).video_level();
    assert_eq!(videos.scores()[0], videos.scores()[1]);
    close(roc_of(&videos).unwrap().auc(), 0.5);
    // A difference a model can make is kept.
    let rows = [("l", true, "", 0.5), ("a", false, "print", 0.5 + 1e-9)];
    let videos = set(&rows).video_level();
    assert!(videos.scores()[0] < videos.scores()[1]);
}

#[test]
fn inconsistent_rows_are_refused() {
    let mut s = ScoreSet::new("x");
    s.push("v", true, None, 0.5).unwrap();
    assert!(s.push("v", false, None, 0.5).unwrap_err().contains("mixes"));
    s.push("w", false, Some("print"), 0.5).unwrap();
    assert!(
        s.push("w", false, Some("mask"), 0.5)
            .unwrap_err()
            .contains("mixes")
    );
    // A refused row leaves the set as it was.
    assert_eq!(s.attack_types(), &["print".to_owned()]);
    assert_eq!(s.len(), 2);
    assert!(
        s.push("z", true, Some("print"), 0.5)
            .unwrap_err()
            .contains("live row")
    );
    assert!(s.push("z", true, None, f64::NAN).is_err());
    assert!(s.push("", true, None, 0.5).is_err());
    // Attacks without a type are the pooled type.
    s.push("u", false, Some(""), 0.5).unwrap();
    assert_eq!(s.attack_type(2), Some(POOLED_ATTACK_TYPE));
}

#[test]
fn csv_parsing_and_round_trip() {
    let text = "\u{feff}score,video,label,attack_type,extra\r\n\
                    0.25,\"a,1\",1,,x\n\
                    \n\
                    1e-1, b ,0,\"pri\"\"nt\",y\n";
    let s = ScoreSet::from_csv_reader(text.as_bytes(), "mem.csv").unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s.video(0), "a,1");
    assert_eq!(s.video(1), "b");
    assert_eq!(s.attack_type(1), Some("pri\"nt"));
    assert_eq!(s.scores(), &[0.25, 0.1]);
    let mut out = Vec::new();
    s.write_csv(&mut out).unwrap();
    let back = ScoreSet::from_csv_reader(out.as_slice(), "out").unwrap();
    assert_eq!(back.scores(), s.scores());
    assert_eq!(back.video(0), "a,1");
    assert_eq!(back.attack_type(1), Some("pri\"nt"));
}

#[test]
fn csv_errors_name_file_and_line() {
    let err = |text: &str| {
        ScoreSet::from_csv_reader(text.as_bytes(), "s.csv")
            .unwrap_err()
            .to_string()
    };
    let e = err("video,label,score\nv,1,0.5\n");
    assert!(
        e.starts_with("s.csv:1:") && e.contains("attack_type"),
        "{e}"
    );
    let e = err("video,label,attack_type,score\nv,1,,0.5\nw,2,,0.5\n");
    assert!(
        e.starts_with("s.csv:3:") && e.contains("label \"2\""),
        "{e}"
    );
    let e = err("video,label,attack_type,score\nv,1,,nan\n");
    assert!(e.starts_with("s.csv:2:") && e.contains("finite"), "{e}");
    let e = err("video,label,attack_type,score\nv,1,,abc\n");
    assert!(
        e.starts_with("s.csv:2:") && e.contains("not a number"),
        "{e}"
    );
    let e = err("video,label,attack_type,score\nv,1,,0.5,7\n");
    assert!(e.starts_with("s.csv:2:") && e.contains("5 fields"), "{e}");
    let e = err("video,label,attack_type,score\nv,1,\"x,0.5\n");
    assert!(
        e.starts_with("s.csv:2:") && e.contains("unterminated"),
        "{e}"
    );
    let e = err("video,label,attack_type,score\nv,1,,0.5\n");
    assert!(
        e.starts_with("s.csv:") && e.contains("no attack rows"),
        "{e}"
    );
    let e = err("video,label,attack_type,score\nv,0,,0.5\n");
    assert!(e.contains("no live rows"), "{e}");
    let e = err("");
    assert!(e.contains("empty file"), "{e}");
}
