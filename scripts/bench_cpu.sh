#!/usr/bin/env bash
# DeiT-Tiny CPU inference, Burn (trainer bench) beside PyTorch/timm, in one run with the
# same thread count. Prints both and the ratio Burn / PyTorch (below 1: Burn is faster).
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

printf '%-8s %-6s %12s %12s %12s %8s\n' impl batch median_ms p90_ms img_per_s threads
for batch in 1 16; do
  burn=$("$trainer" bench --backend cpu --model $model --batch "$batch" --iters "$iters" \
    --warmup 3 --threads "$threads" --json)
  torch=$(OMP_NUM_THREADS=$threads "$python" scripts/bench_pytorch.py --model $model \
    --batch "$batch" --iters "$iters" --warmup 3 --threads "$threads" --json)
  python3 - "$burn" "$torch" <<'PY'
import json, sys
burn, torch = (json.loads(s) for s in sys.argv[1:3])
for r in (burn, torch):
    print(f"{r['impl']:<8} {r['batch']:<6} {r['median_ms']:12.2f} {r['p90_ms']:12.2f} "
          f"{r['throughput_img_s']:12.1f} {r['threads']:8}")
print(f"ratio burn/pytorch at batch {burn['batch']}: {burn['median_ms'] / torch['median_ms']:.2f}x time")
PY
done
