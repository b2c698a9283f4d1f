#!/usr/bin/env bash
# Reproduces www/models/mtcnn.safetensors: facenet-pytorch's MTCNN weights (MIT licence)
# from its PyPI wheel, converted by `trainer import --model mtcnn` (pure Rust: the
# weights are torch pickles that Burn's pytorch-reader opens without Python's torch).
#
#   scripts/convert-mtcnn.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-www/models/mtcnn.safetensors}
version=2.6.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps -d "$work" "facenet-pytorch==$version"
python3 -m zipfile -e "$work"/facenet_pytorch-$version-*.whl "$work/wheel"
mkdir -p "$work/facenet-pytorch-$version"
cp "$work"/wheel/facenet_pytorch/data/{pnet,rnet,onet}.pt "$work/facenet-pytorch-$version/"
cargo run --release --quiet -p trainer -- import --model mtcnn \
  --pytorch "$work/facenet-pytorch-$version" --out "$out"
