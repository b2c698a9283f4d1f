//! `trainer prepare`: face videos (or folders of frames) -> the dataset layout
//! `<out>/{train,val,test}/{true,attack}/<video>/<frame>.png`, one face crop per kept
//! frame (the largest face, cropped by [`model_format::crop::face_crop`]), plus
//! `<out>/attack_types.csv` (`video,attack_type`).
//!
//! Input layouts ([`Layout`]):
//! - `generic`: `<in>/{train,val,test}/{true,attack}/<video file or folder of frames>`.
//! - `casia` (CASIA-FASD): `<in>/{train_release,test_release}/<subject>/<n>.avi`. Videos
//!   1, 2 and HR_1 are live; 3, 4, HR_2 warped photos; 5, 6, HR_3 cut photos; 7, 8, HR_4
//!   video replays. train_release -> train, test_release -> test. CASIA-FASD has no
//!   development set and its protocol (EER) needs none: `val` is made a link to `test`.
//! - `replay` (Idiap Replay-Attack): `<in>/{train,devel,test}/real/*.mov` and
//!   `<in>/{train,devel,test}/attack/{fixed,hand}/*.mov`; devel -> val. The attack type
//!   comes from the file name: `print`, `mobile_photo`, `mobile_video`, `highdef_photo`,
//!   `highdef_video`.
//! - `oulu` (OULU-NPU): `<in>/{Train_files,Dev_files,Test_files}/<phone>_<session>_<user>_<file>.avi`
//!   with `<in>/Protocols/Protocol_<p>/{Train,Dev,Test}[_<fold>].txt` (lines
//!   `+1,1_1_01_1`); the protocol's lists decide what goes where (`--protocol`, and
//!   `--fold` for protocols 3 and 4). File 1 is live, 2 and 3 print attacks (`print1`,
//!   `print2`), 4 and 5 replay attacks (`replay1`, `replay2`).
//!
//! Videos are decoded by ffmpeg (every `--every`-th frame). Videos run in parallel; a
//! finished video has a `.prepared` marker and is skipped by a rerun; a video is written
//! to `<video>.partial` and renamed when complete, so a killed run leaves nothing half
//! done in the layout.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use image::RgbImage;
use model_format::Detector;
use model_format::crop::face_crop;
use serde::{Deserialize, Serialize};

use crate::backend::{BackendArgs, select_device};
use crate::data::{IMAGE_EXTENSIONS, has_extension, sorted_dir};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

/// How the input folder is organised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    Generic,
    Casia,
    Replay,
    Oulu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// One video (or folder of frames) to prepare.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub source: PathBuf,
    pub split: Split,
    pub live: bool,
    /// `None` for live videos.
    pub attack_type: Option<String>,
    /// The output folder name, unique within the split.
    pub id: String,
}

impl Job {
    fn dir(&self, root: &Path) -> PathBuf {
        let class = if self.live { "true" } else { "attack" };
        root.join(self.split.name()).join(class).join(&self.id)
    }
}

const VIDEO_EXTENSIONS: [&str; 8] = ["mp4", "avi", "mov", "mkv", "webm", "m4v", "mpg", "wmv"];
fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// The videos of `input` under `layout`.
pub fn discover(
    input: &Path,
    layout: Layout,
    protocol: Option<u8>,
    fold: Option<u8>,
) -> Result<Vec<Job>> {
    let jobs = match layout {
        Layout::Generic => discover_generic(input)?,
        Layout::Casia => discover_casia(input)?,
        Layout::Replay => discover_replay(input)?,
        Layout::Oulu => {
            let protocol = protocol.context("--layout oulu needs --protocol 1|2|3|4")?;
            discover_oulu(input, protocol, fold)?
        }
    };
    if jobs.is_empty() {
        bail!(
            "no videos found in {} for layout {layout:?}",
            input.display()
        );
    }
    Ok(jobs)
}

fn discover_generic(input: &Path) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for split in [Split::Train, Split::Val, Split::Test] {
        for (class, live) in [("true", true), ("attack", false)] {
            let dir = input.join(split.name()).join(class);
            if !dir.is_dir() {
                continue;
            }
            for entry in sorted_dir(&dir)? {
                if entry.is_dir() || has_extension(&entry, &VIDEO_EXTENSIONS) {
                    jobs.push(Job {
                        id: stem(&entry),
                        source: entry,
                        split,
                        live,
                        attack_type: (!live).then(|| "attack".to_string()),
                    });
                }
            }
        }
    }
    Ok(jobs)
}

/// CASIA-FASD's video number -> (live, attack type).
fn casia_class(name: &str) -> Option<(bool, Option<&'static str>)> {
    Some(match name {
        "1" | "2" | "HR_1" => (true, None),
        "3" | "4" | "HR_2" => (false, Some("warped_photo")),
        "5" | "6" | "HR_3" => (false, Some("cut_photo")),
        "7" | "8" | "HR_4" => (false, Some("video_replay")),
        _ => return None,
    })
}

fn discover_casia(input: &Path) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for (folder, split) in [
        ("train_release", Split::Train),
        ("test_release", Split::Test),
    ] {
        let dir = input.join(folder);
        if !dir.is_dir() {
            bail!("{} is missing: not a CASIA-FASD folder", dir.display());
        }
        for subject in sorted_dir(&dir)?.into_iter().filter(|p| p.is_dir()) {
            for video in sorted_dir(&subject)? {
                let Some((live, attack)) = casia_class(&stem(&video)) else {
                    continue;
                };
                jobs.push(Job {
                    id: format!("{}_{}", stem(&subject), stem(&video)),
                    source: video,
                    split,
                    live,
                    attack_type: attack.map(str::to_string),
                });
            }
        }
    }
    Ok(jobs)
}

/// Replay-Attack's attack type from a file name such as
/// `attack_highdef_client001_session01_highdef_photo_adverse`.
fn replay_attack_type(name: &str) -> &'static str {
    let medium = if name.contains("_video_") {
        "video"
    } else {
        "photo"
    };
    if name.starts_with("attack_print") {
        "print"
    } else if name.starts_with("attack_mobile") {
        if medium == "video" {
            "mobile_video"
        } else {
            "mobile_photo"
        }
    } else if medium == "video" {
        "highdef_video"
    } else {
        "highdef_photo"
    }
}

fn discover_replay(input: &Path) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for (folder, split) in [
        ("train", Split::Train),
        ("devel", Split::Val),
        ("test", Split::Test),
    ] {
        let dir = input.join(folder);
        if !dir.is_dir() {
            bail!("{} is missing: not a Replay-Attack folder", dir.display());
        }
        for video in sorted_dir(&dir.join("real"))? {
            if has_extension(&video, &VIDEO_EXTENSIONS) {
                jobs.push(Job {
                    id: stem(&video),
                    source: video,
                    split,
                    live: true,
                    attack_type: None,
                });
            }
        }
        for support in ["fixed", "hand"] {
            for video in sorted_dir(&dir.join("attack").join(support))? {
                if has_extension(&video, &VIDEO_EXTENSIONS) {
                    let id = stem(&video);
                    jobs.push(Job {
                        attack_type: Some(replay_attack_type(&id).to_string()),
                        id,
                        source: video,
                        split,
                        live: false,
                    });
                }
            }
        }
    }
    Ok(jobs)
}

/// OULU-NPU's file id (last field of `1_1_01_2`) -> (live, attack type).
fn oulu_class(name: &str) -> Option<(bool, Option<&'static str>)> {
    Some(match name.rsplit('_').next()? {
        "1" => (true, None),
        "2" => (false, Some("print1")),
        "3" => (false, Some("print2")),
        "4" => (false, Some("replay1")),
        "5" => (false, Some("replay2")),
        _ => return None,
    })
}

fn discover_oulu(input: &Path, protocol: u8, fold: Option<u8>) -> Result<Vec<Job>> {
    if !(1..=4).contains(&protocol) {
        bail!("OULU-NPU protocols are 1 to 4, not {protocol}");
    }
    let folded = protocol >= 3;
    let suffix = match (folded, fold) {
        (true, Some(f)) if (1..=6).contains(&f) => format!("_{f}"),
        (true, _) => bail!("OULU-NPU protocol {protocol} needs --fold 1..6"),
        (false, Some(_)) => bail!("OULU-NPU protocol {protocol} has no folds"),
        (false, None) => String::new(),
    };
    let protocol_dir = input.join("Protocols").join(format!("Protocol_{protocol}"));
    let mut jobs = Vec::new();
    for (list, folder, split) in [
        ("Train", "Train_files", Split::Train),
        ("Dev", "Dev_files", Split::Val),
        ("Test", "Test_files", Split::Test),
    ] {
        let list_path = protocol_dir.join(format!("{list}{suffix}.txt"));
        let text = std::fs::read_to_string(&list_path)
            .with_context(|| format!("reading the protocol list {}", list_path.display()))?;
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let name = line.split(',').nth(1).map(str::trim).with_context(|| {
                format!("{}:{}: expected `label,video`", list_path.display(), n + 1)
            })?;
            let (live, attack) = oulu_class(name).with_context(|| {
                format!("{}:{}: unknown video {name}", list_path.display(), n + 1)
            })?;
            let video = input.join(folder).join(format!("{name}.avi"));
            if !video.exists() {
                bail!(
                    "{} (listed in {}) is missing",
                    video.display(),
                    list_path.display()
                );
            }
            jobs.push(Job {
                id: name.to_string(),
                source: video,
                split,
                live,
                attack_type: attack.map(str::to_string),
            });
        }
    }
    Ok(jobs)
}

/// Settings of a run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Keep every n-th frame (1 = all).
    pub every: usize,
    pub margin: f32,
    pub size: u32,
}

/// What a finished video wrote (the `.prepared` marker's content).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct VideoReport {
    pub frames_read: usize,
    pub faces_written: usize,
    pub frames_without_face: usize,
}

const MARKER: &str = ".prepared";

/// Prepares every job into `output`, in parallel; `on_done` is called after each video.
/// Returns each video's report (skipped finished videos report what they wrote before).
pub fn prepare(
    jobs: &[Job],
    output: &Path,
    detector: &Detector,
    options: &Options,
    on_done: impl Fn(&Job, &VideoReport) + Sync,
) -> Result<Vec<VideoReport>> {
    use rayon::prelude::*;
    if jobs.iter().any(|j| !j.source.is_dir()) {
        ffmpeg_available()?;
    }
    let reports = jobs
        .par_iter()
        .map(|job| {
            let report = prepare_one(job, output, detector, options)
                .with_context(|| format!("preparing {}", job.source.display()))?;
            on_done(job, &report);
            Ok(report)
        })
        .collect::<Result<Vec<_>>>()?;
    write_attack_types(jobs, output)?;
    if jobs.iter().all(|j| j.split != Split::Val) && jobs.iter().any(|j| j.split == Split::Test) {
        // A layout without a development set (CASIA-FASD): val is the test set.
        let val = output.join("val");
        if !val.exists() {
            #[cfg(unix)]
            std::os::unix::fs::symlink("test", &val).context("linking val to test")?;
        }
    }
    Ok(reports)
}

fn prepare_one(
    job: &Job,
    output: &Path,
    detector: &Detector,
    options: &Options,
) -> Result<VideoReport> {
    let dir = job.dir(output);
    if let Ok(text) = std::fs::read_to_string(dir.join(MARKER)) {
        return serde_json::from_str(&text).context("reading the .prepared marker");
    }
    let partial = dir.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(&partial)?;
    let mut report = VideoReport::default();
    let mut keep = |index: usize, frame: RgbImage| -> Result<()> {
        report.frames_read += 1;
        let name = format!("{}#{index}", job.source.display());
        match crate::detect::detect(detector, &frame, &name)?.first() {
            Some(face) => {
                let crop = face_crop(&frame, face.bbox, options.margin, options.size);
                crop.save(partial.join(format!("{index:05}.png")))?;
                report.faces_written += 1;
            }
            None => report.frames_without_face += 1,
        }
        Ok(())
    };
    if job.source.is_dir() {
        let frames = sorted_dir(&job.source)?
            .into_iter()
            .filter(|p| has_extension(p, &IMAGE_EXTENSIONS));
        for (index, path) in frames.enumerate().step_by(options.every) {
            keep(index, crate::data::read_rgb(&path)?)?;
        }
    } else {
        decode_video(&job.source, options.every, &mut keep)?;
    }
    if report.frames_without_face > 0 {
        tracing::warn!(
            "{}: {} of {} frames without a face (skipped)",
            job.source.display(),
            report.frames_without_face,
            report.frames_read
        );
    }
    std::fs::write(partial.join(MARKER), serde_json::to_string(&report)?)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::rename(&partial, &dir)?;
    Ok(report)
}

fn ffmpeg_available() -> Result<()> {
    for tool in ["ffmpeg", "ffprobe"] {
        let found = Command::new(tool)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            bail!(
                "{tool} is not installed; it decodes the videos (Debian/Ubuntu: apt-get install ffmpeg)"
            );
        }
    }
    Ok(())
}

/// Decodes every `every`-th frame of `video` with ffmpeg as RGB and hands it to `keep`
/// with its frame index.
fn decode_video(
    video: &Path,
    every: usize,
    keep: &mut impl FnMut(usize, RgbImage) -> Result<()>,
) -> Result<()> {
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
        ])
        .args(["-of", "csv=p=0:s=x"])
        .arg(video)
        .output()?;
    let dims = String::from_utf8_lossy(&probe.stdout);
    let (w, h) = dims
        .trim()
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .with_context(|| {
            format!(
                "ffprobe found no video stream: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            )
        })?;
    let filter = format!("select=not(mod(n\\,{every}))");
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args([
            "-vf", &filter, "-vsync", "vfr", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let frame_bytes = w as usize * h as usize * 3;
    let mut index = 0;
    loop {
        let mut buffer = vec![0u8; frame_bytes];
        match stdout.read_exact(&mut buffer) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        keep(
            index * every,
            RgbImage::from_raw(w, h, buffer).expect("frame size"),
        )?;
        index += 1;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "ffmpeg failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// `<out>/attack_types.csv`: `video,attack_type` for every attack video, merged with the
/// rows of earlier runs.
fn write_attack_types(jobs: &[Job], output: &Path) -> Result<()> {
    let path = output.join("attack_types.csv");
    let mut rows = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(&path) {
        for line in text.lines().skip(1) {
            if let Some((video, kind)) = line.split_once(',') {
                rows.insert(video.to_string(), kind.to_string());
            }
        }
    }
    for job in jobs {
        if let Some(kind) = &job.attack_type {
            rows.insert(job.id.clone(), kind.clone());
        }
    }
    let mut text = String::from("video,attack_type\n");
    for (video, kind) in rows {
        text.push_str(&format!("{video},{kind}\n"));
    }
    let temporary = path.with_extension("csv.tmp");
    std::fs::write(&temporary, text)?;
    std::fs::rename(temporary, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }

    #[test]
    fn casia_names_map_to_classes_and_splits() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["1", "HR_1", "3", "HR_3", "8", "notes"] {
            touch(&dir.path().join(format!("train_release/5/{name}.avi")));
        }
        touch(&dir.path().join("test_release/21/HR_4.avi"));
        let jobs = discover(dir.path(), Layout::Casia, None, None).unwrap();
        let summary: Vec<_> = jobs
            .iter()
            .map(|j| (j.id.as_str(), j.split, j.live, j.attack_type.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("5_1", Split::Train, true, None),
                ("5_3", Split::Train, false, Some("warped_photo")),
                ("5_8", Split::Train, false, Some("video_replay")),
                ("5_HR_1", Split::Train, true, None),
                ("5_HR_3", Split::Train, false, Some("cut_photo")),
                ("21_HR_4", Split::Test, false, Some("video_replay")),
            ]
        );
    }

    #[test]
    fn replay_attack_types_come_from_file_names() {
        assert_eq!(
            replay_attack_type("attack_print_client001_session01_highdef_photo_adverse"),
            "print"
        );
        assert_eq!(
            replay_attack_type("attack_mobile_client001_session01_mobile_video_adverse"),
            "mobile_video"
        );
        assert_eq!(
            replay_attack_type("attack_highdef_client001_session01_highdef_photo_controlled"),
            "highdef_photo"
        );
        let dir = tempfile::tempdir().unwrap();
        for split in ["train", "devel", "test"] {
            touch(&dir.path().join(format!(
                "{split}/real/client001_session01_webcam_authenticate_adverse_1.mov"
            )));
            touch(&dir.path().join(format!(
                "{split}/attack/hand/attack_mobile_client001_session01_mobile_photo_adverse.mov"
            )));
            std::fs::create_dir_all(dir.path().join(format!("{split}/attack/fixed"))).unwrap();
        }
        let jobs = discover(dir.path(), Layout::Replay, None, None).unwrap();
        assert_eq!(jobs.len(), 6);
        assert_eq!(jobs[2].split, Split::Val);
        assert_eq!(jobs[3].attack_type.as_deref(), Some("mobile_photo"));
    }

    #[test]
    fn oulu_protocol_lists_decide_the_splits() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for (list, folder, names) in [
            ("Train_2", "Train_files", ["1_1_01_1", "1_1_01_4"]),
            ("Dev_2", "Dev_files", ["2_1_21_1", "2_1_21_2"]),
            ("Test_2", "Test_files", ["3_3_36_1", "3_3_36_5"]),
        ] {
            let text: String = names
                .iter()
                .map(|n| format!("{},{n}\n", if n.ends_with("_1") { "+1" } else { "-1" }))
                .collect();
            std::fs::create_dir_all(p.join("Protocols/Protocol_3")).unwrap();
            std::fs::write(p.join(format!("Protocols/Protocol_3/{list}.txt")), text).unwrap();
            for n in names {
                touch(&p.join(format!("{folder}/{n}.avi")));
            }
        }
        let jobs = discover(p, Layout::Oulu, Some(3), Some(2)).unwrap();
        let summary: Vec<_> = jobs
            .iter()
            .map(|j| (j.id.as_str(), j.split, j.attack_type.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("1_1_01_1", Split::Train, None),
                ("1_1_01_4", Split::Train, Some("replay1")),
                ("2_1_21_1", Split::Val, None),
                ("2_1_21_2", Split::Val, Some("print1")),
                ("3_3_36_1", Split::Test, None),
                ("3_3_36_5", Split::Test, Some("replay2")),
            ]
        );
        assert!(
            discover(p, Layout::Oulu, Some(3), None)
                .unwrap_err()
                .to_string()
                .contains("--fold")
        );
        assert!(
            discover(p, Layout::Oulu, None, None)
                .unwrap_err()
                .to_string()
                .contains("--protocol")
        );
    }
}

#[derive(Args, Debug)]
pub struct PrepareArgs {
    /// The dataset as distributed (or a generic {train,val,test}/{true,attack}/ tree of
    /// videos or frame folders).
    #[arg(long, value_name = "DIR")]
    pub input: PathBuf,
    /// Where to write <split>/<true|attack>/<video>/<frame>.png and attack_types.csv.
    #[arg(long, value_name = "ROOT")]
    pub output: PathBuf,
    /// How the input is organised (see docs/data.md or the trainer's prepare module docs).
    #[arg(long, value_enum, default_value_t = Layout::Generic)]
    pub layout: Layout,
    /// OULU-NPU protocol (1-4).
    #[arg(long)]
    pub protocol: Option<u8>,
    /// OULU-NPU fold for protocols 3 and 4 (1-6).
    #[arg(long)]
    pub fold: Option<u8>,
    /// Keep every N-th frame.
    #[arg(long, default_value_t = 5)]
    pub every: usize,
    /// Context around the face: the crop's side is (1 + margin) x the box's longer side.
    #[arg(long, default_value_t = model_format::crop::DEFAULT_MARGIN)]
    pub margin: f32,
    /// Side of the saved crops in pixels.
    #[arg(long, default_value_t = model_format::crop::CROP_SIZE)]
    pub size: u32,
    /// Detector model file (default: the built-in MTCNN).
    #[arg(long, value_name = "FILE")]
    pub detector: Option<PathBuf>,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// `trainer prepare`.
pub fn command(args: PrepareArgs) -> Result<()> {
    if args.every == 0 || args.size == 0 || !(0.0..=4.0).contains(&args.margin) {
        bail!("--every and --size must be positive and --margin in [0, 4]");
    }
    let jobs = discover(&args.input, args.layout, args.protocol, args.fold)?;
    let selected = select_device(args.backend)?;
    let detector = crate::detect::load_detector(args.detector.as_deref(), &selected.device)?;
    let bar = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template(
            "preparing {bar:30} {pos}/{len} videos {per_sec} ETA {eta} {msg}",
        )
        .expect("valid template"),
    );
    let options = Options {
        every: args.every,
        margin: args.margin,
        size: args.size,
    };
    let reports = prepare(&jobs, &args.output, &detector, &options, |job, _| {
        bar.set_message(job.id.clone());
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let faces: usize = reports.iter().map(|r| r.faces_written).sum();
    let frames: usize = reports.iter().map(|r| r.frames_read).sum();
    let missing: usize = reports.iter().map(|r| r.frames_without_face).sum();
    println!(
        "{} videos -> {}: {faces} face crops from {frames} frames ({missing} frames without a face, skipped)",
        jobs.len(),
        args.output.display()
    );
    Ok(())
}
