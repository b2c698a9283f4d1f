//! Presentation-attack-detection metrics from liveness scores: APCER, BPCER and ACER
//! (ISO/IEC 30107-3), HTER, EER and AUC, at frame and at video level, with the threshold
//! chosen on a dev split and applied unchanged to a test split. Pure Rust (no Burn):
//! `trainer metrics` computes them from score CSVs, so scores of any system can be
//! compared, and the evaluation of a model can feed its own scores in through
//! [`ScoreSet::push`].
//!
//! Definitions (exactly these):
//! - a presentation is accepted as live iff `score >= threshold`;
//! - FAR = accepted attacks / attacks, FRR = rejected live / live;
//! - the dev threshold is the distinct dev score that minimises |FAR - FRR| on dev,
//!   compared exactly (as fractions, not in floating point), ties going to the smallest
//!   threshold; EER = (FAR + FRR) / 2 at that threshold. The test EER applies the same
//!   rule to the test scores themselves;
//! - APCER of an attack type = accepted attacks of that type / attacks of that type at the
//!   dev threshold, and the reported APCER is the maximum over the types present in the
//!   test split (attacks without a type form the type [`POOLED_ATTACK_TYPE`], so with no
//!   types at all it is the pooled rate); BPCER = rejected live / live;
//!   ACER = (APCER + BPCER) / 2; HTER = (pooled FAR + BPCER) / 2;
//! - AUC = P(live score > attack score) + P(equal) / 2 (Mann-Whitney, ties count half);
//! - video level: a video's score is the mean of its frames' scores (its label and attack
//!   type are its frames'; a video mixing them is an error), and the video level has its
//!   own dev threshold, chosen on the dev videos by the same rule.
//!
//! Everything sorts each split once (O(n log n)) and counts in integers, so millions of
//! frames are fine and the results do not depend on the order of the rows.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

/// The attack type of attack rows that name none.
pub const POOLED_ATTACK_TYPE: &str = "attack";

/// The columns of a score CSV (a header naming them is required; order free, other
/// columns ignored).
pub const CSV_COLUMNS: [&str; 4] = ["video", "label", "attack_type", "score"];

/// Errors name the file (or split) and, for a bad row, its 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("reading {file}: {error}")]
    Io { file: String, error: std::io::Error },
    #[error("{file}:{line}: {message}")]
    Row {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Split { file: String, message: String },
}

/// One sample's class: live, or an attack with an index into [`ScoreSet::attack_types`].
type Class = Option<u32>;

#[derive(Clone, Debug)]
struct Video {
    name: String,
    class: Class,
    frames: u64,
    /// The frames' scores summed with Neumaier's compensation: `sum + compensation` is
    /// the exact sum to a few ulps whatever the order and the number of frames.
    sum: f64,
    compensation: f64,
}

impl Video {
    fn add(&mut self, score: f64) {
        let total = self.sum + score;
        self.compensation += if self.sum.abs() >= score.abs() {
            (self.sum - total) + score
        } else {
            (score - total) + self.sum
        };
        self.sum = total;
        self.frames += 1;
    }

    fn mean(&self) -> f64 {
        (self.sum + self.compensation) / self.frames as f64
    }
}

/// Video means closer than this (relative, or absolute below 1) are one score. Means that
/// are equal in exact arithmetic, e.g. of scores written with three decimals, can differ
/// in the last bits after floating-point summation and division; compensated summation
/// keeps that error to a few ulps (~1e-16), far below this, and far below any difference
/// a model's scores (f32, ~1e-7 apart) can make.
const VIDEO_TIE_TOLERANCE: f64 = 1e-12;

/// Makes near-equal values exactly equal: runs of sorted values within
/// [`VIDEO_TIE_TOLERANCE`] of the run's smallest take that smallest value.
fn snap_ties(values: &mut [f64]) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut anchor: Option<f64> = None;
    for i in order {
        match anchor {
            Some(a) if values[i] - a <= VIDEO_TIE_TOLERANCE * a.abs().max(1.0) => values[i] = a,
            _ => anchor = Some(values[i]),
        }
    }
}

/// The scores of one split: one sample per frame (or per video, see
/// [`ScoreSet::video_level`]), each with its video, label and attack type.
#[derive(Clone, Debug, Default)]
pub struct ScoreSet {
    name: String,
    scores: Vec<f64>,
    classes: Vec<Class>,
    video_of: Vec<u32>,
    attack_types: Vec<String>,
    type_index: HashMap<String, u32>,
    videos: Vec<Video>,
    video_index: HashMap<String, u32>,
}

impl ScoreSet {
    /// An empty set; `name` (usually the file) appears in error messages.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a sample. `attack_type` must be `None` or empty for live samples; for attacks
    /// `None` or empty means [`POOLED_ATTACK_TYPE`]. The score must be finite (any real
    /// works since the metrics only compare scores, but it is meant to be the live
    /// probability). Every sample of a video must have the same label and attack type.
    pub fn push(
        &mut self,
        video: &str,
        live: bool,
        attack_type: Option<&str>,
        score: f64,
    ) -> Result<(), String> {
        if video.is_empty() {
            return Err("empty video name".into());
        }
        if !score.is_finite() {
            return Err(format!("score {score} is not a finite number"));
        }
        let attack_type = attack_type.filter(|t| !t.is_empty());
        if live && let Some(t) = attack_type {
            return Err(format!(
                "live row with attack_type {t:?} (attack_type must be empty for live rows)"
            ));
        }
        let type_name = (!live).then(|| attack_type.unwrap_or(POOLED_ATTACK_TYPE));
        let existing_video = self.video_index.get(video).copied();
        if let Some(v) = existing_video {
            let known = self.videos[v as usize].class;
            let known_name = known.map(|t| self.attack_types[t as usize].as_str());
            if known_name != type_name {
                let describe = |name: Option<&str>| match name {
                    None => "live".to_owned(),
                    Some(t) => format!("attack ({t})"),
                };
                return Err(format!(
                    "video {video:?} mixes {} and {} frames",
                    describe(known_name),
                    describe(type_name)
                ));
            }
        }
        // Validated: only now may the set grow.
        let class = type_name.map(|name| match self.type_index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.attack_types.len() as u32;
                self.attack_types.push(name.to_owned());
                self.type_index.insert(name.to_owned(), i);
                i
            }
        });
        let v = match existing_video {
            Some(v) => v,
            None => {
                let v = self.videos.len() as u32;
                self.videos.push(Video {
                    name: video.to_owned(),
                    class,
                    frames: 0,
                    sum: 0.0,
                    compensation: 0.0,
                });
                self.video_index.insert(video.to_owned(), v);
                v
            }
        };
        // + 0.0 turns -0.0 into 0.0, so that equal scores are one distinct score.
        let score = score + 0.0;
        self.videos[v as usize].add(score);
        self.scores.push(score);
        self.classes.push(class);
        self.video_of.push(v);
        Ok(())
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub fn num_live(&self) -> usize {
        self.classes.iter().filter(|c| c.is_none()).count()
    }

    pub fn num_attacks(&self) -> usize {
        self.len() - self.num_live()
    }

    pub fn num_videos(&self) -> usize {
        self.videos.len()
    }

    /// The attack types in order of first appearance.
    pub fn attack_types(&self) -> &[String] {
        &self.attack_types
    }

    /// The scores, in the order they were added.
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }

    pub fn is_live(&self, i: usize) -> bool {
        self.classes[i].is_none()
    }

    /// `None` for live samples.
    pub fn attack_type(&self, i: usize) -> Option<&str> {
        self.classes[i].map(|t| self.attack_types[t as usize].as_str())
    }

    pub fn video(&self, i: usize) -> &str {
        &self.videos[self.video_of[i] as usize].name
    }

    /// One sample per video (in order of first appearance) whose score is the mean of
    /// its frames' scores; means equal in exact arithmetic are equal (see [`snap_ties`]).
    pub fn video_level(&self) -> ScoreSet {
        let mut out = ScoreSet::new(format!("{} (videos)", self.name));
        let mut means: Vec<f64> = self.videos.iter().map(Video::mean).collect();
        snap_ties(&mut means);
        for (video, mean) in self.videos.iter().zip(means) {
            let attack_type = video.class.map(|t| self.attack_types[t as usize].as_str());
            out.push(&video.name, video.class.is_none(), attack_type, mean)
                .expect("a consistent frame set gives a consistent video set");
        }
        out
    }

    /// A clear error unless the split holds live and attack samples.
    pub fn check_both_classes(&self) -> Result<(), MetricsError> {
        let (live, attacks) = (self.num_live(), self.num_attacks());
        if live == 0 || attacks == 0 {
            return Err(MetricsError::Split {
                file: self.name.clone(),
                message: format!(
                    "no {} rows ({live} live, {attacks} attack): every split needs both",
                    if live == 0 { "live" } else { "attack" }
                ),
            });
        }
        Ok(())
    }

    fn samples(&self) -> impl Iterator<Item = (f64, bool)> + '_ {
        self.scores
            .iter()
            .zip(&self.classes)
            .map(|(&s, c)| (s, c.is_none()))
    }
}

/// A threshold with its FAR and FRR.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OperatingPoint {
    pub threshold: f64,
    /// Accepted attacks / attacks.
    pub far: f64,
    /// Rejected live / live.
    pub frr: f64,
}

impl OperatingPoint {
    /// (FAR + FRR) / 2: the EER at the equal-error threshold, the HTER elsewhere.
    pub fn half_total(&self) -> f64 {
        (self.far + self.frr) / 2.0
    }
}

#[derive(Clone, Copy, Debug)]
struct Group {
    score: f64,
    live: u64,
    attacks: u64,
}

/// Scores sorted once into groups of equal score with their live and attack counts:
/// every threshold-sweeping metric reads it in O(distinct scores).
#[derive(Clone, Debug)]
pub struct Roc {
    groups: Vec<Group>,
    live: u64,
    attacks: u64,
}

impl Roc {
    /// `None` unless there is at least one live and one attack sample. Scores must be
    /// finite.
    pub fn new(samples: impl IntoIterator<Item = (f64, bool)>) -> Option<Self> {
        let mut samples: Vec<(f64, bool)> = samples.into_iter().collect();
        assert!(
            samples.iter().all(|(s, _)| s.is_finite()),
            "scores must be finite"
        );
        samples.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut groups: Vec<Group> = Vec::new();
        let (mut live, mut attacks) = (0, 0);
        for (score, is_live) in samples {
            // -0.0 and 0.0 are one score.
            let score = score + 0.0;
            match groups.last_mut() {
                Some(g) if g.score == score => {}
                _ => groups.push(Group {
                    score,
                    live: 0,
                    attacks: 0,
                }),
            }
            let g = groups.last_mut().expect("pushed above");
            if is_live {
                g.live += 1;
                live += 1;
            } else {
                g.attacks += 1;
                attacks += 1;
            }
        }
        (live > 0 && attacks > 0).then_some(Self {
            groups,
            live,
            attacks,
        })
    }

    /// The distinct score that minimises |FAR - FRR| (compared exactly, as fractions),
    /// the smallest such score on ties.
    pub fn equal_error_point(&self) -> OperatingPoint {
        let (nl, na) = (u128::from(self.live), u128::from(self.attacks));
        let mut live_below = 0u64;
        let mut attacks_below = 0u64;
        // (|accepted attacks * live - rejected live * attacks|, threshold, accepted, rejected)
        let mut best: Option<(u128, f64, u64, u64)> = None;
        for g in &self.groups {
            let accepted = self.attacks - attacks_below;
            let rejected = live_below;
            let gap = (u128::from(accepted) * nl).abs_diff(u128::from(rejected) * na);
            if best.is_none_or(|(b, ..)| gap < b) {
                best = Some((gap, g.score, accepted, rejected));
            }
            live_below += g.live;
            attacks_below += g.attacks;
        }
        let (_, threshold, accepted, rejected) = best.expect("a Roc has samples");
        OperatingPoint {
            threshold,
            far: accepted as f64 / self.attacks as f64,
            frr: rejected as f64 / self.live as f64,
        }
    }

    /// The operating point at every distinct score, from the lowest threshold (every
    /// sample accepted) to above the highest (every sample rejected).
    pub fn curve(&self) -> Vec<OperatingPoint> {
        let mut points = Vec::with_capacity(self.groups.len() + 1);
        let (mut live_below, mut attacks_below) = (0u64, 0u64);
        for g in &self.groups {
            points.push(OperatingPoint {
                threshold: g.score,
                far: (self.attacks - attacks_below) as f64 / self.attacks as f64,
                frr: live_below as f64 / self.live as f64,
            });
            live_below += g.live;
            attacks_below += g.attacks;
        }
        let above = self.groups.last().map_or(1.0, |g| g.score) + f64::EPSILON;
        points.push(OperatingPoint {
            threshold: above,
            far: 0.0,
            frr: 1.0,
        });
        points
    }

    /// The equal error rate: (FAR + FRR) / 2 at [`Roc::equal_error_point`].
    pub fn eer(&self) -> f64 {
        self.equal_error_point().half_total()
    }

    /// Area under the ROC curve: P(live > attack) + P(live = attack) / 2.
    pub fn auc(&self) -> f64 {
        // Twice the Mann-Whitney U, exact in integers.
        let mut twice_u: u128 = 0;
        let mut attacks_below: u128 = 0;
        for g in &self.groups {
            let (live, attacks) = (u128::from(g.live), u128::from(g.attacks));
            twice_u += live * (2 * attacks_below + attacks);
            attacks_below += attacks;
        }
        twice_u as f64 / (2.0 * self.live as f64 * self.attacks as f64)
    }
}

/// The test-split metrics at a given (dev) threshold, all fractions in [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestMetrics {
    /// The maximum of `apcer_by_type`.
    pub apcer: f64,
    /// APCER of each attack type present in the split.
    pub apcer_by_type: BTreeMap<String, f64>,
    pub bpcer: f64,
    pub acer: f64,
    /// Accepted attacks / attacks, all types pooled.
    pub far: f64,
    /// (far + bpcer) / 2.
    pub hter: f64,
    /// On the split's own scores.
    pub eer: f64,
    pub auc: f64,
}

/// Sample counts of a split (frames or videos).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub live: usize,
    pub attacks: usize,
}

/// The metrics of one level (frames or videos).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelMetrics {
    /// Chosen on dev: the equal-error point of the dev scores.
    pub threshold: f64,
    pub dev_eer: f64,
    pub dev_auc: f64,
    pub dev_counts: Counts,
    pub test_counts: Counts,
    pub test: TestMetrics,
}

/// Frame- and video-level metrics of a dev/test pair.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub frame: LevelMetrics,
    pub video: LevelMetrics,
    /// The test metrics of groups of test videos (for example real people and procedural
    /// heads), at the thresholds above; empty unless asked for ([`Report::with_groups`]).
    pub groups: Vec<crate::eval::group_metrics::GroupMetrics>,
}

/// The ROC of a split (both classes required).
pub fn roc_of(set: &ScoreSet) -> Result<Roc, MetricsError> {
    set.check_both_classes()?;
    Ok(Roc::new(set.samples()).expect("both classes checked"))
}

/// The dev threshold of a split: its equal-error point.
pub fn dev_threshold(dev: &ScoreSet) -> Result<OperatingPoint, MetricsError> {
    Ok(roc_of(dev)?.equal_error_point())
}

/// APCER (per type and worst), BPCER, ACER, HTER at `threshold`, and the split's own
/// EER and AUC.
pub fn test_metrics(test: &ScoreSet, threshold: f64) -> Result<TestMetrics, MetricsError> {
    let roc = roc_of(test)?;
    let types = test.attack_types.len();
    let mut accepted = vec![0u64; types];
    let mut attacks = vec![0u64; types];
    let (mut live, mut rejected_live) = (0u64, 0u64);
    for (&score, class) in test.scores.iter().zip(&test.classes) {
        let accept = score >= threshold;
        match class {
            None => {
                live += 1;
                rejected_live += u64::from(!accept);
            }
            Some(t) => {
                attacks[*t as usize] += 1;
                accepted[*t as usize] += u64::from(accept);
            }
        }
    }
    let apcer_by_type: BTreeMap<String, f64> = (0..types)
        .map(|t| {
            (
                test.attack_types[t].clone(),
                accepted[t] as f64 / attacks[t] as f64,
            )
        })
        .collect();
    let apcer = apcer_by_type.values().copied().fold(0.0, f64::max);
    let bpcer = rejected_live as f64 / live as f64;
    let far = accepted.iter().sum::<u64>() as f64 / attacks.iter().sum::<u64>() as f64;
    Ok(TestMetrics {
        apcer,
        apcer_by_type,
        bpcer,
        acer: (apcer + bpcer) / 2.0,
        far,
        hter: (far + bpcer) / 2.0,
        eer: roc.eer(),
        auc: roc.auc(),
    })
}

/// The metrics of one level: threshold, EER and AUC on `dev`, the rest on `test`.
pub fn evaluate_level(dev: &ScoreSet, test: &ScoreSet) -> Result<LevelMetrics, MetricsError> {
    let dev_roc = roc_of(dev)?;
    let point = dev_roc.equal_error_point();
    Ok(LevelMetrics {
        threshold: point.threshold,
        dev_eer: point.half_total(),
        dev_auc: dev_roc.auc(),
        dev_counts: Counts {
            live: dev.num_live(),
            attacks: dev.num_attacks(),
        },
        test_counts: Counts {
            live: test.num_live(),
            attacks: test.num_attacks(),
        },
        test: test_metrics(test, point.threshold)?,
    })
}

/// Frame level on the sets as given, video level on their [`ScoreSet::video_level`].
pub fn evaluate(dev: &ScoreSet, test: &ScoreSet) -> Result<Report, MetricsError> {
    Ok(Report {
        frame: evaluate_level(dev, test)?,
        video: evaluate_level(&dev.video_level(), &test.video_level())?,
        groups: Vec::new(),
    })
}

pub(crate) fn test_json(test: &TestMetrics) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("apcer".into(), json!(test.apcer));
    m.insert("apcer_by_type".into(), json!(test.apcer_by_type));
    m.insert("bpcer".into(), json!(test.bpcer));
    m.insert("acer".into(), json!(test.acer));
    m.insert("hter".into(), json!(test.hter));
    m.insert("eer".into(), json!(test.eer));
    m.insert("auc".into(), json!(test.auc));
    m
}

impl Report {
    /// `{"threshold", "dev": {"eer", "auc"}, "test": {"frame": {"apcer", "apcer_by_type",
    /// "bpcer", "acer", "hter", "eer", "auc"}, "video": {the same, plus "threshold"}}}`:
    /// the frame-level dev threshold and dev EER/AUC, rates as fractions.
    pub fn to_json(&self) -> Value {
        let mut video = test_json(&self.video.test);
        video.insert("threshold".into(), json!(self.video.threshold));
        let mut report = json!({
            "threshold": self.frame.threshold,
            "dev": {"eer": self.frame.dev_eer, "auc": self.frame.dev_auc},
            "test": {"frame": test_json(&self.frame.test), "video": video},
        });
        if !self.groups.is_empty() {
            report["groups"] = crate::eval::group_metrics::groups_json(&self.groups);
        }
        report
    }

    /// A compact human-readable table, rates in percent.
    pub fn table(&self) -> String {
        let pct = |x: f64| format!("{:.2}", 100.0 * x);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<6} {:>10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7}   counts (live/attack: dev, test)",
            "level",
            "threshold",
            "APCER%",
            "BPCER%",
            "ACER%",
            "HTER%",
            "EER%",
            "AUC%",
            "devEER%",
            "devAUC%"
        );
        for (name, level) in [("frame", &self.frame), ("video", &self.video)] {
            let t = &level.test;
            let _ = writeln!(
                s,
                "{:<6} {:>10.6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7}   {}/{}, {}/{}",
                name,
                level.threshold,
                pct(t.apcer),
                pct(t.bpcer),
                pct(t.acer),
                pct(t.hter),
                pct(t.eer),
                pct(t.auc),
                pct(level.dev_eer),
                pct(level.dev_auc),
                level.dev_counts.live,
                level.dev_counts.attacks,
                level.test_counts.live,
                level.test_counts.attacks,
            );
        }
        let _ = writeln!(
            s,
            "APCER by attack type (test, %; APCER above is the worst type):"
        );
        let width = self
            .frame
            .test
            .apcer_by_type
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        let _ = writeln!(s, "  {:<width$} {:>7} {:>7}", "type", "frame", "video");
        for (name, frame) in &self.frame.test.apcer_by_type {
            let video = self.video.test.apcer_by_type.get(name).copied();
            let _ = writeln!(
                s,
                "  {:<width$} {:>7} {:>7}",
                name,
                pct(*frame),
                video.map_or("-".into(), pct)
            );
        }
        if !self.groups.is_empty() {
            s.push_str(&crate::eval::group_metrics::groups_table(&self.groups));
        }
        s
    }
}

mod csv;

#[cfg(test)]
mod tests;
