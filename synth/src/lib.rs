//! `trainer synth`: the project's own face anti-spoofing dataset, generated, seeded and
//! licence-clean, in the layout `trainer prepare` writes:
//! `<out>/{train,val,test}/{true,attack}/<video>/<frame>.png`, `<out>/attack_types.csv`,
//! `<out>/video_groups.csv` (`real` or `procedural` per video: the evaluation reports the
//! two apart) and `<out>/manifest.json` (arguments, sources with their licences and
//! hashes, every file's SHA-256).
//!
//! Identities are real people ([`people`]: photos and clips that registry packages ship
//! under clear licences) and procedural heads ([`face`]). Each identity has live videos
//! (the person moving, blinking, under changing light: [`scene`]) and attack videos of the
//! same person: prints ([`print`]) and screen replays ([`replay`]), whose physics are
//! simulated. Every video, live or attack, is filmed by a camera drawn from one
//! distribution ([`camera`], grey and desaturated night-mode cameras included) and cropped
//! as the real preprocessing crops (face box plus 10 % each side, 224 px), so the attack
//! is the only difference a model can learn. Splits are by identity, real people and
//! procedural heads each split 60/20/20, so that every split has real people.
//!
//! Every frame is a function of (seed, identity, video, frame index): the files are
//! byte-identical for the same arguments, whatever the thread count.

pub mod background;
pub mod camera;
pub mod face;
mod face_paint;
pub mod held;
pub mod people;
pub mod preview;
pub mod print;
pub mod raster;
pub mod replay;
pub mod rng;
pub mod scene;
pub mod shading;
mod write;

use write::write_dataset;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use face::{Face, FaceModel};
use people::{RealPeople, Subject};
use raster::Plane;
use rng::{Rng, derive};
use scene::{Kind, VideoPlan};

/// `<out>/video_groups.csv`: `video,group` with the group `real` or `procedural` (the
/// trainer's `data::video_groups` reads it).
pub const VIDEO_GROUPS_FILE: &str = "video_groups.csv";

/// Bumped whenever the generator's output changes for the same arguments.
pub const GENERATOR_VERSION: u32 = 2;
const GENERATOR: &str = "hatfas-synth";

/// Writes a synthetic face anti-spoofing dataset (or only a preview of it).
#[derive(clap::Args, Debug, Clone)]
pub struct SynthArgs {
    /// Dataset folder to write: <out>/{train,val,test}/{true,attack}/<video>/<frame>.png,
    /// attack_types.csv, manifest.json. Nothing is done when it already holds this dataset.
    #[arg(long, value_name = "DIR", required_unless_present = "preview")]
    pub out: Option<PathBuf>,
    /// People (split 60/20/20 by identity into train/val/test; at least 3): the real
    /// people (see --real-people) and procedural heads for the rest.
    #[arg(long, default_value_t = 24)]
    pub identities: usize,
    /// How many of the identities are real people (photos and clips built into the
    /// binary; default: all of them, at most --identities). Real people and procedural
    /// heads are split apart, so with 3 or more real people every split has some.
    #[arg(long, value_name = "N")]
    pub real_people: Option<usize>,
    /// More real people, after the built-in ones: a folder with a people.json and its
    /// strips, as `scripts/fetch-synth-sources.sh --unclear DIR` writes them (for local
    /// experiments; those media carry no licence statement).
    #[arg(long, value_name = "DIR")]
    pub people_dir: Option<PathBuf>,
    /// Live videos per identity, and as many attack videos (print and replay in turn);
    /// real people have twice as many.
    #[arg(long, default_value_t = 2)]
    pub videos_per_identity: usize,
    /// Frames per video (0.2 s apart).
    #[arg(long, default_value_t = 8)]
    pub frames: usize,
    /// Seed: the same arguments and seed give byte-identical files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Side of the face crops in pixels.
    #[arg(long, default_value_t = model_format::crop::CROP_SIZE)]
    pub size: u32,
    /// Also (or only, without --out) write a contact sheet PNG: live, print and replay
    /// frames of the first identities.
    #[arg(long, value_name = "FILE.png")]
    pub preview: Option<PathBuf>,
}

impl SynthArgs {
    /// The defaults of the command line, writing to `out`.
    pub fn new(out: impl Into<PathBuf>) -> SynthArgs {
        SynthArgs {
            out: Some(out.into()),
            identities: 24,
            real_people: None,
            people_dir: None,
            videos_per_identity: 2,
            frames: 8,
            seed: 0,
            size: model_format::crop::CROP_SIZE,
            preview: None,
        }
    }

    /// A small dataset for smoke tests: 6 identities, one live and one attack video each,
    /// 3 frames, 112 px.
    pub fn quick(out: impl Into<PathBuf>) -> SynthArgs {
        SynthArgs {
            identities: 6,
            videos_per_identity: 1,
            frames: 3,
            size: 112,
            ..SynthArgs::new(out)
        }
    }
}

/// Frames and videos of one split.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitCounts {
    pub identities: usize,
    pub live_videos: usize,
    pub attack_videos: usize,
    pub live_frames: usize,
    pub attack_frames: usize,
}

/// What `run` did.
#[derive(Clone, Debug, Serialize)]
pub struct SynthSummary {
    /// The dataset folder (`None` for a preview only).
    pub root: Option<PathBuf>,
    /// The folder already held this dataset: nothing was written.
    pub cached: bool,
    /// `train`, `val`, `test`.
    pub splits: BTreeMap<String, SplitCounts>,
    pub preview: Option<PathBuf>,
    pub seconds: f64,
}

impl fmt::Display for SynthSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(root) = &self.root {
            let verb = if self.cached {
                "already there, unchanged"
            } else {
                "written"
            };
            writeln!(f, "synthetic dataset {} ({verb})", root.display())?;
            writeln!(
                f,
                "split  identities  live videos/frames  attack videos/frames"
            )?;
            for (name, c) in &self.splits {
                writeln!(
                    f,
                    "{name:<6} {:>10}  {:>11}/{:<6}  {:>13}/{:<6}",
                    c.identities, c.live_videos, c.live_frames, c.attack_videos, c.attack_frames
                )?;
            }
        }
        if let Some(preview) = &self.preview {
            writeln!(f, "contact sheet {}", preview.display())?;
        }
        write!(f, "{:.1} s", self.seconds)
    }
}

/// The image sources built into the binary besides the real people.
pub struct Assets {
    pub brick: Plane<f32>,
}

const BRICK_PNG: &[u8] = include_bytes!("../assets/brick.png");

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let brick = image::load_from_memory(BRICK_PNG)
        .expect("built-in brick.png decodes")
        .to_luma8();
    Assets {
        brick: Plane::from_fn(brick.width() as usize, brick.height() as usize, |x, y| {
            brick.get_pixel(x as u32, y as u32).0[0] as f32 / 255.0
        }),
    }
});

/// Where a file of the repository comes from: the registry package it was cut from, the
/// file inside it and the licence (`people.json` entries and the manifest's sources).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageOrigin {
    pub package: String,
    pub version: String,
    /// The file inside the package.
    pub original: String,
    pub original_sha256: String,
    pub licence: String,
    /// Of the file in the repository (as built into the binary).
    pub sha256: String,
}

/// A source image of the dataset, for the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceAsset {
    pub file: String,
    #[serde(flatten)]
    pub origin: PackageOrigin,
}

/// The sources of a dataset with the first `real` of `people`.
fn sources(people: &RealPeople, real: usize) -> Vec<SourceAsset> {
    // Made by scripts/fetch-synth-sources.sh; see synth/assets/LICENSES.md.
    let mut sources = vec![SourceAsset {
        file: "synth/assets/brick.png".into(),
        origin: PackageOrigin {
            package: "scikit-image".into(),
            version: "0.26.0".into(),
            original: "skimage/data/brick.png".into(),
            original_sha256: "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf"
                .into(),
            licence: "CC0-1.0 (CC0 Textures)".into(),
            sha256: sha256_hex(BRICK_PNG),
        },
    }];
    sources.extend(
        people.sources[..real]
            .iter()
            .zip(&people.files)
            .map(|(p, file)| SourceAsset {
                file: file.clone(),
                origin: p.origin.clone(),
            }),
    );
    sources
}

/// The arguments that decide the dataset's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestArgs {
    pub identities: usize,
    pub real_people: usize,
    pub videos_per_identity: usize,
    pub frames: usize,
    pub seed: u64,
    pub size: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentityEntry {
    pub name: String,
    pub split: String,
    /// `procedural`, or `real:<name>` (a person of `synth/assets/people/`).
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `<out>/manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub generator_version: u32,
    /// Synthetic data: results on it say nothing about real attacks.
    pub synthetic: bool,
    pub arguments: ManifestArgs,
    pub sources: Vec<SourceAsset>,
    pub identities: Vec<IdentityEntry>,
    pub splits: BTreeMap<String, SplitCounts>,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// Same generator, arguments and sources: the same dataset.
    fn same_dataset(&self, other: &Manifest) -> bool {
        self.generator == other.generator
            && self.generator_version == other.generator_version
            && self.arguments == other.arguments
            && self.sources == other.sources
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// One identity of the plan.
#[derive(Clone, Debug)]
pub struct IdentityPlan {
    pub index: usize,
    pub name: String,
    pub split: &'static str,
    /// The index of a real person in [`Plan::people`], `None` for a procedural head.
    pub real: Option<usize>,
    /// What the manifest says the identity is: `procedural` or `real:<name>`.
    pub source: String,
}

impl IdentityPlan {
    /// `real` or `procedural`: the group `video_groups.csv` gives the identity's videos.
    pub fn group(&self) -> &'static str {
        if self.real.is_some() {
            "real"
        } else {
            "procedural"
        }
    }
}

/// Who is in which split and which videos each has.
#[derive(Clone)]
pub struct Plan {
    /// The real people available (built in, and from --people-dir).
    pub people: RealPeople,
    pub identities: Vec<IdentityPlan>,
    pub videos: Vec<(VideoPlan, String)>,
}

/// The video of `identity`, `kind`, `index` (seeded from the run's seed only, so that the
/// preview shows the same frames as the dataset).
pub fn video_plan(seed: u64, identity: usize, kind: Kind, index: usize) -> VideoPlan {
    VideoPlan {
        identity,
        kind,
        index,
        seed: derive(seed, &[identity as u64, kind as u64, index as u64]),
    }
}

pub fn video_name(identity: usize, kind: Kind, index: usize) -> String {
    format!("id{identity:03}_{}_{index}", kind.name())
}

/// Videos of each kind (live, attack) a real person has for one of a procedural head
/// (real people are what the model must get right, and fewer than the heads).
pub const REAL_VIDEO_FACTOR: usize = 2;

/// Identity-disjoint splits (60/20/20, at least one identity each) and the videos.
pub fn plan(args: &SynthArgs) -> Result<Plan> {
    check_args(args)?;
    let n = args.identities;
    let people = RealPeople::with_dir(args.people_dir.as_deref())?;
    let real = real_people(args, &people)?;
    let split_of = identity_splits(n, real, args.seed);
    let identities: Vec<IdentityPlan> = (0..n)
        .map(|i| IdentityPlan {
            index: i,
            name: format!("id{i:03}"),
            split: split_of[i],
            real: (i < real).then_some(i),
            source: if i < real {
                format!("real:{}", people.sources[i].name)
            } else {
                "procedural".into()
            },
        })
        .collect();
    let videos = identities
        .iter()
        .flat_map(|id| identity_videos(args, id))
        .collect();
    Ok(Plan {
        people,
        identities,
        videos,
    })
}

fn check_args(args: &SynthArgs) -> Result<()> {
    ensure!(
        args.identities >= 3,
        "--identities must be at least 3 (one per split)"
    );
    ensure!(args.identities <= 1000, "--identities is at most 1000");
    ensure!(
        args.videos_per_identity >= 1,
        "--videos-per-identity must be at least 1"
    );
    ensure!(args.frames >= 1, "--frames must be at least 1");
    ensure!(
        (32..=1024).contains(&args.size),
        "--size must be within 32..=1024"
    );
    Ok(())
}

/// The split of each of `n` identities, 60/20/20 and at least one each. Real people
/// and procedural heads are split apart, so that every split holds both kinds (when
/// there are at least 3 of a kind); identities 0..real are the real people.
fn identity_splits(n: usize, real: usize, seed: u64) -> Vec<&'static str> {
    let mut rng = Rng::new(derive(seed, &[0x5711]));
    let mut split_of = vec!["train"; n];
    let groups: Vec<Vec<usize>> = if real >= 3 && n - real >= 3 {
        vec![(0..real).collect(), (real..n).collect()]
    } else {
        vec![(0..n).collect()]
    };
    for mut group in groups {
        let held_out = ((group.len() as f32 * 0.2).round() as usize).max(1);
        for i in (1..group.len()).rev() {
            group.swap(i, rng.below(i + 1));
        }
        for (rank, &id) in group.iter().enumerate() {
            split_of[id] = if rank < held_out {
                "val"
            } else if rank < 2 * held_out {
                "test"
            } else {
                "train"
            };
        }
    }
    split_of
}

/// An identity's live videos, then as many attacks, prints and replays alternating.
fn identity_videos(args: &SynthArgs, id: &IdentityPlan) -> Vec<(VideoPlan, String)> {
    // Real people are few and are what matters: they get more videos each.
    let per_identity = if id.real.is_some() {
        REAL_VIDEO_FACTOR * args.videos_per_identity
    } else {
        args.videos_per_identity
    };
    let mut videos = Vec::new();
    for k in 0..per_identity {
        videos.push((
            video_plan(args.seed, id.index, Kind::Live, k),
            video_name(id.index, Kind::Live, k),
        ));
    }
    let (mut prints, mut replays) = (0, 0);
    for k in 0..per_identity {
        let (kind, index) = if (id.index + k).is_multiple_of(2) {
            prints += 1;
            (Kind::Print, prints - 1)
        } else {
            replays += 1;
            (Kind::Replay, replays - 1)
        };
        videos.push((
            video_plan(args.seed, id.index, kind, index),
            video_name(id.index, kind, index),
        ));
    }
    videos
}

/// The number of real people `args` ask for (all built-in ones by default).
pub fn real_people(args: &SynthArgs, people: &RealPeople) -> Result<usize> {
    let available = people.len();
    match args.real_people {
        None => Ok(available.min(args.identities)),
        Some(r) => {
            ensure!(
                r <= available,
                "--real-people {r}: there are {available} real people (built in and --people-dir)"
            );
            ensure!(
                r <= args.identities,
                "--real-people {r} exceeds --identities {}",
                args.identities
            );
            Ok(r)
        }
    }
}

/// Who identity `id` is: a real person or the procedural head of its index.
pub fn identity_subject(seed: u64, id: &IdentityPlan, people: &RealPeople) -> Subject {
    match id.real {
        Some(person) => Subject::real(people.frames(person)),
        None => Subject::procedural(FaceModel::procedural(&Face::random(&mut Rng::new(derive(
            seed,
            &[id.index as u64, 0xFACE],
        ))))),
    }
}

pub fn assets() -> &'static Assets {
    &ASSETS
}

/// Encodes a frame as PNG (`Fast`, the encoder's default, for the dataset's frames, `Best` for the
/// committed contact sheet).
pub fn png_bytes(img: &RgbImage, compression: image::codecs::png::CompressionType) -> Vec<u8> {
    let mut bytes = Vec::new();
    img.write_with_encoder(image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        compression,
        image::codecs::png::FilterType::Adaptive,
    ))
    .expect("encoding to memory cannot fail");
    bytes
}

fn manifest_args(args: &SynthArgs, plan: &Plan) -> ManifestArgs {
    ManifestArgs {
        identities: args.identities,
        real_people: plan.identities.iter().filter(|i| i.real.is_some()).count(),
        videos_per_identity: args.videos_per_identity,
        frames: args.frames,
        seed: args.seed,
        size: args.size,
    }
}

/// The dataset already in `dir`, if it is this one and complete.
fn existing(dir: &Path, wanted: &Manifest) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let manifest: Manifest = serde_json::from_str(&text).ok()?;
    let complete = manifest
        .files
        .iter()
        .all(|f| std::fs::metadata(dir.join(&f.path)).is_ok_and(|m| m.len() == f.bytes));
    (manifest.same_dataset(wanted) && complete).then_some(manifest)
}

/// Generates the dataset (and/or the preview) `args` describe.
pub fn run(args: &SynthArgs) -> Result<SynthSummary> {
    let start = Instant::now();
    let plan = plan(args)?;
    if args.out.is_none() && args.preview.is_none() {
        bail!("nothing to do: give --out DIR and/or --preview FILE.png");
    }
    let mut summary = SynthSummary {
        root: args.out.clone(),
        cached: false,
        splits: BTreeMap::new(),
        preview: args.preview.clone(),
        seconds: 0.0,
    };
    if let Some(out) = &args.out {
        let (splits, cached) = write_dataset(args, &plan, out)?;
        summary.splits = splits;
        summary.cached = cached;
    }
    if let Some(path) = &args.preview {
        let sheet = preview::contact_sheet(args, &plan);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(
            path,
            png_bytes(&sheet, image::codecs::png::CompressionType::Best),
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    summary.seconds = start.elapsed().as_secs_f64();
    println!("{summary}");
    Ok(summary)
}

fn split_counts(args: &SynthArgs, plan: &Plan) -> BTreeMap<String, SplitCounts> {
    let mut splits: BTreeMap<String, SplitCounts> = ["train", "val", "test"]
        .iter()
        .map(|s| (s.to_string(), SplitCounts::default()))
        .collect();
    for id in &plan.identities {
        splits.get_mut(id.split).expect("known split").identities += 1;
    }
    for (video, _) in &plan.videos {
        let c = splits
            .get_mut(plan.identities[video.identity].split)
            .expect("known split");
        if video.kind.is_attack() {
            c.attack_videos += 1;
            c.attack_frames += args.frames;
        } else {
            c.live_videos += 1;
            c.live_frames += args.frames;
        }
    }
    splits
}

/// `video,group` for every video: `real` or `procedural` ([`IdentityPlan::group`]).
fn video_groups_csv(plan: &Plan) -> String {
    let mut rows: Vec<(&str, &str)> = plan
        .videos
        .iter()
        .map(|(v, name)| (name.as_str(), plan.identities[v.identity].group()))
        .collect();
    rows.sort();
    let mut csv = String::from("video,group\n");
    for (video, group) in rows {
        csv.push_str(&format!("{video},{group}\n"));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_splits_by_identity_and_names_videos_uniquely() {
        let mut args = SynthArgs::new("unused");
        args.identities = 10;
        args.real_people = Some(5);
        args.videos_per_identity = 3;
        let plan = plan(&args).unwrap();
        let count = |s: &str| plan.identities.iter().filter(|i| i.split == s).count();
        assert_eq!((count("train"), count("val"), count("test")), (6, 2, 2));
        let names: std::collections::BTreeSet<_> = plan.videos.iter().map(|v| &v.1).collect();
        assert_eq!(names.len(), plan.videos.len());
        // 5 real people with 2 x 3 live and attack videos, 5 heads with 3 + 3.
        assert_eq!(plan.videos.len(), 5 * 12 + 5 * 6);
        // Every identity has live, print and replay videos.
        for id in 0..10 {
            for kind in [Kind::Live, Kind::Print, Kind::Replay] {
                assert!(
                    plan.videos
                        .iter()
                        .any(|(v, _)| v.identity == id && v.kind == kind)
                );
            }
        }
        args.identities = 2;
        assert!(super::plan(&args).is_err());
    }

    #[test]
    fn a_frame_is_deterministic() {
        let args = SynthArgs::new("unused");
        let plan = plan(&args).unwrap();
        let procedural = plan.identities.iter().find(|i| i.real.is_none()).unwrap();
        let model = identity_subject(5, procedural, &plan.people);
        for kind in [Kind::Live, Kind::Print, Kind::Replay] {
            let video = video_plan(5, procedural.index, kind, 0);
            let a = scene::render_video(&model, &video, 4, &[2], 48, assets());
            let b = scene::render_video(&model, &video, 4, &[0, 2], 48, assets());
            assert_eq!(a[0].as_raw(), b[1].as_raw(), "{kind:?}");
        }
    }
}
