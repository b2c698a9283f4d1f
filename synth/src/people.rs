//! The people of the dataset. A [`Subject`] is what the camera films: a procedural head,
//! or a real person from photos and clips that registry packages ship under clear licences
//! ([`REAL_PEOPLE`], cut by `scripts/fetch-synth-sources.sh` into
//! `synth/assets/people/`, listed with licences and hashes in `people.json` and
//! `synth/assets/LICENSES.md`).
//!
//! A real person's frames are square crops of 2.1 x the face box that MTCNN finds in each
//! frame (the detector follows the face, as `trainer prepare` does), stacked top to bottom
//! in one JPEG, 0.2 s apart for clips. Each frame becomes a head model
//! ([`FaceModel::photo`]); a video plays the clip back and forth from a random start, so
//! live videos carry the person's real motion, expression and the original camera's
//! noise, and attacks replay or print other moments of the same person.

use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

use anyhow::{Context, Result, ensure};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::face::{FaceModel, Pose};
use super::scene::{FRAME_INTERVAL, Motion};

/// The crop around each real frame covers ±1.05 face units around the face box.
pub const CROP_EXTENT: f32 = 1.05;

/// What the camera films for one identity.
pub struct Subject {
    /// The head of a procedural identity or a photo.
    still: Option<FaceModel>,
    /// The frames of a clip (their head models are built when rendered: a clip's models
    /// would take over 10 MB a frame).
    clip: Vec<RgbImage>,
    /// How much of the synthetic head motion is added: a clip brings its own.
    motion_scale: f32,
    /// A real person (photos or clips), not a procedural head.
    pub real: bool,
}

/// The head at one instant: the subject's own, or one built from a clip's frame.
pub enum Head<'a> {
    Still(&'a FaceModel),
    Frame(Box<FaceModel>),
}

impl std::ops::Deref for Head<'_> {
    type Target = FaceModel;

    fn deref(&self) -> &FaceModel {
        match self {
            Head::Still(model) => model,
            Head::Frame(model) => model,
        }
    }
}

impl Subject {
    /// A procedural head.
    pub fn procedural(model: FaceModel) -> Subject {
        Subject {
            still: Some(model),
            clip: Vec::new(),
            motion_scale: 1.0,
            real: false,
        }
    }

    /// A real person from frames of a clip (or one photo), each a crop of ±[`CROP_EXTENT`]
    /// face units around the face box.
    pub fn real(mut frames: Vec<RgbImage>) -> Subject {
        assert!(!frames.is_empty(), "a real person has at least one frame");
        if frames.len() == 1 {
            let photo = frames.pop().expect("one frame");
            return Subject {
                still: Some(FaceModel::photo(&photo, CROP_EXTENT)),
                clip: Vec::new(),
                motion_scale: 1.0,
                real: true,
            };
        }
        Subject {
            still: None,
            clip: frames,
            // A clip's own head motion is kept, with a little sway added.
            motion_scale: 0.35,
            real: true,
        }
    }

    /// The head at time `t` (seconds) of the clip, played forwards then backwards, so that
    /// any `t` is a frame and neighbouring times are neighbouring frames.
    pub fn at(&self, t: f32) -> Head<'_> {
        match &self.still {
            Some(model) => Head::Still(model),
            None => Head::Frame(Box::new(FaceModel::photo(
                &self.clip[clip_index(self.clip.len(), t)],
                CROP_EXTENT,
            ))),
        }
    }

    /// The head's pose at time `t` under `motion`, damped for clips.
    pub fn pose(&self, motion: &Motion, t: f32, focal: f32) -> Pose {
        let pose = motion.pose(t, focal);
        Pose {
            yaw: pose.yaw * self.motion_scale,
            pitch: pose.pitch * self.motion_scale,
            roll: pose.roll * self.motion_scale,
            focal,
        }
    }
}

/// The frame of an `n`-frame clip (frames [`FRAME_INTERVAL`] apart) shown at time `t`,
/// playing it forwards then backwards.
pub fn clip_index(n: usize, t: f32) -> usize {
    if n <= 1 {
        return 0;
    }
    let period = 2 * (n as i64 - 1);
    let k = ((t / FRAME_INTERVAL).round() as i64).rem_euclid(period);
    (if k < n as i64 { k } else { period - k }) as usize
}

/// Where a real person's pictures come from (one entry of `people.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonSource {
    /// Short name, also the strip's file stem (`<name>.jpg`).
    pub name: String,
    /// `photo` or `clip`.
    pub kind: String,
    /// Frames in the strip.
    pub frames: usize,
    /// The package the strip was cut from; its `sha256` is the strip file's.
    #[serde(flatten)]
    pub origin: super::PackageOrigin,
}

/// Real people: the entries of a `people.json` and their strips.
#[derive(Clone)]
pub struct RealPeople {
    pub sources: Vec<PersonSource>,
    strips: Vec<Cow<'static, [u8]>>,
    /// Where each person's strip lives (for the manifest).
    pub files: Vec<String>,
}

const PEOPLE_JSON: &str = include_str!("../assets/people/people.json");

/// The strip files, by name (each listed in `people.json`).
const STRIPS: &[(&str, &[u8])] = &include!("../assets/people/strips.rs.in");

/// The real people built into the binary (`synth/assets/people/`).
pub static REAL_PEOPLE: LazyLock<RealPeople> = LazyLock::new(|| {
    let sources: Vec<PersonSource> =
        serde_json::from_str(PEOPLE_JSON).expect("built-in people.json parses");
    let strips = sources
        .iter()
        .map(|s| {
            let strip = STRIPS
                .iter()
                .find(|(name, _)| *name == s.name)
                .unwrap_or_else(|| panic!("no strip for {} in strips.rs.in", s.name));
            Cow::Borrowed(strip.1)
        })
        .collect();
    let files = sources
        .iter()
        .map(|s| format!("synth/assets/people/{}.jpg", s.name))
        .collect();
    RealPeople {
        sources,
        strips,
        files,
    }
});

impl RealPeople {
    /// The built-in people, then those of `dir` (a `people.json` and its strips, as
    /// `scripts/fetch-synth-sources.sh --unclear DIR` writes them), each strip checked
    /// against its hash.
    pub fn with_dir(dir: Option<&Path>) -> Result<RealPeople> {
        let mut people = REAL_PEOPLE.clone();
        let Some(dir) = dir else {
            return Ok(people);
        };
        let index = dir.join("people.json");
        let text = std::fs::read_to_string(&index)
            .with_context(|| format!("reading {}", index.display()))?;
        let extra: Vec<PersonSource> = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a list of people", index.display()))?;
        for source in extra {
            ensure!(
                !people.sources.iter().any(|s| s.name == source.name),
                "{}: {} is already a person",
                index.display(),
                source.name
            );
            let file = dir.join(format!("{}.jpg", source.name));
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            ensure!(
                super::sha256_hex(&bytes) == source.origin.sha256,
                "{} does not match the SHA-256 in {}",
                file.display(),
                index.display()
            );
            let side = image::load_from_memory(&bytes)
                .with_context(|| format!("decoding {}", file.display()))?;
            ensure!(
                source.frames >= 1 && side.height() == side.width() * source.frames as u32,
                "{} is not a strip of {} square frames",
                file.display(),
                source.frames
            );
            people.files.push(file.display().to_string());
            people.strips.push(Cow::Owned(bytes));
            people.sources.push(source);
        }
        Ok(people)
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The frames of person `i`, top to bottom in the strip.
    pub fn frames(&self, i: usize) -> Vec<RgbImage> {
        let source = &self.sources[i];
        let strip = image::load_from_memory(&self.strips[i])
            .unwrap_or_else(|e| panic!("strip of {} decodes (checked on load): {e}", source.name))
            .to_rgb8();
        let side = strip.width();
        (0..source.frames as u32)
            .map(|f| image::imageops::crop_imm(&strip, 0, f * side, side, side).to_image())
            .collect()
    }

    /// The strip's bytes.
    pub fn strip(&self, i: usize) -> &[u8] {
        &self.strips[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_play_back_and_forth() {
        let at = |n, k: i32| clip_index(n, k as f32 * FRAME_INTERVAL);
        let seq: Vec<usize> = (0..9).map(|k| at(4, k)).collect();
        assert_eq!(seq, [0, 1, 2, 3, 2, 1, 0, 1, 2]);
        assert_eq!(at(4, -1), 1);
        assert_eq!(at(1, 7), 0);
        assert_eq!(at(2, 3), 1);
    }

    #[test]
    fn built_in_people_match_their_hashes_and_decode() {
        let people = &*REAL_PEOPLE;
        // Sixteen people have a clear licence (synth/assets/LICENSES.md).
        assert_eq!(people.len(), 16, "{} real people", people.len());
        let mut names = std::collections::BTreeSet::new();
        for (i, source) in people.sources.iter().enumerate() {
            assert!(names.insert(&source.name), "{} twice", source.name);
            assert_eq!(
                crate::sha256_hex(people.strip(i)),
                source.origin.sha256,
                "{}",
                source.name
            );
            let frames = people.frames(i);
            assert_eq!(frames.len(), source.frames);
            assert!(frames.iter().all(|f| f.width() == 256 && f.height() == 256));
            assert_eq!(source.kind == "clip", source.frames > 1, "{}", source.name);
        }
    }
}
