#!/usr/bin/env python3
"""Reference values for `trainer metrics` (trainer/src/eval/metrics.rs), computed independently
with numpy and scikit-learn on small fixed score sets.

Run by hand (never in CI):

    python3 -m venv scripts/.venv
    scripts/.venv/bin/pip install -r scripts/requirements-fixtures.txt
    scripts/.venv/bin/python scripts/make_metric_fixtures.py

Writes into tests/fixtures/metrics/:

  <case>_dev.csv, <case>_test.csv   score CSVs (video,label,attack_type,score)
  expected.json                     per case: the object `trainer metrics --json` prints,
                                    plus the video-level dev EER/AUC and counts

and (re)writes the section `## metrics/` at the end of tests/fixtures/README.md
(scripts/make_timm_fixtures.py keeps that section when it rewrites the README).

Definitions (issue 3, item 9): accepted as live iff score >= threshold; the dev threshold
is the distinct dev score minimising |FAR - FRR| (compared exactly, as integers
|accepted_attacks * n_live - rejected_live * n_attacks|), ties to the smallest; EER =
(FAR + FRR) / 2 there; APCER per attack type, reported APCER = max over types; BPCER;
ACER = (APCER + BPCER) / 2; HTER = (pooled FAR + BPCER) / 2; AUC from
sklearn.metrics.roc_auc_score (checked against a brute-force Mann-Whitney count with ties
as half). Video level: a video's score is the mean of its frames' scores, its own dev
threshold. Test EER/AUC are computed on the test scores themselves.

Everything is seeded and deterministic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "metrics"
POOLED = "attack"


# ---------------------------------------------------------------------------------------
# Score sets
# ---------------------------------------------------------------------------------------


def make_split(rng, prefix, live_videos, attack_videos, decimals, frames=(2, 6)):
    """Rows (video, label, attack_type, score) for one split.

    live_videos: number of live videos; attack_videos: {type: (count, mean)} with type ""
    for untyped attacks. Each video draws its own offset, its frames scatter around it.
    """
    rows = []
    lo, hi = frames

    def video(name, label, atype, centre):
        n = int(rng.integers(lo, hi + 1))
        offset = rng.normal(0.0, 0.12)
        scores = np.clip(centre + offset + rng.normal(0.0, 0.1, size=n), 0.0, 1.0)
        scores = np.round(scores, decimals)
        for s in scores:
            rows.append((name, label, atype, float(s)))

    for i in range(live_videos):
        video(f"{prefix}_live_{i:03d}", 1, "", 0.68)
    for atype, (count, centre) in attack_videos.items():
        tag = atype or "attack"
        for i in range(count):
            video(f"{prefix}_{tag}_{i:03d}", 0, atype, centre)
    # Shuffle the rows as an evaluation over a shuffled loader would: videos' frames
    # interleave (video means are sums in file order, here as in the Rust code).
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def case_ties(rng):
    # Scores rounded to 2 decimals: many equal scores, across classes too.
    types = {"print": (14, 0.38), "replay": (12, 0.45)}
    return (
        make_split(rng, "dev", 18, types, 2),
        make_split(rng, "test", 22, types, 2),
    )


def case_single_type(rng):
    types = {"print": (20, 0.35)}
    return (
        make_split(rng, "dev", 20, types, 6),
        make_split(rng, "test", 24, types, 6),
    )


def case_multi_type(rng):
    types = {"print": (12, 0.30), "replay": (12, 0.42), "mask": (10, 0.55)}
    return (
        make_split(rng, "dev", 20, types, 6),
        make_split(rng, "test", 25, types, 6),
    )


def case_untyped(rng):
    # No attack types given: attack_type empty everywhere (pooled "attack").
    types = {"": (22, 0.40)}
    return (
        make_split(rng, "dev", 18, types, 3),
        make_split(rng, "test", 20, types, 3),
    )


def case_mixed_types(rng):
    # Some attacks typed, some not: the untyped ones form the type "attack".
    types = {"print": (10, 0.36), "": (8, 0.44)}
    return (
        make_split(rng, "dev", 15, types, 2),
        make_split(rng, "test", 16, types, 2),
    )


def case_exact_tie(_rng):
    # 10 live, 10 attack frames (one video each). Thresholds 0.5 and 0.6 tie exactly at
    # |FAR - FRR| = 1/10 (FAR 2/10, FRR 1/10 and 3/10), but 0.3 - 0.2 < 0.2 - 0.1 in
    # floating point: the rule (exact comparison, smallest threshold) takes 0.5.
    live = [0.2, 0.5, 0.5] + [0.95] * 7
    attacks = [0.1] * 8 + [0.6, 0.9]
    dev = [(f"dev_live_{i}", 1, "", s) for i, s in enumerate(live)]
    dev += [(f"dev_print_{i}", 0, "print", s) for i, s in enumerate(attacks)]
    test_live = [0.55, 0.5, 0.45, 0.9, 0.7]
    test_att = [0.5, 0.49, 0.2, 0.6, 0.1]
    test = [(f"test_live_{i}", 1, "", s) for i, s in enumerate(test_live)]
    test += [(f"test_print_{i}", 0, "print", s) for i, s in enumerate(test_att)]
    return dev, test


CASES = {
    "ties": case_ties,
    "single_type": case_single_type,
    "multi_type": case_multi_type,
    "untyped": case_untyped,
    "mixed_types": case_mixed_types,
    "exact_tie": case_exact_tie,
}


# ---------------------------------------------------------------------------------------
# Reference metrics (numpy brute force, scikit-learn AUC)
# ---------------------------------------------------------------------------------------


def arrays(rows):
    video = np.array([r[0] for r in rows])
    label = np.array([r[1] for r in rows], dtype=np.int64)
    atype = np.array([(r[2] or POOLED) if r[1] == 0 else "" for r in rows])
    score = np.array([r[3] for r in rows], dtype=np.float64)
    return video, label, atype, score


def equal_error_point(label, score):
    """Brute force over the distinct scores (np.unique: ascending)."""
    live = score[label == 1]
    att = score[label == 0]
    nl, na = len(live), len(att)
    best = None
    for t in np.unique(score):
        acc = int(np.sum(att >= t))
        rej = int(np.sum(live < t))
        gap = abs(acc * nl - rej * na)  # exact: |FAR - FRR| * nl * na
        if best is None or gap < best[0]:  # strict: ties keep the smaller threshold
            best = (gap, float(t), acc / na, rej / nl)
    _, t, far, frr = best
    return t, far, frr


def mann_whitney(label, score):
    live = score[label == 1][:, None]
    att = score[label == 0][None, :]
    return float(np.mean((live > att) + 0.5 * (live == att)))


def auc(label, score):
    a = float(roc_auc_score(label, score))
    b = mann_whitney(label, score)
    assert abs(a - b) < 1e-12, (a, b)
    return a


def eer(label, score):
    _, far, frr = equal_error_point(label, score)
    return (far + frr) / 2


def test_metrics(label, atype, score, t):
    accept = score >= t
    by_type = {}
    for ty in sorted(set(atype[label == 0])):
        m = (label == 0) & (atype == ty)
        by_type[str(ty)] = float(np.sum(accept & m) / np.sum(m))
    apcer = max(by_type.values())
    bpcer = float(np.sum(~accept & (label == 1)) / np.sum(label == 1))
    far = float(np.sum(accept & (label == 0)) / np.sum(label == 0))
    return {
        "apcer": apcer,
        "apcer_by_type": by_type,
        "bpcer": bpcer,
        "acer": (apcer + bpcer) / 2,
        "hter": (far + bpcer) / 2,
        "eer": eer(label, score),
        "auc": auc(label, score),
    }


def to_videos(video, label, atype, score):
    """One sample per video: the mean of its frames' scores (np.bincount sums each
    video's frames sequentially in file order, as the Rust code does)."""
    names, first, inverse = np.unique(video, return_index=True, return_inverse=True)
    for v in range(len(names)):
        m = inverse == v
        assert len(set(label[m])) == 1 and len(set(atype[m])) == 1, names[v]
    sums = np.bincount(inverse, weights=score)
    counts = np.bincount(inverse)
    return names, label[first], atype[first], sums / counts


def level(dev, test):
    _, dl, _, ds = dev
    _, tl, ta, ts = test
    t, far, frr = equal_error_point(dl, ds)
    return {
        "threshold": t,
        "dev_eer": (far + frr) / 2,
        "dev_auc": auc(dl, ds),
        "test": test_metrics(tl, ta, ts, t),
        "dev_counts": {"live": int(np.sum(dl == 1)), "attacks": int(np.sum(dl == 0))},
        "test_counts": {"live": int(np.sum(tl == 1)), "attacks": int(np.sum(tl == 0))},
    }


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        f.write("video,label,attack_type,score\n")
        for v, l, a, s in rows:
            f.write(f"{v},{l},{a},{s!r}\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}
    for i, (name, make) in enumerate(CASES.items()):
        rng = np.random.default_rng(20240 + i)
        dev_rows, test_rows = make(rng)
        write_csv(OUT / f"{name}_dev.csv", dev_rows)
        write_csv(OUT / f"{name}_test.csv", test_rows)
        dev, test = arrays(dev_rows), arrays(test_rows)
        frame = level(dev, test)
        video = level(to_videos(*dev), to_videos(*test))
        video_test = dict(video["test"], threshold=video["threshold"])
        expected[name] = {
            "dev_csv": f"{name}_dev.csv",
            "test_csv": f"{name}_test.csv",
            # Exactly what `trainer metrics --json` prints.
            "json": {
                "threshold": frame["threshold"],
                "dev": {"eer": frame["dev_eer"], "auc": frame["dev_auc"]},
                "test": {"frame": frame["test"], "video": video_test},
            },
            "dev_video": {"eer": video["dev_eer"], "auc": video["dev_auc"]},
            "counts": {
                "frame": {"dev": frame["dev_counts"], "test": frame["test_counts"]},
                "video": {"dev": video["dev_counts"], "test": video["test_counts"]},
            },
        }
        print(
            f"{name}: {len(dev_rows)}/{len(test_rows)} frames, frame threshold "
            f"{frame['threshold']}, video threshold {video['threshold']}, "
            f"test frame ACER {frame['test']['acer']:.4f}, AUC {frame['test']['auc']:.4f}"
        )
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    write_readme()


README_SECTION = "## metrics/"


def write_readme() -> None:
    text = f"""{README_SECTION}

Generated by `scripts/make_metric_fixtures.py` (run by hand, not in CI; seeded and
deterministic) with Python {sys.version.split()[0]}, numpy {np.__version__},
scikit-learn {sklearn.__version__}. Checked by `trainer/tests/metrics.rs` (library and
`trainer metrics --json`, every value to 1e-9).

Each case is a dev/test pair of score CSVs, `<case>_dev.csv` and `<case>_test.csv`
(`video,label,attack_type,score`; label 1 live, 0 attack; score = live probability;
several frames per video, rows shuffled), and an entry of `expected.json`:
`json` is the object `trainer metrics --json` prints, `dev_video` the video-level dev
EER/AUC, `counts` the live/attack counts per level and split.

Cases:
- `ties`: scores rounded to 2 decimals (many equal scores, live and attack alike);
  types print, replay.
- `single_type`: one attack type (print), 6 decimals.
- `multi_type`: print, replay, mask, 6 decimals.
- `untyped`: no attack types given (attack_type empty: the pooled type `attack`).
- `mixed_types`: print plus untyped attacks (`attack`), 2 decimals.
- `exact_tie`: one frame per video; dev thresholds 0.5 and 0.6 tie exactly at
  |FAR - FRR| = 1/10 but not in floating point (0.3 - 0.2 < 0.2 - 0.1): the smallest
  threshold, 0.5, is the one.

Reference computation: threshold by brute force over the distinct dev scores
(`np.unique`), minimising |FAR - FRR| exactly (integers
`|accepted_attacks * n_live - rejected_live * n_attacks|`), ties to the smallest; accepted
as live iff score >= threshold; EER = (FAR + FRR) / 2 there; APCER per type and their
maximum; BPCER; ACER = (APCER + BPCER) / 2; HTER = (pooled FAR + BPCER) / 2; AUC from
`sklearn.metrics.roc_auc_score` (asserted equal to a brute-force Mann-Whitney count with
ties as half). Test EER/AUC on the test scores themselves. Video level: mean of the
frames' scores per video (`np.bincount` grouping), its own dev threshold.
"""
    readme = OUT.parent / "README.md"
    old = readme.read_text() if readme.exists() else ""
    head = old.split("\n" + README_SECTION + "\n")[0].rstrip("\n")
    readme.write_text((head + "\n\n" if head else "") + text)


if __name__ == "__main__":
    main()
