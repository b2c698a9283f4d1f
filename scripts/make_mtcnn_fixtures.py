#!/usr/bin/env python3
"""Reference fixtures from facenet-pytorch's MTCNN for the Rust (Burn) port.

Run by hand (never in CI):

    python3 -m venv scripts/.venv
    scripts/.venv/bin/pip install -r scripts/requirements-fixtures.txt
    scripts/.venv/bin/pip install --no-deps facenet-pytorch==2.6.0
    scripts/.venv/bin/python scripts/make_mtcnn_fixtures.py

(`--no-deps`: facenet-pytorch 2.6.0's metadata pins torch<2.3, torchvision<0.18,
numpy<2, Pillow<10.3; the code runs fine on the newer versions pinned here.)

Writes into tests/fixtures/mtcnn/:

  networks.safetensors  PNet / RNet / ONet (pretrained, eval) outputs on seeded
                        uniform [-1, 1] inputs plus real crops (see NETWORK_* below)
  camera.png            scikit-image's camera.png (CC0), original bytes (grayscale)
  coffee.png            scikit-image's coffee.png (CC0), original bytes (no face)
  group.png             640x480 composite: astronaut + camera on mid-grey (two faces)
  detections.json       MTCNN(device='cpu') defaults, detect(img, landmarks=True) per
                        image, plus a per-stage trace of detect_face (candidate counts,
                        candidate boxes, pyramid scales)

and adds/replaces the `## mtcnn/` section of tests/fixtures/README.md (between
<!-- mtcnn:begin --> / <!-- mtcnn:end --> markers; inserted before the `## metrics/`
section if there is one). scripts/make_timm_fixtures.py rewrites the README without
this section, so run this script after it.

The astronaut image is tests/fixtures/preprocess/astronaut.png (written by
make_timm_fixtures.py), not copied again.

Everything is seeded and deterministic (single-threaded CPU, f32).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import PIL
import safetensors
import skimage
import torch
import torchvision
from PIL import Image
from torch.nn.functional import interpolate
from torchvision.ops.boxes import batched_nms

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUT = FIXTURES / "mtcnn"
ASTRONAUT = FIXTURES / "preprocess" / "astronaut.png"
SKIMAGE_DATA = Path(skimage.__file__).parent / "data"

sys.path.insert(0, str(SCRIPTS))
from make_timm_fixtures import save_safetensors  # noqa: E402

warnings.filterwarnings("ignore", message=".*nonzero.*")
import facenet_pytorch  # noqa: E402
from facenet_pytorch import MTCNN, ONet, PNet, RNet  # noqa: E402
from facenet_pytorch.models.utils import detect_face as fdf  # noqa: E402

SEED = 20240611

# Face regions (PIL box: left, upper, right, lower; right/lower exclusive), square,
# around MTCNN's own detections (astronaut ~ (181, 62, 268, 172), camera ~ (199, 119,
# 254, 192)); plus a non-face region of coffee.png (the cup).
CROPS = [
    ("astronaut.png", (170, 62, 280, 172)),  # face (frontal)
    ("camera.png", (190, 119, 263, 192)),    # face (three-quarter profile, grey)
    ("coffee.png", (150, 60, 450, 360)),     # coffee cup: not a face
]

# PNet on a real image at one pyramid scale: astronaut.png, scale 0.6 * 0.709**3 (the
# 4th scale for min_face_size 20), resized like detect_face does.
PNET_IMAGE_SCALE_INDEX = 3

GROUP_SIZE = (640, 480)
GROUP_BG = (128, 128, 128)
GROUP_PARTS = [  # (source, size, paste position (left, upper))
    ("astronaut.png", (320, 320), (0, 80)),
    ("camera.png", (300, 300), (330, 90)),
]

MIN_FACE = 20
THRESHOLDS = [0.6, 0.7, 0.7]
FACTOR = 0.709


# --------------------------------------------------------------------------- helpers


def source_path(name: str) -> Path:
    if name == "astronaut.png":
        return ASTRONAUT
    # camera.png, coffee.png (copied from scikit-image's data dir), group.png
    return OUT / name


def load_rgb(path: Path) -> Image.Image:
    # camera.png is 8-bit grayscale: convert('RGB') replicates the channel.
    return Image.open(path).convert("RGB")


def to_nchw(img: Image.Image) -> torch.Tensor:
    """PIL RGB -> float32 [1, 3, H, W] in 0..255 (as detect_face builds it)."""
    a = np.asarray(img, dtype=np.uint8)
    return torch.as_tensor(a.copy()).permute(2, 0, 1).unsqueeze(0).float()


def normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - 127.5) * 0.0078125


def crop_area(img: Image.Image, box, size: int) -> torch.Tensor:
    """Crop a float [1,3,h,w] region and area-resize to size x size, normalised."""
    x1, y1, x2, y2 = box
    t = to_nchw(img)[:, :, y1:y2, x1:x2]
    return normalise(interpolate(t, size=(size, size), mode="area"))


def pyramid(h: int, w: int, minsize: int = MIN_FACE, factor: float = FACTOR):
    """detect_face's scale pyramid (same float64 arithmetic) and resized sizes."""
    m = 12.0 / minsize
    minl = min(h, w) * m
    scale = m
    scales = []
    while minl >= 12:
        scales.append(scale)
        scale = scale * factor
        minl = minl * factor
    sizes = [(int(h * s + 1), int(w * s + 1)) for s in scales]
    return scales, sizes


def fl(x) -> float:
    return float(x)


def boxes_list(b: torch.Tensor | np.ndarray) -> list:
    """[N, 5] (x1, y1, x2, y2, score) -> list of lists of Python floats."""
    a = b.cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b, dtype=np.float32)
    return [[fl(v) for v in row] for row in a]


# --------------------------------------------------------------------------- detect_face


def detect_face_traced(imgs, minsize, pnet, rnet, onet, threshold, factor, device, trace):
    """facenet_pytorch.models.utils.detect_face.detect_face (2.6.0), PIL-input path
    only, copied with `trace` bookkeeping added. The arithmetic is unchanged; the
    result is asserted equal to the package's own function by the caller."""
    if not isinstance(imgs, (list, tuple)):
        imgs = [imgs]
    imgs = np.stack([np.uint8(img) for img in imgs])
    imgs = torch.as_tensor(imgs.copy(), device=device)

    model_dtype = next(pnet.parameters()).dtype
    imgs = imgs.permute(0, 3, 1, 2).type(model_dtype)

    batch_size = len(imgs)
    h, w = imgs.shape[2:4]
    m = 12.0 / minsize
    minl = min(h, w)
    minl = minl * m

    scale_i = m
    scales = []
    while minl >= 12:
        scales.append(scale_i)
        scale_i = scale_i * factor
        minl = minl * factor
    trace["scales"] = [float(s) for s in scales]
    trace["scaled_sizes_hw"] = []
    trace["stage1_per_scale"] = []

    # First stage
    boxes = []
    image_inds = []
    scale_picks = []
    offset = 0
    for scale in scales:
        sz = (int(h * scale + 1), int(w * scale + 1))
        im_data = fdf.imresample(imgs, sz)
        im_data = (im_data - 127.5) * 0.0078125
        reg, probs = pnet(im_data)

        boxes_scale, image_inds_scale = fdf.generateBoundingBox(
            reg, probs[:, 1], scale, threshold[0])
        boxes.append(boxes_scale)
        image_inds.append(image_inds_scale)

        pick = batched_nms(boxes_scale[:, :4], boxes_scale[:, 4], image_inds_scale, 0.5)
        scale_picks.append(pick + offset)
        offset += boxes_scale.shape[0]
        trace["scaled_sizes_hw"].append(list(sz))
        trace["stage1_per_scale"].append({
            "scale": float(scale),
            "pnet_map_hw": [int(probs.shape[2]), int(probs.shape[3])],
            "max_prob": fl(probs[:, 1].max()),
            "above_threshold": int(boxes_scale.shape[0]),
            "after_nms_0.5": int(pick.shape[0]),
        })

    boxes = torch.cat(boxes, dim=0)
    image_inds = torch.cat(image_inds, dim=0)
    scale_picks = torch.cat(scale_picks, dim=0)
    boxes, image_inds = boxes[scale_picks], image_inds[scale_picks]
    trace["stage1_after_scale_nms"] = int(boxes.shape[0])

    pick = fdf.batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
    boxes, image_inds = boxes[pick], image_inds[pick]
    trace["stage1_after_nms_0.7"] = int(boxes.shape[0])

    regw = boxes[:, 2] - boxes[:, 0]
    regh = boxes[:, 3] - boxes[:, 1]
    qq1 = boxes[:, 0] + boxes[:, 5] * regw
    qq2 = boxes[:, 1] + boxes[:, 6] * regh
    qq3 = boxes[:, 2] + boxes[:, 7] * regw
    qq4 = boxes[:, 3] + boxes[:, 8] * regh
    boxes = torch.stack([qq1, qq2, qq3, qq4, boxes[:, 4]]).permute(1, 0)
    boxes = fdf.rerec(boxes)
    trace["stage1_boxes"] = boxes_list(boxes)
    y, ey, x, ex = fdf.pad(boxes, w, h)

    # Second stage
    trace["stage2_inputs"] = 0
    trace["stage2_above_threshold"] = 0
    trace["stage2_after_nms_0.7"] = 0
    trace["stage2_boxes"] = []
    if len(boxes) > 0:
        im_data = []
        for k in range(len(y)):
            if ey[k] > (y[k] - 1) and ex[k] > (x[k] - 1):
                img_k = imgs[image_inds[k], :, (y[k] - 1):ey[k], (x[k] - 1):ex[k]].unsqueeze(0)
                im_data.append(fdf.imresample(img_k, (24, 24)))
        im_data = torch.cat(im_data, dim=0)
        im_data = (im_data - 127.5) * 0.0078125
        trace["stage2_inputs"] = int(im_data.shape[0])

        out = fdf.fixed_batch_process(im_data, rnet)

        out0 = out[0].permute(1, 0)
        out1 = out[1].permute(1, 0)
        score = out1[1, :]
        ipass = score > threshold[1]
        boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
        image_inds = image_inds[ipass]
        mv = out0[:, ipass].permute(1, 0)
        trace["stage2_above_threshold"] = int(boxes.shape[0])

        pick = fdf.batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
        boxes, image_inds, mv = boxes[pick], image_inds[pick], mv[pick]
        trace["stage2_after_nms_0.7"] = int(boxes.shape[0])
        boxes = fdf.bbreg(boxes, mv)
        boxes = fdf.rerec(boxes)
        trace["stage2_boxes"] = boxes_list(boxes)

    # Third stage
    trace["stage3_inputs"] = 0
    trace["stage3_above_threshold"] = 0
    trace["stage3_after_nms_min_0.7"] = 0
    trace["stage3_boxes"] = []
    points = torch.zeros(0, 5, 2, device=device)
    if len(boxes) > 0:
        y, ey, x, ex = fdf.pad(boxes, w, h)
        im_data = []
        for k in range(len(y)):
            if ey[k] > (y[k] - 1) and ex[k] > (x[k] - 1):
                img_k = imgs[image_inds[k], :, (y[k] - 1):ey[k], (x[k] - 1):ex[k]].unsqueeze(0)
                im_data.append(fdf.imresample(img_k, (48, 48)))
        im_data = torch.cat(im_data, dim=0)
        im_data = (im_data - 127.5) * 0.0078125
        trace["stage3_inputs"] = int(im_data.shape[0])

        out = fdf.fixed_batch_process(im_data, onet)

        out0 = out[0].permute(1, 0)
        out1 = out[1].permute(1, 0)
        out2 = out[2].permute(1, 0)
        score = out2[1, :]
        points = out1
        ipass = score > threshold[2]
        points = points[:, ipass]
        boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
        image_inds = image_inds[ipass]
        mv = out0[:, ipass].permute(1, 0)
        trace["stage3_above_threshold"] = int(boxes.shape[0])

        w_i = boxes[:, 2] - boxes[:, 0] + 1
        h_i = boxes[:, 3] - boxes[:, 1] + 1
        points_x = w_i.repeat(5, 1) * points[:5, :] + boxes[:, 0].repeat(5, 1) - 1
        points_y = h_i.repeat(5, 1) * points[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
        points = torch.stack((points_x, points_y)).permute(2, 1, 0)
        boxes = fdf.bbreg(boxes, mv)

        pick = fdf.batched_nms_numpy(boxes[:, :4], boxes[:, 4], image_inds, 0.7, "Min")
        boxes, image_inds, points = boxes[pick], image_inds[pick], points[pick]
        trace["stage3_after_nms_min_0.7"] = int(boxes.shape[0])
        trace["stage3_boxes"] = boxes_list(boxes)

    boxes = boxes.cpu().numpy()
    points = points.cpu().numpy()
    image_inds = image_inds.cpu()

    batch_boxes = []
    batch_points = []
    for b_i in range(batch_size):
        b_i_inds = np.where(image_inds == b_i)
        batch_boxes.append(boxes[b_i_inds].copy())
        batch_points.append(points[b_i_inds].copy())
    return batch_boxes, batch_points


# --------------------------------------------------------------------------- fixtures


def fixture_images() -> dict:
    print("== images")
    OUT.mkdir(parents=True, exist_ok=True)
    notes = {}
    for name in ("camera.png", "coffee.png"):
        src = SKIMAGE_DATA / name
        dst = OUT / name
        shutil.copyfile(src, dst)
        im = Image.open(dst)
        notes[name] = f"{im.mode} {im.size[0]}x{im.size[1]}, {dst.stat().st_size} bytes"
        print(f"  {name}: copied from {src} ({notes[name]})")

    group = Image.new("RGB", GROUP_SIZE, GROUP_BG)
    for name, size, pos in GROUP_PARTS:
        part = load_rgb(source_path(name)).resize(size, Image.BICUBIC)
        group.paste(part, pos)
    group.save(OUT / "group.png", format="PNG", optimize=True)
    assert np.array_equal(np.asarray(Image.open(OUT / "group.png")), np.asarray(group))
    print(f"  group.png: {group.size}, {(OUT / 'group.png').stat().st_size} bytes")
    return notes


def fixture_networks(pnet: PNet, rnet: RNet, onet: ONet) -> None:
    print("== networks")
    g = torch.Generator().manual_seed(SEED)

    def uniform(*shape):
        return torch.rand(*shape, generator=g) * 2.0 - 1.0

    imgs = {name: load_rgb(source_path(name)) for name, _ in CROPS}
    for name, (x1, y1, x2, y2) in CROPS:
        w, h = imgs[name].size
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h, (name, w, h)

    pnet_input = uniform(2, 3, 37, 51)
    rnet_input = torch.cat([uniform(6, 3, 24, 24)]
                           + [crop_area(imgs[n], b, 24) for n, b in CROPS])
    onet_input = torch.cat([uniform(6, 3, 48, 48)]
                           + [crop_area(imgs[n], b, 48) for n, b in CROPS])

    ast = load_rgb(ASTRONAUT)
    scales, sizes = pyramid(ast.size[1], ast.size[0])
    s_idx = PNET_IMAGE_SCALE_INDEX
    pnet_image_input = normalise(interpolate(to_nchw(ast), size=sizes[s_idx], mode="area"))

    with torch.no_grad():
        pnet_reg, pnet_prob = pnet(pnet_input)
        pnet_image_reg, pnet_image_prob = pnet(pnet_image_input)
        rnet_reg, rnet_prob = rnet(rnet_input)
        onet_reg, onet_landmarks, onet_prob = onet(onet_input)

    tensors = {
        "pnet_input": pnet_input, "pnet_reg": pnet_reg, "pnet_prob": pnet_prob,
        "pnet_image_input": pnet_image_input, "pnet_image_reg": pnet_image_reg,
        "pnet_image_prob": pnet_image_prob,
        "rnet_input": rnet_input, "rnet_reg": rnet_reg, "rnet_prob": rnet_prob,
        "onet_input": onet_input, "onet_reg": onet_reg, "onet_landmarks": onet_landmarks,
        "onet_prob": onet_prob,
    }
    tensors = {k: v.contiguous().float() for k, v in tensors.items()}
    for k, v in tensors.items():
        print(f"  {k}: {tuple(v.shape)} min {v.min():.4f} max {v.max():.4f}")

    real = [f"{n} {b}" for n, b in CROPS]
    for net, prob in (("rnet", rnet_prob), ("onet", onet_prob)):
        p = prob[:, 1]
        print(f"  {net} face prob, random rows: " + " ".join(f"{v:.4f}" for v in p[:6]))
        for i, r in enumerate(real):
            print(f"  {net} face prob, row {6 + i} ({r}): {p[6 + i]:.6f}")
        assert p.max() > 0.9, f"{net}: no row with face prob > 0.9"
    print(f"  pnet_image ({sizes[s_idx]}, scale {scales[s_idx]}): max face prob "
          f"{pnet_image_prob[:, 1].max():.4f}, cells >= 0.6: "
          f"{int((pnet_image_prob[:, 1] >= 0.6).sum())}")
    assert pnet_image_prob[:, 1].max() > 0.9

    save_safetensors(tensors, OUT / "networks.safetensors", metadata={
        "seed": str(SEED),
        "random_inputs": "torch.rand(shape, generator=torch.Generator().manual_seed(seed)) "
                         "* 2 - 1, drawn in order pnet [2,3,37,51], rnet [6,3,24,24], "
                         "onet [6,3,48,48]",
        "real_rows": "rnet_input/onet_input rows 6.. are real crops, in order: "
                     + "; ".join(real)
                     + " (PIL box left,upper,right,lower; RGB; float 0..255 crop "
                       "t[:, :, y1:y2, x1:x2], interpolate(mode='area') to 24/48, "
                       "(x - 127.5) * 0.0078125)",
        "pnet_image_input": f"astronaut.png, interpolate(mode='area') to {sizes[s_idx]} "
                            f"(pyramid scale index {s_idx}, scale {scales[s_idx]!r}), "
                            "(x - 127.5) * 0.0078125",
        "outputs": "pnet: reg = conv4_2 [N,4,h,w], prob = softmax4_1 [N,2,h,w]; rnet: reg "
                   "[N,4], prob [N,2]; onet: reg [N,4], landmarks [N,10] (x1..x5, "
                   "y1..y5), prob [N,2]; prob[:, 1] is the face probability",
        "facenet_pytorch": "2.6.0 (pretrained pnet.pt/rnet.pt/onet.pt, eval mode)",
        "torch": torch.__version__,
    })


def fixture_detections(mtcnn: MTCNN) -> list:
    print("== detections")
    entries = []
    for name in ("astronaut.png", "camera.png", "coffee.png", "group.png"):
        path = source_path(name)
        img = load_rgb(path)
        w, h = img.size
        with torch.no_grad():
            boxes, probs, points = mtcnn.detect(img, landmarks=True)
            trace = {}
            tb, tp = detect_face_traced(img, mtcnn.min_face_size, mtcnn.pnet, mtcnn.rnet,
                                        mtcnn.onet, mtcnn.thresholds, mtcnn.factor,
                                        mtcnn.device, trace)
            pb, pp = fdf.detect_face(img, mtcnn.min_face_size, mtcnn.pnet, mtcnn.rnet,
                                     mtcnn.onet, mtcnn.thresholds, mtcnn.factor,
                                     mtcnn.device)
        assert np.array_equal(np.asarray(tb[0], dtype=np.float32),
                              np.asarray(pb[0], dtype=np.float32)), name
        assert np.array_equal(np.asarray(tp[0], dtype=np.float32),
                              np.asarray(pp[0], dtype=np.float32)), name
        scales, sizes = pyramid(h, w)
        assert trace["scales"] == scales and trace["scaled_sizes_hw"] == [list(s) for s in sizes]

        faces = []
        if boxes is not None:
            for b, p, lm in zip(boxes, probs, points):
                faces.append({"box": [fl(v) for v in b], "prob": fl(p),
                              "landmarks": [[fl(x), fl(y)] for x, y in lm]})
        rel = path.relative_to(FIXTURES).as_posix()
        entries.append({"image": rel, "width": w, "height": h, "faces": faces,
                        "trace": trace})
        print(f"  {rel} ({w}x{h}): {len(faces)} face(s)")
        for f in faces:
            print("    box [" + ", ".join(f"{v:.2f}" for v in f["box"])
                  + f"] prob {f['prob']:.6f}")
        print(f"    scales ({len(scales)}): " + ", ".join(f"{s:.6f}" for s in scales))
        print(f"    stage1 per scale above 0.6 / after NMS 0.5: "
              + " ".join(f"{s['above_threshold']}/{s['after_nms_0.5']}"
                         for s in trace["stage1_per_scale"]))
        print(f"    stage1 {trace['stage1_after_scale_nms']} -> NMS 0.7 "
              f"{trace['stage1_after_nms_0.7']}; stage2 in {trace['stage2_inputs']}, "
              f"> 0.7 {trace['stage2_above_threshold']}, NMS {trace['stage2_after_nms_0.7']}; "
              f"stage3 in {trace['stage3_inputs']}, > 0.7 "
              f"{trace['stage3_above_threshold']}, NMS(Min) "
              f"{trace['stage3_after_nms_min_0.7']}")
    doc = {
        "generator": "scripts/make_mtcnn_fixtures.py",
        "detector": "facenet_pytorch.MTCNN(device='cpu') defaults: min_face_size 20, "
                    "thresholds [0.6, 0.7, 0.7], factor 0.709, select_largest True; "
                    "detect(Image.open(p).convert('RGB'), landmarks=True)",
        "conventions": "box [x1, y1, x2, y2] in pixels of the original image (float, as "
                       "returned; not clipped); faces sorted by box area, largest first "
                       "(select_largest); landmarks [[x, y] x 5]: left eye, right eye, "
                       "nose, mouth left, mouth right (image left/right); trace.* is "
                       "detect_face's internal state (boxes [x1, y1, x2, y2, score] in its "
                       "own order, i.e. before the select_largest sort)",
        "versions": {"facenet_pytorch": "2.6.0", "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "numpy": np.__version__,
                     "pillow": PIL.__version__},
        "images": entries,
    }
    text = json.dumps(doc, indent=1) + "\n"
    (OUT / "detections.json").write_text(text)
    return entries


README_BEGIN = "<!-- mtcnn:begin -->"
README_END = "<!-- mtcnn:end -->"
METRICS_SECTION = "\n## metrics/\n"


def write_readme(notes: dict, entries: list) -> None:
    def summary(e):
        faces = e["faces"]
        if not faces:
            return "no face"
        return ", ".join(f"box ({', '.join(f'{v:.0f}' for v in f['box'])}) "
                         f"p {f['prob']:.6f}" for f in faces)

    det_lines = "\n".join(f"  - `{e['image']}` ({e['width']}x{e['height']}, "
                          f"{len(e['trace']['scales'])} scales): {summary(e)}"
                          for e in entries)
    crops = ";\n".join(f"  - row {6 + i}: `{n}` box {b}" for i, (n, b) in enumerate(CROPS))
    text = f"""{README_BEGIN}
## mtcnn/

Generated by `scripts/make_mtcnn_fixtures.py` (run by hand, not in CI; seeded and
deterministic). It replaces the text between the `mtcnn:begin`/`mtcnn:end` comments;
`make_timm_fixtures.py` rewrites this README without this section, so run this script
after it:

    scripts/.venv/bin/pip install -r scripts/requirements-fixtures.txt
    scripts/.venv/bin/pip install --no-deps facenet-pytorch==2.6.0
    scripts/.venv/bin/python scripts/make_mtcnn_fixtures.py

Reference: [facenet-pytorch](https://github.com/timesler/facenet-pytorch) 2.6.0 (MIT
licence, Copyright (c) 2019 Timothy Esler), its MTCNN (`PNet`, `RNet`, `ONet`, and
`detect_face`) with the pretrained weights shipped in its wheel (`data/pnet.pt`,
`rnet.pt`, `onet.pt`, ported by facenet-pytorch from the original MTCNN / davidsandberg
facenet models). `--no-deps` because its metadata pins torch<2.3, numpy<2 and
Pillow<10.3; it runs unchanged on the versions above (its package `__init__` imports
`requests`, hence that entry in requirements-fixtures.txt). Generated with
facenet-pytorch 2.6.0, torch {torch.__version__}, torchvision {torchvision.__version__},
numpy {np.__version__}, Pillow {PIL.__version__}, safetensors {safetensors.__version__},
scikit-image {skimage.__version__}, single-threaded CPU.

- `networks.safetensors` (float32): each network (pretrained, eval) on fixed inputs in
  its input range. Random inputs are `torch.rand(shape, generator=manual_seed({SEED}))
  * 2 - 1`, drawn in the order pnet, rnet, onet.
  - `pnet_input` [2,3,37,51] (random) -> `pnet_reg` [2,4,14,21] (conv4_2) and
    `pnet_prob` [2,2,14,21] (softmax; channel 1 = face);
  - `pnet_image_input` [1,3,110,110]: `astronaut.png` area-resized
    (`interpolate(mode='area')`, as `detect_face` does) to pyramid scale
    0.6 * 0.709^3, normalised `(x - 127.5) * 0.0078125` -> `pnet_image_reg`,
    `pnet_image_prob` [1,{{4,2}},50,50] (contains the face: max prob > 0.9);
  - `rnet_input` [9,3,24,24] -> `rnet_reg` [9,4], `rnet_prob` [9,2];
  - `onet_input` [9,3,48,48] -> `onet_reg` [9,4], `onet_landmarks` [9,10]
    (x1..x5 then y1..y5, relative to the crop), `onet_prob` [9,2]
    (`ONet.forward` returns `(reg, landmarks, prob)`).
  Rows 0-5 of `rnet_input`/`onet_input` are random; rows 6-8 are real crops (PIL box
  `(left, upper, right, lower)`, RGB, float 0..255, `t[:, :, y1:y2, x1:x2]`,
  `interpolate(size=(24|48, 24|48), mode='area')`, normalised; details in the file's
  metadata). Rows 6 and 7 are faces (prob > 0.99), row 8 is not (the cup):
{crops}.
- `camera.png`: scikit-image {skimage.__version__}'s `skimage/data/camera.png`, original
  bytes ({notes['camera.png']}): photographer with a camera, one face. CC0 (Lav
  Varshney), shipped by scikit-image. Read as RGB by replicating the gray channel
  (`Image.open(p).convert('RGB')`).
- `coffee.png`: scikit-image's `skimage/data/coffee.png`, original bytes
  ({notes['coffee.png']}): a coffee cup, no face. CC0 (Rachel Michetti / Pikolo Espresso
  Bar), shipped by scikit-image.
- The astronaut image is `preprocess/astronaut.png` (public domain, NASA; see above).
- `group.png`: a 640x480 RGB composite, a webcam-sized frame with two faces: mid-grey
  (128,128,128) background, `astronaut.png` resized to 320x320 (PIL BICUBIC) pasted at
  (0, 80) and `camera.png` (as RGB) resized to 300x300 (PIL BICUBIC) pasted at
  (330, 90). Derived from the two images above (public domain / CC0).
- `detections.json`: for each image, `facenet_pytorch.MTCNN(device='cpu')` with its
  defaults (min_face_size 20, thresholds [0.6, 0.7, 0.7], factor 0.709,
  select_largest True), `detect(Image.open(p).convert('RGB'), landmarks=True)`:
  `{{"image": path relative to tests/fixtures, "width", "height", "faces": [{{"box":
  [x1, y1, x2, y2], "prob", "landmarks": [[x, y] x 5]}}], "trace": {{...}}}}`, faces in
  the order `detect` returns them (largest box area first; empty when it returns
  None). `trace` is recorded by a copy of `detect_face` instrumented in the script
  (asserted to give the package's exact result): `scales` (the pyramid, float64),
  `scaled_sizes_hw` (`(int(h * s + 1), int(w * s + 1))`), per scale the PNet map size,
  max face prob and the candidate counts above 0.6 / after the per-scale NMS 0.5, the
  counts after the cross-scale NMS 0.7 and the stage-1 boxes after regression and
  squaring (`rerec`), the stage-2 counts (crops, prob > 0.7, NMS 0.7) and boxes after
  `bbreg` + `rerec`, the stage-3 counts (crops, prob > 0.7, "Min" NMS 0.7) and final
  boxes, all `[x1, y1, x2, y2, score]` in `detect_face`'s order. Results:
{det_lines}
{README_END}
"""
    readme = FIXTURES / "README.md"
    old = readme.read_text() if readme.exists() else ""
    if README_BEGIN in old:
        head, rest = old.split(README_BEGIN, 1)
        _, tail = rest.split(README_END, 1)
        new = head + text.rstrip("\n") + tail
    elif METRICS_SECTION in old:
        # Keep scripts/make_metric_fixtures.py's section last (it rewrites from its
        # heading to the end of the file).
        head, tail = old.split(METRICS_SECTION, 1)
        new = head.rstrip("\n") + "\n\n" + text + METRICS_SECTION + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text
    readme.write_text(new)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    print(f"facenet_pytorch {facenet_pytorch.__file__}, torch {torch.__version__}, "
          f"torchvision {torchvision.__version__}, Pillow {PIL.__version__}, "
          f"numpy {np.__version__}, scikit-image {skimage.__version__}")
    OUT.mkdir(parents=True, exist_ok=True)
    assert ASTRONAUT.exists(), "run scripts/make_timm_fixtures.py first"
    notes = fixture_images()
    pnet, rnet, onet = PNet().eval(), RNet().eval(), ONet().eval()
    fixture_networks(pnet, rnet, onet)
    mtcnn = MTCNN(device="cpu").eval()
    entries = fixture_detections(mtcnn)
    write_readme(notes, entries)
    print("== files")
    for p in sorted(OUT.iterdir()):
        if p.is_file():
            digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            print(f"  {p.relative_to(ROOT)}  {p.stat().st_size} bytes  sha256 {digest}")


if __name__ == "__main__":
    main()
