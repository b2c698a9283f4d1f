#!/usr/bin/env bash
# Burn's CUDA backend (`cargo build --features cuda`) compiles cubecl-llvm, whose build
# script downloads a prebuilt LLVM from GitHub: that fails offline. This script provisions
# the same LLVM 23 from PyPI's mlc-llvm-static wheels instead, then prints the
# environment to build with.
#
#   eval "$(scripts/provision-cuda-llvm.sh)"
#   cargo build --release -p trainer --features cuda
set -euo pipefail
version=23.1.1.post0
bundle=tracel-llvm-23.1.0-4
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
target="$data_home/tracel/$bundle"
if [ ! -f "$target/.tracel-llvm-installed" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download --quiet --no-deps -d "$work" \
    "mlc-llvm-static==$version" "mlc-llvm-static-extra-targets==$version" >&2
  store="$data_home/tracel/mlc-llvm-static-$version"
  mkdir -p "$store"
  for wheel in "$work"/*.whl; do
    python3 -m zipfile -e "$wheel" "$store" >&2
  done
  # zipfile drops the executable bits: the build script runs llvm-config.
  find "$store" -path '*/bin/*' -type f -exec chmod +x {} +
  mkdir -p "$(dirname "$target")"
  rm -rf "$target"
  ln -s "$store/mlc_llvm_static/static" "$target"
  touch "$target/.tracel-llvm-installed"
  echo "LLVM $version provisioned at $target" >&2
fi
echo "export XDG_DATA_HOME=$data_home"
