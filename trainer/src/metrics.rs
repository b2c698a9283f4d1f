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
use std::io::{BufRead, Write};
use std::path::Path;

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

    /// Reads a score CSV (`video,label,attack_type,score`, header required; label 1 live,
    /// 0 attack). The split must hold live and attack rows.
    pub fn read_csv(path: &Path) -> Result<Self, MetricsError> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|error| MetricsError::Io {
            file: name.clone(),
            error,
        })?;
        Self::from_csv_reader(std::io::BufReader::new(file), &name)
    }

    /// [`ScoreSet::read_csv`] from any reader; `name` appears in error messages.
    pub fn from_csv_reader(reader: impl BufRead, name: &str) -> Result<Self, MetricsError> {
        let row_error = |line: usize, message: String| MetricsError::Row {
            file: name.to_owned(),
            line,
            message,
        };
        let mut set = ScoreSet::new(name);
        let mut columns: Option<[usize; 4]> = None;
        let mut width = 0;
        for (i, line) in reader.lines().enumerate() {
            let line_no = i + 1;
            let line = line.map_err(|error| MetricsError::Io {
                file: name.to_owned(),
                error,
            })?;
            let line = if i == 0 {
                line.strip_prefix('\u{feff}').unwrap_or(&line).to_owned()
            } else {
                line
            };
            if line.trim().is_empty() {
                continue;
            }
            let fields = split_csv_line(&line).map_err(|m| row_error(line_no, m))?;
            let Some(cols) = columns else {
                let mut found = [usize::MAX; 4];
                for (c, wanted) in CSV_COLUMNS.iter().enumerate() {
                    let mut hits = fields.iter().enumerate().filter(|(_, f)| f == wanted);
                    match (hits.next(), hits.next()) {
                        (Some((j, _)), None) => found[c] = j,
                        (None, _) => {
                            return Err(row_error(
                                line_no,
                                format!(
                                    "the header has no column {wanted:?} (expected a header \
                                     naming {}; found {:?})",
                                    CSV_COLUMNS.join(","),
                                    fields.join(",")
                                ),
                            ));
                        }
                        (Some(_), Some(_)) => {
                            return Err(row_error(
                                line_no,
                                format!("the header names column {wanted:?} twice"),
                            ));
                        }
                    }
                }
                columns = Some(found);
                width = fields.len();
                continue;
            };
            if fields.len() != width {
                return Err(row_error(
                    line_no,
                    format!("{} fields where the header has {width}", fields.len()),
                ));
            }
            let [video, label, attack_type, score] = cols.map(|c| fields[c].as_str());
            let live = match label {
                "1" => true,
                "0" => false,
                other => {
                    return Err(row_error(
                        line_no,
                        format!("label {other:?} is neither 1 (live) nor 0 (attack)"),
                    ));
                }
            };
            let score: f64 = score
                .parse()
                .map_err(|_| row_error(line_no, format!("score {score:?} is not a number")))?;
            set.push(video, live, Some(attack_type), score)
                .map_err(|m| row_error(line_no, m))?;
        }
        if columns.is_none() {
            return Err(MetricsError::Split {
                file: name.to_owned(),
                message: format!(
                    "empty file (expected a header {} and rows)",
                    CSV_COLUMNS.join(",")
                ),
            });
        }
        set.check_both_classes()?;
        Ok(set)
    }

    /// Writes the set as a score CSV (frames in the order they were added).
    pub fn write_csv(&self, mut out: impl Write) -> std::io::Result<()> {
        writeln!(out, "{}", CSV_COLUMNS.join(","))?;
        for i in 0..self.len() {
            writeln!(
                out,
                "{},{},{},{}",
                csv_field(self.video(i)),
                u8::from(self.is_live(i)),
                csv_field(self.attack_type(i).unwrap_or("")),
                self.scores[i]
            )?;
        }
        Ok(())
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

/// Splits one CSV line (RFC 4180 quoting: `"a,b"`, `""` for a quote; no line breaks
/// inside fields). Unquoted fields are trimmed.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("unterminated quoted field".into()),
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("{c:?} after a closing quote")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_owned());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_owned());
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
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
    pub groups: Vec<crate::group_metrics::GroupMetrics>,
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
            report["groups"] = crate::group_metrics::groups_json(&self.groups);
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
            s.push_str(&crate::group_metrics::groups_table(&self.groups));
        }
        s
    }
}

#[cfg(test)]
mod tests {
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
        let mut rows: Vec<(&str, bool, &str, f64)> =
            live.iter().map(|&s| ("l", true, "", s)).collect();
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
}
