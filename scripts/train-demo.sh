#!/usr/bin/env bash
# Trains the demo page's liveness model with the project's own trainer on the synthetic
# data and exports it (int8) to www/models/hatfas-student.safetensors: a DeiT-Small teacher,
# then the HaTFAS-distilled DeiT-Tiny student at 224 px. Meant for a GPU (CUDA build:
# see README); on the CPU it takes days.
#
#   TRAINER=target/cuda/release/trainer BACKEND=cuda scripts/train-demo.sh [TEACHER_EPOCHS] [STUDENT_EPOCHS]
#
# Burn's CUDA backend compiles and autotunes its kernels during the first epoch (about a
# minute on an H200). Everything lands in ${WORK:-demo-run}; the exported file carries the
# commands, the seed, the dataset manifest's hash and the test metrics in its metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
trainer=${TRAINER:-target/release/trainer}
backend=${BACKEND:-auto}
work=${WORK:-demo-run}
teacher_epochs=${1:-60}
student_epochs=${2:-100}
common=(--batch-size 128 --lr 5e-4 --unscale-lr --warmup-epochs 5 --cooldown-epochs 0
  --model-ema-decay 0.999 --clip-grad 1.0 --seed 1 --backend "$backend")

"$trainer" synth --out "$work/data" --identities 96 --videos-per-identity 2 --frames 8 --seed 1
"$trainer" teacher --model deit_small_patch16_224 --data-path "$work/data" \
  --output-dir "$work/teacher" --epochs "$teacher_epochs" "${common[@]}"
"$trainer" distill --model deit_tiny_patch16_224 --teacher-path "$work/teacher/best.safetensors" \
  --teacher-model deit_small_patch16_224 --data-path "$work/data" \
  --output-dir "$work/student" --epochs "$student_epochs" "${common[@]}"
"$trainer" export --model "$work/student/best.safetensors" --dtype int8 \
  --out www/models/hatfas-student.safetensors
