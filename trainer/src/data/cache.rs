//! The decoded-frame cache: every frame of a split decoded once into one memory-mapped
//! file, so that later epochs read raw RGB instead of decoding JPEG/PNG again.
//!
//! The cache file is named by a hash of the split's frame list (paths, sizes, modification
//! times): a changed, added or removed frame gives a new name, so a stale cache is never
//! read. Layout (little-endian): magic `HATFASC1`, frame count `u64`, then per frame
//! `offset u64, width u32, height u32` (0 x 0 for a frame that could not be decoded), then
//! the RGB bytes. It is written to a temporary file and renamed, so a killed build leaves
//! no half-written cache.

use std::hash::Hasher;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use image::RgbImage;
use memmap2::Mmap;
use rayon::prelude::*;

use crate::data::Frame;

const MAGIC: &[u8; 8] = b"HATFASC1";
const INDEX_ENTRY: usize = 16;

/// A split's decoded frames, memory-mapped.
pub struct FrameCache {
    map: Mmap,
    count: usize,
    /// Frames that could not be decoded (skipped by the loader).
    pub unreadable: usize,
    /// The cache file (the tests check which file a split was given).
    #[cfg(test)]
    path: std::path::PathBuf,
}

/// The cache file name for `frames`: a hash of each frame's path, size and mtime.
fn cache_name(split: &str, frames: &[Frame]) -> Result<String> {
    let mut hash = fnv::FnvHasher::default();
    for frame in frames {
        let meta = std::fs::metadata(&frame.path)
            .with_context(|| format!("reading {}", frame.path.display()))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        hash.write(frame.path.to_string_lossy().as_bytes());
        hash.write_u64(meta.len());
        hash.write_u128(mtime);
    }
    Ok(format!("{split}-{:016x}.frames", hash.finish()))
}

impl FrameCache {
    /// Opens the cache of `frames` in `cache_dir`, building it first (decoding in
    /// parallel, `on_decoded` after each frame) when it does not exist or is damaged.
    pub fn open_or_build(
        cache_dir: &Path,
        split: &str,
        frames: &[Frame],
        on_decoded: impl Fn() + Sync,
    ) -> Result<Self> {
        std::fs::create_dir_all(cache_dir)
            .with_context(|| format!("creating {}", cache_dir.display()))?;
        let path = cache_dir.join(cache_name(split, frames)?);
        if let Ok(cache) = Self::open(&path, frames.len()) {
            return Ok(cache);
        }
        build(&path, frames, on_decoded)?;
        Self::open(&path, frames.len())
    }

    /// Maps and checks a cache file.
    fn open(path: &Path, expected: usize) -> Result<Self> {
        let file = std::fs::File::open(path)?;
        // Safety: the file is only ever replaced by rename, never modified in place.
        let map = unsafe { Mmap::map(&file)? };
        if map.len() < 16 || &map[..8] != MAGIC {
            bail!("{} is not a frame cache", path.display());
        }
        let count = u64::from_le_bytes(map[8..16].try_into().expect("8 bytes")) as usize;
        if count != expected || map.len() < 16 + count * INDEX_ENTRY {
            bail!("{} does not match the split", path.display());
        }
        let mut cache = Self {
            map,
            count,
            unreadable: 0,
            #[cfg(test)]
            path: path.to_path_buf(),
        };
        for i in 0..count {
            let (offset, w, h) = cache.entry(i);
            let end = offset.checked_add(w as usize * h as usize * 3);
            if end.is_none_or(|end| end > cache.map.len()) {
                bail!("{} is truncated", path.display());
            }
            if w == 0 {
                cache.unreadable += 1;
            }
        }
        Ok(cache)
    }

    fn entry(&self, i: usize) -> (usize, u32, u32) {
        let at = 16 + i * INDEX_ENTRY;
        let e = &self.map[at..at + INDEX_ENTRY];
        (
            u64::from_le_bytes(e[..8].try_into().expect("8 bytes")) as usize,
            u32::from_le_bytes(e[8..12].try_into().expect("4 bytes")),
            u32::from_le_bytes(e[12..16].try_into().expect("4 bytes")),
        )
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// Frame `i` as (width, height, RGB bytes), or `None` if it could not be decoded.
    pub fn get(&self, i: usize) -> Option<(u32, u32, &[u8])> {
        let (offset, w, h) = self.entry(i);
        (w > 0).then(|| {
            (
                w,
                h,
                &self.map[offset..offset + w as usize * h as usize * 3],
            )
        })
    }

    /// Frame `i` as an owned image.
    pub fn image(&self, i: usize) -> Option<RgbImage> {
        let (w, h, bytes) = self.get(i)?;
        RgbImage::from_raw(w, h, bytes.to_vec())
    }
}

fn build(path: &Path, frames: &[Frame], on_decoded: impl Fn() + Sync) -> Result<()> {
    let decoded: Vec<Option<RgbImage>> = frames
        .par_iter()
        .map(|frame| {
            let image = crate::data::read_rgb(&frame.path);
            if let Err(err) = &image {
                tracing::warn!("skipping unreadable frame: {err:#}");
            }
            on_decoded();
            image.ok()
        })
        .collect();
    let temporary = path.with_extension("partial");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
    out.write_all(MAGIC)?;
    out.write_all(&(frames.len() as u64).to_le_bytes())?;
    let mut offset = 16 + frames.len() * INDEX_ENTRY;
    for image in &decoded {
        let (w, h) = image.as_ref().map_or((0, 0), |i| i.dimensions());
        out.write_all(&(offset as u64).to_le_bytes())?;
        out.write_all(&w.to_le_bytes())?;
        out.write_all(&h.to_le_bytes())?;
        offset += w as usize * h as usize * 3;
    }
    for image in decoded.iter().flatten() {
        out.write_all(image.as_raw())?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(dir: &Path, n: usize) -> Vec<Frame> {
        (0..n)
            .map(|i| {
                let path = dir.join(format!("{i:03}.png"));
                let image = RgbImage::from_fn(8 + i as u32, 6, |x, y| {
                    image::Rgb([x as u8, y as u8, i as u8])
                });
                image.save(&path).unwrap();
                Frame {
                    path,
                    video: "v".into(),
                    live: true,
                    attack_type: None,
                }
            })
            .collect()
    }

    #[test]
    fn frames_read_back_as_decoded_and_the_cache_is_reused() {
        let data = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let frames = frames(data.path(), 4);
        let decoded = std::sync::atomic::AtomicUsize::new(0);
        let count = || {
            decoded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        let cache = FrameCache::open_or_build(cache_dir.path(), "train", &frames, count).unwrap();
        assert_eq!(cache.len(), 4);
        for (i, frame) in frames.iter().enumerate() {
            assert_eq!(
                cache.image(i).unwrap(),
                image::open(&frame.path).unwrap().to_rgb8()
            );
        }
        assert_eq!(decoded.load(std::sync::atomic::Ordering::Relaxed), 4);
        // Opening again decodes nothing.
        let again = FrameCache::open_or_build(cache_dir.path(), "train", &frames, count).unwrap();
        assert_eq!(again.path, cache.path);
        assert_eq!(decoded.load(std::sync::atomic::Ordering::Relaxed), 4);
    }

    #[test]
    fn changed_files_invalidate_and_damage_is_rebuilt_or_skipped() {
        let data = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let frames = frames(data.path(), 3);
        let first = FrameCache::open_or_build(cache_dir.path(), "val", &frames, || {})
            .unwrap()
            .path;
        // A frame replaced by a different (here: unreadable) file gets a new cache.
        std::fs::write(&frames[1].path, b"not an image at all").unwrap();
        let cache = FrameCache::open_or_build(cache_dir.path(), "val", &frames, || {}).unwrap();
        assert_ne!(cache.path, first);
        assert_eq!(cache.unreadable, 1);
        assert!(cache.get(1).is_none() && cache.get(2).is_some());
        // A truncated cache file is rebuilt rather than read.
        let path = cache.path.clone();
        drop(cache);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        let rebuilt = FrameCache::open_or_build(cache_dir.path(), "val", &frames, || {}).unwrap();
        assert_eq!(std::fs::read(&rebuilt.path).unwrap(), bytes);
    }
}
