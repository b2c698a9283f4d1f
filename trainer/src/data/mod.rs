//! The prepared dataset: `<root>/<split>/{true,attack}/<video>/<frame>.(jpg|png)`, with
//! attack types from an optional `<root>/attack_types.csv` (`video,attack_type`, as
//! `trainer prepare` writes it); attacks without a row are of the pooled type `attack`.
//! An optional `<root>/video_groups.csv` (`video,group`) names groups of videos whose
//! test metrics are reported apart (real people and procedural heads in synthetic data).

pub(crate) mod augment;
pub(crate) mod cache;
pub(crate) mod prepare;
pub(crate) mod randaugment;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// One frame of the dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub path: PathBuf,
    pub video: String,
    pub live: bool,
    /// `None` for live frames and attacks of no recorded type.
    pub attack_type: Option<String>,
}

/// File extensions read as frames.
pub const IMAGE_EXTENSIONS: [&str; 5] = ["jpg", "jpeg", "png", "bmp", "webp"];

/// The entries of `dir`, sorted by path.
pub fn sorted_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    Ok(entries)
}

/// Whether `path` ends in one of `extensions` (case-insensitive).
pub fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
}

/// `video -> attack type` from `<root>/attack_types.csv`, empty when the file is absent.
pub fn attack_types(root: &Path) -> Result<HashMap<String, String>> {
    Ok(
        read_video_table(&root.join("attack_types.csv"), "attack_type")?
            .into_iter()
            .collect(),
    )
}

/// `video -> group` from `<root>/video_groups.csv` (`video,group`; `trainer synth` writes
/// `real` for videos of real people and `procedural` for drawn heads), empty when the file
/// is absent. The evaluation reports each group's test metrics apart.
pub fn video_groups(root: &Path) -> Result<BTreeMap<String, String>> {
    read_video_table(&root.join(VIDEO_GROUPS_FILE), "group")
}

/// The file [`video_groups`] reads, in the layout `trainer synth` writes.
pub use synth::VIDEO_GROUPS_FILE;

/// A two-column CSV `video,<column>` with a header line; empty when the file is absent.
pub fn read_video_table(path: &Path, column: &str) -> Result<BTreeMap<String, String>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(BTreeMap::new());
    };
    let mut table = BTreeMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (video, value) = line
            .split_once(',')
            .with_context(|| format!("{}:{}: expected `video,{column}`", path.display(), n + 1))?;
        table.insert(video.trim().to_string(), value.trim().to_string());
    }
    Ok(table)
}

/// Every frame of `split`, videos and frames in name order. A missing or empty split or
/// class is an error.
pub fn read_split(root: &Path, split: &str) -> Result<Vec<Frame>> {
    let types = attack_types(root)?;
    let mut frames = Vec::new();
    for (class, live) in [("true", true), ("attack", false)] {
        let dir = root.join(split).join(class);
        if !dir.is_dir() {
            bail!(
                "{} is missing: expected <root>/{split}/{{true,attack}}/<video>/<frame>",
                dir.display()
            );
        }
        let before = frames.len();
        for video_dir in sorted_dir(&dir)?.into_iter().filter(|p| p.is_dir()) {
            let video = video_dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            for path in sorted_dir(&video_dir)? {
                if has_extension(&path, &IMAGE_EXTENSIONS) {
                    frames.push(Frame {
                        path,
                        video: video.clone(),
                        live,
                        attack_type: if live {
                            None
                        } else {
                            types.get(&video).cloned()
                        },
                    });
                }
            }
        }
        if frames.len() == before {
            bail!("{} holds no frames", dir.display());
        }
    }
    Ok(frames)
}

/// The dataset's path and, when it has a `manifest.json` (as `trainer synth` writes), the
/// manifest's SHA-256, which pins every file of the data.
pub fn dataset_description(root: &Path) -> String {
    use sha2::{Digest, Sha256};
    match std::fs::read(root.join("manifest.json")) {
        Ok(bytes) => format!(
            "{} (manifest.json sha256 {:x})",
            root.display(),
            Sha256::digest(&bytes)
        ),
        Err(_) => root.display().to_string(),
    }
}

/// Decodes an image file to 8-bit RGB.
pub fn read_rgb(path: &Path) -> Result<image::RgbImage> {
    let image = image::ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?
        .decode()
        .with_context(|| format!("cannot decode {} as an image", path.display()))?;
    Ok(image.to_rgb8())
}
