#!/usr/bin/env python3
"""The ablation table from scripts/ablation.sh's runs: for each run (teacher or student
variant), its test metrics at the dev threshold, computed by `trainer metrics` from the
run's own score files, for the real people of the test split and for all test frames;
one column per data seed, then the mean and the range over seeds.

    python3 scripts/ablation_table.py [--trainer target/release/trainer] ablation-run
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

RUNS = [
    ("teacher-scratch", "teacher, random init (256 wide, 12 blocks)"),
    ("teacher-dinov2", "teacher, DINOv2 ViT-S/14, blocks 0-7 frozen"),
    ("student-ce", "student, cross-entropy only"),
    ("student-kd", "student, + logit KD (soft)"),
    ("student-ha", "student, + head-aware (block input)"),
    ("student-ha-emb", "student, + head-aware (embeddings)"),
]

# (column, group or None for all test frames, level, metric)
COLUMNS = [
    ("real AUC", "real", "frame", "auc"),
    ("real ACER", "real", "frame", "acer"),
    ("all AUC", None, "frame", "auc"),
    ("all ACER", None, "frame", "acer"),
    ("video AUC", None, "video", "auc"),
]


def metrics(trainer: str, run: Path, groups: Path) -> dict:
    """`trainer metrics --json` on the run's dev and test scores."""
    out = subprocess.run(
        [trainer, "metrics", "--json", "--groups", str(groups),
         "--dev", str(run / "eval/val_scores.csv"), "--test", str(run / "eval/test_scores.csv")],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def value(report: dict, group, level: str, metric: str) -> float:
    if group is None:
        return report["test"][level][metric]
    return report["groups"][group][level][metric]


def real_people(data: Path, split: str) -> str:
    """The real people of a split, by name (the dataset manifest's identity sources)."""
    identities = json.loads((data / "manifest.json").read_text())["identities"]
    return ", ".join(i["source"].split(":", 1)[1] for i in identities
                     if i["split"] == split and i["source"].startswith("real:"))


def fmt(metric: str, x: float) -> str:
    return f"{100 * x:.1f}" if metric == "acer" else f"{x:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--trainer", default="target/release/trainer")
    args = parser.parse_args()
    seeds = sorted((p for p in args.work.glob("seed*") if p.is_dir() and p.name[4:].isdigit()),
                   key=lambda p: int(p.name[4:]))
    if not seeds:
        print(f"error: no seed*/ runs under {args.work}", file=sys.stderr)
        return 1
    reports = {}
    for seed in seeds:
        for run, _ in RUNS:
            if (seed / run / "eval/test_scores.csv").is_file():
                reports[seed.name, run] = metrics(args.trainer, seed / run, seed / "data/video_groups.csv")
    print("test metrics at the dev threshold (frame level unless said); ACER in %;")
    print("each cell: mean over seeds [min, max] (n seeds)")
    for seed in seeds:
        data = seed / "data"
        print(f"- {seed.name}: real people in test: {real_people(data, 'test')}; "
              f"in val: {real_people(data, 'val')}")
    print()
    print("| run | " + " | ".join(c[0] for c in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for run, label in RUNS:
        cells = []
        for _, group, level, metric in COLUMNS:
            xs = [value(reports[s.name, run], group, level, metric)
                  for s in seeds if (s.name, run) in reports]
            if not xs:
                cells.append("-")
                continue
            mean = statistics.fmean(xs)
            cells.append(f"{fmt(metric, mean)} [{fmt(metric, min(xs))}, {fmt(metric, max(xs))}] ({len(xs)})")
        print(f"| {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
