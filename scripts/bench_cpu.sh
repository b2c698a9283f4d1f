#!/usr/bin/env bash
# CPU inference, Burn (trainer bench) beside the PyTorch references in one run with the
# same thread count: DeiT-Tiny (timm) at batch 1 and 16, and MTCNN face detection
# (facenet-pytorch) on a 640x480 frame. Prints both and the ratio Burn / PyTorch (below
# 1: Burn is faster).
#
#   scripts/bench_cpu.sh [THREADS] [ITERS]
#
# Needs the reference Python (scripts/.venv, see tests/fixtures/README.md) or PYTHON=...
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
iters=${2:-20}
model=deit_tiny_patch16_224
python=${PYTHON:-scripts/.venv/bin/python}

cargo build --release -p trainer --quiet
trainer=target/release/trainer

compare() {
  python3 - "$1" "$2" <<'PY'
import json, sys
burn, torch = (json.loads(s) for s in sys.argv[1:3])
for r in (burn, torch):
    print(f"{r['impl']:<8} {r['model']:<22} {r['batch']:<6} {r['median_ms']:10.2f} "
          f"{r['p90_ms']:10.2f} {r['throughput_img_s']:10.1f} {r['threads']:8}")
print(f"ratio burn/pytorch, {burn['model']} batch {burn['batch']}: "
      f"{burn['median_ms'] / torch['median_ms']:.2f}x time")
PY
}

printf '%-8s %-22s %-6s %10s %10s %10s %8s\n' impl model batch median_ms p90_ms img_per_s threads
for batch in 1 16; do
  burn=$("$trainer" bench --backend cpu --model $model --batch "$batch" --iters "$iters" \
    --warmup 3 --threads "$threads" --json)
  torch=$(OMP_NUM_THREADS=$threads "$python" scripts/bench_pytorch.py --model $model \
    --batch "$batch" --iters "$iters" --warmup 3 --threads "$threads" --json)
  compare "$burn" "$torch"
done
frame=tests/fixtures/mtcnn/group.png
burn=$("$trainer" bench --backend cpu --model mtcnn --image $frame --iters "$iters" \
  --warmup 3 --threads "$threads" --json)
torch=$(OMP_NUM_THREADS=$threads "$python" scripts/bench_mtcnn_pytorch.py --image $frame \
  --iters "$iters" --warmup 3 --threads "$threads" --json)
compare "$burn" "$torch"
