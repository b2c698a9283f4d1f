#!/usr/bin/env bash
# The project's test command (README, CI). Installs what it needs on a fresh machine
# (the wasm32 target, ffmpeg, chromium, wasm-bindgen-cli, trunk), then: formatting, lints
# (clippy, warnings as errors), the wasm32 build of the shared crate and the page's crate
# (the page's `web` profile), and every test of the workspace (release profile, shared
# with the main job), the browser test included.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "== installing the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if ! cargo fmt --version >/dev/null 2>&1; then
  rustup component add rustfmt
fi
if ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add clippy
fi
if ! command -v ffmpeg >/dev/null 2>&1; then
  echo "== installing ffmpeg (trainer prepare decodes videos with it)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q ffmpeg
fi

# The browser end-to-end test (tests/tests/browser.rs): headless Chromium, and Trunk with
# the wasm-bindgen CLI of the version in Cargo.lock (Trunk.toml keeps Trunk offline, so it
# never downloads them itself). Each is installed once and skipped when present.
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium (the browser test runs the page in headless Chromium)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen 0.2.130'; then
  echo "== installing wasm-bindgen-cli 0.2.130 (must equal the wasm-bindgen crate in Cargo.lock)"
  # Not --locked: its lock file names a crate version the registry may lack.
  cargo install wasm-bindgen-cli --version 0.2.130
fi
if ! trunk --version 2>/dev/null | grep -qx 'trunk 0.21.14'; then
  echo "== installing trunk 0.21.14 (serves and builds the demo page)"
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install trunk --version 0.21.14 --locked
fi

echo "== cargo fmt --check"
cargo fmt --all --check

# Lints, warnings as errors: the native workspace, and the page's browser-only code,
# which only the wasm32 target compiles.
echo "== cargo clippy (native and wasm32)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown -p model-format -p web -- -D warnings

# The page's profile (Cargo.toml's [profile.web], what `trunk build --release` uses), so
# that the browser test's Trunk build finds the program already built.
echo "== model-format and web for wasm32-unknown-unknown"
cargo build --profile web --target wasm32-unknown-unknown -p model-format -p web

echo "== cargo test --workspace --release"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --release 2>&1 | tee "$log" || status=$?
# One closing line for the whole run (cargo prints one per test binary, the last ones
# being doc-test binaries without tests).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
exit $status
