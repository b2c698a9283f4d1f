#!/usr/bin/env bash
# Distillation-step throughput on the CPU, Burn (`trainer bench --distill`) beside the
# PyTorch reference (scripts/bench_distill_pytorch.py) in one run with the same threads:
# a deit_tiny_patch16_224 student against a frozen deit_base_patch16_224 teacher, HaTFAS
# loss (soft KD, alpha 0.7, tau 3, feature loss on blocks 4 6 8), backward, AdamW step.
# Prints both and the ratio Burn / PyTorch in img/s (above 1: Burn is faster).
#
#   scripts/bench_distill_cpu.sh [THREADS] [BATCH] [STEPS] [FEATURE_TOKENS]
#
# FEATURE_TOKENS: block-input (default, docs/METHOD.md) or embeddings (the class tokens as
# the HaTFAS reference code computes them; both sides then compute those).
#
# Needs the reference Python (scripts/.venv, see tests/fixtures/README.md) or PYTHON=...
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
batch=${2:-16}
steps=${3:-5}
tokens=${4:-block-input}
python=${PYTHON:-scripts/.venv/bin/python}

cargo build --release -p trainer --quiet
burn=$(target/release/trainer bench --distill --backend cpu --model deit_tiny_patch16_224 \
  --teacher-model deit_base_patch16_224 --batch "$batch" --iters "$steps" --warmup 1 \
  --threads "$threads" --feature-tokens "$tokens" --json)
torch=$(OMP_NUM_THREADS=$threads "$python" scripts/bench_distill_pytorch.py --device cpu \
  --batch-size "$batch" --steps "$steps" --warmup 1 --threads "$threads" --feature-tokens "$tokens" --json)
python3 - "$burn" "$torch" <<'PY'
import json, sys
burn, torch = (json.loads(s) for s in sys.argv[1:3])
print(f"burn     median {burn['median_ms']:9.1f} ms/step  {burn['throughput_img_s']:7.2f} img/s  "
      f"batch {burn['batch']}  threads {burn['threads']}")
print(f"pytorch  median {torch['ms_per_step']:9.1f} ms/step  {torch['img_per_s']:7.2f} img/s  "
      f"batch {torch['batch_size']}  threads {torch['threads']}  (torch {torch['torch']})")
print(f"feature tokens: {torch['feature_tokens']}")
print(f"ratio burn/pytorch throughput: {burn['throughput_img_s'] / torch['img_per_s']:.2f}x")
PY
