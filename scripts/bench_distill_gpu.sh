#!/usr/bin/env bash
# Distillation-step throughput on a GPU, Burn beside the PyTorch reference in one run:
# deit_tiny_patch16_224 student, frozen deit_base_patch16_224 teacher, HaTFAS loss,
# backward, AdamW step, at the paper's batch of 128 (data loading excluded on both sides).
#
#   TRAINER=target/release/trainer scripts/bench_distill_gpu.sh [BATCH] [STEPS] [OUT_DIR]
#
# The trainer must be a CUDA build (`--features cuda`; see docs/training.md). Burn runs
# f32 and bf16 mixed precision (--precision bf16) on its CUDA backend, and f32 on wgpu
# when the binary has it and a hardware adapter is present; PyTorch runs f32 and with
# DeiT's mixed precision (bf16 autocast).
#
# ROUNDS=N (default 2) repeats every run N times, alternating Burn and PyTorch, so that a
# ratio is taken within a round and the spread across rounds shows the noise. Kernel
# compilation and autotuning fall in the warm-up steps of each process.
# RUNS="burn_cuda torch_f32 …" picks a subset (default: all below).
#
# Prints img/s per run (median and range over rounds) and the ratios Burn / PyTorch
# (above 1: Burn is faster; median and range of the per-round ratios). The JSON of every
# run goes to OUT_DIR/<run>.<round>.json.
set -uo pipefail
cd "$(dirname "$0")/.."
trainer=${TRAINER:-target/release/trainer}
python=${PYTHON:-python3}
batch=${1:-128}
steps=${2:-10}
out=${3:-bench-distill-gpu}
rounds=${ROUNDS:-2}
mkdir -p "$out"

burn=("$trainer" bench --distill --batch "$batch" --iters "$steps" --warmup 3 --json)
torch=("$python" scripts/bench_distill_pytorch.py --device cuda --batch-size "$batch"
  --steps "$steps" --warmup 3 --json)
declare -A command=(
  [burn_cuda]="${burn[*]} --backend cuda"
  [torch_f32]="${torch[*]}"
  [burn_cuda_bf16]="${burn[*]} --backend cuda --precision bf16"
  [torch_bf16]="${torch[*]} --amp bf16"
  [burn_wgpu]="${burn[*]} --backend wgpu"
  # The class tokens as the HaTFAS reference code computes them (every block's attention
  # on the embeddings; the reference computes them for every block, Burn for the
  # distilled ones).
  [burn_cuda_bf16_emb]="${burn[*]} --backend cuda --precision bf16 --feature-tokens embeddings"
  [torch_bf16_emb]="${torch[*]} --amp bf16 --feature-tokens embeddings"
)
order=(burn_cuda torch_f32 burn_cuda_bf16 torch_bf16 burn_wgpu burn_cuda_bf16_emb torch_bf16_emb)
read -r -a runs <<< "${RUNS:-${order[*]}}"

for round in $(seq 1 "$rounds"); do
  for name in "${runs[@]}"; do
    [[ -n "${command[$name]:-}" ]] || { echo "unknown run '$name' (runs: ${order[*]})" >&2; exit 2; }
    json="$out/$name.$round.json"
    # shellcheck disable=SC2086  # the command is a word list without quoted spaces
    if timeout "${RUN_TIMEOUT:-300}" ${command[$name]} > "$json" 2> "$out/$name.$round.err"; then
      echo "round $round $name: $(cat "$json")"
    else
      echo "round $round $name: failed (see $out/$name.$round.err)"
      tail -3 "$out/$name.$round.err"
      rm -f "$json"
    fi
  done
done

python3 - "$out" "$rounds" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def throughput(name, r):
    p = os.path.join(out, f"{name}.{r}.json")
    if not os.path.exists(p):
        return None
    j = json.load(open(p))
    return j["throughput_img_s"] if "throughput_img_s" in j else j["img_per_s"]
names = ["burn_cuda", "burn_cuda_bf16", "burn_wgpu", "torch_f32", "torch_bf16",
         "burn_cuda_bf16_emb", "torch_bf16_emb"]
ips = {n: [throughput(n, r) for r in range(1, rounds + 1)] for n in names}
def spread(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return f"{statistics.median(v):9.2f} (range {min(v):.2f}-{max(v):.2f}, {len(v)} rounds)"
for n, v in ips.items():
    s = spread(v)
    if s:
        print(f"{n:<20} img/s {s}")
pairs = [(b, t) for b in ["burn_cuda", "burn_cuda_bf16", "burn_wgpu"] for t in ["torch_f32", "torch_bf16"]]
pairs.append(("burn_cuda_bf16_emb", "torch_bf16_emb"))
for b, t in pairs:
    ratios = [x / y for x, y in zip(ips[b], ips[t]) if x and y]
    s = spread(ratios)
    if s:
        print(f"ratio {b}/{t}: {s}")
PY
