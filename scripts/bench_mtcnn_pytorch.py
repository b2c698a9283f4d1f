#!/usr/bin/env python3
"""CPU face detection benchmark of facenet-pytorch's MTCNN (the reference for `trainer bench
--model mtcnn`): one frame, defaults (min face 20, thresholds 0.6/0.7/0.7, factor 0.709).

    scripts/.venv/bin/python scripts/bench_mtcnn_pytorch.py --image FRAME --iters 20 --threads 2 [--json]
"""
import argparse
import json
import math
import statistics
import time

import torch
from facenet_pytorch import MTCNN
from PIL import Image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", required=True)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    mtcnn = MTCNN(device="cpu")
    frame = Image.open(args.image).convert("RGB")
    with torch.inference_mode():
        boxes, _ = mtcnn.detect(frame)
        for _ in range(args.warmup):
            mtcnn.detect(frame)
        times = []
        for _ in range(args.iters):
            start = time.perf_counter()
            mtcnn.detect(frame)
            times.append((time.perf_counter() - start) * 1e3)
    ordered = sorted(times)
    p90 = ordered[max(1, math.ceil(0.9 * len(ordered))) - 1]
    median = statistics.median(ordered)
    report = {
        "impl": "pytorch", "torch": torch.__version__, "model": "mtcnn", "batch": 1,
        "iters": args.iters, "threads": args.threads, "median_ms": median, "p90_ms": p90,
        "mean_ms": statistics.fmean(ordered), "throughput_img_s": 1e3 / median,
        "faces": 0 if boxes is None else len(boxes),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"mtcnn (facenet-pytorch) on {args.image}: median {median:.2f} ms, p90 {p90:.2f} ms, "
              f"{report['faces']} face(s)")


if __name__ == "__main__":
    main()
