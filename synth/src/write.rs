//! Writing a planned dataset to disk: frames rendered in parallel into `<out>.partial`,
//! the tables and the manifest beside them, then the folder renamed into place, so that
//! a killed run never leaves a half dataset under the final name.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::scene::{self, VideoPlan};
use crate::{
    ASSETS, FileEntry, GENERATOR, GENERATOR_VERSION, IdentityEntry, Manifest, Plan, SplitCounts,
    SynthArgs, VIDEO_GROUPS_FILE, existing, identity_subject, manifest_args, png_bytes, sha256_hex,
    sources, split_counts, video_groups_csv,
};

/// Writes the dataset into `<out>.partial` and renames it into place; returns the counts
/// and whether `out` already held it.
pub(crate) fn write_dataset(
    args: &SynthArgs,
    plan: &Plan,
    out: &Path,
) -> Result<(BTreeMap<String, SplitCounts>, bool)> {
    let splits = split_counts(args, plan);
    let arguments = manifest_args(args, plan);
    let mut manifest = Manifest {
        generator: GENERATOR.into(),
        generator_version: GENERATOR_VERSION,
        synthetic: true,
        sources: sources(&plan.people, arguments.real_people),
        arguments,
        identities: plan
            .identities
            .iter()
            .map(|id| IdentityEntry {
                name: id.name.clone(),
                split: id.split.into(),
                source: id.source.clone(),
            })
            .collect(),
        splits: splits.clone(),
        files: Vec::new(),
    };
    if out.exists() {
        if existing(out, &manifest).is_some() {
            return Ok((splits, true));
        }
        refuse_foreign_folder(out)?;
    }
    let partial = PathBuf::from(format!("{}.partial", out.display()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("removing the unfinished {}", partial.display()))?;
    }
    std::fs::create_dir_all(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let mut files = render_frames(args, plan, &partial)?;
    files.extend(write_tables(plan, &partial)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    manifest.files = files;
    let mut json = serde_json::to_string_pretty(&manifest)?;
    json.push('\n');
    let mut file =
        std::fs::File::create(partial.join("manifest.json")).context("writing manifest.json")?;
    file.write_all(json.as_bytes())?;
    file.sync_all()?;
    drop(file);
    swap_into_place(&partial, out)?;
    Ok((splits, false))
}

/// `out` may be replaced only when it is empty or a dataset this generator wrote.
fn refuse_foreign_folder(out: &Path) -> Result<()> {
    let ours = out.join("manifest.json").is_file();
    let empty = std::fs::read_dir(out)
        .with_context(|| format!("reading {}", out.display()))?
        .next()
        .is_none();
    if !ours && !empty {
        bail!(
            "{} exists and is not a synthetic dataset: refusing to replace it",
            out.display()
        );
    }
    Ok(())
}

/// Renders every video's frames into `partial` (identities and their videos in
/// parallel); returns the files written.
fn render_frames(args: &SynthArgs, plan: &Plan, partial: &Path) -> Result<Vec<FileEntry>> {
    let total = (plan.videos.len() * args.frames) as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("synth {bar:30} {pos}/{len} frames {per_sec} ETA {eta}")
            .expect("valid template"),
    );
    let assets = &*ASSETS;
    let frames: Vec<usize> = (0..args.frames).collect();
    let files: Vec<Vec<FileEntry>> = plan
        .identities
        .par_iter()
        .map(|id| -> Result<Vec<FileEntry>> {
            let subject = identity_subject(args.seed, id, &plan.people);
            let videos: Vec<&(VideoPlan, String)> = plan
                .videos
                .iter()
                .filter(|(v, _)| v.identity == id.index)
                .collect();
            let per_video: Vec<Vec<FileEntry>> = videos
                .par_iter()
                .map(|(video, name)| -> Result<Vec<FileEntry>> {
                    let class = if video.kind.is_attack() {
                        "attack"
                    } else {
                        "true"
                    };
                    let rel_dir = format!("{}/{class}/{name}", id.split);
                    let dir = partial.join(&rel_dir);
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                    let images = scene::render_video(
                        &subject,
                        video,
                        args.frames,
                        &frames,
                        args.size,
                        assets,
                    );
                    let mut entries = Vec::new();
                    for (f, img) in images.iter().enumerate() {
                        let bytes = png_bytes(img, image::codecs::png::CompressionType::Fast);
                        let rel = format!("{rel_dir}/{f:03}.png");
                        std::fs::write(partial.join(&rel), &bytes)
                            .with_context(|| format!("writing {rel}"))?;
                        entries.push(FileEntry {
                            path: rel,
                            sha256: sha256_hex(&bytes),
                            bytes: bytes.len() as u64,
                        });
                        bar.inc(1);
                    }
                    Ok(entries)
                })
                .collect::<Result<_>>()?;
            Ok(per_video.into_iter().flatten().collect())
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    Ok(files.into_iter().flatten().collect())
}

/// `attack_types.csv` and `video_groups.csv`; returns their entries for the manifest.
fn write_tables(plan: &Plan, partial: &Path) -> Result<Vec<FileEntry>> {
    let mut csv = String::from("video,attack_type\n");
    let mut attacks: Vec<&(VideoPlan, String)> = plan
        .videos
        .iter()
        .filter(|(v, _)| v.kind.is_attack())
        .collect();
    attacks.sort_by(|a, b| a.1.cmp(&b.1));
    for (video, name) in attacks {
        csv.push_str(&format!("{name},{}\n", video.kind.name()));
    }
    std::fs::write(partial.join("attack_types.csv"), &csv).context("writing attack_types.csv")?;
    let groups = video_groups_csv(plan);
    std::fs::write(partial.join(VIDEO_GROUPS_FILE), &groups)
        .with_context(|| format!("writing {VIDEO_GROUPS_FILE}"))?;
    Ok([("attack_types.csv", &csv), (VIDEO_GROUPS_FILE, &groups)]
        .into_iter()
        .map(|(path, text)| FileEntry {
            path: path.into(),
            sha256: sha256_hex(text.as_bytes()),
            bytes: text.len() as u64,
        })
        .collect())
}

/// Swaps the finished dataset into place (an older one is moved aside first, then
/// removed).
fn swap_into_place(partial: &Path, out: &Path) -> Result<()> {
    if out.exists() {
        let old = PathBuf::from(format!("{}.old", out.display()));
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        std::fs::rename(out, &old).with_context(|| format!("moving {} aside", out.display()))?;
        std::fs::rename(partial, out).with_context(|| format!("renaming {}", partial.display()))?;
        std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    } else {
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(partial, out).with_context(|| format!("renaming {}", partial.display()))?;
    }
    Ok(())
}
