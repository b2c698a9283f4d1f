"""Writes a ViT liveness model file of this project (DeiT layout: class token, no
distillation token; f32, f16 or int8 storage) as an ONNX graph in f32, for runtimes
such as onnxruntime-web in the side-by-side page benchmark (scripts/bench_page_ort.sh).
Run by hand, like the fixture scripts; needs only onnx, onnxruntime, numpy and
safetensors (scripts/requirements-fixtures.txt).

    scripts/.venv/bin/python scripts/export_vit_onnx.py MODEL.safetensors OUT.onnx
    scripts/.venv/bin/python scripts/export_vit_onnx.py --check   # the parity check below

The graph is the one timm's VisionTransformer runs (and torch.onnx.export would trace):
patch convolution, class token, position embeddings, pre-norm blocks (LayerNorm,
multi-head attention, exact GELU MLP), final LayerNorm, the head on the class token.
Int8 weights are dequantised (int8 x per-output-channel scale), so the ONNX model
computes with exactly the weights the page computes with.

`--check` builds the graph from the timm DeiT-Tiny fixture (tests/fixtures/deit_tiny,
timm's own key names, f16-rounded weights) and asserts that onnxruntime's logits match
timm's saved logits to 1e-4: the graph is checked against PyTorch, not against our Rust
code.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors import safe_open

QSCALE = ".qscale"
REPO = Path(__file__).resolve().parent.parent


def load_weights(path):
    """The file's tensors as f32 arrays under timm's names (int8 dequantised), and its
    architecture (from the project's metadata, or DeiT-Tiny's for a bare timm file)."""
    with safe_open(str(path), "np") as f:
        names = list(f.keys())
        raw = {name: f.get_tensor(name) for name in names}
        meta = f.metadata() or {}
    weights = {}
    for name, tensor in raw.items():
        if name.endswith(QSCALE):
            continue
        if tensor.dtype == np.int8:
            scale = raw[name + QSCALE].astype(np.float32)
            shape = (-1,) + (1,) * (tensor.ndim - 1)
            weights[name] = tensor.astype(np.float32) * scale.reshape(shape)
        else:
            weights[name] = tensor.astype(np.float32)
    if "metadata" in meta:
        arch = json.loads(meta["metadata"])["architecture"]
    else:
        arch = {"name": "deit_tiny_patch16_224", "image_size": 224, "patch_size": 16,
                "embed_dim": 192, "depth": 12, "num_heads": 3, "layer_norm_eps": 1e-6}
    if arch.get("family", "vit") != "vit" or "dist_token" in weights:
        sys.exit(f"{path}: only DeiT-style ViTs (class token, no distillation token) are exported")
    return weights, arch


class Graph:
    """A small builder: each op gets a unique output name."""

    def __init__(self, weights):
        self.weights = weights
        self.nodes = []
        self.initialisers = {}
        self.count = 0

    def const(self, name, array):
        if name not in self.initialisers:
            self.initialisers[name] = numpy_helper.from_array(np.asarray(array), name)
        return name

    def weight(self, name, transpose=False):
        array = self.weights[name]
        key = name + (".T" if transpose else "")
        return self.const(key, array.T.copy() if transpose else array)

    def op(self, kind, inputs, **attrs):
        self.count += 1
        out = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(self, x, prefix):
        y = self.op("MatMul", [x, self.weight(prefix + ".weight", transpose=True)])
        return self.op("Add", [y, self.weight(prefix + ".bias")])

    def layer_norm(self, x, prefix, eps):
        return self.op("LayerNormalization",
                       [x, self.weight(prefix + ".weight"), self.weight(prefix + ".bias")],
                       axis=-1, epsilon=eps)

    def gelu(self, x):
        # Exact GELU as torch exports it: x * 0.5 * (1 + erf(x / sqrt(2))).
        scaled = self.op("Div", [x, self.const("sqrt2", np.array(np.sqrt(2.0), np.float32))])
        erf = self.op("Erf", [scaled])
        one_plus = self.op("Add", [erf, self.const("one", np.array(1.0, np.float32))])
        half = self.op("Mul", [x, self.const("half", np.array(0.5, np.float32))])
        return self.op("Mul", [half, one_plus])


def attention(g, x, prefix, heads, dim):
    head_dim = dim // heads
    qkv = g.linear(x, prefix + ".qkv")  # [B, N, 3D]
    qkv = g.op("Reshape", [qkv, g.const("shape_qkv", np.array([0, -1, 3, heads, head_dim], np.int64))])
    qkv = g.op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])  # [3, B, H, N, d]
    q, k, v = (g.op("Gather", [qkv, g.const(f"index{i}", np.array(i, np.int64))], axis=0)
               for i in range(3))
    q = g.op("Mul", [q, g.const(f"scale_{head_dim}", np.array(head_dim ** -0.5, np.float32))])
    kt = g.op("Transpose", [k], perm=[0, 1, 3, 2])
    probs = g.op("Softmax", [g.op("MatMul", [q, kt])], axis=-1)
    out = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])  # [B, N, H, d]
    out = g.op("Reshape", [out, g.const("shape_merge", np.array([0, -1, dim], np.int64))])
    return g.linear(out, prefix + ".proj")


def build(weights, arch):
    dim, depth, heads = arch["embed_dim"], arch["depth"], arch["num_heads"]
    size, patch, eps = arch["image_size"], arch["patch_size"], arch["layer_norm_eps"]
    g = Graph(weights)
    x = g.op("Conv", ["input", g.weight("patch_embed.proj.weight"), g.weight("patch_embed.proj.bias")],
             kernel_shape=[patch, patch], strides=[patch, patch])
    # [B, D, h, w] -> [B, D, P] -> [B, P, D]
    x = g.op("Reshape", [x, g.const("shape_patches", np.array([0, dim, -1], np.int64))])
    x = g.op("Transpose", [x], perm=[0, 2, 1])
    # The class token, expanded to the batch.
    batch = g.op("Gather", [g.op("Shape", ["input"]), g.const("zero", np.array([0], np.int64))], axis=0)
    cls_shape = g.op("Concat", [batch, g.const("one_dim", np.array([1, dim], np.int64))], axis=0)
    cls = g.op("Expand", [g.weight("cls_token"), cls_shape])
    x = g.op("Concat", [cls, x], axis=1)
    x = g.op("Add", [x, g.weight("pos_embed")])
    for i in range(depth):
        p = f"blocks.{i}"
        x = g.op("Add", [x, attention(g, g.layer_norm(x, p + ".norm1", eps), p + ".attn", heads, dim)])
        hidden = g.gelu(g.linear(g.layer_norm(x, p + ".norm2", eps), p + ".mlp.fc1"))
        x = g.op("Add", [x, g.linear(hidden, p + ".mlp.fc2")])
    x = g.layer_norm(x, "norm", eps)
    token = g.op("Gather", [x, g.const("index0", np.array(0, np.int64))], axis=1)  # [B, D]
    logits = g.linear(token, "head")
    g.nodes.append(helper.make_node("Identity", [logits], ["logits"]))
    graph = helper.make_graph(
        g.nodes, arch["name"],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", None])],
        list(g.initialisers.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="hatfas scripts/export_vit_onnx.py")
    model.ir_version = 8  # readable by onnxruntime-web 1.17 and later
    onnx.checker.check_model(model)
    return model


def check():
    import onnxruntime as ort

    fixture = REPO / "tests/fixtures/deit_tiny"
    weights, arch = load_weights(fixture / "checkpoint.safetensors")
    model = build(weights, arch)
    with safe_open(str(fixture / "expected.safetensors"), "np") as f:
        inputs, expected = f.get_tensor("input"), f.get_tensor("logits")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"input": inputs})[0]
    diff = float(np.abs(got - expected).max())
    print(f"onnxruntime {ort.__version__} vs timm's logits: max |diff| {diff:.2e}")
    assert diff <= 1e-4, f"the ONNX graph differs from timm: {got} vs {expected}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", help="a model file of this project (or timm-keyed safetensors)")
    parser.add_argument("out", nargs="?", help="the ONNX file to write")
    parser.add_argument("--check", action="store_true", help="check the graph against timm's fixture logits")
    args = parser.parse_args()
    if args.check:
        return check()
    if not (args.model and args.out):
        parser.error("MODEL and OUT are needed (or --check)")
    weights, arch = load_weights(args.model)
    model = build(weights, arch)
    onnx.save(model, args.out)
    print(f"{args.out}: {arch['name']}, {Path(args.out).stat().st_size / 1e6:.1f} MB (f32)")


if __name__ == "__main__":
    main()
