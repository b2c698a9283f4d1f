//! What happens between frames: where to look for the face (the whole frame or a window
//! around the last face), which detection continues the track, the score smoothed over
//! time, the verdict, and the frame-rate and latency figures. Pure logic, no device.

use std::collections::VecDeque;

use model_format::Face;

/// Analysed frames between two whole-frame detections while a face is tracked (a larger
/// face entering the view is picked up within this many frames).
pub const FULL_DETECTION_EVERY: u32 = 24;
/// Side of the tracking window as a multiple of the last face box's longer side.
pub const WINDOW_SCALE: f32 = 2.0;
/// Smallest face searched for in the tracking window, as a fraction of the last face box's
/// longer side (the face may shrink by this much between two frames).
pub const WINDOW_MIN_FACE: f32 = 0.5;
/// A detection in the window continues the track when it overlaps the last box at least
/// this much (intersection over union).
pub const MIN_OVERLAP: f32 = 0.2;
/// Time constant of the score smoothing, in milliseconds.
pub const SMOOTHING_MS: f64 = 600.0;

/// Where to detect in the next frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Run the detector on the whole frame.
    Full,
    /// Run the detector on the window `[x, y, width, height]` (whole pixels inside the
    /// frame), looking for faces of at least `min_face` pixels.
    Window { window: [u32; 4], min_face: f64 },
}

/// Follows one face from frame to frame.
#[derive(Default, Debug)]
pub struct Tracker {
    last: Option<Face>,
    since_full: u32,
}

impl Tracker {
    /// The face of the previous frame, if any.
    pub fn face(&self) -> Option<&Face> {
        self.last.as_ref()
    }

    /// Forgets the track (a new source, a new model).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Where to look in a `width` x `height` frame.
    pub fn plan(&self, width: u32, height: u32) -> Plan {
        match &self.last {
            Some(face) if self.since_full < FULL_DETECTION_EVERY => {
                let window = search_window(face.bbox, width, height);
                let side = longer_side(face.bbox);
                Plan::Window {
                    window,
                    // MTCNN's P-Net sees 12 px: no smaller face can be asked for.
                    min_face: ((side * WINDOW_MIN_FACE) as f64).max(12.0),
                }
            }
            _ => Plan::Full,
        }
    }

    /// Takes the faces found under `plan` (in frame coordinates, the largest first) and
    /// returns the tracked face: after a whole-frame detection the largest face; after a
    /// window detection the one that overlaps the last box most, if it overlaps enough.
    pub fn update(&mut self, plan: &Plan, faces: Vec<Face>) -> Option<Face> {
        let next = match plan {
            Plan::Full => {
                self.since_full = 0;
                faces.into_iter().next()
            }
            Plan::Window { .. } => {
                self.since_full += 1;
                let last = self.last.as_ref().map(|f| f.bbox);
                last.and_then(|last| {
                    faces
                        .into_iter()
                        .map(|f| (iou(f.bbox, last), f))
                        .filter(|(overlap, _)| *overlap >= MIN_OVERLAP)
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                        .map(|(_, f)| f)
                })
            }
        };
        self.last = next.clone();
        next
    }
}

fn longer_side(b: [f32; 4]) -> f32 {
    (b[2] - b[0]).max(b[3] - b[1])
}

/// The square of [`WINDOW_SCALE`] times the box's longer side around the box centre,
/// clipped to the frame: `[x, y, width, height]`, at least 1 x 1.
pub fn search_window(b: [f32; 4], width: u32, height: u32) -> [u32; 4] {
    let side = longer_side(b) * WINDOW_SCALE;
    let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    let clip = |v: f32, max: u32| v.round().clamp(0.0, max as f32) as u32;
    let (x0, y0) = (clip(cx - side / 2.0, width), clip(cy - side / 2.0, height));
    let (x1, y1) = (clip(cx + side / 2.0, width), clip(cy + side / 2.0, height));
    let (x0, y0) = (
        x0.min(width.saturating_sub(1)),
        y0.min(height.saturating_sub(1)),
    );
    [x0, y0, (x1.max(x0 + 1)) - x0, (y1.max(y0 + 1)) - y0]
}

/// Moves faces found in a window at `(x, y)` into frame coordinates.
pub fn offset_faces(faces: &mut [Face], x: u32, y: u32) {
    let (dx, dy) = (x as f32, y as f32);
    for face in faces {
        face.bbox[0] += dx;
        face.bbox[1] += dy;
        face.bbox[2] += dx;
        face.bbox[3] += dy;
        for point in &mut face.landmarks {
            point[0] += dx;
            point[1] += dy;
        }
    }
}

/// Intersection over union of two boxes `[x1, y1, x2, y2]`.
pub fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |b: [f32; 4]| (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// The live score averaged over time: an exponential moving average whose weight follows
/// the time between frames (time constant [`SMOOTHING_MS`]), so that it behaves the same
/// at 2 and at 30 frames per second.
#[derive(Default, Debug, Clone)]
pub struct Smoother {
    value: Option<(f64, f64)>, // (score, time in ms)
}

impl Smoother {
    pub fn reset(&mut self) {
        self.value = None;
    }

    /// Adds a score observed at `time_ms`; returns the smoothed score.
    pub fn add(&mut self, score: f32, time_ms: f64) -> f32 {
        let next = match self.value {
            None => score as f64,
            Some((previous, at)) => {
                let dt = (time_ms - at).max(0.0);
                let weight = 1.0 - (-dt / SMOOTHING_MS).exp();
                previous + weight * (score as f64 - previous)
            }
        };
        self.value = Some((next, time_ms));
        next as f32
    }

    pub fn value(&self) -> Option<f32> {
        self.value.map(|(v, _)| v as f32)
    }
}

/// The decision shown to the visitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Live,
    Spoof,
    NoFace,
}

impl Verdict {
    /// Live when `score >= threshold` (the model file's rule).
    pub fn of(score: Option<f32>, threshold: f32) -> Self {
        match score {
            None => Self::NoFace,
            Some(s) if s >= threshold => Self::Live,
            Some(_) => Self::Spoof,
        }
    }

    /// The value of the page's `data-verdict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Spoof => "spoof",
            Self::NoFace => "none",
        }
    }
}

/// Frame rate and per-stage latency over a sliding window of recent frames.
#[derive(Debug, Default)]
pub struct Timings {
    frames: VecDeque<f64>,
    detect: VecDeque<f64>,
    classify: VecDeque<f64>,
}

/// Frames the figures are computed over.
const TIMING_WINDOW: usize = 30;

impl Timings {
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Records one analysed frame that finished at `end_ms`, with its detection and (when a
    /// face was classified) classification times.
    pub fn add(&mut self, end_ms: f64, detect_ms: f64, classify_ms: Option<f64>) {
        push(&mut self.frames, end_ms);
        push(&mut self.detect, detect_ms);
        if let Some(ms) = classify_ms {
            push(&mut self.classify, ms);
        }
    }

    /// Analysed frames per second over the window (0 before two frames).
    pub fn fps(&self) -> f64 {
        match (self.frames.front(), self.frames.back()) {
            (Some(first), Some(last)) if self.frames.len() > 1 && last > first => {
                (self.frames.len() - 1) as f64 * 1000.0 / (last - first)
            }
            _ => 0.0,
        }
    }

    /// Median detection time (ms) over the window.
    pub fn detect_ms(&self) -> Option<f64> {
        median(&self.detect)
    }

    /// Median classification time (ms) over the window.
    pub fn classify_ms(&self) -> Option<f64> {
        median(&self.classify)
    }
}

fn push(queue: &mut VecDeque<f64>, value: f64) {
    if queue.len() == TIMING_WINDOW {
        queue.pop_front();
    }
    queue.push_back(value);
}

fn median(values: &VecDeque<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted: Vec<f64> = values.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(bbox: [f32; 4]) -> Face {
        Face {
            bbox,
            prob: 0.99,
            landmarks: [[0.0; 2]; 5],
        }
    }

    #[test]
    fn window_is_twice_the_face_clipped_to_the_frame() {
        // 100 px face centred at (200, 150): a 200 px window from (100, 50).
        assert_eq!(
            search_window([150.0, 100.0, 250.0, 200.0], 640, 480),
            [100, 50, 200, 200]
        );
        // Near the corner: clipped at 0.
        assert_eq!(
            search_window([0.0, 10.0, 100.0, 110.0], 640, 480),
            [0, 0, 150, 160]
        );
        // Outside the frame entirely: still a valid 1x1 window inside.
        let [x, y, w, h] = search_window([900.0, 900.0, 950.0, 950.0], 640, 480);
        assert!(x < 640 && y < 480 && w >= 1 && h >= 1 && x + w <= 640 && y + h <= 480);
    }

    #[test]
    fn tracker_alternates_windows_and_whole_frames() {
        let mut tracker = Tracker::default();
        assert_eq!(tracker.plan(640, 480), Plan::Full);
        let first = face([150.0, 100.0, 250.0, 200.0]);
        let got = tracker.update(
            &Plan::Full,
            vec![first.clone(), face([0.0, 0.0, 30.0, 30.0])],
        );
        assert_eq!(got, Some(first.clone()));
        let plan = tracker.plan(640, 480);
        assert_eq!(
            plan,
            Plan::Window {
                window: [100, 50, 200, 200],
                min_face: 50.0
            }
        );
        // In the window: the overlapping face continues the track, a far one does not.
        let moved = face([155.0, 102.0, 255.0, 202.0]);
        let far = face([400.0, 300.0, 500.0, 400.0]);
        assert_eq!(
            tracker.update(&plan, vec![far.clone(), moved.clone()]),
            Some(moved)
        );
        for _ in 1..FULL_DETECTION_EVERY {
            let plan = tracker.plan(640, 480);
            assert!(matches!(plan, Plan::Window { .. }));
            tracker.update(&plan, vec![face([155.0, 102.0, 255.0, 202.0])]);
        }
        assert_eq!(tracker.plan(640, 480), Plan::Full);
        // Losing the face: back to whole frames.
        tracker.update(&Plan::Full, vec![face([155.0, 102.0, 255.0, 202.0])]);
        let plan = tracker.plan(640, 480);
        assert_eq!(tracker.update(&plan, vec![far]), None);
        assert_eq!(tracker.plan(640, 480), Plan::Full);
    }

    #[test]
    fn window_faces_move_to_frame_coordinates() {
        let mut faces = vec![face([1.0, 2.0, 3.0, 4.0])];
        faces[0].landmarks[2] = [5.0, 6.0];
        offset_faces(&mut faces, 10, 20);
        assert_eq!(faces[0].bbox, [11.0, 22.0, 13.0, 24.0]);
        assert_eq!(faces[0].landmarks[2], [15.0, 26.0]);
        assert_eq!(faces[0].landmarks[0], [10.0, 20.0]);
    }

    #[test]
    fn iou_of_known_boxes() {
        assert_eq!(iou([0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]), 1.0);
        assert_eq!(iou([0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]), 0.0);
        // 5x10 overlap of two 10x10 boxes: 50 / 150.
        assert!((iou([0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 15.0, 10.0]) - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn smoothing_follows_time_not_frame_count() {
        let mut s = Smoother::default();
        assert_eq!(s.add(1.0, 0.0), 1.0);
        // One time constant later, 1 - 1/e of the way to the new score.
        let v = s.add(0.0, SMOOTHING_MS);
        assert!((v - (-1.0f32).exp()).abs() < 1e-6, "{v}");
        // Two frames half a time constant apart end at the same place as one frame.
        let mut a = Smoother::default();
        a.add(1.0, 0.0);
        a.add(0.0, SMOOTHING_MS / 2.0);
        assert!((a.add(0.0, SMOOTHING_MS) - v).abs() < 1e-6);
        s.reset();
        assert_eq!(s.value(), None);
    }

    #[test]
    fn verdict_uses_the_threshold_inclusively() {
        assert_eq!(Verdict::of(Some(0.5), 0.5), Verdict::Live);
        assert_eq!(Verdict::of(Some(0.49), 0.5), Verdict::Spoof);
        assert_eq!(Verdict::of(None, 0.5), Verdict::NoFace);
        assert_eq!(Verdict::Spoof.as_str(), "spoof");
    }

    #[test]
    fn timings_give_rate_and_medians() {
        let mut t = Timings::default();
        assert_eq!(t.fps(), 0.0);
        assert_eq!(t.detect_ms(), None);
        for (i, detect) in [10.0, 30.0, 20.0].into_iter().enumerate() {
            t.add(i as f64 * 100.0, detect, (i > 0).then_some(5.0 * i as f64));
        }
        assert!((t.fps() - 10.0).abs() < 1e-9);
        assert_eq!(t.detect_ms(), Some(20.0));
        assert_eq!(t.classify_ms(), Some(7.5));
        for i in 0..100 {
            t.add(1000.0 + i as f64 * 50.0, 1.0, None);
        }
        assert!((t.fps() - 20.0).abs() < 1e-9);
        assert_eq!(t.detect_ms(), Some(1.0));
    }
}

/// What the page carries from one analysed frame to the next: the face track, the
/// smoothed score and the stage timings. A new source or model starts all three afresh.
#[derive(Debug, Default)]
pub struct History {
    pub tracker: Tracker,
    pub smoother: Smoother,
    pub timings: Timings,
}

impl History {
    pub fn reset(&mut self) {
        self.tracker.reset();
        self.smoother.reset();
        self.timings.reset();
    }
}
