//! Test metrics per group of videos: the same dev thresholds, applied to a part of the
//! test split. A synthetic dataset tags each video with the kind of person in it (`real`:
//! photos and clips of real people; `procedural`: drawn heads) in `video_groups.csv`, so
//! that what a model does on real faces is never hidden in a pooled figure.
//!
//! A group's frames and videos are scored at the report's frame and video thresholds
//! (chosen on the whole dev split, or on one group's dev videos: [`dev_of_group`]); a
//! group without both live and attack samples has no metrics of its own (its counts are
//! still reported).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::bail;

use serde::Serialize;
use serde_json::{Value, json};

use crate::eval::metrics::{Counts, Report, ScoreSet, TestMetrics, test_metrics};

/// The test metrics of one group of test videos.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupMetrics {
    pub name: String,
    pub frame_counts: Counts,
    pub video_counts: Counts,
    /// `None` when the group lacks live or attack frames.
    pub frame: Option<TestMetrics>,
    pub video: Option<TestMetrics>,
}

/// The samples of `set` whose video `keep` accepts, in their order (so that video means
/// are summed as in the whole set).
pub fn filter_videos(set: &ScoreSet, name: &str, keep: impl Fn(&str) -> bool) -> ScoreSet {
    let mut out = ScoreSet::new(name);
    for i in 0..set.len() {
        if keep(set.video(i)) {
            out.push(
                set.video(i),
                set.is_live(i),
                set.attack_type(i),
                set.scores()[i],
            )
            .expect("a subset of a consistent set is consistent");
        }
    }
    out
}

/// The dev samples the thresholds are chosen on when they must suit one group: the dev
/// videos of `group` (for example `real`, to calibrate a model for real people rather than
/// for drawn heads). An error when the group has no live or no attack dev video.
pub fn dev_of_group(
    dev: &ScoreSet,
    video_groups: &BTreeMap<String, String>,
    group: &str,
) -> anyhow::Result<ScoreSet> {
    let name = format!("{} [{group}]", dev.name());
    let part = filter_videos(dev, &name, |v| {
        video_groups.get(v).map(String::as_str) == Some(group)
    });
    if part.num_live() == 0 || part.num_attacks() == 0 {
        let mut known: Vec<&str> = video_groups.values().map(String::as_str).collect();
        known.sort();
        known.dedup();
        bail!(
            "the dev split has {} live and {} attack frames in group {group:?}; a threshold \
             needs both (groups in video_groups.csv: {})",
            part.num_live(),
            part.num_attacks(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    }
    Ok(part)
}

fn counts(set: &ScoreSet) -> Counts {
    Counts {
        live: set.num_live(),
        attacks: set.num_attacks(),
    }
}

/// The metrics of every group named in `video_groups` (`video -> group`; test videos
/// without a group are left out of every group) at `report`'s thresholds.
pub fn group_metrics(
    report: &Report,
    test: &ScoreSet,
    video_groups: &BTreeMap<String, String>,
) -> Vec<GroupMetrics> {
    let mut names: Vec<&String> = video_groups.values().collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|group| {
            let frames = filter_videos(test, &format!("{} [{group}]", test.name()), |v| {
                video_groups.get(v) == Some(group)
            });
            if frames.is_empty() {
                return None;
            }
            let videos = frames.video_level();
            Some(GroupMetrics {
                name: group.clone(),
                frame_counts: counts(&frames),
                video_counts: counts(&videos),
                frame: test_metrics(&frames, report.frame.threshold).ok(),
                video: test_metrics(&videos, report.video.threshold).ok(),
            })
        })
        .collect()
}

impl Report {
    /// The report with the metrics of the test split's video groups added (see
    /// [`group_metrics`]); an empty map adds nothing.
    pub fn with_groups(
        mut self,
        test: &ScoreSet,
        video_groups: &BTreeMap<String, String>,
    ) -> Report {
        self.groups = group_metrics(&self, test, video_groups);
        self
    }
}

/// `{"<group>": {"counts": {...}, "frame": {...} | null, "video": {...} | null}}`.
pub fn groups_json(groups: &[GroupMetrics]) -> Value {
    let level = |m: &Option<TestMetrics>| {
        m.as_ref().map_or(Value::Null, |m| {
            Value::Object(crate::eval::metrics::test_json(m))
        })
    };
    let map: serde_json::Map<String, Value> = groups
        .iter()
        .map(|g| {
            (
                g.name.clone(),
                json!({
                    "counts": {"frame": g.frame_counts, "video": g.video_counts},
                    "frame": level(&g.frame),
                    "video": level(&g.video),
                }),
            )
        })
        .collect();
    Value::Object(map)
}

/// The rows of [`Report::table`] for the groups, rates in percent.
pub fn groups_table(groups: &[GroupMetrics]) -> String {
    let pct = |x: f64| format!("{:.2}", 100.0 * x);
    let width = groups
        .iter()
        .map(|g| g.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "test by group (at the dev thresholds above; frame level | video level):"
    );
    let _ = writeln!(
        s,
        "  {:<width$} {:>7} {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7}   frames live/attack, videos",
        "group", "APCER%", "BPCER%", "ACER%", "EER%", "AUC%", "ACER%", "AUC%"
    );
    for g in groups {
        let frame = g.frame.as_ref().map_or_else(
            || format!("{:>39}", "(needs live and attack frames)"),
            |t| {
                format!(
                    "{:>7} {:>7} {:>7} {:>7} {:>7}",
                    pct(t.apcer),
                    pct(t.bpcer),
                    pct(t.acer),
                    pct(t.eer),
                    pct(t.auc)
                )
            },
        );
        let video = g.video.as_ref().map_or_else(
            || format!("{:>7} {:>7}", "-", "-"),
            |t| format!("{:>7} {:>7}", pct(t.acer), pct(t.auc)),
        );
        let _ = writeln!(
            s,
            "  {:<width$} {frame} | {video}   {}/{}, {}/{}",
            g.name,
            g.frame_counts.live,
            g.frame_counts.attacks,
            g.video_counts.live,
            g.video_counts.attacks,
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::evaluate;

    fn set(rows: &[(&str, bool, f64)]) -> ScoreSet {
        let mut s = ScoreSet::new("t");
        for &(video, live, score) in rows {
            s.push(video, live, (!live).then_some("print"), score)
                .unwrap();
        }
        s
    }

    #[test]
    fn thresholds_can_be_chosen_on_one_groups_dev_videos() {
        // Dev: the real person (r*) scores high, live 0.8 and attack 0.6; the drawn heads
        // (p*) low, live 0.5 and attack 0.2. Whole dev, (FAR, FRR) by threshold: 0.2
        // (1, 0), 0.5 (1/2, 0), 0.6 (1/2, 1/2), 0.8 (0, 1/2): the EER point is 0.6. On
        // the real videos alone: 0.6 (1, 0), 0.8 (0, 0): it is 0.8.
        let dev = set(&[
            ("r_live", true, 0.8),
            ("r_att", false, 0.6),
            ("p_live", true, 0.5),
            ("p_att", false, 0.2),
        ]);
        let groups: BTreeMap<String, String> = [
            ("r_live", "real"),
            ("r_att", "real"),
            ("p_live", "procedural"),
            ("p_att", "procedural"),
        ]
        .iter()
        .map(|(v, g)| (v.to_string(), g.to_string()))
        .collect();
        assert_eq!(evaluate(&dev, &dev).unwrap().frame.threshold, 0.6);
        let real = dev_of_group(&dev, &groups, "real").unwrap();
        assert_eq!(real.len(), 2);
        let report = evaluate(&real, &dev).unwrap();
        assert_eq!(report.frame.threshold, 0.8);
        assert_eq!(report.video.threshold, 0.8);
        // A group without attacks, or unknown, is refused with the groups there are.
        let only_live: BTreeMap<String, String> =
            [("r_live".to_string(), "real".to_string())].into();
        let error = dev_of_group(&dev, &only_live, "real")
            .unwrap_err()
            .to_string();
        assert!(error.contains("1 live and 0 attack"), "{error}");
        let error = dev_of_group(&dev, &groups, "nosuch")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"nosuch\"") && error.contains("procedural, real"),
            "{error}"
        );
    }

    #[test]
    fn groups_are_scored_at_the_whole_dev_threshold() {
        // Dev: threshold 0.5 separates perfectly (live 0.6, 0.9; attacks 0.1, 0.4).
        let dev = set(&[
            ("d1", true, 0.6),
            ("d2", true, 0.9),
            ("d3", false, 0.1),
            ("d4", false, 0.4),
        ]);
        // Test: the real people's attack r2 (0.7) is accepted and their live r1 (0.55)
        // too; the procedural heads are separated.
        let test = set(&[
            ("r1", true, 0.55),
            ("r2", false, 0.7),
            ("r3", false, 0.2),
            ("p1", true, 0.8),
            ("p2", false, 0.3),
        ]);
        let groups: BTreeMap<String, String> = [
            ("r1", "real"),
            ("r2", "real"),
            ("r3", "real"),
            ("p1", "procedural"),
            ("p2", "procedural"),
        ]
        .into_iter()
        .map(|(v, g)| (v.to_string(), g.to_string()))
        .collect();
        let report = evaluate(&dev, &test).unwrap().with_groups(&test, &groups);
        assert_eq!(report.frame.threshold, 0.6);
        let names: Vec<&str> = report.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["procedural", "real"]);
        let real = report.groups[1].frame.as_ref().unwrap();
        // Threshold 0.6: r1 (0.55) rejected, r2 (0.7) accepted, r3 rejected.
        assert_eq!(real.bpcer, 1.0);
        assert_eq!(real.apcer, 0.5);
        assert_eq!(real.acer, 0.75);
        // AUC: live 0.55 beats 0.2, loses to 0.7.
        assert_eq!(real.auc, 0.5);
        let procedural = report.groups[0].frame.as_ref().unwrap();
        assert_eq!(
            (procedural.apcer, procedural.bpcer, procedural.auc),
            (0.0, 0.0, 1.0)
        );
        assert_eq!(
            report.groups[1].frame_counts,
            Counts {
                live: 1,
                attacks: 2
            }
        );
        let table = report.table();
        assert!(table.contains("real") && table.contains("75.00"), "{table}");
        let json = report.to_json();
        assert_eq!(json["groups"]["real"]["frame"]["acer"], 0.75);
    }

    #[test]
    fn a_group_without_both_classes_has_counts_only() {
        let dev = set(&[("d1", true, 0.6), ("d2", false, 0.1)]);
        let test = set(&[("a", true, 0.9), ("b", false, 0.2), ("c", true, 0.7)]);
        let groups: BTreeMap<String, String> = [("c", "solo"), ("a", "pair"), ("b", "pair")]
            .into_iter()
            .map(|(v, g)| (v.to_string(), g.to_string()))
            .collect();
        let report = evaluate(&dev, &test).unwrap().with_groups(&test, &groups);
        let solo = report.groups.iter().find(|g| g.name == "solo").unwrap();
        assert!(solo.frame.is_none() && solo.video.is_none());
        assert_eq!(
            solo.frame_counts,
            Counts {
                live: 1,
                attacks: 0
            }
        );
        assert!(report.table().contains("needs live and attack"));
        assert_eq!(report.to_json()["groups"]["solo"]["frame"], Value::Null);
        // No groups: nothing added.
        let plain = evaluate(&dev, &test)
            .unwrap()
            .with_groups(&test, &BTreeMap::new());
        assert!(plain.groups.is_empty() && plain.to_json().get("groups").is_none());
    }
}
