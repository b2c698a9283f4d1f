#!/usr/bin/env bash
# Distillation-step throughput on a GPU, Burn beside the PyTorch reference in one run:
# deit_tiny_patch16_224 student, frozen deit_base_patch16_224 teacher, HaTFAS loss,
# backward, AdamW step, at the paper's batch of 128 (data loading excluded on both sides).
#
#   TRAINER=target/cuda/release/trainer scripts/bench_distill_gpu.sh [BATCH] [STEPS] [OUT_DIR]
#
# Burn runs f32 and bf16 mixed precision (--precision bf16) on its CUDA backend, and f32
# on wgpu when a hardware adapter is present; PyTorch runs f32 and with DeiT's mixed
# precision (bf16 autocast). Prints img/s and the
# ratios Burn / PyTorch (above 1: Burn is faster); JSON results go to OUT_DIR.
set -uo pipefail
cd "$(dirname "$0")/.."
trainer=${TRAINER:-target/release/trainer}
python=${PYTHON:-python3}
batch=${1:-128}
steps=${2:-10}
out=${3:-bench-distill-gpu}
mkdir -p "$out"

run() { # name, command...
  local name=$1; shift
  if timeout "${RUN_TIMEOUT:-300}" "$@" > "$out/$name.json" 2> "$out/$name.err"; then
    echo "$name: $(cat "$out/$name.json")"
  else
    echo "$name: failed (see $out/$name.err)"; tail -3 "$out/$name.err"; rm -f "$out/$name.json"
  fi
}
run burn_cuda "$trainer" bench --distill --backend cuda --batch "$batch" --iters "$steps" --warmup 3 --json
run burn_cuda_bf16 "$trainer" bench --distill --backend cuda --precision bf16 --batch "$batch" --iters "$steps" --warmup 3 --json
run burn_wgpu "$trainer" bench --distill --backend wgpu --batch "$batch" --iters "$steps" --warmup 3 --json
run torch_f32 "$python" scripts/bench_distill_pytorch.py --device cuda --batch-size "$batch" --steps "$steps" --warmup 3 --json
run torch_bf16 "$python" scripts/bench_distill_pytorch.py --device cuda --batch-size "$batch" --steps "$steps" --warmup 3 --amp bf16 --json
# The class tokens as the HaTFAS reference code computes them (every block's attention on
# the embeddings; the reference computes them for every block, Burn for the distilled ones).
run burn_cuda_bf16_emb "$trainer" bench --distill --backend cuda --precision bf16 --feature-tokens embeddings --batch "$batch" --iters "$steps" --warmup 3 --json
run torch_bf16_emb "$python" scripts/bench_distill_pytorch.py --device cuda --batch-size "$batch" --steps "$steps" --warmup 3 --amp bf16 --feature-tokens embeddings --json

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
rows = {n: load(n) for n in ["burn_cuda", "burn_cuda_bf16", "burn_wgpu", "torch_f32", "torch_bf16",
                             "burn_cuda_bf16_emb", "torch_bf16_emb"]}
ips = {n: (r["throughput_img_s"] if "throughput_img_s" in r else r["img_per_s"]) for n, r in rows.items() if r}
for n, v in ips.items():
    print(f"{n:<14} {v:9.1f} img/s")
for b in ["burn_cuda", "burn_cuda_bf16", "burn_wgpu"]:
    for t in ["torch_f32", "torch_bf16"]:
        if b in ips and t in ips:
            print(f"ratio {b}/{t}: {ips[b] / ips[t]:.2f}x")
if "burn_cuda_bf16_emb" in ips and "torch_bf16_emb" in ips:
    print(f"ratio burn_cuda_bf16_emb/torch_bf16_emb (reference tokens): "
          f"{ips['burn_cuda_bf16_emb'] / ips['torch_bf16_emb']:.2f}x")
PY
