#!/usr/bin/env bash
# Rebuilds the real-image sources of `trainer synth` (trainer/assets/synth/) from
# scikit-image's sample data, and checks them against the hashes in
# trainer/assets/synth/LICENSES.md. Run by hand; the build never needs it.
#
#   astronaut-face.png  astronaut.png (NASA, public domain): the square of 2.1 x the face
#                       box (MTCNN, `trainer detect`) around the face, bicubic to 256 px
#   brick.png           brick.png (CC0 Textures, CC0): grey, bicubic to 128 px
#
# Needs the reference Python (scripts/.venv, see tests/fixtures/README.md) with
# scikit-image 0.26.0 and Pillow 13.0.0, or PYTHON=...
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-scripts/.venv/bin/python}
"$python" - <<'PY'
import hashlib, os
import skimage
from PIL import Image, __version__ as pillow

data = os.path.join(os.path.dirname(skimage.__file__), "data")
out = "trainer/assets/synth"
print(f"scikit-image {skimage.__version__}, Pillow {pillow}")
# The face box MTCNN finds on astronaut.png (`trainer detect --json`).
box = (181.0513916015625, 62.156124114990234, 267.747314453125, 172.0501708984375)
cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
half = 1.05 * max(box[2] - box[0], box[3] - box[1])
face = Image.open(os.path.join(data, "astronaut.png")).convert("RGB")
face.resize((256, 256), Image.BICUBIC, box=(cx - half, cy - half, cx + half, cy + half)).save(
    f"{out}/astronaut-face.png", optimize=True)
brick = Image.open(os.path.join(data, "brick.png")).convert("L")
brick.resize((128, 128), Image.BICUBIC).save(f"{out}/brick.png", optimize=True)
for name in ["astronaut.png", "brick.png"]:
    print(name, hashlib.sha256(open(os.path.join(data, name), "rb").read()).hexdigest())
for name in ["astronaut-face.png", "brick.png"]:
    print(f"{out}/{name}", hashlib.sha256(open(f"{out}/{name}", "rb").read()).hexdigest())
PY
