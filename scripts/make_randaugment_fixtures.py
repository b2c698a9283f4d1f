#!/usr/bin/env python3
"""Reference outputs of timm's RandAugment ops (timm/data/auto_augment.py, on Pillow) for
trainer/src/data/randaugment.rs.

Run by hand (never in CI):

    python3 -m venv scripts/.venv
    scripts/.venv/bin/pip install -r scripts/requirements-fixtures.txt
    scripts/.venv/bin/python scripts/make_randaugment_fixtures.py

Writes into tests/fixtures/randaugment/:

  input_main.png, input_few.png   the two fixed test images (RGB, deterministic)
  <input>_<op>_<k>.png            every op of the rand / rand-inc sets at 1-4 fixed
                                  arguments, through timm's own op functions with the
                                  kwargs DeiT's RandAugment ops carry
  expected.json                   the index: cases (op, timm function, arguments, file),
                                  timm's level -> argument mapping (LEVEL_TO_ARG) at
                                  several magnitudes with both signs, the parsed form of
                                  several config strings, DeiT's RandAugment hparams

and (re)writes the text between the `<!-- randaugment:begin -->` /
`<!-- randaugment:end -->` comments of tests/fixtures/README.md
(scripts/make_timm_fixtures.py rewrites the README without this section: run this script
after it).

Nothing here is random: the images are closed-form, the arguments fixed, and the random
sign of the signed level functions is forced by patching `random.random` inside timm's
module.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import PIL
import timm
from PIL import Image
from timm.data import auto_augment as aa
from timm.data import create_transform

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUT = FIXTURES / "randaugment"
README_BEGIN = "<!-- randaugment:begin -->"
README_END = "<!-- randaugment:end -->"
METRICS_SECTION = "## metrics/"

DEIT_SPEC = "rand-m9-mstd0.5-inc1"
MAIN_W, MAIN_H = 48, 40
FEW_W, FEW_H = 32, 24


def main_image() -> Image.Image:
    """48x40: smooth gradients (no channel reaches 0 or 255, so autocontrast and equalize
    change it), a sinusoidal blue channel, a red rectangle, a green disc and a grey
    checkerboard (sharp edges for Sharpness/SMOOTH)."""
    y, x = np.mgrid[0:MAIN_H, 0:MAIN_W].astype(np.float64)
    r = 30 + 170 * x / (MAIN_W - 1)
    g = 10 + 170 * y / (MAIN_H - 1)
    b = 150 + 80 * np.sin(0.3 * x) * np.cos(0.25 * y)
    img = np.stack([r, g, b], axis=-1)
    img = np.floor(img + 0.5)
    img[5:15, 6:17] = (220, 40, 90)
    disc = (x - 34) ** 2 + (y - 26) ** 2 <= 7**2
    img[disc] = (15, 200, 60)
    check = ((x.astype(int) // 2 + y.astype(int) // 2) % 2 == 0)
    patch = (x >= 38) & (x < 46) & (y >= 2) & (y < 10)
    img[patch & check] = (40, 40, 40)
    img[patch & ~check] = (230, 230, 230)
    return Image.fromarray(img.astype(np.uint8), "RGB")


def few_image() -> Image.Image:
    """32x24 with few levels: red in {50, 51, 200}, green constant 77 (a one-bin
    histogram: autocontrast and equalize keep it), blue in {0, 255} (autocontrast's
    identity scale)."""
    y, x = np.mgrid[0:FEW_H, 0:FEW_W]
    r = np.where(x < 10, 50, np.where(x < 19, 51, 200))
    g = np.full_like(x, 77)
    b = np.where((x + y) % 3 == 0, 255, 0)
    return Image.fromarray(np.stack([r, g, b], axis=-1).astype(np.uint8), "RGB")


# (key used in the Rust tests, timm function name, list of argument tuples)
POINT_CASES = [
    ("auto_contrast", "auto_contrast", [()]),
    ("equalize", "equalize", [()]),
    ("invert", "invert", [()]),
    # 1 = PosterizeIncreasing at magnitude 9; 8 keeps the image (timm's early return)
    ("posterize", "posterize", [(1,), (2,), (4,), (8,)]),
    # 26 = SolarizeIncreasing at m9, 230 = Solarize at m9; 0 inverts everything
    ("solarize", "solarize", [(26,), (128,), (230,), (0,)]),
    # 99 = SolarizeAdd at m9
    ("solarize_add", "solarize_add", [(99,), (50,), (0,)]),
    # 1.81 / 0.19 = the *Increasing enhancers at m9 with both signs; 1.72 = plain at m9
    ("color", "color", [(1.81,), (0.19,), (0.5,), (1.72,)]),
    ("contrast", "contrast", [(1.81,), (0.19,), (0.5,), (1.72,)]),
    ("brightness", "brightness", [(1.81,), (0.19,), (0.5,)]),
    ("sharpness", "sharpness", [(1.81,), (0.19,), (0.1,)]),
]
GEOMETRIC_CASES = [
    # 27 degrees = Rotate at m9
    ("rotate", "rotate", [(27.0,), (-27.0,), (13.3,)]),
    # 0.27 = ShearX/Y at m9
    ("shear_x", "shear_x", [(0.27,), (-0.27,), (0.05,)]),
    ("shear_y", "shear_y", [(0.27,), (-0.27,), (0.05,)]),
    # 0.405 = TranslateXRel/YRel at m9 (fraction of the width / height)
    ("translate_x_rel", "translate_x_rel", [(0.405,), (-0.405,), (0.11,)]),
    ("translate_y_rel", "translate_y_rel", [(0.405,), (-0.405,), (0.13,)]),
]

LEVEL_NAMES = sorted(
    set(aa._RAND_INCREASING_TRANSFORMS) | set(aa._RAND_TRANSFORMS) | {"TranslateX", "TranslateY"}
)
MAGNITUDES = [0.0, 1.3, 2.5, 4.6, 7.5, 9.0, 9.55, 10.0]

CONFIG_SPECS = [
    DEIT_SPEC,
    "rand-m9-mstd0.5",
    "rand-m7-n3-mstd1.0-inc1",
    "rand-n1-m5-inc0-p0.3",
    "rand-m9-mstd101-inc1",
    "rand-mmax12-m11",
    "rand-inc1",
    "rand-mstd0.5-mstd1-m9-m7",
]
# Specs timm rejects (AssertionError / ValueError).
BAD_SPECS = ["auto-m9", "rand-x9", "rand-m9-q3", "rand-m9.5", "rand-n2.5"]


def deit_randaugment():
    """The RandAugment DeiT builds: timm.data.create_transform as in DeiT's
    datasets.build_transform (input 224, bicubic)."""
    tf = create_transform(
        input_size=224,
        is_training=True,
        color_jitter=0.3,
        auto_augment=DEIT_SPEC,
        interpolation="bicubic",
        re_prob=0.25,
        re_mode="pixel",
        re_count=1,
    )
    found = [t for t in tf.transforms if isinstance(t, aa.RandAugment)]
    assert len(found) == 1, tf
    return found[0]


def describe(ra) -> dict:
    op0 = ra.ops[0]
    probs = {op.prob for op in ra.ops}
    mags = {op.magnitude for op in ra.ops}
    stds = {op.magnitude_std for op in ra.ops}
    maxes = {op.magnitude_max for op in ra.ops}
    assert len(probs) == len(mags) == len(stds) == len(maxes) == 1
    std = stds.pop()
    return {
        "ops": [op.name for op in ra.ops],
        "num_layers": ra.num_layers,
        "prob": probs.pop(),
        "magnitude": mags.pop(),
        "magnitude_std": None if math.isinf(std) else std,
        "magnitude_std_is_inf": math.isinf(std),
        "magnitude_max": maxes.pop(),
        "weighted": ra.choice_weights is not None,
        "translate_const": op0.hparams.get("translate_const"),
    }


def level_table(hparams: dict) -> list[dict]:
    rows = []
    for name in LEVEL_NAMES:
        fn = aa.LEVEL_TO_ARG[name]
        for m in MAGNITUDES:
            if fn is None:
                rows.append({"name": name, "magnitude": m, "keep": None, "negated": None})
                continue
            # _randomly_negate negates iff random.random() > 0.5
            # repr strings: exact in any JSON reader (serde_json's default float parsing is
            # not always correctly rounded)
            with mock.patch.object(aa.random, "random", lambda: 0.0):
                keep = [repr(v) for v in fn(m, hparams)]
            with mock.patch.object(aa.random, "random", lambda: 1.0):
                negated = [repr(v) for v in fn(m, hparams)]
            rows.append({"name": name, "magnitude": m, "keep": keep, "negated": negated})
    return rows


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()

    ra = deit_randaugment()
    deit = describe(ra)
    kwargs = dict(ra.ops[0].kwargs)
    assert all(op.kwargs == kwargs for op in ra.ops)
    fill = list(kwargs["fillcolor"])
    resample = int(kwargs["resample"])
    assert fill == [124, 116, 104], fill
    assert resample == int(Image.Resampling.BICUBIC)
    deit["fill"] = fill
    deit["resample"] = "BICUBIC"
    hparams = dict(ra.ops[0].hparams)

    inputs = {"main": main_image(), "few": few_image()}
    index_inputs = {}
    for key, img in inputs.items():
        name = f"input_{key}.png"
        img.save(OUT / name, optimize=True)
        index_inputs[key] = {"file": name, "width": img.width, "height": img.height}

    cases = []
    for kind, table, input_keys in (
        ("point", POINT_CASES, ["main", "few"]),
        ("geometric", GEOMETRIC_CASES, ["main"]),
    ):
        for input_key in input_keys:
            src = inputs[input_key]
            for key, fn_name, arg_list in table:
                fn = getattr(aa, fn_name)
                for k, args in enumerate(arg_list):
                    out = fn(src.copy(), *args, **dict(kwargs))
                    assert out.mode == "RGB" and out.size == src.size
                    name = f"{input_key}_{key}_{k}.png"
                    out.save(OUT / name, optimize=True)
                    changed = int(np.count_nonzero(np.asarray(out) != np.asarray(src)))
                    cases.append({
                        "input": input_key,
                        "op": key,
                        "timm_fn": f"timm.data.auto_augment.{fn_name}",
                        "kind": kind,
                        "args": list(args),
                        "file": name,
                        "changed_values": changed,
                    })

    # PosterizeIncreasing at magnitude 10 asks for 0 bits; Pillow >= 11 rejects that.
    try:
        aa.posterize(inputs["main"].copy(), 0)
        posterize_zero = "ok"
    except ValueError as e:
        posterize_zero = f"ValueError: {e}"

    configs = []
    for spec in CONFIG_SPECS:
        hp = dict(translate_const=100, img_mean=tuple(fill))
        configs.append({"spec": spec, **describe(aa.rand_augment_transform(spec, hp))})
    bad = []
    for spec in BAD_SPECS:
        try:
            aa.rand_augment_transform(spec, dict(translate_const=100, img_mean=tuple(fill)))
            bad.append({"spec": spec, "timm": "accepted"})
        except (AssertionError, ValueError) as e:
            bad.append({"spec": spec, "timm": type(e).__name__})
    assert all(b["timm"] != "accepted" for b in bad), bad

    index = {
        "generator": "scripts/make_randaugment_fixtures.py",
        "versions": {
            "python": sys.version.split()[0],
            "timm": timm.__version__,
            "pillow": PIL.__version__,
            "numpy": np.__version__,
        },
        "deit": deit,
        "hparams": {k: (list(v) if isinstance(v, tuple) else v) for k, v in hparams.items()
                    if k in ("translate_const", "img_mean", "magnitude_std")},
        "inputs": index_inputs,
        "cases": cases,
        "posterize_zero_bits": posterize_zero,
        "levels": level_table(hparams),
        "configs": configs,
        "bad_specs": bad,
    }
    (OUT / "expected.json").write_text(json.dumps(index, indent=1) + "\n")
    write_readme(index)
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{len(cases)} cases, {len(index['levels'])} level rows, {total} bytes in {OUT}")
    return 0


def write_readme(index: dict) -> None:
    v = index["versions"]
    d = index["deit"]
    text = f"""{README_BEGIN}
## randaugment/

Generated by `scripts/make_randaugment_fixtures.py` (run by hand, not in CI;
deterministic) with Python {v['python']}, timm {v['timm']}, Pillow {v['pillow']},
numpy {v['numpy']}. It replaces the text between the `randaugment:begin`/`randaugment:end`
comments; `make_timm_fixtures.py` rewrites this README without this section, so run this
script after it. Checked by the unit tests of `trainer/src/data/randaugment.rs`.

- `input_main.png` (48x40 RGB): gradients that reach neither 0 nor 255, a sinusoidal blue
  channel, a red rectangle, a green disc and a grey checkerboard; `input_few.png` (32x24):
  few levels per channel (green constant, blue only 0/255) for the histogram edge cases.
- `<input>_<op>_<k>.png`: timm's own op functions (`timm.data.auto_augment.rotate`,
  `shear_x`, `solarize`, ...) at the fixed arguments listed in `expected.json` (`cases`),
  called with the kwargs of the ops of DeiT's RandAugment (`create_transform(224,
  is_training=True, auto_augment='{DEIT_SPEC}', interpolation='bicubic', ...)`):
  `fillcolor={tuple(d['fill'])}`, `resample=BICUBIC`. Point ops on both inputs, geometric
  ops (rotate, shear_x/y, translate_x/y_rel) on `input_main.png`.
- `expected.json`: also `levels` (`LEVEL_TO_ARG[name](m, hparams)` for every op of the
  rand and rand-inc sets plus TranslateX/Y at magnitudes
  {", ".join(f"{m:g}" for m in MAGNITUDES)}, with the random sign forced both ways:
  `keep`, `negated`, as Python `repr` strings), `configs` (what `rand_augment_transform`
  makes of several config strings: op names, layers, prob, magnitude, std, max),
  `bad_specs` (strings timm rejects), `deit` (DeiT's RandAugment: {d['num_layers']}
  layers, p {d['prob']}, magnitude {d['magnitude']}, std {d['magnitude_std']},
  translate_const {d['translate_const']}).
- `posterize_zero_bits`: PosterizeIncreasing at magnitude 10 (reached when the Gaussian
  magnitude noise is clipped at 10) asks `ImageOps.posterize` for 0 bits; this Pillow
  answers `{index['posterize_zero_bits']}`.
  The Rust port returns a black image there (the 0-bit mask of older Pillow).
{README_END}
"""
    readme = FIXTURES / "README.md"
    old = readme.read_text() if readme.exists() else ""
    if README_BEGIN in old and README_END in old:
        head, rest = old.split(README_BEGIN, 1)
        tail = rest.split(README_END, 1)[1].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    elif METRICS_SECTION in old:
        head, tail = old.split(METRICS_SECTION, 1)
        new = head.rstrip("\n") + "\n\n" + text + "\n" + METRICS_SECTION + tail
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    readme.write_text(new)


if __name__ == "__main__":
    sys.exit(main())
