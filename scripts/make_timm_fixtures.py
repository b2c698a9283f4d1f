#!/usr/bin/env python3
"""Reference fixtures from PyTorch/timm for the Rust (Burn) port.

Run by hand (never in CI):

    python3 -m venv scripts/.venv
    scripts/.venv/bin/pip install -r scripts/requirements-fixtures.txt
    scripts/.venv/bin/python scripts/make_timm_fixtures.py

Writes into tests/fixtures/:

  timm_tiny/checkpoint.pth        tiny timm VisionTransformer (32x32, patch 8, dim 48,
                                  depth 4, 3 heads), f32, saved as
                                  {"model": {"module." + k: v}, "epoch": 3}
  timm_tiny/expected.safetensors  input [4,3,32,32], logits [4,2], class_tokens [4,4,48]
  deit_tiny/checkpoint.safetensors
                                  deit_tiny_patch16_224 (2 classes), weights rounded to
                                  f16 and stored as f16 (timm's key names, no prefix)
  deit_tiny/expected.safetensors  input [2,3,224,224], logits [2,2],
                                  class_tokens [12,2,192] (f32 model with the f16-rounded
                                  weights)
  preprocess/astronaut.png        scikit-image's astronaut.png (public domain, NASA)
  preprocess/expected.safetensors astronaut [3,224,224], astronaut_crop [3,224,224],
                                  small_up [3,32,32] (DeiT/timm evaluation transform)
  README.md                       versions and provenance

class_tokens[i] is row 0 (the class token) of block i's attention sub-layer output:
Attn(LayerNorm1(x_i)) after the output projection, before the residual addition.

Everything is seeded and deterministic (single-threaded CPU, f32).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
from functools import partial
from pathlib import Path

import numpy as np
import PIL
import safetensors
import safetensors.torch
import timm
import torch
import torch.nn as nn
import torchvision
from PIL import Image
from timm.models.vision_transformer import VisionTransformer
from torchvision import transforms
from torchvision.transforms import InterpolationMode

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def save_safetensors(tensors: dict, path: Path, metadata: dict | None = None) -> None:
    """safetensors.torch.save_file, with a byte-deterministic header.

    The safetensors library keeps `__metadata__` in a hash map, so its key order (and
    therefore the file bytes) changes from run to run. Rewrite the JSON header with
    sorted metadata keys (same format: compact JSON, space-padded to 8 bytes).
    """
    import json
    import struct

    raw = safetensors.torch.save(tensors, metadata=metadata)
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    if "__metadata__" in header:
        md = header.pop("__metadata__")
        header = {"__metadata__": dict(sorted(md.items())), **header}
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])
    back = safetensors.torch.load_file(path)
    assert back.keys() == tensors.keys()
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v), k


# --------------------------------------------------------------------------- models


def make_timm_tiny() -> VisionTransformer:
    return VisionTransformer(
        img_size=32,
        patch_size=8,
        in_chans=3,
        num_classes=2,
        embed_dim=48,
        depth=4,
        num_heads=3,
        mlp_ratio=4.0,
        qkv_bias=True,
        class_token=True,
        global_pool="token",
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
    )


def make_deit_tiny() -> nn.Module:
    return timm.create_model("deit_tiny_patch16_224", pretrained=False, num_classes=2)


def check_deit_layout(model: VisionTransformer, tokens: int, dim: int, depth: int) -> None:
    """Assert the model has exactly DeiT's (no-distillation) layout."""
    sd = model.state_dict()
    assert model.cls_token is not None and tuple(model.cls_token.shape) == (1, 1, dim)
    assert "dist_token" not in sd, "unexpected distillation token"
    assert getattr(model, "reg_token", None) is None, "unexpected register tokens"
    assert tuple(model.pos_embed.shape) == (1, tokens, dim), model.pos_embed.shape
    assert model.global_pool == "token"
    assert len(model.blocks) == depth
    assert isinstance(model.norm, nn.LayerNorm) and model.norm.eps == 1e-6
    assert isinstance(model.fc_norm, nn.Identity)
    for blk in model.blocks:
        assert isinstance(blk.norm1, nn.LayerNorm) and blk.norm1.eps == 1e-6
        assert isinstance(blk.norm2, nn.LayerNorm) and blk.norm2.eps == 1e-6
        assert blk.attn.qkv.bias is not None, "qkv must have a bias"
        assert isinstance(blk.attn.q_norm, nn.Identity) and isinstance(blk.attn.k_norm, nn.Identity)
        assert isinstance(blk.ls1, nn.Identity) and isinstance(blk.ls2, nn.Identity)
        act = blk.mlp.act
        assert isinstance(act, nn.GELU) and act.approximate == "none", act
        assert blk.mlp.fc1.out_features == 4 * dim
    # Expected key set: timm's (= DeiT's official) names.
    expected = {"cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
                "norm.weight", "norm.bias", "head.weight", "head.bias"}
    for i in range(depth):
        for name in ("norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
                     "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
                     "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"):
            expected.add(f"blocks.{i}.{name}")
    assert set(sd.keys()) == expected, sorted(set(sd.keys()) ^ expected)


@torch.no_grad()
def reinit_(model: nn.Module, seed: int) -> None:
    """Seeded re-initialisation with values large enough to make a test meaningful.

    Linear/conv weights ~ N(0, (0.2 * sqrt(3 / fan_in))^2 ... ) chosen so that each
    layer roughly preserves scale; LayerNorm weights 1 + 0.1 N, biases 0.1 N,
    cls token / position embeddings 0.5 N.
    """
    g = torch.Generator().manual_seed(seed)

    def randn(shape):
        return torch.randn(shape, generator=g, dtype=torch.float32)

    for name, p in model.named_parameters():
        if name in ("cls_token", "pos_embed"):
            p.copy_(0.5 * randn(p.shape))
        elif name.endswith(".bias") or name == "bias":
            p.copy_(0.1 * randn(p.shape))
        elif p.ndim == 1:  # LayerNorm weight
            p.copy_(1.0 + 0.1 * randn(p.shape))
        else:  # Linear [out, in] or Conv2d [out, in, kh, kw]
            fan_in = int(np.prod(p.shape[1:]))
            # std = 1.5 / sqrt(fan_in): a bit larger than variance-preserving, so that
            # the attention softmax is far from uniform and GELU far from linear.
            p.copy_(randn(p.shape) * (1.5 / math.sqrt(fan_in)))


@torch.no_grad()
def forward_with_class_tokens(model: VisionTransformer, x: torch.Tensor):
    """Returns (logits, class_tokens [depth, B, D])."""
    captured: list[torch.Tensor] = []
    hooks = [
        blk.attn.register_forward_hook(lambda _m, _inp, out: captured.append(out[:, 0].clone()))
        for blk in model.blocks
    ]
    try:
        logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    assert len(captured) == len(model.blocks)
    return logits, torch.stack(captured, 0)


@torch.no_grad()
def manual_forward(model: VisionTransformer, x: torch.Tensor):
    """Independent, explicit DeiT forward (no fused kernels), to cross-check timm."""
    B = x.shape[0]
    pe = model.patch_embed.proj
    t = torch.nn.functional.conv2d(x, pe.weight, pe.bias, stride=pe.stride)
    t = t.flatten(2).transpose(1, 2)  # B, N, D
    t = torch.cat([model.cls_token.expand(B, -1, -1), t], 1) + model.pos_embed
    cls = []
    for blk in model.blocks:
        a = blk.attn
        h = torch.nn.functional.layer_norm(t, blk.norm1.normalized_shape, blk.norm1.weight,
                                           blk.norm1.bias, blk.norm1.eps)
        qkv = h @ a.qkv.weight.T + a.qkv.bias
        Bn, N, _ = qkv.shape
        qkv = qkv.reshape(Bn, N, 3, a.num_heads, a.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(a.head_dim)
        att = att.softmax(-1)
        o = (att @ v).transpose(1, 2).reshape(Bn, N, -1)
        o = o @ a.proj.weight.T + a.proj.bias
        cls.append(o[:, 0])
        t = t + o
        h = torch.nn.functional.layer_norm(t, blk.norm2.normalized_shape, blk.norm2.weight,
                                           blk.norm2.bias, blk.norm2.eps)
        h = h @ blk.mlp.fc1.weight.T + blk.mlp.fc1.bias
        h = torch.nn.functional.gelu(h)
        h = h @ blk.mlp.fc2.weight.T + blk.mlp.fc2.bias
        t = t + h
    t = torch.nn.functional.layer_norm(t, model.norm.normalized_shape, model.norm.weight,
                                       model.norm.bias, model.norm.eps)
    logits = t[:, 0] @ model.head.weight.T + model.head.bias
    return logits, torch.stack(cls, 0)


def describe(tag: str, logits: torch.Tensor, cls: torch.Tensor) -> None:
    print(f"  [{tag}] logits:\n{logits.numpy()}")
    print(f"  [{tag}] max |logit| = {logits.abs().max().item():.4f}; "
          f"logit spread between samples (max-min per class) = "
          f"{(logits.max(0).values - logits.min(0).values).numpy()}")
    print(f"  [{tag}] logit margin (l1 - l0) per sample = {(logits[:, 1] - logits[:, 0]).numpy()}")
    norms = cls.norm(dim=-1)  # depth, B
    print(f"  [{tag}] class-token L2 norms per block (rows) x sample (cols):\n{norms.numpy()}")
    print(f"  [{tag}] class-token max |x| per block = {cls.abs().amax(dim=(1, 2)).numpy()}")
    # between-sample difference, relative
    diff = (cls - cls.mean(1, keepdim=True)).norm(dim=-1) / norms
    print(f"  [{tag}] class-token relative deviation from batch mean per block = "
          f"{diff.mean(1).numpy()}")


def assert_close(a: torch.Tensor, b: torch.Tensor, what: str, tol: float = 1e-4) -> None:
    err = (a - b).abs().max().item()
    scale = max(1.0, b.abs().max().item())
    print(f"  check {what}: max abs diff {err:.3e}")
    assert err <= tol * scale, f"{what}: max abs diff {err} > {tol * scale}"


# --------------------------------------------------------------------------- fixtures


def fixture_timm_tiny() -> None:
    print("== timm_tiny")
    out = FIXTURES / "timm_tiny"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = make_timm_tiny()
    check_deit_layout(model, tokens=1 + 16, dim=48, depth=4)
    reinit_(model, seed=1)
    model.eval()
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    logits, cls = forward_with_class_tokens(model, x)
    m_logits, m_cls = manual_forward(model, x)
    assert_close(m_logits, logits, "manual vs timm logits")
    assert_close(m_cls, cls, "manual vs timm class tokens")
    describe("timm_tiny", logits, cls)

    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    assert all(v.dtype == torch.float32 for v in sd.values())
    ckpt = out / "checkpoint.pth"
    torch.save({"model": {"module." + k: v for k, v in sd.items()}, "epoch": 3}, ckpt)
    save_safetensors(
        {"input": x.contiguous(), "logits": logits.contiguous(), "class_tokens": cls.contiguous()},
        out / "expected.safetensors",
        metadata={
            "model": "timm VisionTransformer img 32 patch 8 dim 48 depth 4 heads 3 mlp 4 "
                     "qkv_bias cls-token LayerNorm eps 1e-6",
            "class_tokens": "[depth, B, D]: row 0 of blocks[i].attn output (after proj, "
                            "before residual)",
            "timm": timm.__version__,
            "torch": torch.__version__,
        },
    )

    # Verify by reloading into a fresh model.
    loaded = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert loaded["epoch"] == 3
    fresh = make_timm_tiny()
    state = {k[len("module."):] if k.startswith("module.") else k: v
             for k, v in loaded["model"].items()}
    fresh.load_state_dict(state, strict=True)
    fresh.eval()
    r_logits, r_cls = forward_with_class_tokens(fresh, x)
    exp = safetensors.torch.load_file(out / "expected.safetensors")
    assert_close(r_logits, exp["logits"], "reloaded checkpoint.pth logits", tol=0)
    assert_close(r_cls, exp["class_tokens"], "reloaded checkpoint.pth class tokens", tol=0)


def fixture_deit_tiny() -> None:
    print("== deit_tiny")
    out = FIXTURES / "deit_tiny"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = make_deit_tiny()
    assert isinstance(model, VisionTransformer), type(model)
    check_deit_layout(model, tokens=1 + 196, dim=192, depth=12)
    reinit_(model, seed=3)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"  deit_tiny params: {n_params}")
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(4))
    logits, cls = forward_with_class_tokens(model, x)
    m_logits, m_cls = manual_forward(model, x)
    assert_close(m_logits, logits, "manual vs timm logits")
    assert_close(m_cls, cls, "manual vs timm class tokens")
    describe("deit_tiny", logits, cls)

    sd = model.state_dict()
    ckpt = out / "checkpoint.safetensors"
    save_safetensors({k: v.half().contiguous() for k, v in sd.items()}, ckpt)
    save_safetensors(
        {"input": x.contiguous(), "logits": logits.contiguous(), "class_tokens": cls.contiguous()},
        out / "expected.safetensors",
        metadata={
            "model": "timm deit_tiny_patch16_224, num_classes 2, weights rounded to f16",
            "class_tokens": "[depth, B, D]: row 0 of blocks[i].attn output (after proj, "
                            "before residual)",
            "timm": timm.__version__,
            "torch": torch.__version__,
        },
    )

    # Verify by reloading.
    loaded = safetensors.torch.load_file(ckpt)
    assert all(v.dtype == torch.float16 for v in loaded.values())
    fresh = make_deit_tiny()
    fresh.load_state_dict({k: v.float() for k, v in loaded.items()}, strict=True)
    fresh.eval()
    r_logits, r_cls = forward_with_class_tokens(fresh, x)
    exp = safetensors.torch.load_file(out / "expected.safetensors")
    assert_close(r_logits, exp["logits"], "reloaded checkpoint.safetensors logits", tol=0)
    assert_close(r_cls, exp["class_tokens"], "reloaded checkpoint.safetensors class tokens", tol=0)


def eval_transform(input_size: int) -> transforms.Compose:
    # timm / DeiT: resize = int(input_size / 0.875) (224 -> 256, 32 -> 36).
    resize = int(input_size / 0.875)
    return transforms.Compose([
        transforms.Resize(resize, interpolation=InterpolationMode.BICUBIC),
        transforms.CenterCrop(input_size),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])


def fixture_preprocess() -> str:
    print("== preprocess")
    out = FIXTURES / "preprocess"
    out.mkdir(parents=True, exist_ok=True)
    import skimage

    src = Path(skimage.data.__file__).parent / "astronaut.png"
    if not src.exists():
        # Some scikit-image versions fetch it into a cache on first use.
        skimage.data.astronaut()
        import skimage.data._fetchers as f  # noqa
        src = Path(f._fetch("data/astronaut.png"))
    size = src.stat().st_size
    print(f"  astronaut.png from {src} ({size} bytes)")
    dst = out / "astronaut.png"
    if size <= 600 * 1024:
        shutil.copyfile(src, dst)
        png_note = "original file bytes"
    else:
        # scikit-image 0.26 ships it as a 791 KB PNG (with an sRGB ICC profile and
        # Photoshop comment). Re-encode losslessly (identical 8-bit RGB pixels; Pillow
        # keeps the ICC profile) to keep the repository small; verified below.
        orig = Image.open(src)
        assert orig.mode == "RGB", orig.mode
        orig.save(dst, format="PNG", optimize=True)
        assert np.array_equal(np.asarray(Image.open(dst)), np.asarray(orig))
        png_note = (f"lossless re-encode of the {size}-byte original (Pillow optimize=True, "
                    "identical RGB pixels, sRGB ICC profile kept, comment dropped)")
    print(f"  wrote {dst.name}: {png_note}, {dst.stat().st_size} bytes")

    img = Image.open(dst).convert("RGB")
    print(f"  image size {img.size}, mode {img.mode}")
    box_crop = (40, 10, 340, 210)
    box_small = (100, 50, 150, 90)
    # small_up's region is smooth background; a textured region (eyes) as well.
    box_small_face = (200, 90, 250, 130)
    t224 = eval_transform(224)
    t32 = eval_transform(32)
    astronaut = t224(img)
    crop = img.crop(box_crop)
    assert crop.size == (300, 200)
    astronaut_crop = t224(crop)
    small = img.crop(box_small)
    assert small.size == (50, 40)
    small_up = t32(small)
    small_face = img.crop(box_small_face)
    assert small_face.size == (50, 40)
    small_up_face = t32(small_face)
    assert tuple(astronaut.shape) == (3, 224, 224)
    assert tuple(astronaut_crop.shape) == (3, 224, 224)
    assert tuple(small_up.shape) == (3, 32, 32)
    assert tuple(small_up_face.shape) == (3, 32, 32)
    for name, t in (("astronaut", astronaut), ("astronaut_crop", astronaut_crop),
                    ("small_up", small_up), ("small_up_face", small_up_face)):
        print(f"  {name}: shape {tuple(t.shape)} min {t.min():.4f} max {t.max():.4f} "
              f"mean {t.mean():.4f}")
    save_safetensors(
        {"astronaut": astronaut.contiguous(), "astronaut_crop": astronaut_crop.contiguous(),
         "small_up": small_up.contiguous(), "small_up_face": small_up_face.contiguous()},
        out / "expected.safetensors",
        metadata={
            "image": "astronaut.png (scikit-image data, public domain, NASA)",
            "astronaut": "full image; Resize(256, bicubic), CenterCrop(224), ToTensor, "
                         "Normalize(ImageNet)",
            "astronaut_crop_box": ",".join(map(str, box_crop)),
            "astronaut_crop": "img.crop((40, 10, 340, 210)) (300x200 WxH); Resize(256, "
                              "bicubic), CenterCrop(224), ToTensor, Normalize(ImageNet)",
            "small_up_box": ",".join(map(str, box_small)),
            "small_up": "img.crop((100, 50, 150, 90)) (50x40 WxH); Resize(36, bicubic), "
                        "CenterCrop(32), ToTensor, Normalize(ImageNet)",
            "small_up_face_box": ",".join(map(str, box_small_face)),
            "small_up_face": "img.crop((200, 90, 250, 130)) (50x40 WxH, textured); "
                             "Resize(36, bicubic), CenterCrop(32), ToTensor, "
                             "Normalize(ImageNet)",
            "crop_box_format": "PIL (left, upper, right, lower), right/lower exclusive",
            "mean": ",".join(map(str, MEAN)),
            "std": ",".join(map(str, STD)),
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "pillow": PIL.__version__,
            "png": png_note,
        },
    )
    return skimage.__version__, png_note


def write_readme(skimage_version: str, png_note: str) -> None:
    text = f"""# Reference fixtures (PyTorch / timm)

Generated by `scripts/make_timm_fixtures.py` (run by hand, not in CI; seeded and
deterministic). Regenerate with:

    python3 -m venv scripts/.venv
    scripts/.venv/bin/pip install -r scripts/requirements-fixtures.txt
    scripts/.venv/bin/python scripts/make_timm_fixtures.py

Generated with Python {sys.version.split()[0]}, torch {torch.__version__},
torchvision {torchvision.__version__}, timm {timm.__version__},
safetensors {safetensors.__version__}, numpy {np.__version__}, Pillow {PIL.__version__},
scikit-image {skimage_version}.

All tensors are float32 unless stated. `class_tokens[i]` is row 0 (the class token) of
block i's attention sub-layer output, `Attn(LayerNorm1(x_i))` after the output
projection and before the residual addition (the feature the head-aware distillation
loss uses), shape `[depth, batch, dim]`. Weights are a seeded re-initialisation (not
timm's small init) so that logits and class tokens are O(1) and differ between samples.

## timm_tiny/
- `checkpoint.pth`: a timm `VisionTransformer(img_size=32, patch_size=8, in_chans=3,
  num_classes=2, embed_dim=48, depth=4, num_heads=3, mlp_ratio=4, qkv_bias=True,
  class_token=True, global_pool='token', LayerNorm eps 1e-6)` — DeiT's layout (class
  token, 1 + 16 position embeddings, no distillation token, exact GELU). Saved with
  `torch.save({{"model": {{"module." + k: v}}, "epoch": 3}})` (f32): exercises the
  `model` key and the `module.` prefix (DistributedDataParallel checkpoints).
- `expected.safetensors`: `input` [4,3,32,32], `logits` [4,2], `class_tokens` [4,4,48].

## deit_tiny/
- `checkpoint.safetensors`: `timm.create_model('deit_tiny_patch16_224', num_classes=2)`
  with seeded weights rounded to float16 and stored as float16, timm's own key names
  (no prefix).
- `expected.safetensors`: `input` [2,3,224,224], `logits` [2,2], `class_tokens`
  [12,2,192], computed in float32 with the f16-rounded weights (so loading the f16
  checkpoint into an f32 model is exact).

## preprocess/
- `astronaut.png`: scikit-image {skimage_version}'s `skimage/data/astronaut.png` (512x512
  RGB), stored here as:
  {png_note}.
  Photograph of astronaut Eileen Collins, NASA: public domain (shipped by scikit-image).
- `expected.safetensors`: the DeiT/timm evaluation transform, torchvision
  `Compose([Resize(int(size / 0.875), BICUBIC), CenterCrop(size), ToTensor(),
  Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])` on the PIL RGB image:
  - `astronaut` [3,224,224]: the whole image (size 224, resize 256: 512 -> 256, a
    2x antialiased downscale);
  - `astronaut_crop` [3,224,224]: `img.crop((40, 10, 340, 210))` (300x200, non-square;
    upscaled to 384x256);
  - `small_up` [3,32,32]: `img.crop((100, 50, 150, 90))` (50x40; size 32, resize 36:
    despite the name a slight downscale to 45x36; a smooth background region);
  - `small_up_face` [3,32,32]: `img.crop((200, 90, 250, 130))` (50x40, textured: the
    eyes; same transform as `small_up`).
  The 50x40 crops were made by `img.crop`, i.e. pixel copies, not resizes.
  Crop boxes are PIL `(left, upper, right, lower)` and are also stored in the file's
  metadata. `Resize(n)` scales the shorter side to n and the longer one to
  `int(n * long / short)` (truncated: 300x200 -> 384x256, 50x40 -> 45x36);
  `CenterCrop` takes the top-left offset `int(round((size_in - size_out) / 2))` with
  Python's round-half-to-even: for `small_up*` the 45-wide image is cropped to 32 at
  x offset round(6.5) = 6 (Rust's `f64::round` would give 7), y offset 2.
  torchvision's bicubic resize on PIL images is Pillow's (a = -0.5, filter support
  scaled by the factor when downsampling, i.e. antialiased; 8-bit result).
"""
    # Keep the sections the other fixture scripts own: the marked blocks
    # (<!-- name:begin --> ... <!-- name:end -->) and the metrics section at the end.
    readme = FIXTURES / "README.md"
    if readme.exists():
        old = readme.read_text()
        blocks = [m.group(0) for m in re.finditer(
            r"<!-- (\w+):begin -->.*?<!-- \1:end -->\n", old, flags=re.S)]
        text = text.rstrip("\n") + "\n\n" + "\n".join(blocks)
        marker = "\n## metrics/\n"
        if marker in old:
            text = text.rstrip("\n") + "\n" + marker + old.split(marker, 1)[1]
    readme.write_text(text)


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"timm {timm.__version__}, safetensors {safetensors.__version__}, "
          f"Pillow {PIL.__version__}, numpy {np.__version__}")
    FIXTURES.mkdir(parents=True, exist_ok=True)
    fixture_timm_tiny()
    fixture_deit_tiny()
    sk, png_note = fixture_preprocess()
    write_readme(sk, png_note)
    print("== files")
    for p in sorted(FIXTURES.rglob("*")):
        if p.is_file():
            print(f"  {p.relative_to(ROOT)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
