#!/usr/bin/env python3
"""CPU inference benchmark of a timm model in PyTorch (the baseline for the Burn port).

    scripts/.venv/bin/python scripts/bench_pytorch.py --model deit_tiny_patch16_224 \
        --batch 16 --iters 20 --warmup 3 --threads 2 [--json]

float32, eval mode, torch.inference_mode(), random weights (timm init, 2 classes) and a
random input. Warm-up iterations are excluded; each timed iteration is measured with
time.perf_counter. p90 is the nearest-rank 90th percentile of the sorted times.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time


def nearest_rank(sorted_values: list[float], pct: float) -> float:
    k = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[k - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="deit_tiny_patch16_224")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--img-size", type=int, default=224)
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    if args.batch < 1 or args.iters < 1 or args.warmup < 0 or args.threads < 1:
        ap.error("batch, iters, threads must be >= 1 and warmup >= 0")

    import torch
    import timm

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = timm.create_model(args.model, pretrained=False, num_classes=2)
    model = model.float().eval()
    x = torch.randn(args.batch, 3, args.img_size, args.img_size, dtype=torch.float32)

    times_ms: list[float] = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(x)
        for _ in range(args.iters):
            t0 = time.perf_counter()
            out = model(x)
            t1 = time.perf_counter()
            times_ms.append((t1 - t0) * 1000.0)
    assert tuple(out.shape) == (args.batch, 2)

    s = sorted(times_ms)
    median = statistics.median(s)
    result = {
        "impl": "pytorch",
        "torch": torch.__version__,
        "model": args.model,
        "batch": args.batch,
        "iters": args.iters,
        "threads": args.threads,
        "median_ms": round(median, 3),
        "p90_ms": round(nearest_rank(s, 90), 3),
        "mean_ms": round(statistics.fmean(s), 3),
        "throughput_img_s": round(args.batch * 1000.0 / median, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"PyTorch {result['torch']} (timm {timm.__version__}), {args.model}, "
              f"batch {args.batch}, {args.threads} threads, {args.iters} iters "
              f"(+{args.warmup} warm-up), float32 CPU")
        print(f"  median {result['median_ms']:.2f} ms   p90 {result['p90_ms']:.2f} ms   "
              f"mean {result['mean_ms']:.2f} ms   min {s[0]:.2f} ms   max {s[-1]:.2f} ms")
        print(f"  throughput {result['throughput_img_s']:.1f} img/s")


if __name__ == "__main__":
    main()
