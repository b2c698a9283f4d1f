#!/usr/bin/env python3
"""Training-throughput benchmark of one full HaTFAS distillation step in PyTorch (the
reference for the Rust trainer's `trainer bench --distill`).

    scripts/.venv/bin/python scripts/bench_distill_pytorch.py --batch-size 4 --steps 2 \
        --warmup 1 --threads 2 --json
    python3 scripts/bench_distill_pytorch.py --device cuda --batch-size 128 --amp bf16 --json

What one timed step is (it models the paper's DeiT-style `main.py` / `engine.py` with the
HaTFAS `DistillationLoss`, see docs/METHOD.md "Distillation losses" and "Training recipe"):

  1. take a pre-generated batch (random images 3x224x224 and mixup-style soft targets over
     2 classes, both already on the device: data loading, augmentation and the mixup blend
     of the images are excluded);
  2. student forward (train mode) with forward hooks on every `blocks[i].attn` that keep
     row 0 (class token) of the attention sub-layer's output, i.e. after the output
     projection and before LayerScale / drop-path / the residual addition;
  3. teacher forward (eval mode, under torch.no_grad()) with the same hooks;
  4. loss = (1 - alpha) * SoftTargetCrossEntropy(student, targets)
          + alpha * soft KD (KL batchmean x tau^2, as the HaTFAS reference's losses.py)
          + beta * head-aware feature loss over the layer pairs (s_id[k], t_id[k]);
  5. loss.backward(); AdamW step (timm's create_optimizer_v2 as in DeiT: lr
     5e-4 * batch / 512, weight decay 0.05 except biases/norms/pos_embed/cls_token,
     eps 1e-8); zero_grad.

Defaults: student deit_tiny_patch16_224, teacher deit_base_patch16_224 (both
`timm.create_model(name, pretrained=False, num_classes=2)`, random init, seed 0), 224x224,
batch 16, 2 warm-up + 10 timed steps, CPU, float32, alpha 0.7, beta 1, tau 3,
s_id = t_id = 4,6,8 (0-based). Not modelled: the LR schedule (the rate is constant),
model EMA, gradient clipping (off in DeiT), distributed training.

Timing: time.perf_counter around each step (on CUDA with torch.cuda.synchronize() before
the start and after the end, as DeiT's engine also synchronises once per step). Warm-up
steps are excluded. The reported statistic is the MEDIAN step time over the timed steps:
ms_per_step = median, img_per_s = batch_size * 1000 / ms_per_step (mean_ms is given too).

--feature-tokens embeddings: the class tokens as the HaTFAS reference code computes them
(its customized_forward.py): the images are embedded once, every block's attention
(with its norm1) is applied to those embeddings for row 0, and the blocks then run on the
embeddings for the logits. This costs one extra attention sub-layer per block, for all
blocks of both models, as in the reference. `trainer bench --distill --feature-tokens
embeddings` computes the same loss, but only for the distilled blocks.

--amp bf16 (or bare --amp): torch.autocast bfloat16 around forwards + loss, no scaler.
--amp fp16: float16 autocast + torch.amp.GradScaler, which is what DeiT's `--amp` really
does (torch.cuda.amp.autocast() + NativeScaler); CUDA only. bf16 also works on CPU.

With --json stdout carries exactly one JSON object; all diagnostics go to stderr.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time


def parse_ids(text: str) -> list[int]:
    try:
        ids = [int(v) for v in text.split(",") if v.strip() != ""]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from e
    if not ids or any(i < 0 for i in ids):
        raise argparse.ArgumentTypeError(f"expected non-negative block indices, got {text!r}")
    return ids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--student", default="deit_tiny_patch16_224")
    ap.add_argument("--teacher", default="deit_base_patch16_224")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch.set_num_threads (CPU only; default: torch's choice)")
    ap.add_argument("--amp", nargs="?", const="bf16", default="none",
                    choices=["none", "bf16", "fp16"],
                    help="autocast dtype; bare --amp means bf16")
    ap.add_argument("--compile", action="store_true", help="torch.compile the student")
    ap.add_argument("--img-size", type=int, default=224)
    ap.add_argument("--alpha", type=float, default=0.7)
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--tau", type=float, default=3.0)
    ap.add_argument("--s-id", type=parse_ids, default=[4, 6, 8])
    ap.add_argument("--t-id", type=parse_ids, default=[4, 6, 8])
    ap.add_argument("--drop-path", type=float, default=0.0,
                    help="student drop_path_rate (DeiT's main.py uses 0.1; default 0 = "
                         "plain create_model)")
    ap.add_argument("--feature-tokens", choices=["block-input", "embeddings"],
                    default="block-input",
                    help="block-input: hooks on each block's attention (docs/METHOD.md); "
                         "embeddings: the HaTFAS reference code's forward (see above)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    if args.batch_size < 1 or args.steps < 1 or args.warmup < 0:
        ap.error("--batch-size and --steps must be >= 1, --warmup >= 0")
    if args.threads is not None and args.threads < 1:
        ap.error("--threads must be >= 1")
    if len(args.s_id) != len(args.t_id):
        ap.error("--s-id and --t-id must have the same length")

    import torch
    import torch.nn.functional as F
    import timm
    from timm.optim import create_optimizer_v2

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    dev = torch.device(args.device)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda but torch.cuda.is_available() is False")
    if args.amp == "fp16" and args.device != "cuda":
        ap.error("--amp fp16 needs --device cuda")
    if args.threads is not None:
        if args.device == "cpu":
            torch.set_num_threads(args.threads)
        else:
            log("note: --threads is ignored with --device cuda")

    torch.manual_seed(args.seed)
    student = timm.create_model(args.student, pretrained=False, num_classes=2,
                                drop_path_rate=args.drop_path, img_size=args.img_size)
    teacher = timm.create_model(args.teacher, pretrained=False, num_classes=2,
                                img_size=args.img_size)
    for name, m, ids in (("student", student, args.s_id), ("teacher", teacher, args.t_id)):
        if not hasattr(m, "blocks"):
            ap.error(f"{name} model has no .blocks (not a timm ViT/DeiT)")
        if max(ids) >= len(m.blocks):
            ap.error(f"{name} has {len(m.blocks)} blocks; layer id {max(ids)} out of range")
    student = student.to(dev).train()
    teacher = teacher.to(dev).eval()
    teacher.requires_grad_(False)

    # Forward hooks: output of blocks[i].attn is proj_drop(proj(...)), taken before
    # ls1 / drop_path1 / the residual. This holds for timm's fused (SDPA) and unfused
    # attention paths alike, since the hook sees the module's return value.
    s_tokens: list = []
    t_tokens: list = []

    def make_hook(store: list):
        def hook(_module, _inputs, output):
            store.append(output[:, 0])
        return hook

    def reference_forward(model, x, store: list):
        # The HaTFAS reference's forward (our code): every block's attention on the
        # embeddings x0 (the loop never updates x0), then the blocks on x0 for the logits.
        x0 = model.norm_pre(model.patch_drop(model._pos_embed(model.patch_embed(x))))
        for blk in model.blocks:
            store.append(blk.attn(blk.norm1(x0))[:, 0])
        return model.forward_head(model.norm(model.blocks(x0)))

    if args.feature_tokens == "block-input":
        for blk in student.blocks:
            blk.attn.register_forward_hook(make_hook(s_tokens))
        for blk in teacher.blocks:
            blk.attn.register_forward_hook(make_hook(t_tokens))
        run_student, run_teacher = student, teacher
    else:
        def run_student(x):
            return reference_forward(student, x, s_tokens)

        def run_teacher(x):
            return reference_forward(teacher, x, t_tokens)

        with torch.no_grad():  # the rewritten forward keeps timm's logits
            probe = torch.randn(2, 3, args.img_size, args.img_size, device=dev)
            if not torch.allclose(run_teacher(probe), teacher(probe), atol=1e-4):
                raise RuntimeError("the reference forward changed the teacher's logits")
            t_tokens.clear()
    fused = [getattr(b.attn, "fused_attn", None) for b in (student.blocks[0], teacher.blocks[0])]

    # DeiT: lr = 5e-4 * batch_size * world_size / 512; timm optimizer with weight-decay
    # filtering (no decay on 1-D params and model.no_weight_decay()).
    lr = 5e-4 * args.batch_size / 512.0
    optimizer = create_optimizer_v2(student, opt="adamw", lr=lr, weight_decay=0.05, eps=1e-8)
    scaler = torch.amp.GradScaler("cuda") if args.amp == "fp16" else None

    fwd_student = torch.compile(run_student) if args.compile else run_student

    # Pre-generated data on the device, cycled (at most 4 distinct batches).
    n_pool = min(4, args.warmup + args.steps)
    gen = torch.Generator().manual_seed(args.seed + 1)
    pool = []
    smoothing, n_cls = 0.1, 2
    off, on = smoothing / n_cls, 1.0 - smoothing + smoothing / n_cls
    for _ in range(n_pool):
        x = torch.randn(args.batch_size, 3, args.img_size, args.img_size, generator=gen)
        y = torch.randint(0, n_cls, (args.batch_size,), generator=gen)
        lam = float(torch.distributions.Beta(0.8, 0.8).sample())
        # timm Mixup.mixup_target: smoothed one-hot blended with the flipped batch.
        y1 = torch.full((args.batch_size, n_cls), off).scatter_(1, y[:, None], on)
        y2 = torch.full((args.batch_size, n_cls), off).scatter_(1, y.flip(0)[:, None], on)
        target = y1 * lam + y2 * (1.0 - lam)
        pool.append((x.to(dev), target.to(dev)))

    alpha, beta, tau = args.alpha, args.beta, args.tau
    s_ids, t_ids = args.s_id, args.t_id

    def soft_target_ce(logits, target):
        # timm.loss.SoftTargetCrossEntropy
        return torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1).mean()

    def soft_kd(s, t):
        # The HaTFAS reference's losses.py (and docs/METHOD.md): KL "batchmean" x tau^2.
        # (DeiT's own losses.py divides by batch x classes instead; the cost is the same.)
        return F.kl_div(F.log_softmax(s / tau, dim=1), F.log_softmax(t / tau, dim=1),
                        reduction="batchmean", log_target=True) * (tau * tau)

    def feature_loss(st, tt):
        total = 0.0
        for si, ti in zip(s_ids, t_ids):
            s = F.normalize(st[si], dim=-1)          # B x D_s
            t = F.normalize(tt[ti], dim=-1)          # B x D_t
            c = s.transpose(0, 1) @ t                # D_s x D_t, head correlation
            r = s @ c                                # B x D_t
            total = total + torch.mean((t - r) ** 2)
        return total / len(s_ids)

    if args.amp == "none":
        def autocast():
            return torch.autocast(device_type=dev.type, enabled=False)
    else:
        amp_dtype = torch.bfloat16 if args.amp == "bf16" else torch.float16

        def autocast():
            return torch.autocast(device_type=dev.type, dtype=amp_dtype)

    def step(i: int):
        x, target = pool[i % n_pool]
        s_tokens.clear()
        t_tokens.clear()
        with autocast():
            # DeiT order: student forward in the loop, teacher forward inside the loss.
            out = fwd_student(x)
            base = soft_target_ce(out, target)
            with torch.no_grad():
                t_out = run_teacher(x)
            loss = (1.0 - alpha) * base + alpha * soft_kd(out, t_out) \
                + beta * feature_loss(s_tokens, t_tokens)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    log(f"student {args.student} ({sum(p.numel() for p in student.parameters())/1e6:.2f}M, "
        f"{len(student.blocks)} blocks), teacher {args.teacher} "
        f"({sum(p.numel() for p in teacher.parameters())/1e6:.2f}M), feature tokens "
        f"{args.feature_tokens}, fused_attn "
        f"student/teacher = {fused[0]}/{fused[1]}, lr {lr:.3g}, device {dev}, amp {args.amp}")

    loss = None
    for i in range(args.warmup):
        t0 = time.perf_counter()
        loss = step(i)
        sync()
        log(f"warm-up step {i}: {(time.perf_counter() - t0) * 1000.0:.1f} ms, "
            f"loss {float(loss):.4f}")

    times_ms: list[float] = []
    for i in range(args.warmup, args.warmup + args.steps):
        sync()
        t0 = time.perf_counter()
        loss = step(i)
        sync()
        times_ms.append((time.perf_counter() - t0) * 1000.0)
    final_loss = float(loss)
    # The hooks must have fired once per block in the last step.
    if len(s_tokens) != len(student.blocks) or len(t_tokens) != len(teacher.blocks):
        raise RuntimeError(f"hooks captured {len(s_tokens)} student / {len(t_tokens)} "
                           f"teacher class tokens, expected {len(student.blocks)} / "
                           f"{len(teacher.blocks)}")
    if not (final_loss == final_loss):  # NaN check
        log("warning: loss is NaN")

    median = statistics.median(times_ms)
    result = {
        "framework": "pytorch",
        "torch": torch.__version__,
        "timm": timm.__version__,
        "device": args.device,
        "device_name": (torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"),
        "student": args.student,
        "teacher": args.teacher,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "warmup": args.warmup,
        "stat": "median",
        "img_per_s": round(args.batch_size * 1000.0 / median, 3),
        "ms_per_step": round(median, 3),
        "mean_ms": round(statistics.fmean(times_ms), 3),
        "amp": args.amp,
        "feature_tokens": args.feature_tokens,
        "compile": args.compile,
        "threads": torch.get_num_threads(),
        "loss": round(final_loss, 6),
    }
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"PyTorch {result['torch']} (timm {result['timm']}) HaTFAS distill step: "
              f"{args.student} <- {args.teacher}, batch {args.batch_size}, {args.device} "
              f"({result['device_name']}), amp {args.amp}, threads {result['threads']}, "
              f"{args.steps} steps (+{args.warmup} warm-up): median {median:.2f} ms/step, "
              f"mean {result['mean_ms']:.2f} ms, {result['img_per_s']:.1f} img/s")


if __name__ == "__main__":
    main()
