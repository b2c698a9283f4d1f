#!/usr/bin/env bash
# The demo page's DeiT forward beside onnxruntime-web's, in the same headless Chromium, in
# the same run (docs/page.md): alternating rounds, a fresh browser profile per page.
# Our page in its `?bench=N` mode (web/src/app/bench.rs) runs the model file; the ORT page
# (tests/ort-bench/) runs the same weights exported to ONNX (scripts/export_vit_onnx.py).
# Prints per-forward median and min, start-up, bytes downloaded raw and gzipped, and the
# per-round ratios ours / ORT; writes target/ort-bench/results.json.
#
#   scripts/bench_page_ort.sh [MODEL]        # default: the demo model (www/models/)
#   ROUNDS=12 RUNS=10 scripts/bench_page_ort.sh
#   BACKENDS="cpu webgpu" scripts/bench_page_ort.sh   # WebGPU too (SwiftShader without a
#                                                     # GPU: minutes per round)
#
# Needs what scripts/test.sh installs (Chromium, Trunk, wasm-bindgen-cli) and the
# reference Python (scripts/.venv with onnx, onnxruntime, safetensors: see
# tests/fixtures/README.md) or PYTHON=... . onnxruntime-web comes from npm, pinned and
# checked by SHA-256 (MIT licence), cached in scripts/.cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-www/models/hatfas-student.safetensors}
python=${PYTHON:-scripts/.venv/bin/python}
cache=scripts/.cache/bench
mode=fetch
# die, sha256_of, fetch_archive
# shellcheck source=lib/fetch.sh
source scripts/lib/fetch.sh

[[ -f "$model" ]] || die "$model: no such model file"
ort_version=1.30.0
ort=$(fetch_archive onnxruntime-web npm onnxruntime-web $ort_version \
  onnxruntime-web-$ort_version.tgz d2228df7e4616bc3348bf504ee888f3bec43789a273f0a63f3e68d203ce3bf71)

work=target/ort-bench
site=$work/site
rm -rf "$site" "$work/package"
mkdir -p "$work"
echo "== building the page (trunk build --release)"
trunk build --release --dist "$site" >"$work/trunk.log" 2>&1 || die "trunk build failed: $work/trunk.log"
mkdir -p "$site/models" "$site/ort-bench/ort" "$site/ort-bench/models"
cp "$model" "$site/models/bench.safetensors"
cp tests/ort-bench/index.html tests/ort-bench/bench.mjs "$site/ort-bench/"
tar -xzf "$ort" -C "$work" package/dist
cp "$work"/package/dist/{ort.wasm.min.mjs,ort.webgpu.min.mjs} \
  "$work"/package/dist/ort-wasm-simd-threaded*.{mjs,wasm} "$site/ort-bench/ort/"
echo "== exporting $model to ONNX"
"$python" scripts/export_vit_onnx.py "$model" "$site/ort-bench/models/model.onnx"

echo "== onnxruntime-web $ort_version against the page ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores)"
BENCH_SITE="$PWD/$site" BENCH_ROUNDS=${ROUNDS:-6} BENCH_RUNS=${RUNS:-10} \
  BENCH_BACKENDS=${BACKENDS:-cpu} cargo run -p tests --release --example page_vs_ort
